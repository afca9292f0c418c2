"""Where a call stands: everything needed to answer its next request."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


class Phase(StrEnum):
    GREET = "g"
    ASK = "q"
    RESULT = "r"
    # After the result, the nearest France Services (issue 9): the postcode asked, read back, the places.
    POSTCODE = "p"
    CONFIRM = "c"
    PLACES = "l"


@dataclass(frozen=True)
class CallState:
    """A call's position, explicit answers in the order given, failed tries at this step, and flags.

    `unsure` holds the criteria noted « non » after two « je ne sais pas » (said « à vérifier » at
    the result); `helped` is set once the help of the current question was said; `focus` is the
    usable account the result details.
    """

    phase: Phase
    answers: tuple[tuple[str, bool], ...] = ()
    question: str | None = None
    tries: int = 0
    transfer_failed: bool = False
    sms_sent: bool = False
    unsure: frozenset[str] = frozenset()
    helped: bool = False
    focus: int = 0
    postcode: str = ""
    page: int = 0

    def answered(self, cid: str, value: bool, unsure: bool = False) -> CallState:
        """This state with one more answer, before moving on."""
        doubts = self.unsure | {cid} if unsure else self.unsure - {cid}
        return replace(self, answers=(*self.answers, (cid, value)), tries=0, helped=False, unsure=doubts)

    def undone(self) -> CallState:
        """This state without its last answer: the caller goes back to correct it."""
        last = self.answers[-1][0]
        return replace(self, answers=self.answers[:-1], tries=0, helped=False, unsure=self.unsure - {last})
