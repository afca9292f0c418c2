"""A flow as bit masks, so answer states are two integers and equivalent states share one key.

Criterion i of the flow is bit i. A state is (yes, no): the criteria known to be yes and no,
implications applied. Its key keeps only what the rest of the call depends on: the gates
still open, what each undecided provider still needs, and the known values inside the
implication groups of those needed criteria (they change probabilities and inferences).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
from itertools import product

from ivr.engine.odds import weight
from ivr.engine.rules import Known, infer
from ivr.flow import Flow


def bits(mask: int) -> Iterator[int]:
    """The indices of the set bits, lowest first (flow order)."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


class Board:
    """Bit masks of one flow: gates, pinned order, providers, implication closures and groups."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.ids = tuple(c.id for c in flow.criteria)
        self.priors = tuple(c.prior for c in flow.criteria)
        self.gates = self.mask(flow.gates)
        # Gates and pinned questions keep the flow's order, ahead of everything else.
        self.front = tuple(i for i, c in enumerate(flow.criteria) if c.pinned or c.gate)
        self.providers = tuple(self.mask(p.criteria) for p in flow.providers)
        # infer() is the one source of truth on implications: a yes spreads forward, a no backward.
        self.if_yes = tuple(self._spread(cid, True) for cid in self.ids)
        self.if_no = tuple(self._spread(cid, False) for cid in self.ids)
        self.group = self._groups()
        self._odds: dict[tuple[int, int, int], float] = {}

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
        for provider in self.providers:
            if not provider & no:
                need |= provider & ~yes
        return need

    def key(self, yes: int, no: int) -> Hashable | None:
        """What the rest of the call depends on, or None when every provider is decided."""
        need = self.needed(yes, no)
        if not need:
            return None
        open_gates = self.gates & ~(yes | no)
        left = frozenset(p & ~yes for p in self.providers if not p & no and p & ~yes)
        tied = self.tied(need)
        return open_gates, left, yes & tied, no & tied

    def tied(self, need: int) -> int:
        """Every criterion sharing an implication group with a needed one."""
        tied = 0
        for i in bits(need):
            tied |= self.group[i]
        return tied

    def choices(self, yes: int, no: int, need: int) -> tuple[int, ...]:
        """The questions worth considering: the first needed pinned one alone, else every useful one."""
        for i in self.front:
            if need >> i & 1:
                return (i,)
        # An unneeded criterion can still be worth asking when an implication ties it to a needed one.
        extra = self.tied(need) & ~(yes | no) & ~need
        return (*bits(need), *bits(extra))

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
