"""Which question to ask next."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import lru_cache
from typing import Protocol

from ivr.engine.board import Board
from ivr.engine.rules import Known
from ivr.engine.search import Costs, Exact, Greedy, TooLarge
from ivr.flow import Flow

# Flows with at most this many criteria get the exact plan, if it fits in EXACT_STATES states.
# The exact search solves independent groups of providers apart, so its states grow with the
# largest group, not with the whole flow. Measured on this 2-core machine (CPU time): the seed
# flow, 13 criteria, 48 states in 0.01 s; the 2026 flow, 18 criteria, 752 states in 0.3 s; that
# flow with two more criteria tying impots.gouv.fr and a seventh provider to La Poste's group,
# 11,000 states in 2.1 s; random flows of 20 criteria in one group, 250 µs a state. The budget
# bounds start-up near 5 s whatever the flow's shape; larger flows get the greedy plan.
EXACT_LIMIT = 24
EXACT_STATES = 20_000

log = logging.getLogger("ivr")


class Planner(Protocol):
    def next_question(self, known: Known) -> str | None:
        """The criterion to ask now, or None when every provider is decided."""


class FewestSeconds:
    """Ask what minimises the expected seconds of questions left, pinned ones first in flow order.

    `seconds` gives what asking each criterion costs (ivr.engine.spoken.question_seconds); with 1
    for each, the plan asks the fewest questions. The plan is built once per flow and costs
    (ivr.engine.search, cached below); a request only computes the state and looks the question up.
    """

    def __init__(self, flow: Flow, seconds: Mapping[str, float], exact_limit: int = EXACT_LIMIT) -> None:
        self.flow = flow
        self.costs: Costs = tuple(float(seconds[c.id]) for c in flow.criteria)
        self.board, self.plan = _plan(flow, self.costs, exact_limit)

    @property
    def exact(self) -> bool:
        """True when the plan is the exact optimum, False for the greedy fallback."""
        return isinstance(self.plan, Exact)

    @property
    def expected(self) -> float:
        """The expected cost of a whole call's questions under the flow's priors."""
        return self.plan.expected

    def next_question(self, known: Known) -> str | None:
        yes, no = self.board.state(known)
        choice = self.plan.choose(yes, no)
        return None if choice is None else self.board.ids[choice]


@lru_cache(maxsize=16)
def _plan(flow: Flow, costs: Costs, exact_limit: int) -> tuple[Board, Exact | Greedy]:
    """One plan per flow, costs and bound, shared by every app the process builds (tests build many)."""
    board = Board(flow)
    if any(cost <= 0 for cost in costs):
        raise ValueError("every question must cost more than nothing")
    if len(flow.criteria) <= exact_limit:
        try:
            return board, Exact(board, costs, budget=EXACT_STATES)
        except TooLarge:
            log.info("flow %s: exact plan over %d states, using the greedy plan", flow.id, EXACT_STATES)
    return board, Greedy(board, costs)
