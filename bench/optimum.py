"""The fewest questions by brute force, sharing no code with the planner's search.

It lists every answer profile of the flow, weighted by the one answer model
(ivr.engine.odds.weight: product of priors, 0 when an implication is broken), and tries every
decision tree: at each set of profiles still possible it may ask any criterion on which they
differ (pinned and gate criteria first, in flow order, while they still matter, as the product
requires), and keeps the tree with the least weighted sum of questions. A set of profiles is an
integer with one bit per profile, so equal sets reached by different answers are solved once.
A call is over once a gate is answered « non », or every gate is « oui » and each provider is
usable in all the profiles left or in none of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

from ivr.engine.odds import weight
from ivr.flow import Flow

# 2^16 profiles is the most the brute force lists in reasonable time and memory.
MAX_CRITERIA = 16


@dataclass(frozen=True)
class Profiles:
    """Every profile with a positive weight: one value per criterion, in flow order."""

    ids: tuple[str, ...]
    rows: tuple[tuple[bool, ...], ...]
    weights: tuple[float, ...]

    def as_dict(self, k: int) -> dict[str, bool]:
        return dict(zip(self.ids, self.rows[k], strict=True))


def flat(flow: Flow) -> Flow:
    """A copy of the flow with every prior at 0.5: then every consistent profile weighs the same."""
    # Rebuilt rather than model_copy'd: Flow caches criterion lookups that a copy would carry over.
    data = flow.model_dump(by_alias=True)
    data["criteria"] = [{**c, "prior": 0.5} for c in data["criteria"]]
    return Flow.model_validate(data)


def profiles(flow: Flow) -> Profiles:
    """All consistent profiles, weighted by the flow's priors, weights summing to 1."""
    ids = tuple(c.id for c in flow.criteria)
    rows, weights = [], []
    for values in product((True, False), repeat=len(ids)):
        w = weight(flow, dict(zip(ids, values, strict=True)))
        if w > 0.0:
            rows.append(values)
            weights.append(w)
    total = sum(weights)
    return Profiles(ids, tuple(rows), tuple(w / total for w in weights))


@dataclass(frozen=True)
class Best:
    """The best tree: its weighted mean, its longest path (equal trees: the first in flow order)."""

    mean: float
    longest: int
    states: int


def optimum(flow: Flow, population: Profiles) -> Best:
    """The decision tree with the least expected number of questions, found by trying them all."""
    n = len(population.ids)
    index = {cid: j for j, cid in enumerate(population.ids)}
    yes = [sum(1 << k for k, row in enumerate(population.rows) if row[j]) for j in range(n)]
    gates = [index[c.id] for c in flow.criteria if c.gate]
    front = [index[c.id] for c in flow.criteria if c.gate or c.pinned]
    members = [[index[c] for c in p.criteria] for p in flow.providers]
    usable = [_all(yes[j] for j in js) for js in members]
    memo: dict[int, tuple[float, float, int]] = {}

    def varies(s: int, j: int) -> bool:
        return 0 != s & yes[j] != s

    def open_provider(s: int, p: int) -> bool:
        return 0 != s & usable[p] != s

    def finished(s: int) -> bool:
        if any(not s & yes[g] for g in gates):
            return True
        if any(varies(s, g) for g in gates):
            return False
        return not any(open_provider(s, p) for p in range(len(members)))

    def matters(s: int, j: int) -> bool:
        return j in gates or any(j in js and open_provider(s, p) for p, js in enumerate(members))

    def mass(s: int) -> float:
        total = 0.0
        while s:
            low = s & -s
            total += population.weights[low.bit_length() - 1]
            s ^= low
        return total

    def solve(s: int) -> tuple[float, float, int]:
        """(weighted sum of questions, weight, longest path) of the best tree for profiles s."""
        if s in memo:
            return memo[s]
        if finished(s):
            memo[s] = (0.0, mass(s), 0)
            return memo[s]
        pinned = [j for j in front if varies(s, j) and matters(s, j)][:1]
        best: tuple[float, float, int] | None = None
        for j in pinned or [j for j in range(n) if varies(s, j)]:
            said_yes, said_no = solve(s & yes[j]), solve(s & ~yes[j])
            total = said_yes[1] + said_no[1]
            cost = total + said_yes[0] + said_no[0]
            if best is None or cost < best[0] - 1e-12:
                best = (cost, total, 1 + max(said_yes[2], said_no[2]))
        assert best is not None
        memo[s] = best
        return best

    cost, total, longest = solve((1 << len(population.rows)) - 1)
    return Best(cost / total, longest, len(memo))


def _all(masks) -> int:
    result = -1
    for m in masks:
        result &= m
    return result
