"""The application: one function per webhook, from what Twilio posted to the reply to speak.

Each function reads the call's state, asks the engine, carries out the side effects (the SMS,
handed to its postbox), and returns the engine's reply. Flask views only turn a request into
these arguments and the reply into TwiML; nothing here knows about HTTP or TwiML.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from ivr.engine import summary
from ivr.engine.call import Advisor, Call
from ivr.engine.intents import Intent, Understanding, from_digits
from ivr.engine.reply import Line, Reply, SmsFate, Text
from ivr.engine.state import CallState, Phase
from ivr.engine.token import Tokens
from ivr.errors import TokenError
from ivr.hours import PARIS, Schedule, when
from ivr.known import known_answers
from ivr.prompts import Catalog
from ivr.sms.message import compose, french_mobile
from ivr.sms.postbox import Postbox

log = logging.getLogger("ivr.call")

# Twilio's call statuses, the only words of a status callback repeated in the logs.
CALL_STATUSES = frozenset(
    {"queued", "initiated", "ringing", "in-progress", "answered", "completed", "busy", "failed", "no-answer",
     "canceled"}
)
# DialCallStatus values meaning the advisor talked with the caller.
CONNECTED = frozenset({"completed", "answered"})


@dataclass(frozen=True)
class Party:
    """Who is on the line, as Twilio posted it: the call's id, the person's number, ours."""

    call_sid: str = ""
    person: str = ""
    ours: str = ""

    @property
    def ref(self) -> str:
        """A short, non-reversible reference to the call for the logs (never a phone number)."""
        if not self.call_sid:
            return "-"
        return hashlib.sha256(self.call_sid.encode()).hexdigest()[:10]


@dataclass(frozen=True)
class Heard:
    """What the caller did at a <Gather>: keys, or words with their confidence, or nothing."""

    digits: str | None = None
    speech: str | None = None
    confidence: str | None = None
    silence: bool = False


@dataclass(frozen=True)
class Assistant:
    """The phone assistant's application layer, built once by the app factory."""

    call: Call
    catalog: Catalog
    understanding: Understanding
    tokens: Tokens
    # Takes the result SMS the caller asks for; None: no SMS on this line.
    sms: Postbox | None = None
    # When the advisor answers (HELPLINE_HOURS); None: whenever the line is called.
    schedule: Schedule | None = None
    clock: Callable[[], datetime] = lambda: datetime.now(PARIS)

    def incoming(self, party: Party) -> Reply:
        """A new call: the greeting."""
        log.info("call %s: started", party.ref)
        if self.sms is not None:
            self.sms.running()
        return self.call.start()

    def transferred(self, party: Party, query: Iterable[tuple[str, str]], explain: bool,
                    postcode: str = "") -> Reply:
        """A caller sent by a helpline, with the answers it already knows and perhaps their postcode."""
        call = self._call(party)
        answers = known_answers(call.flow, query, party.ref)
        found = call.places.postcode(call.places.entry(digits=postcode.strip()[:6])) if (
            call.places is not None and postcode) else None
        if postcode and found is None:
            log.warning("call %s: transfer parameter 'cp' ignored: not a postcode of the data", party.ref)
        log.info("call %s: transferred in by a helpline, %d answers known", party.ref, len(answers))
        reply = call.transferred(answers, explain=explain, postcode=found.code if found else "")
        return self._carry_out(party, call, reply)

    def step(self, party: Party, state_token: str, heard: Heard) -> Reply:
        """The caller answered (or stayed silent) at the step the token names."""
        call = self._call(party)
        state = self._state(party, state_token)
        if state is None:
            return call.restart()
        if state.phase is Phase.POSTCODE and call.places is not None:
            # A postcode, not an intent: five keys, or digits and number words in a transcript.
            entry = call.places.entry(None if heard.silence else heard.digits,
                                      None if heard.silence else heard.speech)
            log.info("call %s: postcode %s", party.ref, entry.kind.value)
            return self._carry_out(party, call, call.postcode(state, entry))
        intent = self._intent(state.phase, heard)
        log.info("call %s: %s at %s %s", party.ref, intent.value, state.phase.name, state.question or "")
        return self._carry_out(party, call, call.handle(state, intent))

    def dial_ended(self, party: Party, state_token: str, status: str) -> Reply:
        """The advisor's call ended: goodbye after a talk, back where the caller was otherwise."""
        call = self._call(party)
        state = self._state(party, state_token)
        if state is None:
            return call.restart()
        log.info("call %s: advisor call ended (%s)", party.ref,
                 status if status in CALL_STATUSES else "unknown status")
        return call.after_transfer(state, connected=status in CONNECTED)

    def whisper(self, caller_call_sid: str, state_token: str) -> tuple[Line, ...]:
        """What the advisor hears before the caller is connected.

        Twilio asks for it on the advisor's leg, whose parent is the caller's call: the token is
        bound to that parent's CallSid.
        """
        try:
            state = self.tokens.open(state_token, caller_call_sid)
        except TokenError:
            state = CallState(Phase.GREET)
        return summary.whisper(self.call.flow, state)

    def token(self, state: CallState, party: Party) -> str:
        """The token that carries `state` in the URLs of this call's next requests."""
        return self.tokens.seal(state, party.call_sid)

    def fallback_used(self, party: Party, error_code: str) -> None:
        """Twilio called the fallback URL: our server failed this call."""
        code = error_code if error_code.isdigit() else "-"
        log.error("call %s: Twilio used the fallback URL (error %s)", party.ref, code)

    def status(self, party: Party, status: str, duration: str) -> None:
        """Twilio's status callback: how the call ended, and how long it lasted."""
        log.info("call %s: %s after %s s", party.ref, status if status in CALL_STATUSES else "unknown status",
                 duration if duration.isdigit() else "-")

    def _call(self, party: Party) -> Call:
        """The conversation rules for this caller now: the SMS for French mobiles, the advisor in hours."""
        call = self.call
        if call.places is not None:
            call = replace(call, now=self.clock())
        if self.sms is not None and french_mobile(party.person):
            call = replace(call, sms=True)
        if self.schedule is not None and call.advisor.configured:
            now = self.clock()
            if not self.schedule.is_open(now):
                opening = self.schedule.next_opening(now)
                callback = (when(opening, now),) if opening else ()
                call = replace(call, advisor=Advisor(configured=True, open=False, callback=callback))
        return call

    def _state(self, party: Party, state_token: str) -> CallState | None:
        try:
            return self.tokens.open(state_token, party.call_sid)
        except TokenError as exc:
            log.warning("call %s: state lost (%s), restarting the questions", party.ref, exc)
            return None

    def _intent(self, phase: Phase, heard: Heard) -> Intent:
        if heard.silence:
            return Intent.SILENCE
        if heard.digits is not None:
            return from_digits(heard.digits.strip(), phase)
        if heard.speech is not None:
            try:
                confidence: float | None = float(heard.confidence or "")
            except ValueError:
                confidence = None
            return self.understanding.intent(heard.speech, confidence)
        return Intent.SILENCE

    def _carry_out(self, party: Party, call: Call, reply: Reply) -> Reply:
        """Do what the reply asks of the world (send the SMS), and return what the caller hears."""
        if not isinstance(reply, Text):
            return reply
        fate = SmsFate.FAILED
        if self.sms is not None and french_mobile(party.person):
            body = compose(self.catalog, reply.message, reply.extras)
            fate = self.sms.enqueue(party.ref, party.person, body)
        return call.after_text(reply.state, fate)
