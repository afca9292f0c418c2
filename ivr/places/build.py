"""`ivr places build`: the shipped data (data/*.json) from the ANCT and La Poste CSV files.

Deterministic: the same two files give byte-identical output. Every record is validated by the
models the line loads, before anything is written.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from statistics import fmean
from typing import Any

from pydantic import ValidationError

from ivr.engine.intents import normalise
from ivr.errors import ContentError
from ivr.places.geo import haversine_km, zone
from ivr.places.hours import CellError, day_text, parse_cell
from ivr.places.models import PLACES_FILE, POSTCODES_FILE, Format, PlacesFile, PostcodesFile

FRANCE_SERVICES = {
    "title": "Liste des structures France services",
    "publisher": "ANCT (Agence nationale de la cohésion des territoires)",
    "url": "https://github.com/anct-carto/france_services (data/liste-fs-20240801.csv), also on data.gouv.fr",
    "licence": "Licence Ouverte 2.0 (Etalab): reuse allowed with attribution (source and date)",
}
LA_POSTE = {
    "title": "Base officielle des codes postaux",
    "publisher": "La Poste",
    "url": "https://www.data.gouv.fr/fr/datasets/base-officielle-des-codes-postaux/",
    # Sources disagree (ODbL per data.gouv.fr metadata and the Base Adresse Nationale; Licence
    # Ouverte per some mirrors): the derived file follows the stricter one, share-alike.
    "licence": "ODbL 1.0 (Open Database License): attribution, derived databases under the ODbL",
}

FS_COLUMNS = (
    "id_fs", "lib_fs", "adresse", "complement_adresse", "insee_com", "code_postal", "lib_com", "latitude",
    "longitude", "telephone", "h_lundi", "h_mardi", "h_mercredi", "h_jeudi", "h_vendredi", "h_samedi",
    "prise_rdv", "commentaire", "format_fs",
)
DAY_COLUMNS = FS_COLUMNS[10:16]
LP_COLUMNS = ("Code_commune_INSEE", "Nom_commune", "Code_postal", "Ligne_5", "coordonnees_gps")

# A comment that says hours or places change (alternate weeks, holidays, closures, visits
# elsewhere, appointment-only half-days): the caller is told to phone before going.
VARYING = re.compile(
    r"\b(semaines? (paires?|impaires?)"
    r"|(une?|1) (semaine|lundi|mardi|mercredi|jeudi|vendredi|samedi)s? sur (deux|2)"
    r"|tous les (15|quinze) jours|(1er|premier|1ere|2e|2eme|deuxieme|3e|3eme|troisieme|4e|4eme|dernier)"
    r" (lundi|mardi|mercredi|jeudi|vendredi|samedi)|vacances|horaires? d ete|fermee?s?|fermeture"
    r"|permanences?|itineran\w*|tournees?|(uniquement|exclusivement|seulement) sur (rendez vous|rdv)"
    r"|sur (rendez vous|rdv) uniquement|demenag\w*|travaux|nouvelle adresse|delocalise\w*)\b"
)
MOVING = {Format.BUS, Format.ITINERANT, Format.MULTISITE}
# A complement that is a mail box, of no use to someone walking in.
MAILBOX = re.compile(r"^(BP|CS|TSA)\b", re.IGNORECASE)
DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")

NOTES_PLACES = (
    "hours: Monday to Saturday, each day null (not known: only '00:00 - 00:00' placeholders, or a "
    "row with no hours at all), '' (closed) or slots '09:00-12:00 13:30-17:00'; overlapping slots "
    "(multi-site rows) are merged into their union.",
    "phone: the number's ten digits, null when the list gives none.",
    "call_first: the place moves (bus, itinerant, multi-site) or its comment says hours or places "
    "change (alternate weeks, holidays, closures, appointment-only half-days).",
    "appointment: the list's prise_rdv column ('Oui').",
)
NOTES_POSTCODES = (
    "communes: the postcode's communes, the one read back first: the most France Services places, "
    "then the nearest to the postcode's centre; names from the France Services "
    "list when it has the commune (accents), else La Poste's, in mixed case.",
    "postcodes: code → [latitude, longitude, zone, communes]. The point is the mean of the positions "
    "of the postcode's communes. A commune without La Poste GPS takes the mean of its France Services "
    "places; a postcode with no located commune takes its department's centre (listed in approximate).",
    "Only postcodes of a zone (mainland, Corsica, one overseas territory) that has France Services "
    "places are kept: Monaco and the overseas collectivities without places are not found.",
)


@dataclass
class Report:
    """What the build had to decide about doubtful input, said on the terminal."""

    warnings: list[str] = field(default_factory=list)

    def warn(self, text: str) -> None:
        self.warnings.append(text)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def source(path: Path, about: dict[str, str], date: str | None) -> dict[str, str]:
    """The header of a shipped file: what, who, where, when, licence, and the exact input."""
    found = DATE.search(path.name)
    when = date or (found.group(1) if found else None)
    if not when:
        raise ContentError(path, "date", "a date in the file name (YYYY-MM-DD), or given with --…-date")
    return {**about, "date": when, "file": path.name, "sha256": sha256(path)}


def rows(path: Path, delimiter: str, columns: Iterable[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """The rows of a CSV file with the columns we need, numbered as a spreadsheet shows them."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise ContentError(path, "file", f"a readable CSV file ({exc.strerror})") from exc
    with handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        missing = [c for c in columns if c not in (reader.fieldnames or ())]
        if missing:
            raise ContentError(path, "header", f"the columns {', '.join(missing)}")
        try:
            for number, row in enumerate(reader, start=2):
                yield number, {k: " ".join((v or "").split()) for k, v in row.items() if k}
        except UnicodeDecodeError as exc:
            raise ContentError(path, "file", "UTF-8 text") from exc


