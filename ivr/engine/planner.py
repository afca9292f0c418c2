"""Which question to ask next."""

from __future__ import annotations

from typing import Protocol

from ivr.engine.rules import Known, undecided_criteria
from ivr.flow import Flow


class Planner(Protocol):
    def next_question(self, known: Known) -> str | None:
        """The criterion to ask now, or None when every provider is decided."""


class FlowOrder:
    """Ask in the order the flow lists its criteria, pinned ones first, skipping what cannot matter."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self._order = sorted(
            (c.id for c in flow.criteria),
            key=lambda cid: (not flow.criterion(cid).pinned and not flow.criterion(cid).gate,
                             flow.index(cid)),
        )

    def next_question(self, known: Known) -> str | None:
        wanted = set(undecided_criteria(self.flow, known))
        return next((cid for cid in self._order if cid in wanted), None)
