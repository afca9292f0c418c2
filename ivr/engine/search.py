"""Plans over answer states: the exact minimum of expected questions, and a greedy fallback.

Both are built once per flow. A plan maps a state's key (ivr.engine.board) to the question
to ask there; a webhook request computes the key and looks it up, whatever the flow's size.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from functools import cached_property
from math import inf

from ivr.engine.board import Board, bits

# Two expectations closer than this are a tie, settled by flow order (deterministic plans).
TIE = 1e-12


class TooLarge(Exception):
    """The exact search would exceed its state budget."""


class Exact:
    """Dynamic programming over every reachable answer state, memoised on the state's key."""

    def __init__(self, board: Board, budget: int | None = None) -> None:
        self.board = board
        self.memo: dict[Hashable, tuple[float, int]] = {}
        self._budget = budget
        self.expected = self.value(0, 0)
        # Later misses (a forged state) are small searches from a state the plan already covers.
        self._budget = None

    def value(self, yes: int, no: int) -> float:
        """The least expected number of questions still to ask from this state."""
        key = self.board.key(yes, no)
        if key is None:
            return 0.0
        if key not in self.memo:
            if self._budget is not None and len(self.memo) >= self._budget:
                raise TooLarge(f"more than {self._budget} answer states")
            self.memo[key] = self._best(yes, no)
        return self.memo[key][0]

    def choose(self, yes: int, no: int) -> int | None:
        """The question that reaches that minimum, or None when every provider is decided."""
        key = self.board.key(yes, no)
        if key is None:
            return None
        if key not in self.memo:
            # Only a state no call can reach through its own answers (a forged token) lands here.
            self.memo[key] = self._best(yes, no)
        return self.memo[key][1]

    def _best(self, yes: int, no: int) -> tuple[float, int]:
        board = self.board
        best, choice = inf, -1
        for i in board.choices(yes, no, board.needed(yes, no)):
            p = board.p_yes(i, yes, no)
            cost = 1.0
            if p > 0.0:
                cost += p * self.value(yes | board.if_yes[i], no)
            if p < 1.0:
                cost += (1.0 - p) * self.value(yes, no | board.if_no[i])
            if cost < best - TIE:
                best, choice = cost, i
        return best, choice


class Greedy:
    """A fixed priority order, computed once: likeliest « non » per provider it can settle first.

    Used above the exact bound. A criterion scores the chance (under the answer model, before any
    answer) that it excludes a provider, over that provider's number of criteria, summed over
    its providers; the call asks, pinned ones first, the best-scored criterion still needed.
    """

    def __init__(self, board: Board) -> None:
        self.board = board
        score = [0.0] * len(board.ids)
        for provider in board.providers:
            for i in bits(provider):
                score[i] += (1.0 - board.p_yes(i, 0, 0)) / provider.bit_count()
        self.order = sorted(range(len(board.ids)), key=lambda i: (-score[i], i))

    @cached_property
    def expected(self) -> float:
        """The expected number of questions of a whole call (walks the plan: for benchmarks and tests)."""
        return evaluate(self.board, self.choose)

    def choose(self, yes: int, no: int) -> int | None:
        """The first needed criterion in priority order, pinned ones first; None when done."""
        need = self.board.needed(yes, no)
        if not need:
            return None
        for i in self.board.front:
            if need >> i & 1:
                return i
        return next(i for i in self.order if need >> i & 1)


def evaluate(board: Board, choose: Callable[[int, int], int | None], yes: int = 0, no: int = 0) -> float:
    """The expected number of questions a policy asks from this state, under the answer model."""
    memo: dict[Hashable, float] = {}

    def walk(yes: int, no: int) -> float:
        key = board.key(yes, no)
        if key is None:
            return 0.0
        if key not in memo:
            i = choose(yes, no)
            assert i is not None, "a policy must ask while a provider is undecided"
            p = board.p_yes(i, yes, no)
            cost = 1.0
            if p > 0.0:
                cost += p * walk(yes | board.if_yes[i], no)
            if p < 1.0:
                cost += (1.0 - p) * walk(yes, no | board.if_no[i])
            memo[key] = cost
        return memo[key]

    return walk(yes, no)


