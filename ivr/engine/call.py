"""The conversation: from the caller's intent at a state to the engine's reply."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ivr.engine.intents import Intent
from ivr.engine.planner import Planner
from ivr.engine.reply import Hangup, Line, Listen, Reply, Text, Transfer, line
from ivr.engine.rules import closest, eligible, infer, judge
from ivr.engine.state import CallState, Phase
from ivr.engine.summary import text
from ivr.flow import Flow

MAX_TRIES = 3

@dataclass(frozen=True)
class Call:
    """One flow's conversation rules; holds no call, so one instance serves every call."""

    flow: Flow
    planner: Planner
    advisor: bool = False
    # Whether this caller can receive the result by SMS: the edge knows the number and the set-up.
    sms: bool = False

    def start(self) -> Reply:
        """The greeting; any key skips it."""
        lines = (line("greeting.welcome"), line("greeting.skip"))
        return Listen(lines, CallState(Phase.GREET))

    def transferred(self, answers: tuple[tuple[str, bool], ...], explain: bool = False) -> Reply:
        """A caller sent by a helpline: one sentence of welcome, then the questions not yet answered."""
        about = (line("transfer.about"),) if explain else ()
        preface = (line("transfer.welcome"), *about, line("keys.intro"))
        return self.ask(CallState(Phase.ASK, answers=answers), preface, self._key_map())

    def restart(self) -> Reply:
        """Back to the first question, with an apology, when a call's state was lost."""
        return self.ask(CallState(Phase.ASK), (line("ask.restart"), line("keys.intro")), self._key_map())

    def handle(self, state: CallState, intent: Intent) -> Reply:
        """The reply to what the caller did at this state."""
        if state.phase is Phase.GREET:
            return self.ask(state, (line("ask.first"), line("keys.intro")), self._key_map())
        if state.phase is Phase.RESULT:
            return self._at_result(state, intent)
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
        return self.ask(state, preface)

    def ask(
        self, state: CallState, preface: tuple[Line, ...] = (), postscript: tuple[Line, ...] = ()
    ) -> Reply:
        """Ask the next useful question, or give the result when nothing is left to ask."""
        question = self.planner.next_question(infer(self.flow, state.answers))
        if question is None:
            return self.result(state, preface)
        tries = state.tries if question == state.question else 0
        here = replace(state, phase=Phase.ASK, question=question, tries=tries)
        prompt = line(self.flow.criterion(question).prompt)
        return Listen((*preface, prompt, line("keys.answer"), *postscript), here)

    def _at_question(self, state: CallState, intent: Intent) -> Reply:
        assert state.question is not None
        criterion = self.flow.criterion(state.question)
        if intent in (Intent.YES, Intent.NO):
            return self.ask(state.answered(criterion.id, intent is Intent.YES))
        if intent is Intent.UNSURE:
            return self.ask(state, (line(criterion.help), line("ask.unsure")))
        if intent is Intent.REPEAT:
            return self.ask(state)
        if intent is Intent.BACK:
            if not state.answers:
                return self.ask(state, (line("ask.at_first"),))
            return self.ask(replace(state, answers=state.answers[:-1], tries=0), (line("ask.back"),))
        if intent is Intent.HELP:
            return self._help(state)
        return self._failed(state, intent)

    def _at_result(self, state: CallState, intent: Intent) -> Reply:
        if intent in (Intent.YES, Intent.REPEAT):
            return self.result(state)
        if intent is Intent.SMS and self.sms and not state.sms_sent and eligible(self.flow, state.answers):
            return Text(text(self.flow, state), state)
        if intent is Intent.BACK and state.answers:
            return self.ask(replace(state, answers=state.answers[:-1], tries=0), (line("ask.back"),))
        if intent is Intent.HELP:
            return self._help(state)
        return Hangup((line("goodbye"),))

    def _help(self, state: CallState) -> Reply:
        if self.advisor:
            return Transfer((line("transfer.intro"),), replace(state, tries=0))
        lines = (line("keys.navigate"), line("help.in_person"), line("help.online"))
        return self.present(state, lines)

    def _key_map(self) -> tuple[Line, ...]:
        return (line("keys.navigate"), line("keys.advisor" if self.advisor else "keys.help"))

    def _failed(self, state: CallState, intent: Intent) -> Reply:
        tries = state.tries + 1
        if tries >= MAX_TRIES:
            if self.advisor and not state.transfer_failed:
                return Transfer((line("ask.too_many"), line("transfer.intro")), replace(state, tries=0))
            return Hangup((line("ask.too_many"), line("help.in_person"), line("goodbye")))
        why = line("ask.silence" if intent is Intent.SILENCE else "ask.invalid")
        return self.ask(replace(state, tries=tries), (why,), self._key_map())

    def result(self, state: CallState, preface: tuple[Line, ...] = ()) -> Reply:
        """Say who the caller can use and what to do next, then offer to hear it again."""
        known = infer(self.flow, state.answers)
        verdict = judge(self.flow, known)
        if verdict.gate_failed is not None:
            label = line(self.flow.criterion(verdict.gate_failed).label)
            lines: tuple[Line, ...] = (line("result.gate_failed", item=label), line("help.in_person"))
        elif verdict.eligible:
            names = tuple(line(p.name) for p in verdict.eligible)
            steps = tuple(line(key) for key in self.flow.steps)
            cautions = tuple(line(p.caution) for p in verdict.eligible if p.caution)
            lines = (line("result.eligible", providers=names), line("result.steps"), *steps, *cautions)
        else:
            lines = self._closest(known)
        here = replace(state, phase=Phase.RESULT, question=None, tries=0)
        options = self._result_options(here, bool(verdict.eligible))
        return Listen((*preface, *lines, *options), here, closing=(line("goodbye"),))

    def _result_options(self, state: CallState, usable: bool) -> tuple[Line, ...]:
        options = [line("result.repeat")]
        # Only a result with a provider to use is worth a text; one message per call is enough.
        if self.sms and usable and not state.sms_sent:
            options.append(line("sms.offer"))
        if state.answers:
            options.append(line("result.correct"))
        if self.advisor:
            options.append(line("keys.advisor"))
        return tuple(options)

    def after_text(self, state: CallState, sent: bool) -> Reply:
        """Say whether the SMS left, then wait at the result again; the call goes on either way."""
        here = replace(state, phase=Phase.RESULT, question=None, tries=0, sms_sent=state.sms_sent or sent)
        said = line("sms.sent" if sent else "sms.failed")
        options = self._result_options(here, bool(eligible(self.flow, here.answers)))
        return Listen((said, *options), here, closing=(line("goodbye"),))

    def _closest(self, known: dict[str, bool]) -> tuple[Line, ...]:
        near = closest(self.flow, known)
        if near is None:
            return (line("result.none"), line("help.in_person"))
        missing = tuple(line(self.flow.criterion(c).label) for c in near.criteria if known.get(c) is False)
        unchecked = tuple(line(self.flow.criterion(c).label) for c in near.criteria if c not in known)
        lines = [line("result.none"), line("result.closest", provider=line(near.name))]
        if missing:
            lines.append(line("result.missing", items=missing))
        if unchecked:
            lines.append(line("result.unchecked", items=unchecked))
        lines.append(line("help.in_person"))
        return tuple(lines)
