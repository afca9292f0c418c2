"""What the engine answers: lines to speak and what happens next, free of any telephony detail."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Union

from ivr.engine.state import CallState

Param = Union[str, int, "Line", tuple["Line", ...], "PhoneNumber"]


@dataclass(frozen=True)
class PhoneNumber:
    """A phone number to speak slowly, in pairs of digits (« zéro huit, zéro neuf… »)."""

    digits: str

    def pairs(self) -> tuple[str, ...]:
        """The digits in pairs, a lone first digit when their count is odd (« 3 / 64 / 60 »)."""
        head = self.digits[: len(self.digits) % 2]
        rest = self.digits[len(head):]
        return (*((head,) if head else ()), *(rest[i : i + 2] for i in range(0, len(rest), 2)))


@dataclass(frozen=True)
class Line:
    """One prompt key and the values of its placeholders."""

    key: str
    params: tuple[tuple[str, Param], ...] = ()


def line(key: str, **params: Param) -> Line:
    """A Line from keyword placeholders."""
    return Line(key, tuple(sorted(params.items())))


@dataclass(frozen=True)
class Listen:
    """Speak while listening; the caller's input is handled against `state`.

    With `closing`, silence ends the call after those lines (used at the result);
    without, silence comes back as a silence event on the same state. `patience` is how many
    seconds of silence to wait, when not the configured time (the greeting barely waits).
    `digits` is how many keys make an answer: 1, or 5 for a postcode (ended early by #).
    """

    lines: tuple[Line, ...]
    state: CallState
    closing: tuple[Line, ...] | None = None
    patience: int | None = None
    digits: int = 1


@dataclass(frozen=True)
class Transfer:
    """Speak, then connect the caller to the advisor; come back to `state` if that fails."""

    lines: tuple[Line, ...]
    state: CallState


class SmsFate(StrEnum):
    """What became of the SMS a caller asked for, as far as the line knows: its prompt is sms.<value>."""

    ON_ITS_WAY = "on_its_way"  # accepted for sending (queued, or sent already)
    CAPPED = "capped"  # this number had its share of SMS today
    FAILED = "failed"  # known not to leave


@dataclass(frozen=True)
class Text:
    """Send `message` to the caller by SMS, then tell them how it went, back at `state`.

    `extras` follow the message while the SMS stays short enough, the most useful first.
    """

    message: tuple[Line, ...]
    state: CallState
    extras: tuple[Line, ...] = ()


@dataclass(frozen=True)
class Hangup:
    """Speak, then end the call."""

    lines: tuple[Line, ...]


Reply = Listen | Transfer | Text | Hangup
