"""Plans over answer states: the least expected cost of the questions, exact or greedy.

A question's cost is what asking it takes (its spoken seconds, ivr.engine.spoken; 1 for each to
count questions). Both plans are built once per flow and costs. A plan maps a state (ivr.engine.board)
to the question to ask there; a webhook request computes the state and looks it up.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from functools import cached_property
from math import inf

from ivr.engine.board import Board, Needs, Part, bits

# Two expectations closer than this are a tie, settled by flow order (deterministic plans).
TIE = 1e-12

Costs = tuple[float, ...]


class TooLarge(Exception):
    """The exact search would exceed its state budget."""


class Exact:
    """Dynamic programming over every reachable answer state, memoised on what the rest depends on.

    Gates and pinned criteria come first, in flow order. After them the undecided providers fall
    into independent parts (Board.parts): the least expected cost is the sum of each part's, so
    each part is solved, and memoised, on its own.
    """

    def __init__(self, board: Board, costs: Costs, budget: int | None = None) -> None:
        self.board = board
        self.costs = costs
        self.memo: dict[Hashable, tuple[float, int]] = {}
        self._after: dict[Hashable, float] = {}
        self._budget = budget
        self.expected = self.value(0, 0)
        # Later misses (a forged state) are small searches from a state the plan already covers.
        self._budget = None
        # Every state a call can reach through its answers, with the question to ask there: a
        # request looks its state up here rather than splitting it into parts again.
        self.decisions: dict[Hashable, int] = {}
        self._decide(0, 0)

    def value(self, yes: int, no: int) -> float:
        """The least expected cost of the questions still to ask from this state."""
        need = self.board.needed(yes, no)
        if not need:
            return 0.0
        first = self.board.pinned(need)
        if first is None:
            return sum(self._solve(yes, no, part)[0] for part in self.board.parts(yes, no))
        key = self.board.key(yes, no)
        if key not in self.memo:
            self._spend()
            self.memo[key] = self._ask(first, yes, no, self.value), first
        return self.memo[key][0]

    def choose(self, yes: int, no: int) -> int | None:
        """A question that reaches that minimum, or None when every provider is decided."""
        key = self.board.key(yes, no)
        if key is None:
            return None
        if key in self.decisions:
            return self.decisions[key]
        return self._choice(yes, no)

    def _decide(self, yes: int, no: int) -> None:
        stack = [(yes, no)]
        while stack:
            yes, no = stack.pop()
            key = self.board.key(yes, no)
            if key is None or key in self.decisions:
                continue
            i = self.decisions[key] = self._choice(yes, no)
            stack += [(yes | self.board.if_yes[i], no), (yes, no | self.board.if_no[i])]

    def _choice(self, yes: int, no: int) -> int:
        need = self.board.needed(yes, no)
        first = self.board.pinned(need)
        if first is not None:
            return first
        # Parts are independent: which goes first changes nothing; the flow's order decides.
        return self._solve(yes, no, self.board.parts(yes, no)[0])[1]

    def _solve(self, yes: int, no: int, part: Part) -> tuple[float, int]:
        if part not in self.memo:
            self._spend()
            self.memo[part] = self._best(yes, no, part)
        return self.memo[part]

    def _best(self, yes: int, no: int, part: Part) -> tuple[float, int]:
        def rest(yes: int, no: int) -> float:
            return self._rest(yes, no, part.lefts)

        best, choice = inf, -1
        for i in self.board.choices(yes, no, part.need):
            cost = self._ask(i, yes, no, rest)
            if cost < best - TIE:
                best, choice = cost, i
        return best, choice

    def _rest(self, yes: int, no: int, lefts: frozenset[Needs]) -> float:
        """The least expected cost left to decide the providers of a part once `yes` and `no` are known."""
        after = self.board.left(yes, no, lefts)
        if not after:
            return 0.0
        need = 0
        for needs_yes, needs_no in after:
            need |= needs_yes | needs_no
        # Many states lead to the same remainder: splitting it into parts once is enough.
        key = frozenset(after), (yes | no) & (need | self.board.tied(need))
        if key not in self._after:
            self._after[key] = sum(self._solve(yes, no, p)[0] for p in self.board.parts(yes, no, after))
        return self._after[key]

    def _ask(self, i: int, yes: int, no: int, rest: Callable[[int, int], float]) -> float:
        """The expected cost of asking criterion i here, then going on at the least cost."""
        board = self.board
        p = board.p_yes(i, yes, no)
        cost = self.costs[i]
        if p > 0.0:
            cost += p * rest(yes | board.if_yes[i], no)
        if p < 1.0:
            cost += (1.0 - p) * rest(yes, no | board.if_no[i])
        return cost

    def _spend(self) -> None:
        if self._budget is not None and len(self.memo) >= self._budget:
            raise TooLarge(f"more than {self._budget} answer states")


class Greedy:
    """A fixed priority order, computed once: likeliest settling per second first.

    Used above the exact bound. A criterion scores the chance (under the answer model, before any
    answer) that it rules a provider out (a « non » to a criterion it needs, a « oui » to one that
    excludes it), over the cost of asking it and the total cost of that provider's criteria,
    summed over its providers; the call asks, pinned ones first, the best-scored criterion still
    needed. (For one provider alone, asking by falling chance of ruling it out per second is the
    cheapest order.)
    """

    def __init__(self, board: Board, costs: Costs) -> None:
        self.board = board
        self.costs = costs
        score = [0.0] * len(board.ids)
        for needs_yes, needs_no in board.providers:
            total = sum(costs[i] for i in bits(needs_yes | needs_no))
            for i in bits(needs_yes):
                score[i] += (1.0 - board.p_yes(i, 0, 0)) / (costs[i] * total)
            for i in bits(needs_no):
                score[i] += board.p_yes(i, 0, 0) / (costs[i] * total)
        self.order = sorted(range(len(board.ids)), key=lambda i: (-score[i], i))

    @cached_property
    def expected(self) -> float:
        """The expected cost of a whole call's questions (walks the plan: for benchmarks and tests)."""
        return evaluate(self.board, self.choose, self.costs)

    def choose(self, yes: int, no: int) -> int | None:
        """The first needed criterion in priority order, pinned ones first; None when done."""
        need = self.board.needed(yes, no)
        if not need:
            return None
        first = self.board.pinned(need)
        if first is not None:
            return first
        return next(i for i in self.order if need >> i & 1)


def evaluate(board: Board, choose: Callable[[int, int], int | None], costs: Costs) -> float:
    """The expected cost of the questions a policy asks in a whole call, under the answer model."""
    memo: dict[Hashable, float] = {}

    def walk(yes: int, no: int) -> float:
        key = board.key(yes, no)
        if key is None:
            return 0.0
        if key not in memo:
            i = choose(yes, no)
            assert i is not None, "a policy must ask while a provider is undecided"
            p = board.p_yes(i, yes, no)
            cost = costs[i]
            if p > 0.0:
                cost += p * walk(yes | board.if_yes[i], no)
            if p < 1.0:
                cost += (1.0 - p) * walk(yes, no | board.if_no[i])
            memo[key] = cost
        return memo[key]

    return walk(0, 0)
