"""The shipped places data, as validated, immutable models (data/*.json)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from functools import lru_cache
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

PLACES_FILE = "france-services.json"
POSTCODES_FILE = "postcodes.json"
WEEKDAYS = 6  # Monday to Saturday: the ANCT list has no Sunday column.

Digits5 = Annotated[str, StringConstraints(pattern=r"^[0-9]{5}$")]
Insee = Annotated[str, StringConstraints(pattern=r"^([0-9]{2}|2A|2B)[0-9]{3}$")]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9]"
_SLOT = rf"{_TIME}-{_TIME}"
# A weekday's opening slots, "09:00-12:00 13:30-17:00"; "" closed; null not known (placeholders).
# Kept as text: parsing 17,000 times at start-up would cost more than parsing two at each lookup.
Day = Annotated[str, StringConstraints(pattern=rf"^({_SLOT}( {_SLOT})*)?$")] | None


@lru_cache(maxsize=4096)
def _ordered_day(day: str) -> bool:
    # Zero-padded HH:MM compare as text. Few distinct days: each is checked once.
    moments = day.replace("-", " ").split()
    pairs = zip(moments[::2], moments[1::2], strict=True)
    return moments == sorted(moments) and all(start != end for start, end in pairs)


class Format(StrEnum):
    """How a France Services place receives people (the list's `format_fs`)."""

    FIXED = "Fixe"
    MULTISITE = "Multisites"
    BUS = "Bus_équivalent"
    ANTENNA = "Fixe_antenne(s)"
    ITINERANT = "Itinérante"


class Source(BaseModel):
    """Where a shipped file comes from, and under which licence it may be reused."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str
    publisher: str
    url: str
    date: str
    licence: str
    file: str
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class Place(BaseModel):
    """One France Services place."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str = Field(min_length=1)
    commune: str = Field(min_length=1)
    insee: Insee
    postcode: Digits5
    address: str
    address_extra: str = ""
    lat: Latitude
    lon: Longitude
    phone: Annotated[str, StringConstraints(pattern=r"^0[1-9][0-9]{8}$")] | None
    hours: tuple[Day, Day, Day, Day, Day, Day]
    appointment: bool
    format: Format
    call_first: bool
    comment: str = ""

    @field_validator("hours")
    @classmethod
    def _ordered(cls, hours: tuple[Day, ...]) -> tuple[Day, ...]:
        for day in hours:
            if day and not _ordered_day(day):
                raise ValueError("each day's slots in order, each ending after it starts, not overlapping")
        return hours


class PlacesFile(BaseModel):
    """data/france-services.json."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: Source
    notes: tuple[str, ...]
    places: tuple[Place, ...] = Field(min_length=1)

    @field_validator("source")
    @classmethod
    def _dated(cls, source: Source) -> Source:
        # The line says this date aloud (« 1er août 2024 »): it must be a day.
        try:
            date.fromisoformat(source.date)
        except ValueError:
            raise ValueError(f"a date as YYYY-MM-DD, found '{source.date}'") from None
        return source


# A postcode's centre (latitude, longitude), zone and communes, the one read back first. Rows, not
# models, in the file: 6,000 models would double the time start-up spends on this file.
PostcodeRow = tuple[Latitude, Longitude, str, Annotated[tuple[str, ...], Field(min_length=1)]]


class Postcode(BaseModel):
    """A postcode: its communes (the one read back first) and the point distances are measured from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: Digits5
    communes: tuple[str, ...] = Field(min_length=1)
    zone: str
    lat: Latitude
    lon: Longitude
    # True when no commune of the postcode has a position: the point is its department's centre.
    approximate: bool = False

    @property
    def name(self) -> str:
        """The commune read back to the caller."""
        return self.communes[0]


class PostcodesFile(BaseModel):
    """data/postcodes.json."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: Source
    notes: tuple[str, ...]
    postcodes: dict[Digits5, PostcodeRow] = Field(min_length=1)
    # Postcodes none of whose communes has a position: their point is the department's centre.
    approximate: tuple[Digits5, ...] = ()
