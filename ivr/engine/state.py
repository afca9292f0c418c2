"""Where a call stands: everything needed to answer its next request."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


class Phase(StrEnum):
    GREET = "g"
    ASK = "q"
    RESULT = "r"


@dataclass(frozen=True)
class CallState:
    """A call's position, explicit answers in the order given, failed tries at this step, and flags."""

    phase: Phase
    answers: tuple[tuple[str, bool], ...] = ()
    question: str | None = None
    tries: int = 0
    transfer_failed: bool = False
    sms_sent: bool = False

    def answered(self, cid: str, value: bool) -> CallState:
        """This state with one more answer, before moving on."""
        return replace(self, answers=(*self.answers, (cid, value)), tries=0)
