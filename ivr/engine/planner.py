"""Which question to ask next."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Protocol

from ivr.engine.board import Board
from ivr.engine.rules import Known
from ivr.engine.search import Exact, Greedy, TooLarge
from ivr.flow import Flow

# Flows with at most this many criteria get the exact plan, if it fits in EXACT_STATES states.
# Measured on this 2-core machine: the seed flow (13 criteria, 2,560 states) 0.07 s, the 2026
# flow (18 criteria, 53,760 states) 2.2 s; random flows of 3-4 criteria per provider, 15 criteria
# (28,000 states) 1 s, 18 (263,000) 25 s. The states grow about tenfold every three criteria;
# the state budget bounds start-up at a few seconds whatever the shape of the flow. Larger flows
# get the greedy plan.
EXACT_LIMIT = 20
EXACT_STATES = 60_000

log = logging.getLogger("ivr")


class Planner(Protocol):
    def next_question(self, known: Known) -> str | None:
        """The criterion to ask now, or None when every provider is decided."""


class FewestQuestions:
    """Ask what minimises the expected number of questions left, pinned ones first in flow order.

    The plan is built once per flow (ivr.engine.search, cached below); a request only computes
    the state's key and looks the question up.
    """

    def __init__(self, flow: Flow, exact_limit: int = EXACT_LIMIT) -> None:
        self.flow = flow
        self.board, self.plan = _plan(flow, exact_limit)

    @property
    def exact(self) -> bool:
        """True when the plan is the exact optimum, False for the greedy fallback."""
        return isinstance(self.plan, Exact)

    @property
    def expected(self) -> float:
        """The expected number of questions of a whole call under the flow's priors."""
        return self.plan.expected

    def next_question(self, known: Known) -> str | None:
        yes, no = self.board.state(known)
        choice = self.plan.choose(yes, no)
        return None if choice is None else self.board.ids[choice]


@lru_cache(maxsize=16)
def _plan(flow: Flow, exact_limit: int) -> tuple[Board, Exact | Greedy]:
    """One plan per flow and bound, shared by every app the process builds (tests build many)."""
    board = Board(flow)
    if len(flow.criteria) <= exact_limit:
        try:
            return board, Exact(board, budget=EXACT_STATES)
        except TooLarge:
            log.info("flow %s: exact plan over %d states, using the greedy plan", flow.id, EXACT_STATES)
    return board, Greedy(board)
