"""A flow as bit masks, so answer states are two integers and equivalent states share one key.

Criterion i of the flow is bit i. A provider is two masks: the criteria it needs at yes and
those (its exclusions) it needs at no. A state is (yes, no): the criteria known to be yes and
no, implications applied. Its key keeps only what the rest of the call depends on: the gates
still open, what each undecided provider still needs, and the known values inside the
implication groups of those needed criteria (they change probabilities and inferences). Once
no gate is open, undecided providers fall into independent parts (Board.parts), which the exact
search solves apart.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
from itertools import product
from typing import NamedTuple

from ivr.engine.odds import weight
from ivr.engine.rules import Known, infer, requirements
from ivr.flow import Flow


def bits(mask: int) -> Iterator[int]:
    """The indices of the set bits, lowest first (flow order)."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


# What a provider needs: (criteria at yes, criteria at no), as masks.
Needs = tuple[int, int]


class Part(NamedTuple):
    """Undecided providers whose questions and answers are independent of every other provider's."""

    # The criteria they still need, with every criterion in the implication group of one.
    reach: int
    # What each still needs: (criteria it needs at yes, criteria it needs at no), unknown ones only.
    lefts: frozenset[Needs]
    # Which of `reach` are known: with implications applied, the chances of the unknown ones depend
    # only on which are unknown (ivr.engine.odds), so this and `lefts` fix the rest of the part.
    known: int

    @property
    def need(self) -> int:
        """The criteria its providers still need answered."""
        need = 0
        for needs_yes, needs_no in self.lefts:
            need |= needs_yes | needs_no
        return need


class Board:
    """Bit masks of one flow: gates, pinned order, providers' needs, implication closures and groups."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.ids = tuple(c.id for c in flow.criteria)
        self.priors = tuple(c.prior for c in flow.criteria)
        self.gates = self.mask(flow.gates)
        # Gates and pinned questions keep the flow's order, ahead of everything else.
        self.front = tuple(i for i, c in enumerate(flow.criteria) if c.pinned or c.gate)
        # rules.requirements is the one source of truth on what a provider needs; the masks restate
        # rules.standing: lost at a yes-need answered no or a no-need answered yes.
        self.providers = tuple(tuple(self.mask(ids) for ids in requirements(flow, p)) for p in flow.providers)
        # infer() is the one source of truth on implications: a yes spreads forward, a no backward.
        self.if_yes = tuple(self._spread(cid, True) for cid in self.ids)
        self.if_no = tuple(self._spread(cid, False) for cid in self.ids)
        self.group = self._groups()
        self._odds: dict[tuple[int, int, int], float] = {}
        self._tied: dict[int, int] = {}

    def mask(self, cids: Iterable[str]) -> int:
        """The mask of these criterion ids."""
        return sum(1 << self.flow.index(cid) for cid in set(cids))

    def state(self, known: Known) -> tuple[int, int]:
        """(yes, no) masks of known values."""
        yes = self.mask(cid for cid, value in known.items() if value)
        no = self.mask(cid for cid, value in known.items() if not value)
        return yes, no

    def needed(self, yes: int, no: int) -> int:
        """Criteria whose answer still matters: open gates, unknowns of undecided providers; 0 if done."""
        if no & self.gates:
            return 0
        need = self.gates & ~(yes | no)
        for needs_yes, needs_no in self.providers:
            if not (needs_yes & no or needs_no & yes):
                need |= needs_yes & ~yes | needs_no & ~no
        return need

    def key(self, yes: int, no: int) -> Hashable | None:
        """What the rest of the call depends on, or None when every provider is decided."""
        need = self.needed(yes, no)
        if not need:
            return None
        open_gates = self.gates & ~(yes | no)
        tied = self.tied(need)
        return open_gates, frozenset(self.left(yes, no)), yes & tied, no & tied

    def tied(self, need: int) -> int:
        """Every criterion sharing an implication group with a needed one."""
        # The searches ask this of the same few masks again and again.
        if need not in self._tied:
            tied = 0
            for i in bits(need):
                tied |= self.group[i]
            self._tied[need] = tied
        return self._tied[need]

    def pinned(self, need: int) -> int | None:
        """The first needed gate or pinned criterion, asked before anything else; None if none is."""
        return next((i for i in self.front if need >> i & 1), None)

    def choices(self, yes: int, no: int, need: int) -> tuple[int, ...]:
        """The questions worth considering: every needed one, and those tied to one by an implication."""
        # An unneeded criterion can still be worth asking when an implication ties it to a needed one.
        extra = self.tied(need) & ~(yes | no) & ~need
        return (*bits(need), *bits(extra))

    def left(self, yes: int, no: int, among: Iterable[Needs] | None = None) -> list[Needs]:
        """What each undecided provider (of the board, or `among` those needs) still needs answered."""
        return [
            (needs_yes & ~yes, needs_no & ~no)
            for needs_yes, needs_no in (self.providers if among is None else among)
            if not (needs_yes & no or needs_no & yes) and (needs_yes & ~yes or needs_no & ~no)
        ]

    def parts(self, yes: int, no: int, among: Iterable[Needs] | None = None) -> list[Part]:
        """The undecided providers (of the board, or `among` those needs) in independent parts.

        Two parts share no criterion and no implication group: under the answer model their answers
        are independent and a question of one never settles the other, so a call pays for each
        part what it would pay for it alone, in any order. Parts come in flow order.
        """
        found: list[tuple[int, set[Needs]]] = []
        for left in self.left(yes, no, among):
            need = left[0] | left[1]
            reach, lefts = need | self.tied(need), {left}
            for other in [f for f in found if f[0] & reach]:
                found.remove(other)
                reach |= other[0]
                lefts |= other[1]
            found.append((reach, lefts))
        found.sort(key=lambda f: f[0] & -f[0])
        return [Part(reach, frozenset(lefts), (yes | no) & reach) for reach, lefts in found]

    def p_yes(self, i: int, yes: int, no: int) -> float:
        """P(criterion i answers oui | known values) under the model of ivr.engine.odds."""
        group = self.group[i]
        if not group:
            return self.priors[i]
        slot = (i, yes & group, no & group)
        if slot not in self._odds:
            self._odds[slot] = self._conditional(i, yes & group, no & group, group)
        return self._odds[slot]

    def _conditional(self, i: int, yes: int, no: int, group: int) -> float:
        known = {self.ids[j]: bool(yes >> j & 1) for j in bits(yes | no)}
        unknown = [self.ids[j] for j in bits(group & ~(yes | no))]
        total = hit = 0.0
        for values in product((True, False), repeat=len(unknown)):
            w = weight(self.flow, {**known, **dict(zip(unknown, values, strict=True))})
            total += w
            if dict(zip(unknown, values, strict=True)).get(self.ids[i]):
                hit += w
        # Contradictory answers (possible only in a forged state) leave the prior as the best guess.
        return hit / total if total > 0 else self.priors[i]

    def _spread(self, cid: str, value: bool) -> int:
        """The criteria an answer to `cid` fixes to the same value, itself included."""
        return self.mask(k for k, v in infer(self.flow, [(cid, value)]).items() if v is value)

    def _groups(self) -> tuple[int, ...]:
        """For each criterion, the mask of its implication group (0 when no implication ties it)."""
        group = [1 << i for i in range(len(self.ids))]
        for rule in self.flow.implications:
            merged = group[self.flow.index(rule.if_)] | group[self.flow.index(rule.then)]
            for j in bits(merged):
                group[j] = merged
        return tuple(g if g & (g - 1) else 0 for g in group)
