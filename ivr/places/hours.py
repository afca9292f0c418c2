"""Opening hours: read from the ANCT list's cells, and what a place is doing at a given moment."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import Enum
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

from ivr.places.geo import TIMEZONES
from ivr.places.models import WEEKDAYS, Place

SLOT = re.compile(r"^([0-9]{1,2}):([0-9]{2})\s*-\s*([0-9]{1,2}):([0-9]{2})$")
Slot = tuple[time, time]
# `00:00 - 00:00` stands for hours nobody filled in, not for a place open all day.
PLACEHOLDER = (time(0, 0), time(0, 0))


class CellError(ValueError):
    """An opening-hours cell that is neither empty, placeholders, nor `HH:MM - HH:MM / …`."""


def parse_cell(cell: str) -> tuple[Slot, ...] | None:
    """One weekday cell: () closed, None unknown, else the slots, sorted and merged."""
    cell = cell.strip()
    if not cell:
        return ()
    slots: list[Slot] = []
    for part in cell.split("/"):
        found = SLOT.match(part.strip())
        if not found:
            raise CellError(f"'{part.strip()}' is not HH:MM - HH:MM")
        h1, m1, h2, m2 = (int(g) for g in found.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
            raise CellError(f"'{part.strip()}' is not a time of day")
        slot = (time(h1, m1), time(23, 59) if h2 == 24 else time(h2, m2))
        if slot == PLACEHOLDER:
            continue
        if slot[0] >= slot[1]:
            raise CellError(f"'{part.strip()}' ends before it starts")
        slots.append(slot)
    if not slots:
        return None
    # Multi-site rows list each site's hours in one cell, overlapping: the caller hears their union.
    merged: list[Slot] = []
    for start, end in sorted(slots):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)


class Status(Enum):
    TODAY = "today"  # open today, now or later
    LATER = "later"  # closed for the rest of today; opens on a later day
    UNKNOWN = "unknown"  # the hours of the day in question are not in the data


@dataclass(frozen=True)
class Opening:
    """What to say about a place's hours at one moment: today's slots, or the next opening day."""

    status: Status
    slots: tuple[Slot, ...] = ()
    days_ahead: int = 0
    weekday: int = 0  # 0 Monday … 6 Sunday


@cache
def timezone(zone: str) -> ZoneInfo:
    """The local time zone of a zone (mainland, Corsica, an overseas territory)."""
    return ZoneInfo(TIMEZONES[zone])


def day_text(slots: tuple[Slot, ...] | None) -> str | None:
    """Slots as the shipped data writes them: "09:00-12:00 13:30-17:00"."""
    return None if slots is None else " ".join(f"{start:%H:%M}-{end:%H:%M}" for start, end in slots)


@lru_cache(maxsize=4096)
def day_slots(text: str) -> tuple[Slot, ...]:
    """The slots of one day of the shipped data."""
    return tuple(
        (time.fromisoformat(start), time.fromisoformat(end))
        for start, end in (part.split("-") for part in text.split())
    )


def _day(place: Place, weekday: int) -> tuple[Slot, ...] | None:
    if weekday >= WEEKDAYS:
        return ()
    text = place.hours[weekday]
    return None if text is None else day_slots(text)


def opening(place: Place, zone: str, now: datetime) -> Opening:
    """Today's hours while the place still opens today, else the next opening day, at `now` (aware)."""
    local = now.astimezone(timezone(zone))
    today = _day(place, local.weekday())
    if today is None:
        return Opening(Status.UNKNOWN)
    if today and local.time() < today[-1][1]:
        return Opening(Status.TODAY, today, 0, local.weekday())
    for ahead in range(1, 8):
        weekday = (local + timedelta(days=ahead)).weekday()
        day = _day(place, weekday)
        if day is None:
            return Opening(Status.UNKNOWN, days_ahead=ahead, weekday=weekday)
        if day:
            return Opening(Status.LATER, day, ahead, weekday)
    return Opening(Status.UNKNOWN)