def _number(path: Path, where: str, text: str) -> float:
    try:
        return float(text.replace(",", "."))
    except ValueError:
        raise ContentError(path, where, f"a decimal number, found '{text}'") from None


def read_places(path: Path, report: Report) -> list[dict[str, Any]]:
    """France Services places, as records of data/france-services.json."""
    places = []
    for number, row in rows(path, ",", FS_COLUMNS):
        where = f"row {number}"
        try:
            kind = Format(row["format_fs"])
        except ValueError:
            expected = f"one of {', '.join(f.value for f in Format)}"
            raise ContentError(path, f"{where} format_fs", expected) from None
        hours: list[Any] = []
        for column in DAY_COLUMNS:
            try:
                hours.append(parse_cell(row[column]))
            except CellError as exc:
                report.warn(f"{path.name} {where} {column}: {exc}; the day's hours are taken as unknown")
                hours.append(None)
        if all(day == () for day in hours):
            hours = [None] * len(hours)
        phone = re.sub(r"[^0-9]", "", row["telephone"])
        if phone.startswith("33") and len(phone) == 11:
            phone = "0" + phone[2:]
        if not re.fullmatch(r"0[1-9][0-9]{8}", phone):
            if row["telephone"]:
                report.warn(f"{path.name} {where} telephone: '{row['telephone']}' is no French number")
            phone = ""
        extra = "" if MAILBOX.match(row["complement_adresse"]) else row["complement_adresse"]
        places.append({
            "id": row["id_fs"],
            "name": row["lib_fs"],
            "commune": row["lib_com"],
            "insee": row["insee_com"],
            "postcode": row["code_postal"],
            "address": row["adresse"],
            "address_extra": extra,
            "lat": round(_number(path, f"{where} latitude", row["latitude"]), 6),
            "lon": round(_number(path, f"{where} longitude", row["longitude"]), 6),
            "phone": phone or None,
            "hours": [day_text(day) for day in hours],
            "appointment": row["prise_rdv"].casefold() == "oui",
            "format": kind.value,
            "call_first": kind in MOVING or bool(VARYING.search(normalise(row["commentaire"]))),
            "comment": row["commentaire"],
        })
    places.sort(key=lambda p: (int(p["id"]) if p["id"].isdigit() else 0, p["id"]))
    return places


SMALL_WORDS = {"LE", "LA", "LES", "DE", "DU", "DES", "SUR", "SOUS", "EN", "ET", "AUX", "AU", "LEZ", "A", "DI"}
ELIDED = {"D", "L"}
ABBREVIATIONS = {"ST": "Saint", "STE": "Sainte"}
ARRONDISSEMENT = re.compile(r"^(PARIS|MARSEILLE|LYON) 0?([0-9]{1,2})$")


def pretty(name: str) -> str:
    """La Poste's upper-case name in mixed case: « ST LEGER LE GUERETOIS » → « Saint Leger le Gueretois »."""
    found = ARRONDISSEMENT.match(name)
    if found:
        number = int(found.group(2))
        return f"{found.group(1).title()} {number}{'er' if number == 1 else 'e'}"
    words: list[str] = []
    for position, word in enumerate(name.split()):
        if word in ABBREVIATIONS:
            text = ABBREVIATIONS[word]
        elif position and (word in SMALL_WORDS or word in ELIDED):
            text = word.lower()
        else:
            text = word.capitalize()
        if words and words[-1].lower() in ("d", "l") and words[-1].upper() in ELIDED:
            words[-1] = words[-1] + "'" + text
        else:
            words.append(text)
    return " ".join(words)


def department(insee: str) -> str:
    return insee[:3] if insee.startswith(("97", "98", "99")) else insee[:2]


@dataclass
class Communes:
    """What both files say about each commune (by INSEE code): position, name, France Services places."""

    gps: dict[str, tuple[float, float]] = field(default_factory=dict)
    poste_names: dict[str, str] = field(default_factory=dict)
    places: Counter[str] = field(default_factory=Counter)
    spelled: dict[str, str] = field(default_factory=dict)

    def name(self, insee: str) -> str:
        """The France Services list's spelling (accents) when it has the commune, else La Poste's."""
        return self.spelled.get(insee) or pretty(self.poste_names[insee])

    def rank(self, insee: str, lat: float, lon: float) -> tuple[int, float, str]:
        """Sort key of the commune read back for a postcode centred at (lat, lon)."""
        # The town a postcode is named after usually has the France Services place, or sits in
        # the middle of the communes that share its postcode.
        here = self.gps.get(insee)
        off = math.inf if here is None else haversine_km(lat, lon, *here)
        return -self.places[insee], round(off, 3), self.name(insee)


