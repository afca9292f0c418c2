"""Simulated callers with their own answers, and the result each should hear, from the flow's rule."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ivr.engine.reply import Line, line
from ivr.flow import Flow
from ivr.phone import CallFailed, Phone
from ivr.prompts import Catalog

Profile = dict[str, bool]
# What a caller may do once on the way, besides answering: repeat, silence, unsure, back.
DETOURS = ("#", ".", "3", "*")


def profiles(flow: Flow, count: int, seed: int) -> list[Profile]:
    """Answer profiles consistent with the flow's implications; every tenth fails the gate."""
    rng = random.Random(seed)
    out = []
    for number in range(count):
        profile = {c.id: rng.random() < 0.6 for c in flow.criteria}
        for criterion in flow.criteria:
            if criterion.gate:
                profile[criterion.id] = number % 10 != 0
        changed = True
        while changed:
            changed = False
            for rule in flow.implications:
                if profile[rule.if_] and not profile[rule.then]:
                    profile[rule.then] = changed = True
        out.append(profile)
    return out


def expected_result(flow: Flow, profile: Profile) -> Line:
    """The rule, computed apart from the engine: a provider is usable iff every criterion is yes;
    a no to a prerequisite (gate) ends the call with that reason."""
    failed = next((c for c in flow.criteria if c.gate and not profile[c.id]), None)
    if failed is not None:
        return line("result.gate_failed", item=line(failed.label))
    usable = tuple(line(p.name) for p in flow.providers if all(profile[c] for c in p.criteria))
    return line("result.eligible", providers=usable) if usable else line("result.none")


@dataclass
class Caller:
    """One caller answering from a profile, with keys or words, and one detour on the way."""

    phone: Phone
    flow: Flow
    catalog: Catalog
    profile: Profile
    speech: bool = False
    detour: tuple[int, str] | None = None
    turns: int = 0
    result: str = ""
    lost_state: bool = False
    answered: list[str] = field(default_factory=list)
    _questions: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._questions = {self.catalog.render(line(c.prompt)): c.id for c in self.flow.criteria}

    @classmethod
    def numbered(cls, number: int, phone: Phone, flow: Flow, catalog: Catalog, profile: Profile) -> Caller:
        """The n-th caller of a crowd: keys or words, and a detour at some question, by number."""
        detour = (number % 5, DETOURS[number % len(DETOURS)]) if number % 3 else None
        return cls(phone, flow, catalog, profile, speech=number % 4 == 1, detour=detour)

    @property
    def done(self) -> bool:
        return self.phone.ended

    def run(self, turns: int = 60) -> Caller:
        """Act until the call ends or `turns` more actions were taken."""
        for _ in range(turns):
            if self.done:
                break
            self.act()
        return self

    def act(self) -> None:
        """Place the call, or answer what the line just said."""
        if self.turns == 0:
            self.phone.dial()
            self.turns += 1
            return
        said = " ".join(self.phone.heard)
        self.lost_state |= self.catalog.render(line("ask.restart")) in said
        asked = self.question()
        self.turns += 1
        if asked:
            self._answer(asked)
        elif self.catalog.render(line("result.repeat")) in said:
            self.result = said
            self.phone.press("9")  # anything but 1, * or 0 ends the call politely
        elif self.catalog.render(line("greeting.skip")) in said:
            self.phone.press("1")
        else:
            raise CallFailed(f"neither a question, a result nor the greeting: {said!r}")

    def question(self) -> str | None:
        """The criterion the line is asking about now, if any."""
        said = " ".join(self.phone.heard)
        asked = [cid for text, cid in self._questions.items() if text in said]
        if len(asked) > 1:
            raise CallFailed(f"two questions at once: {asked}")
        return asked[0] if asked else None

    def _answer(self, cid: str) -> None:
        if self.detour is not None and self.turns - 2 == self.detour[0]:
            move, self.detour = self.detour[1], None
            if move == ".":
                self.phone.wait()
            else:
                self.phone.press(move)
            return
        self.answered.append(cid)
        yes = self.profile[cid]
        if self.speech:
            self.phone.say("oui" if yes else "non")
        else:
            self.phone.press("1" if yes else "2")

    def expected(self) -> str:
        return self.catalog.render(expected_result(self.flow, self.profile))
