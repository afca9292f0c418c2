"""When the advisor answers: HELPLINE_HOURS read once, French public holidays closed.

The format is a list of day ranges with their hours, Paris time, separated by « ; »:
`lun-ven 09:00-17:00`, `lun-ven 09:00-12:00,14:00-17:00; sam 09:00-12:00`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays

from ivr.engine.reply import Line, line

PARIS = ZoneInfo("Europe/Paris")
DAYS = ("lun", "mar", "mer", "jeu", "ven", "sam", "dim")
DAY_KEYS = ("day.monday", "day.tuesday", "day.wednesday", "day.thursday", "day.friday", "day.saturday",
            "day.sunday")
MONTH_KEYS = tuple(f"month.{n}" for n in range(1, 13))
FORMAT = "days and hours such as 'lun-ven 09:00-17:00' or 'lun-ven 09:00-12:00,14:00-17:00; sam 09:00-12:00'"
_SPAN = r"\d\d:\d\d-\d\d:\d\d"
_PART = re.compile(rf"(?P<days>[a-z]{{3}}(?:-[a-z]{{3}})?)\s+(?P<hours>{_SPAN}(?:,{_SPAN})*)")


@dataclass(frozen=True)
class Schedule:
    """Opening slots per weekday (0 = Monday), in minutes after midnight, Paris time."""

    slots: tuple[tuple[int, int, int], ...]
    _holidays: holidays.HolidayBase = field(default_factory=holidays.France, compare=False, repr=False)

    def is_open(self, moment: datetime) -> bool:
        """Whether an advisor answers at this moment."""
        here = moment.astimezone(PARIS)
        if here.date() in self._holidays:
            return False
        minute = here.hour * 60 + here.minute
        return any(day == here.weekday() and start <= minute < end for day, start, end in self.slots)

    def next_opening(self, moment: datetime) -> datetime | None:
        """The next moment an advisor answers, within three weeks; None if the schedule never opens."""
        here = moment.astimezone(PARIS)
        for offset in range(22):
            day = here.date() + timedelta(days=offset)
            if day in self._holidays:
                continue
            for weekday, start, _end in sorted(self.slots, key=lambda slot: slot[1]):
                opening = datetime(day.year, day.month, day.day, start // 60, start % 60, tzinfo=PARIS)
                if weekday == day.weekday() and opening > here:
                    return opening
        return None


def parse_hours(text: str) -> Schedule:
    """Read HELPLINE_HOURS; raise ValueError saying what was expected."""
    slots: list[tuple[int, int, int]] = []
    for part in text.split(";"):
        match = _PART.fullmatch(part.strip().lower())
        if match is None:
            raise ValueError(f"{FORMAT}; could not read {part.strip()!r}")
        days = match["days"].split("-")
        if any(d not in DAYS for d in days):
            raise ValueError(f"day names among {' '.join(DAYS)}; got {match['days']!r}")
        first, last = DAYS.index(days[0]), DAYS.index(days[-1])
        if last < first:
            raise ValueError(f"days in week order (lun-ven, not ven-lun); got {match['days']!r}")
        for span in match["hours"].split(","):
            start, end = (_minutes(t) for t in span.split("-"))
            if end <= start:
                raise ValueError(f"an opening before its closing; got {span!r}")
            slots.extend((day, start, end) for day in range(first, last + 1))
    return Schedule(tuple(slots))


def _minutes(clock: str) -> int:
    hours, minutes = (int(n) for n in clock.split(":"))
    if hours > 24 or minutes > 59 or (hours == 24 and minutes):
        raise ValueError(f"times from 00:00 to 24:00; got {clock!r}")
    return hours * 60 + minutes


def when(opening: datetime, now: datetime) -> Line:
    """« lundi, à 9 heures »: the day and time an advisor can next be reached, as the line says it."""
    today = now.astimezone(PARIS).date()
    days = (opening.date() - today).days
    day = _day(opening.date(), days)
    time = (line("advisor.hours", hour=opening.hour) if not opening.minute
            else line("advisor.hours_minutes", hour=opening.hour, minutes=opening.minute))
    return line("advisor.next", day=day, time=time)


def _day(day: date, days: int) -> Line:
    if days < 2:
        return line("advisor.tomorrow" if days else "advisor.today")
    # A weekday name a week or more ahead would name the nearer one: say the date instead.
    if days >= 7:
        return line("advisor.date", day=day.day, month=line(MONTH_KEYS[day.month - 1]))
    return line(DAY_KEYS[day.weekday()])