def read_communes(
    path: Path, places: list[dict[str, Any]], report: Report
) -> tuple[Communes, dict[str, list[str]]]:
    """Every commune of La Poste's file, and the communes of each postcode."""
    communes = Communes()
    members: dict[str, set[str]] = defaultdict(set)
    for number, row in rows(path, ";", LP_COLUMNS):
        insee, code = row["Code_commune_INSEE"], row["Code_postal"]
        if not re.fullmatch(r"[0-9]{5}", code) or not re.fullmatch(r"([0-9]{2}|2A|2B)[0-9]{3}", insee):
            report.warn(f"{path.name} row {number}: postcode '{code}' or INSEE '{insee}' malformed; skipped")
            continue
        members[code].add(insee)
        communes.poste_names.setdefault(insee, row["Nom_commune"])
        if row["coordonnees_gps"] and insee not in communes.gps:
            lat, _, lon = row["coordonnees_gps"].partition(",")
            where = f"row {number} coordonnees_gps"
            communes.gps[insee] = (_number(path, where, lat), _number(path, where, lon))
    by_insee: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for place in places:
        by_insee[place["insee"]].append(place)
    for insee, here in by_insee.items():
        communes.places[insee] = len(here)
        communes.spelled[insee] = Counter(p["commune"] for p in here).most_common(1)[0][0]
        # A commune La Poste gives no position takes its France Services places' centre.
        if insee not in communes.gps and insee in communes.poste_names:
            communes.gps[insee] = (fmean(p["lat"] for p in here), fmean(p["lon"] for p in here))
    return communes, {code: sorted(found) for code, found in sorted(members.items())}


def read_postcodes(
    path: Path, places: list[dict[str, Any]], report: Report
) -> tuple[dict[str, list[Any]], list[str]]:
    """Postcodes as rows of data/postcodes.json (centre, zone, communes), and those placed approximately."""
    communes, members = read_communes(path, places, report)
    served = {zone(p["insee"]) for p in places}
    centres: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for insee, point in sorted(communes.gps.items()):
        centres[department(insee)].append(point)
    postcodes: dict[str, list[Any]] = {}
    approximated: list[str] = []
    for code, inside in members.items():
        zones = Counter(zone(insee) for insee in inside)
        where = sorted(zones, key=lambda z: (-zones[z], z))[0]
        if where not in served:
            continue
        located = [communes.gps[i] for i in inside if i in communes.gps]
        approximate = not located
        if approximate:
            located = [p for i in inside for p in centres.get(department(i), ())]
            if not located:
                report.warn(f"{path.name} {code}: no position for its communes or department; left out")
                continue
            report.warn(f"{path.name} {code}: no position for its communes; using its department's centre")
            approximated.append(code)
        lat, lon = round(fmean(p[0] for p in located), 6), round(fmean(p[1] for p in located), 6)
        ranked = sorted(inside, key=partial(communes.rank, lat=lat, lon=lon))
        names = list(dict.fromkeys(communes.name(i) for i in ranked))
        postcodes[code] = [lat, lon, where, names]
    return postcodes, approximated


def dump(header: dict[str, Any], key: str, records: list[Any] | dict[str, Any]) -> str:
    """JSON with one record per line, so a refresh reads as a plain diff."""
    head = ",\n".join(f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in header.items())
    if isinstance(records, dict):
        body = ",\n".join(f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in records.items())
        return f"{{\n{head},\n{json.dumps(key)}: {{\n{body}\n}}\n}}\n"
    body = ",\n".join(json.dumps(r, ensure_ascii=False) for r in records)
    return f"{{\n{head},\n{json.dumps(key)}: [\n{body}\n]\n}}\n"


def _check(model: type[PlacesFile] | type[PostcodesFile], text: str, name: str) -> None:
    try:
        model.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ContentError(name, where, f"{first['msg']} (built from the CSV; the line refuses it)") from exc


def build(france_services: Path, postcodes: Path, out: Path, *, france_services_date: str | None = None,
          postcodes_date: str | None = None) -> Report:
    """Read both CSV files, validate, and write data/france-services.json and data/postcodes.json."""
    report = Report()
    places = read_places(france_services, report)
    codes, approximated = read_postcodes(postcodes, places, report)
    files = {
        PLACES_FILE: (PlacesFile, dump({
            "source": source(france_services, FRANCE_SERVICES, france_services_date),
            "notes": list(NOTES_PLACES),
        }, "places", places)),
        POSTCODES_FILE: (PostcodesFile, dump({
            "source": source(postcodes, LA_POSTE, postcodes_date),
            "notes": list(NOTES_POSTCODES),
            "approximate": approximated,
        }, "postcodes", codes)),
    }
    for name, (model, text) in files.items():
        _check(model, text, name)
    out.mkdir(parents=True, exist_ok=True)
    for name, (_, text) in files.items():
        (out / name).write_text(text, encoding="utf-8")
    return report
