"""The shipped places data, loaded once and checked; the nearest places to a postcode."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from ivr.errors import ContentError
from ivr.places.geo import TIMEZONES, Nearest, zone
from ivr.places.models import PLACES_FILE, POSTCODES_FILE, Place, PlacesFile, Postcode, PostcodesFile, Source

M = TypeVar("M", bound=BaseModel)
REBUILD = "rebuild it with `ivr places build` (see data/README.md)"


@dataclass(frozen=True)
class Nearby:
    """A place, how far it is from the postcode's centre, and its zone (for its local time)."""

    place: Place
    km: float
    zone: str


class Directory:
    """Postcodes and France Services places, indexed by zone for nearest-place queries."""

    def __init__(self, places: PlacesFile, postcodes: PostcodesFile) -> None:
        self.sources: tuple[Source, Source] = (places.source, postcodes.source)
        self.places = places.places
        self._rows = postcodes.postcodes
        self._approximate = frozenset(postcodes.approximate)
        members: dict[str, list[Place]] = defaultdict(list)
        for place in places.places:
            members[zone(place.insee)].append(place)
        self._members = {z: tuple(found) for z, found in members.items()}
        self._index = {z: Nearest([(p.lat, p.lon) for p in found]) for z, found in self._members.items()}

    @property
    def postcodes(self) -> tuple[Postcode, ...]:
        """Every postcode of the data."""
        return tuple(self._made(code) for code in self._rows)

    def postcode(self, code: str) -> Postcode | None:
        """The postcode, or None when the data has no such postcode (typo, Monaco, no places there)."""
        return self._made(code) if code in self._rows else None

    def _made(self, code: str) -> Postcode:
        lat, lon, where, communes = self._rows[code]
        # The row was validated at start-up: no need to check it again at each call.
        return Postcode.model_construct(code=code, communes=communes, zone=where, lat=lat, lon=lon,
                                        approximate=code in self._approximate)

    def nearest(self, postcode: Postcode, count: int = 2, skip: int = 0) -> tuple[Nearby, ...]:
        """Places of the postcode's zone by great-circle distance: `count` of them after the first `skip`."""
        index = self._index[postcode.zone]
        found = index.query(postcode.lat, postcode.lon, min(skip + count, len(index)))
        members = self._members[postcode.zone]
        return tuple(Nearby(members[i], km, postcode.zone) for km, i in found[skip:])


def _parse(model: type[M], path: Path) -> M:
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise ContentError(path, "file", f"a readable data file ({exc.strerror}); {REBUILD}") from exc
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "file"
        raise ContentError(path, where, f"{first['msg']}; {REBUILD}") from exc


@lru_cache(maxsize=4)
def _load(places_path: Path, postcodes_path: Path, _stamps: tuple[int, ...]) -> Directory:
    places = _parse(PlacesFile, places_path)
    postcodes = _parse(PostcodesFile, postcodes_path)
    served = set()
    for number, place in enumerate(places.places):
        where = zone(place.insee)
        if where not in TIMEZONES:
            expected = f"a French commune code, found {place.insee}; {REBUILD}"
            raise ContentError(places_path, f"places.{number}.insee", expected)
        served.add(where)
    for code, (_, _, where, _) in postcodes.postcodes.items():
        if where not in served:
            expected = f"a zone with France Services places ({', '.join(sorted(served))}); {REBUILD}"
            raise ContentError(postcodes_path, f"postcodes.{code}.2", expected)
    unknown = set(postcodes.approximate) - set(postcodes.postcodes)
    if unknown:
        expected = f"postcodes of the file, found {min(unknown)}; {REBUILD}"
        raise ContentError(postcodes_path, "approximate", expected)
    return Directory(places, postcodes)


def load_directory(folder: str | Path) -> Directory:
    """The places data of a folder, loaded once per process while its files are unchanged."""
    folder = Path(folder)
    paths = (folder / PLACES_FILE, folder / POSTCODES_FILE)
    stamps: list[int] = []
    for path in paths:
        try:
            info = path.stat()
        except OSError as exc:
            raise ContentError(path, "file", f"a readable data file ({exc.strerror}); {REBUILD}") from exc
        stamps += [info.st_mtime_ns, info.st_size]
    return _load(*paths, tuple(stamps))
