"""A caller who answers from a profile, recognising each question by its words."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping

from ivr.engine.reply import line
from ivr.flow import Flow
from ivr.phone import Phone
from ivr.prompts import Catalog


def consistent_profiles(flow: Flow) -> Iterator[dict[str, bool]]:
    """Every yes/no assignment of the flow's criteria that respects its implications."""
    ids = [c.id for c in flow.criteria]
    for values in itertools.product((True, False), repeat=len(ids)):
        profile = dict(zip(ids, values, strict=True))
        if all(not profile[r.if_] or profile[r.then] for r in flow.implications):
            yield profile


def eligible(flow: Flow, profile: Mapping[str, bool]) -> list[str]:
    """The seed's rule, restated: every criterion yes, and every gate yes."""
    if not all(profile[g.id] for g in flow.criteria if g.gate):
        return []
    return [p.id for p in flow.providers if all(profile[c] for c in p.criteria)]


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
