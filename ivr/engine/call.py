"""The conversation: from the caller's intent at a state to the engine's reply."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from ivr.engine.intents import Intent
from ivr.engine.planner import Planner
from ivr.engine.reply import Hangup, Line, Listen, PhoneNumber, Reply, SmsFate, Text, Transfer, line
from ivr.engine.rules import Known, closest, eligible, infer, judge
from ivr.engine.state import CallState, Phase
from ivr.engine.summary import text
from ivr.flow import Flow, Provider
from ivr.places import say
from ivr.places.heard import Entry, Kind
from ivr.places.service import Places

# Failed tries at one step before the line stops asking (ISO/IEC 13714: limit the retries).
MAX_TRIES = 3
# Seconds the greeting waits for a key before going on: any key skips it, silence barely waits.
GREETING_PATIENCE = 1
# Postcodes the line could not use before it gives the mairie instead: one more try (issue 9).
POSTCODE_TRIES = 2


@dataclass(frozen=True)
class Advisor:
    """Whether a person can take the call: none configured, or one reachable now, or closed."""

    configured: bool = False
    open: bool = True
    # When closed: when the caller can reach one (« Vous pourrez en joindre un lundi, à 9 heures. »).
    callback: tuple[Line, ...] = ()

    @property
    def reachable(self) -> bool:
        return self.configured and self.open


@dataclass(frozen=True)
class Call:
    """One flow's conversation rules; holds no call, so one instance serves every call."""

    flow: Flow
    planner: Planner
    advisor: Advisor = Advisor()
    # Whether this caller can receive the result by SMS: the edge knows the number and the set-up.
    sms: bool = False
    # The nearest France Services, from a postcode after the result; None: not offered.
    places: Places | None = None
    # The time opening hours are said for; None: now.
    now: datetime | None = None

    def start(self) -> Reply:
        """The greeting: an automated service, in one sentence; any key skips it."""
        return Listen((line("greeting.welcome"),), CallState(Phase.GREET), patience=GREETING_PATIENCE)

    def transferred(self, answers: tuple[tuple[str, bool], ...], explain: bool = False,
                    postcode: str = "") -> Reply:
        """A caller sent by a helpline: one sentence of welcome, then the questions not yet answered.

        A postcode the helpline passed on (`cp=23000`) is read back at key 4, not asked.
        """
        about = (line("transfer.about"),) if explain else ()
        state = CallState(Phase.ASK, answers=answers, postcode=postcode)
        return self._first(state, (line("transfer.welcome"), *about))

    def restart(self) -> Reply:
        """Back to the first question, with an apology, when a call's state was lost."""
        return self._first(CallState(Phase.ASK), (line("ask.restart"),))

    def handle(self, state: CallState, intent: Intent) -> Reply:
        """The reply to what the caller did at this state."""
        if state.phase is Phase.GREET:
            return self._first(state, ())
        if state.phase is Phase.RESULT:
            return self._at_result(state, intent)
        if state.phase is Phase.POSTCODE:
            # Only the edge reads a postcode (keys or words): an intent here is a silence or a key.
            entry = Entry(Kind.SILENCE if intent is Intent.SILENCE else Kind.BACK if intent is Intent.BACK
                          else Kind.INVALID)
            return self.postcode(state, entry)
        if state.phase is Phase.CONFIRM:
            return self._at_confirm(state, intent)
        if state.phase is Phase.PLACES:
            return self._at_places(state, intent)
        return self._at_question(state, intent)

    def after_transfer(self, state: CallState, connected: bool) -> Reply:
        """Goodbye after a talk with the advisor; back where the caller was if nobody answered."""
        if connected:
            return Hangup((line("goodbye"),))
        back = replace(state, tries=0, transfer_failed=True)
        return self.present(back, (line("transfer.failed"),))

    def present(self, state: CallState, preface: tuple[Line, ...] = ()) -> Reply:
        """Say the step the caller is at again."""
        if state.phase is Phase.RESULT:
            return self.result(state, preface)
        if state.phase is Phase.GREET:
            return self.start()
        if state.phase in (Phase.POSTCODE, Phase.CONFIRM, Phase.PLACES):
            # After a failed transfer from the places: their result, where key 4 leads back.
            return self.result(replace(state, phase=Phase.RESULT), preface)
        return self.ask(state, preface)

    def ask(
        self, state: CallState, preface: tuple[Line, ...] = (), keys: tuple[Line, ...] | None = None
    ) -> Reply:
        """Ask the next useful question, or give the result when nothing is left to ask.

        A question ends with the short key reminder unless `keys` says otherwise.
        """
        question = self.planner.next_question(infer(self.flow, state.answers))
        if question is None:
            return self.result(state, preface)
        same = question == state.question
        here = replace(state, phase=Phase.ASK, question=question, tries=state.tries if same else 0,
                       helped=state.helped and same)
        prompt = line(self.flow.criterion(question).prompt)
        return Listen((*preface, prompt, *(keys if keys is not None else (line("keys.short"),))), here)

    def _first(self, state: CallState, preface: tuple[Line, ...]) -> Reply:
        """The first question of a call: how to answer, then the full key list (no « back » yet)."""
        return self.ask(state, (*preface, line("keys.intro")), (line("keys.answer"), self._zero()))

    def _full_keys(self, state: CallState) -> tuple[Line, ...]:
        """Every key of a question, said again after an answer the line did not get."""
        back = (line("keys.back"),) if state.answers else ()
        return (line("keys.answer"), *back, line("keys.repeat"), self._zero())

    def _zero(self) -> Line:
        return line("keys.advisor" if self.advisor.reachable else "keys.help")

    def _at_question(self, state: CallState, intent: Intent) -> Reply:
        assert state.question is not None
        criterion = self.flow.criterion(state.question)
        if intent in (Intent.YES, Intent.NO):
            return self.ask(state.answered(criterion.id, intent is Intent.YES))
        if intent is Intent.UNSURE and state.helped:
            # Twice « je ne sais pas »: no third explanation; note « non », and go on.
            return self.ask(state.answered(criterion.id, False, unsure=True), (line("ask.doubt"),))
        if intent in (Intent.UNSURE, Intent.EXPLAIN):
            helped = replace(state, helped=True)
            return self.ask(helped, (line(criterion.help), line("ask.unsure")))
        if intent is Intent.REPEAT:
            return self.ask(state)
        if intent is Intent.BACK:
            if not state.answers:
                return self.ask(state, (line("ask.at_first"),))
            return self.ask(state.undone(), (line("ask.back"),))
        if intent is Intent.HELP:
            return self._help(state)
        return self._failed(state, intent)

    def _at_result(self, state: CallState, intent: Intent) -> Reply:
        usable = eligible(self.flow, state.answers)
        if intent in (Intent.YES, Intent.REPEAT):
            return self.result(replace(state, tries=0))
        if intent is Intent.NEXT and len(usable) > 1:
            return self.result(replace(state, tries=0, focus=(state.focus + 1) % len(usable)))
        if intent is Intent.SMS and self.sms and not state.sms_sent and usable:
            message, extras = text(self.flow, state)
            return Text(message, state, (*self._place_sms(state), *extras))
        if intent is Intent.PLACES and self.places is not None:
            found = self.places.directory.postcode(state.postcode) if state.postcode else None
            if found is not None:
                return Listen(say.readback(found), replace(state, phase=Phase.CONFIRM, page=0, tries=0))
            return self._ask_postcode(replace(state, tries=0), ())
        if intent is Intent.BACK and state.answers:
            return self.ask(state.undone(), (line("ask.back"),))
        if intent is Intent.HELP:
            return self._help(state)
        if intent is Intent.SILENCE and not state.tries:
            # A first silence: perhaps the caller is writing it down. Ask before saying goodbye.
            here = replace(state, tries=1)
            return Listen((line("result.again"), line("result.repeat")), here, closing=(line("goodbye"),))
        if intent in (Intent.INVALID, Intent.UNSURE, Intent.EXPLAIN) and state.tries + 1 < MAX_TRIES:
            here = replace(state, tries=state.tries + 1)
            return Listen((line("ask.invalid"), *self._result_options(here, usable)), here)
        return Hangup((line("goodbye"),))

    def _help(self, state: CallState) -> Reply:
        if self.advisor.reachable:
            return Transfer((line("transfer.intro"),), replace(state, tries=0))
        why = (line("advisor.closed"), *self.advisor.callback) if self.advisor.configured else (
            line("advisor.none"),)
        lines = (*why, line("help.keys"), *self._offline(at_result=state.phase is Phase.RESULT))
        return self.present(state, lines)

    def _failed(self, state: CallState, intent: Intent) -> Reply:
        tries = state.tries + 1
        if tries >= MAX_TRIES:
            if self.advisor.reachable and not state.transfer_failed:
                return Transfer((line("ask.too_many"), line("transfer.intro")), replace(state, tries=0))
            callback = self.advisor.callback if self.advisor.configured else ()
            return Hangup((line("ask.too_many"), *callback, *self._offline(), line("goodbye")))
        why = line("ask.silence" if intent is Intent.SILENCE else "ask.invalid")
        here = replace(state, tries=tries)
        return self.ask(here, (why,), self._full_keys(here))

    def result(self, state: CallState, preface: tuple[Line, ...] = ()) -> Reply:
        """Say who the caller can use and what to do next, then offer to hear it again."""
        known = infer(self.flow, state.answers)
        verdict = judge(self.flow, known)
        here = replace(state, phase=Phase.RESULT, question=None, helped=False)
        usable = verdict.eligible
        if verdict.gate_failed is not None:
            gate = self.flow.criterion(verdict.gate_failed)
            if gate.id in state.unsure:
                said: tuple[Line, ...] = (line("result.check_gate", item=line(gate.label)),)
            else:
                said = (line("result.gate_failed", item=line(gate.label)), *self._obtain(gate.id))
            lines: tuple[Line, ...] = (*said, *self._offline(at_result=True))
        elif usable:
            here = replace(here, focus=state.focus % len(usable))
            lines = self._usable(usable, here.focus)
        else:
            lines = (*self._closest(known, state), *self._offline(at_result=True))
        return Listen((*preface, *lines, *self._result_options(here, usable)), here)

    def _usable(self, usable: tuple[Provider, ...], focus: int) -> tuple[Line, ...]:
        """The accounts the caller can open; what to bring and whom to call for one of them."""
        provider = usable[focus]
        if focus == 0:
            head = line("result.eligible", providers=tuple(line(p.name) for p in usable))
        else:
            head = line("result.next", provider=line(provider.name))
        lines = [head]
        if provider.bring:
            items = tuple(line(key) for key in provider.bring)
            lines.append(line("result.bring_first" if focus == 0 and len(usable) > 1 else "result.bring",
                              items=items))
        if provider.phone:
            lines.append(line("result.phone", number=PhoneNumber(provider.phone)))
        if provider.caution:
            lines.append(line(provider.caution))
        if focus == 0:
            lines.extend(self._offline(at_result=True))
            lines.extend(line(key) for key in self.flow.steps)
        return tuple(lines)

    def _offline(self, at_result: bool = False) -> tuple[Line, ...]:
        """The way that needs no internet: France Services, where to find one, a relative.

        At the result the line finds the place itself (key 4) instead of sending the caller to the
        mairie: one sentence for another, so the result is no longer.
        """
        where = line("places.offer") if at_result and self.places is not None else line("help.mairie")
        return (line("help.france_services"), where, line("help.relative"))

    def _obtain(self, cid: str) -> tuple[Line, ...]:
        obtain = self.flow.criterion(cid).obtain
        return (line(obtain),) if obtain else ()

    def _result_options(self, state: CallState, usable: tuple[Provider, ...]) -> tuple[Line, ...]:
        options = [line("result.repeat")]
        # Only a result with an account to use is worth a text; one message per call is enough.
        if self.sms and usable and not state.sms_sent:
            options.append(line("sms.offer"))
        if len(usable) > 1:
            options.append(line("result.other"))
        # With no account usable, a wrong answer is the first thing to rule out.
        if state.answers and not usable:
            options.append(line("result.correct"))
        if self.advisor.reachable:
            options.append(line("keys.advisor"))
        return tuple(options)

    # The nearest France Services (issue 9): postcode, read back, two places at a time, back.

    def _clock(self) -> datetime:
        return self.now or datetime.now(UTC)

    def _ask_postcode(self, state: CallState, preface: tuple[Line, ...]) -> Reply:
        here = replace(state, phase=Phase.POSTCODE)
        lines = (*preface, line("places.ask"), line("places.ask_speech"), line("places.ask_back"))
        return Listen(lines, here, digits=5)

    def postcode(self, state: CallState, entry: Entry) -> Reply:
        """What the caller typed or said at the postcode question."""
        assert self.places is not None
        if entry.kind is Kind.BACK:
            return self._back_to_result(state, ())
        if entry.kind is Kind.POSTCODE:
            found = self.places.postcode(entry)
            if found is not None:
                # The tries so far still count: a postcode denied at the read-back is one more.
                here = replace(state, phase=Phase.CONFIRM, postcode=found.code, page=0)
                return Listen(say.readback(found), here)
            why: tuple[Line, ...] = (*say.not_found(entry.candidates[0]), line("places.try_again"))
        elif entry.kind is Kind.SILENCE:
            why = (line("ask.silence"),)
        else:
            why = (line("places.invalid"),)
        tries = state.tries + 1
        if tries >= POSTCODE_TRIES:
            # No loop: the mairie knows the nearest place; the caller is back at the result.
            return self._back_to_result(state, (*why[:1], line("places.mairie")))
        return self._ask_postcode(replace(state, tries=tries), why)

    def _at_confirm(self, state: CallState, intent: Intent) -> Reply:
        assert self.places is not None
        found = self.places.directory.postcode(state.postcode)
        if found is None:  # the data changed between two requests of this call
            return self._ask_postcode(replace(state, postcode="", tries=0), ())
        if intent is Intent.YES:
            return self._places(replace(state, page=0, tries=0))
        if intent is Intent.NO:
            # Counted as a try: a caller who says « non » again and again ends at the mairie.
            tries = state.tries + 1
            if tries >= POSTCODE_TRIES:
                return self._back_to_result(replace(state, postcode=""), (line("places.mairie"),))
            return self._ask_postcode(replace(state, postcode="", tries=tries), (line("places.again"),))
        if intent is Intent.BACK:
            return self._ask_postcode(replace(state, postcode="", tries=0), ())
        if intent is Intent.HELP:
            return self._help(replace(state, phase=Phase.RESULT, postcode=""))
        if intent is Intent.REPEAT:
            return Listen(say.readback(found), state)
        tries = state.tries + 1
        if tries >= MAX_TRIES:
            return self._back_to_result(replace(state, postcode=""), (line("places.mairie"),))
        why = line("ask.silence" if intent is Intent.SILENCE else "ask.invalid")
        return Listen((why, *say.readback(found)), replace(state, tries=tries))

    def _places(self, state: CallState, preface: tuple[Line, ...] = ()) -> Reply:
        assert self.places is not None
        directory = self.places.directory
        found = directory.postcode(state.postcode)
        if found is None:
            return self._ask_postcode(replace(state, postcode="", tries=0), ())
        here = replace(state, phase=Phase.PLACES)
        lines = say.page(directory, found, state.page, self._clock())
        more = say.more(directory, found, state.page)
        return Listen((*preface, *lines, *say.keys(more)), here)

    def _at_places(self, state: CallState, intent: Intent) -> Reply:
        assert self.places is not None
        found = self.places.directory.postcode(state.postcode)
        if intent in (Intent.YES, Intent.REPEAT):
            return self._places(replace(state, tries=0))
        more = found is not None and say.more(self.places.directory, found, state.page)
        if intent in (Intent.NO, Intent.NEXT) and more:
            return self._places(replace(state, page=state.page + 1, tries=0))
        if intent is Intent.BACK:
            return self._back_to_result(state, ())
        if intent is Intent.HELP:
            return self._help(replace(state, phase=Phase.RESULT))
        tries = state.tries + 1
        if tries >= MAX_TRIES or found is None:
            return self._back_to_result(state, ())
        why = line("ask.silence" if intent is Intent.SILENCE else "ask.invalid")
        return Listen((why, *say.keys(more)), replace(state, tries=tries))

    def _back_to_result(self, state: CallState, preface: tuple[Line, ...]) -> Reply:
        """At the result again: its keys, not the whole result (the caller heard it already)."""
        here = replace(state, phase=Phase.RESULT, tries=0)
        usable = eligible(self.flow, here.answers)
        return Listen((*preface, line("places.back"), *self._result_options(here, usable)), here)

    def _place_sms(self, state: CallState) -> tuple[Line, ...]:
        """The place the caller heard first on their last page, for the SMS; none before."""
        if self.places is None or not state.postcode:
            return ()
        directory = self.places.directory
        found = directory.postcode(state.postcode)
        nearby = directory.nearest(found, 1, state.page * say.PAGE) if found else ()
        return say.sms(nearby[0], self._clock()) if nearby else ()

    def after_text(self, state: CallState, fate: SmsFate) -> Reply:
        """Say whether the SMS left, then wait at the result again; the call goes on either way."""
        # Once on its way, or refused for the day, the SMS is not offered again in this call.
        done = fate is not SmsFate.FAILED
        here = replace(state, phase=Phase.RESULT, question=None, tries=0, sms_sent=state.sms_sent or done)
        said = line(f"sms.{fate.value}")
        return Listen((said, *self._result_options(here, eligible(self.flow, here.answers))), here)

    def _closest(self, known: Known, state: CallState) -> tuple[Line, ...]:
        """No account yet: the nearest one, each missing item with where to get it, what to check."""
        near = closest(self.flow, known)
        if near is None:
            # Every provider is closed to this caller (an exclusion): only the offline route helps.
            return (line("result.none"),)
        lines = [line("result.none"), line("result.closest", provider=line(near.name))]
        for cid in near.criteria:
            if known.get(cid) is False and cid not in state.unsure:
                lines.append(line("result.missing", item=line(self.flow.criterion(cid).label)))
                lines.extend(self._obtain(cid))
        doubts = tuple(line(self.flow.criterion(c).label) for c in near.criteria if c in state.unsure)
        if doubts:
            lines.append(line("result.doubts", items=doubts))
        unchecked = tuple(line(self.flow.criterion(c).label) for c in near.criteria if c not in known)
        if unchecked:
            lines.append(line("result.unchecked", items=unchecked))
        return tuple(lines)
