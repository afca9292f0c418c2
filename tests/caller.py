"""Callers for the tests: they answer from a profile, recognising each question by its words."""

from __future__ import annotations

import copy
import itertools
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from ivr.engine.reply import Line, line
from ivr.flow import Flow
from ivr.phone import CallFailed, Phone
from ivr.prompts import Catalog


def consistent_profiles(flow: Flow) -> Iterator[dict[str, bool]]:
    """Every yes/no assignment of the flow's criteria that respects its implications."""
    ids = [c.id for c in flow.criteria]
    for values in itertools.product((True, False), repeat=len(ids)):
        profile = dict(zip(ids, values, strict=True))
        if all(not profile[r.if_] or profile[r.then] for r in flow.implications):
            yield profile


def closure(flow: Flow, answers: Mapping[str, bool]) -> dict[str, bool]:
    """The answers plus what the flow's implications force, restated here independently."""
    known = dict(answers)
    for _ in flow.implications:
        for rule in flow.implications:
            if known.get(rule.if_):
                known[rule.then] = True
            if known.get(rule.then) is False:
                known[rule.if_] = False
    return known


def eligible(flow: Flow, profile: Mapping[str, bool]) -> list[str]:
    """The rule, restated: every gate yes, every criterion yes, and no criterion excluding it yes."""
    if not all(profile[g.id] for g in flow.criteria if g.gate):
        return []
    return [
        p.id for p in flow.providers
        if all(profile[c] for c in p.criteria)
        and not any(profile[r.if_] for r in flow.exclusions if r.excludes == p.id)
    ]


def fork(phone: Phone) -> Phone:
    """A second phone at the very same point of the call, to try another answer."""
    twin = copy.copy(phone)
    for name in ("heard", "whispers", "transcript", "dialled", "_rest"):
        setattr(twin, name, list(getattr(phone, name)))
    return twin


def walk(start: Phone, flow: Flow, catalog: Catalog) -> Iterator[tuple[tuple[tuple[str, bool], ...], str]]:
    """Every path of the call from a phone at its first question: the answers given, the result heard."""
    result = catalog.render(line("result.repeat"))
    pending: list[tuple[Phone, tuple[tuple[str, bool], ...]]] = [(start, ())]
    while pending:
        phone, answers = pending.pop()
        heard = " ".join(phone.heard)
        if result in heard:
            yield answers, heard
            continue
        cid = question_asked(flow, catalog, heard)
        assert len(answers) < len(flow.criteria), f"asked too many: {answers}"
        for value in (True, False):
            branch = fork(phone)
            branch.press("1" if value else "2")
            pending.append((branch, (*answers, (cid, value))))


def question_asked(flow: Flow, catalog: Catalog, heard: str) -> str:
    """The criterion whose question the caller just heard."""
    found = [c.id for c in flow.criteria if catalog.render(line(c.prompt)) in heard]
    assert len(found) == 1, f"expected one question, heard: {heard}"
    return found[0]


def answer_all(
    phone: Phone, flow: Flow, catalog: Catalog, profile: Mapping[str, bool], until: str | None = None
) -> list[str]:
    """Answer from the profile until the result (or until `until` is asked); return what was asked."""
    asked: list[str] = []
    result = catalog.render(line("result.repeat"))
    while result not in " ".join(phone.heard):
        cid = question_asked(flow, catalog, " ".join(phone.heard))
        if cid == until:
            return asked
        asked.append(cid)
        assert len(asked) <= len(flow.criteria), f"asked too many: {asked}"
        phone.press("1" if profile[cid] else "2")
    assert until is None, f"{until} was never asked; asked {asked}"
    return asked


class Caller:
    """A call in progress, answered from a profile: unnamed criteria get `default`, gates yes."""

    def __init__(self, phone: Phone, flow: Flow, catalog: Catalog) -> None:
        self.phone, self.flow, self.catalog = phone, flow, catalog

    def profile(self, default: bool, answers: Mapping[str, bool]) -> dict[str, bool]:
        values = {c.id: (True if c.gate else default) for c in self.flow.criteria}
        values.update(answers)
        return values

    def answer(self, default: bool = False, until: str | None = None, **answers: bool) -> Caller:
        """Answer every question from the profile until the result, or until `until` is asked."""
        answer_all(self.phone, self.flow, self.catalog, self.profile(default, answers), until)
        return self

    @property
    def asking(self) -> str:
        """The criterion being asked now."""
        return question_asked(self.flow, self.catalog, " ".join(self.phone.heard))


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
    """What the caller with this profile must hear, from the rule restated in `eligible`."""
    failed = next((c for c in flow.criteria if c.gate and not profile[c.id]), None)
    if failed is not None:
        return line("result.gate_failed", item=line(failed.label))
    names = {p.id: line(p.name) for p in flow.providers}
    usable = tuple(names[p] for p in eligible(flow, profile))
    return line("result.eligible", providers=usable) if usable else line("result.none")


@dataclass
class ScriptedCaller:
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
    def numbered(
        cls, number: int, phone: Phone, flow: Flow, catalog: Catalog, profile: Profile
    ) -> ScriptedCaller:
        """The n-th caller of a crowd: keys or words, and a detour at some question, by number."""
        detour = (number % 5, DETOURS[number % len(DETOURS)]) if number % 3 else None
        return cls(phone, flow, catalog, profile, speech=number % 4 == 1, detour=detour)

    @property
    def done(self) -> bool:
        return self.phone.ended

    def run(self, turns: int = 60) -> ScriptedCaller:
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
        elif any(self.catalog.render(line(key)) in said for key in ("result.again", "ask.invalid")):
            self.phone.press("1")  # at the result, a prompt without the result itself: hear it again
        elif self.catalog.render(line("result.repeat")) in said:
            self.result = said
            self.phone.say("Non merci.")  # « non » at the result ends the call politely
        elif self.catalog.render(line("greeting.welcome")) in said:
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
