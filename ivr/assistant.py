"""The application: one function per webhook, from what Twilio posted to the reply to speak.

Each function reads the call's state, asks the engine, journals the step, carries out the side
effects (the SMS, handed to its postbox), and returns the engine's reply. Flask views only turn a
request into these arguments and the reply into TwiML; nothing here knows about HTTP or TwiML.
"""

from __future__ import annotations

import hashlib
import hmac
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
from ivr.journal.events import Outcome, Webhook
from ivr.journal.recorder import Journal
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
# What the journal records of each SMS fate.
SMS_OUTCOMES = {SmsFate.ON_ITS_WAY: Outcome.SMS_SENT, SmsFate.CAPPED: Outcome.SMS_CAPPED,
                SmsFate.FAILED: Outcome.SMS_FAILED}


class CallNames:
    """Names a call by a keyed hash of its CallSid: the same in every worker and instance, yet
    nobody without the server secret can match it to Twilio's logs, hence to a phone number."""

    def __init__(self, secret: str) -> None:
        self._mac = hmac.new(secret.encode(), b"ivr call reference:", hashlib.sha256)

    def __call__(self, call_sid: str) -> str:
        if not call_sid:
            return "-"
        mac = self._mac.copy()
        mac.update(call_sid.encode())
        return mac.hexdigest()[:16]


@dataclass(frozen=True)
class Party:
    """Who is on the line, as Twilio posted it: the call's id, the person's number, ours; and the
    call's keyed reference, the only name of the call that logs and journal see."""

    call_sid: str = ""
    person: str = ""
    ours: str = ""
    ref: str = "-"


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
    journal: Journal
    names: CallNames
    # Takes the result SMS the caller asks for; None: no SMS on this line.
    sms: Postbox | None = None
    # When the advisor answers (HELPLINE_HOURS); None: whenever the line is called.
    schedule: Schedule | None = None
    clock: Callable[[], datetime] = lambda: datetime.now(PARIS)

    def party(self, call_sid: str, person: str, ours: str) -> Party:
        """The parties of a call, the call named by its keyed reference from here on."""
        return Party(call_sid, person, ours, self.names(call_sid))

    def incoming(self, party: Party) -> Reply:
        """A new call: the greeting."""
        log.debug("call %s: started", party.ref)
        if self.sms is not None:
            self.sms.running()
        reply = self.call.start()
        self.journal.note(party.ref, Webhook.INCOMING, reply=reply)
        return reply

    def transferred(self, party: Party, query: Iterable[tuple[str, str]], explain: bool,
                    postcode: str = "") -> Reply:
        """A caller sent by a helpline, with the answers it already knows and perhaps their postcode."""
        call = self._call(party)
        answers = known_answers(call.flow, query, party.ref)
        found = call.places.postcode(call.places.entry(digits=postcode.strip()[:6])) if (
            call.places is not None and postcode) else None
        if postcode and found is None:
            log.warning("call %s: transfer parameter 'cp' ignored: not a postcode of the data", party.ref)
        log.debug("call %s: transferred in by a helpline, %d answers known", party.ref, len(answers))
        reply = call.transferred(answers, explain=explain, postcode=found.code if found else "")
        reply, sms = self._carry_out(party, call, reply)
        self.journal.note(party.ref, Webhook.TRANSFERRED, reply=reply, outcome=sms)
        return reply

    def step(self, party: Party, state_token: str, heard: Heard) -> Reply:
        """The caller answered (or stayed silent) at the step the token names."""
        call = self._call(party)
        state = self._state(party, state_token)
        if state is None:
            reply = call.restart()
            self.journal.note(party.ref, Webhook.STEP, reply=reply)
            return reply
        at_result = state.phase is Phase.RESULT and state.sms_sent
        if at_result and self.sms is not None and self.sms.failed(party.ref):
            # The SMS the caller was told is on its way did not leave: say so, once, at the result.
            reply = call.after_text(state, SmsFate.FAILED)
            # The journal has this SMS already (queued); what became of it is counted in ivr_sms_delivery.
            self.journal.note(party.ref, Webhook.STEP, state, None, reply)
            return reply
        if state.phase is Phase.POSTCODE and call.places is not None:
            # A postcode, not an intent: five keys, or digits and number words in a transcript.
            entry = call.places.entry(None if heard.silence else heard.digits,
                                      None if heard.silence else heard.speech)
            log.debug("call %s: postcode %s", party.ref, entry.kind.value)
            reply, sms = self._carry_out(party, call, call.postcode(state, entry))
            self.journal.note(party.ref, Webhook.STEP, state, entry.kind.value, reply, outcome=sms)
            return reply
        intent = self._intent(state.phase, heard)
        log.debug("call %s: %s at %s %s", party.ref, intent.value, state.phase.name, state.question or "")
        reply, sms = self._carry_out(party, call, call.handle(state, intent))
        self.journal.note(party.ref, Webhook.STEP, state, intent.value, reply, outcome=sms)
        return reply

    def dial_ended(self, party: Party, state_token: str, status: str) -> Reply:
        """The advisor's call ended: goodbye after a talk, back where the caller was otherwise."""
        call = self._call(party)
        state = self._state(party, state_token)
        if state is None:
            reply = call.restart()
            self.journal.note(party.ref, Webhook.DIAL, reply=reply)
            return reply
        known = status if status in CALL_STATUSES else None
        log.debug("call %s: advisor call ended (%s)", party.ref, known or "unknown status")
        connected = status in CONNECTED
        reply = call.after_transfer(state, connected=connected)
        outcome = Outcome.ADVISOR_REACHED if connected else Outcome.ADVISOR_MISSED
        self.journal.note(party.ref, Webhook.DIAL, state, known, reply, outcome=outcome)
        return reply

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
        self.journal.note(party.ref, Webhook.FALLBACK, outcome=Outcome.FALLBACK)

    def status(self, party: Party, status: str, duration: str) -> None:
        """Twilio's status callback: how the call ended, and how long it lasted."""
        known = status if status in CALL_STATUSES else None
        seconds = int(duration) if duration.isdigit() else None
        log.debug("call %s: %s after %s s", party.ref, known or "unknown status",
                 "-" if seconds is None else seconds)
        self.journal.note(party.ref, Webhook.STATUS, action=known, duration=seconds)

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

    def _carry_out(self, party: Party, call: Call, reply: Reply) -> tuple[Reply, Outcome | None]:
        """Do what the reply asks of the world (send the SMS); what the caller hears, and the SMS's fate."""
        if not isinstance(reply, Text):
            return reply, None
        fate = SmsFate.FAILED
        if self.sms is not None and french_mobile(party.person):
            body = compose(self.catalog, reply.message, reply.extras)
            fate = self.sms.enqueue(party.ref, party.person, body)
        return call.after_text(reply.state, fate), SMS_OUTCOMES[fate]
