"""The cheapest questions by brute force, sharing no code with the planner's search.

Two searches over every decision tree, each with its own restatement of the rule (a provider is
usable when every gate and each of its criteria is « oui » and no criterion excluding it is) and
of when a call is over (a gate answered « non », or every gate « oui » and each provider usable
or lost whatever the answers left). At each point a tree may ask, first, the first gate or pinned
criterion still needed (in flow order, as the product requires), else any criterion it chooses;
each question costs what `costs` says (1 by default: the fewest questions). The weights are the
one answer model's (ivr.engine.odds.weight: product of priors, 0 when an implication is broken).

- `by_profiles` lists every answer profile and memoises on the set of profiles still possible
  (an integer, one bit per profile); it may ask any criterion on which they differ. Up to
  MAX_PROFILE_CRITERIA criteria.
- `by_assignments` memoises on a canonical partial assignment: which providers are still open,
  and which criteria are unknown and still relevant. It reads chances off the implications
  among the unknown criteria, and asks only relevant criteria: those an open provider or gate
  still needs, or that implications among unknown criteria connect to one (a criterion
  connected to none is independent of every verdict, so asking it only costs). Up to about 22
  criteria in minutes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import product

from ivr.engine.odds import weight
from ivr.flow import Flow

# 2^16 profiles is the most by_profiles lists in reasonable time and memory.
MAX_PROFILE_CRITERIA = 16
TIE = 1e-12


@dataclass(frozen=True)
class Profiles:
    """Every profile with a positive weight: one value per criterion, in flow order."""

    ids: tuple[str, ...]
    rows: tuple[tuple[bool, ...], ...]
    weights: tuple[float, ...]

    def as_dict(self, k: int) -> dict[str, bool]:
        return dict(zip(self.ids, self.rows[k], strict=True))


@dataclass(frozen=True)
class Best:
    """The best tree: its expected cost, its longest path (equal trees: the first in flow order)."""

    mean: float
    longest: int
    states: int


def each_once(flow: Flow) -> dict[str, float]:
    """A cost of 1 per question: the cheapest tree then asks the fewest questions."""
    return dict.fromkeys((c.id for c in flow.criteria), 1.0)


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


def by_profiles(flow: Flow, population: Profiles, costs: Mapping[str, float] | None = None) -> Best:
    """The decision tree of least expected cost, found by trying them all over sets of profiles."""
    cost = costs or each_once(flow)
    n = len(population.ids)
    index = {cid: j for j, cid in enumerate(population.ids)}
    price = [cost[cid] for cid in population.ids]
    yes = [sum(1 << k for k, row in enumerate(population.rows) if row[j]) for j in range(n)]
    everyone = (1 << len(population.rows)) - 1
    gates = [index[c.id] for c in flow.criteria if c.gate]
    front = [index[c.id] for c in flow.criteria if c.gate or c.pinned]
    members = [[index[c] for c in p.criteria] for p in flow.providers]
    barred = [[index[r.if_] for r in flow.exclusions if r.excludes == p.id] for p in flow.providers]
    # The profiles in which each provider is usable: every criterion yes, every exclusion no.
    usable = [
        _all([*(yes[j] for j in js), *(everyone & ~yes[j] for j in bs)])
        for js, bs in zip(members, barred, strict=True)
    ]
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
        return j in gates or any(
            (j in js or j in barred[p]) and open_provider(s, p) for p, js in enumerate(members)
        )

    def mass(s: int) -> float:
        total = 0.0
        while s:
            low = s & -s
            total += population.weights[low.bit_length() - 1]
            s ^= low
        return total

    def solve(s: int) -> tuple[float, float, int]:
        """(weighted sum of costs, weight, longest path) of the best tree for profiles s."""
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
            spent = price[j] * total + said_yes[0] + said_no[0]
            if best is None or spent < best[0] - TIE:
                best = (spent, total, 1 + max(said_yes[2], said_no[2]))
        assert best is not None
        memo[s] = best
        return best

    spent, total, longest = solve(everyone)
    return Best(spent / total, longest, len(memo))


def by_assignments(flow: Flow, costs: Mapping[str, float] | None = None) -> Best:
    """The decision tree of least expected cost, found by trying them all over partial assignments."""
    cost = costs or each_once(flow)
    ids = [c.id for c in flow.criteria]
    index = {cid: j for j, cid in enumerate(ids)}
    price = [cost[cid] for cid in ids]
    gates = _mask(index, (c.id for c in flow.criteria if c.gate))
    front = [index[c.id] for c in flow.criteria if c.gate or c.pinned]
    # A provider is usable when each of `needs` is yes and each of `bars` (its exclusions) is no.
    needs = [_mask(index, p.criteria) for p in flow.providers]
    bars = [_mask(index, (r.if_ for r in flow.exclusions if r.excludes == p.id)) for p in flow.providers]
    after = [0] * len(ids)
    before = [0] * len(ids)
    for rule in flow.implications:
        after[index[rule.if_]] |= 1 << index[rule.then]
        before[index[rule.then]] |= 1 << index[rule.if_]
    either = [a | b for a, b in zip(after, before, strict=True)]
    chances: dict[tuple[int, int], float] = {}
    memo: dict[tuple[int, int], tuple[float, int]] = {}

    def spread(start: int, edges: list[int], unknown: int) -> int:
        """`start` and every unknown criterion the implications reach from it through unknown ones."""
        reached, frontier = start, start
        while frontier:
            grown = 0
            for j in _bits(frontier):
                grown |= edges[j]
            frontier = grown & unknown & ~reached
            reached |= frontier
        return reached

    def linked(seeds: int, unknown: int) -> int:
        """The unknown criteria connected to `seeds` by implications among unknown criteria."""
        return spread(seeds & unknown, either, unknown)

    def wanted(opened: int, relevant: int) -> int:
        """What the open gates and providers still need answered."""
        need = gates & relevant
        for p in _bits(opened):
            need |= (needs[p] | bars[p]) & relevant
        return need

    def chance(j: int, relevant: int) -> float:
        """P(j is yes) given which criteria are unknown: the unknown ones are bound only by each other."""
        group = linked(1 << j, relevant)
        if (j, group) not in chances:
            members = [ids[k] for k in _bits(group)]
            total = hit = 0.0
            for values in product((True, False), repeat=len(members)):
                w = weight(flow, dict(zip(members, values, strict=True)))
                total += w
                hit += w if values[members.index(ids[j])] else 0.0
            chances[j, group] = hit / total
        return chances[j, group]

    def answer(j: int, value: bool, opened: int, relevant: int) -> tuple[int, int] | None:
        """The canonical state after answering j; None when the call is over."""
        became = spread(1 << j, after if value else before, relevant)
        yes, no = (became, 0) if value else (0, became)
        if no & gates:
            return None
        unknown = relevant & ~became
        still = 0
        for p in _bits(opened):
            if needs[p] & no or bars[p] & yes:
                continue
            if (needs[p] | bars[p]) & unknown:
                still |= 1 << p
        left = linked(wanted(still, unknown), unknown)
        return (still, left) if left else None

    def solve(opened: int, relevant: int) -> tuple[float, int]:
        """(expected cost, longest path) of the best tree from this state."""
        if (opened, relevant) in memo:
            return memo[opened, relevant]
        need = wanted(opened, relevant)
        pinned = [j for j in front if need >> j & 1][:1]
        best: tuple[float, int] | None = None
        for j in pinned or list(_bits(relevant)):
            p = chance(j, relevant)
            spent, longest = price[j], 0
            for value, share in ((True, p), (False, 1.0 - p)):
                state = answer(j, value, opened, relevant)
                if share > 0.0 and state is not None:
                    rest, depth = solve(*state)
                    spent += share * rest
                    longest = max(longest, depth)
            if best is None or spent < best[0] - TIE:
                best = (spent, longest + 1)
        assert best is not None
        memo[opened, relevant] = best
        return best

    everything = (1 << len(ids)) - 1
    opened = (1 << len(flow.providers)) - 1
    mean, longest = solve(opened, linked(wanted(opened, everything), everything))
    return Best(mean, longest, len(memo))


def _mask(index: Mapping[str, int], cids) -> int:
    return sum(1 << index[c] for c in set(cids))


def _bits(mask: int):
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


def _all(masks) -> int:
    result = -1
    for m in masks:
        result &= m
    return result
