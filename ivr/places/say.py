"""What the line says about the places near a postcode, and the chosen place's SMS lines."""

from __future__ import annotations

from datetime import date, datetime, time

from ivr.engine.intents import normalise
from ivr.engine.reply import Line, PhoneNumber, line
from ivr.errors import ContentError
from ivr.places.directory import Directory, Nearby
from ivr.places.hours import Opening, Slot, Status, opening
from ivr.places.models import Format, Postcode
from ivr.prompts import Catalog
from ivr.sms.segments import gsm7, measure

PAGE = 2  # places per turn: the two nearest, then « les suivants »
MOST = 6  # beyond three turns the places are far: the caller's mairie knows better
SPOKEN_FORMATS = {Format.BUS: "places.bus", Format.ITINERANT: "places.itinerant",
                  Format.MULTISITE: "places.multisite"}

# Every prompt key of this module, with the placeholders it fills in; checked at start-up.
PROMPTS: dict[str, frozenset[str]] = {
    key: frozenset(names)
    for key, names in {
        "places.offer": (),
        "places.ask": (),
        "places.ask_speech": (),
        "places.ask_back": (),
        "places.invalid": (),
        "places.try_again": (),
        "places.again": (),
        "places.back": (),
        "places.readback": ("postcode", "commune"),
        "places.readback_many": ("postcode", "commune"),
        "places.confirm_keys": (),
        "places.not_found": ("postcode",),
        "places.mairie": (),
        "places.intro": (),
        "places.intro_next": (),
        "places.intro_department": (),
        "places.no_more": (),
        **{f"places.rank.{n}": () for n in range(1, MOST + 1)},
        "places.place": ("rank", "name", "commune"),
        "places.place_named": ("rank", "name"),
        "places.distance_near": (),
        "places.distance_one": (),
        "places.distance": ("km",),
        "places.bus": (),
        "places.itinerant": (),
        "places.multisite": (),
        "places.open_today": ("slots",),
        "places.closed_today": (),
        "places.opens": ("day", "slots"),
        "places.hours_unknown": (),
        "places.slot": ("start", "end"),
        "places.time": ("hour",),
        "places.time_minutes": ("hour", "minutes"),
        "places.tomorrow": (),
        **{f"places.day.{n}": () for n in range(7)},
        "places.appointment": (),
        "places.call_first": (),
        "places.walk_in": (),
        "places.phone": ("phone",),
        "places.phone_again": ("phone",),
        "places.no_phone": (),
        "places.source": ("date",),
        "places.date": ("day", "month", "year"),
        "places.date_first": ("month", "year"),
        **{f"places.month.{n}": () for n in range(1, 13)},
        "places.keys.repeat": (),
        "places.keys.next": (),
        "places.keys.back": (),
        "places.sms.name": ("name",),
        "places.sms.address": ("address", "postcode", "commune"),
        "places.sms.phone": ("phone",),
        "places.sms.today": ("slots",),
        "places.sms.opens": ("day", "slots"),
        "places.sms.unknown": (),
        "places.sms.appointment": (),
        "places.sms.slot": ("start", "end"),
        "places.sms.time": ("hour",),
        "places.sms.time_minutes": ("hour", "minutes"),
    }.items()
}
# Prompts that end up in an SMS, where one character outside GSM-7 would triple its cost.
SMS_KEYS = (*(k for k in PROMPTS if k.startswith("places.sms.")), "places.tomorrow",
            *(f"places.day.{n}" for n in range(7)))


def check_prompts(catalog: Catalog, origin: str) -> None:
    """Refuse a prompt folder missing a places prompt, or with an SMS prompt outside GSM-7."""
    catalog.require(PROMPTS, origin)
    for key in SMS_KEYS:
        if measure(catalog.texts[key]).encoding != "GSM-7":
            expected = "GSM-7 characters only: no ê, â, î, ô, ç, « » or ’"
            raise ContentError(catalog.sources[key], key, expected)


def readback(postcode: Postcode) -> tuple[Line, ...]:
    """« 23000, Guéret : c'est bien ça ? Pour oui, tapez 1. Pour non, tapez 2. »"""
    key = "places.readback" if len(postcode.communes) == 1 else "places.readback_many"
    return line(key, postcode=postcode.code, commune=postcode.name), line("places.confirm_keys")


def not_found(code: str) -> tuple[Line, ...]:
    """A postcode the data does not have (typo, 00000, Monaco, a territory without places)."""
    return (line("places.not_found", postcode=code),)


def page(directory: Directory, postcode: Postcode, number: int, now: datetime) -> tuple[Line, ...]:
    """Turn `number` (0, 1, 2) of the places nearest the postcode, two at a time; the first dates the list."""
    skip = number * PAGE
    found = directory.nearest(postcode, PAGE, skip) if skip < MOST else ()
    if not found:
        return (line("places.no_more"),)
    if number:
        intro = line("places.intro_next")
    else:
        intro = line("places.intro_department" if postcode.approximate else "places.intro")
    lines = [intro]
    for rank, nearby in enumerate(found, start=skip + 1):
        lines += describe(nearby, rank, now, distance=not postcode.approximate)
    if not number:
        lines.append(source(directory))
    return tuple(lines)


def more(directory: Directory, postcode: Postcode, number: int) -> bool:
    """Whether a turn after `number` would name more places."""
    after = (number + 1) * PAGE
    return after < MOST and bool(directory.nearest(postcode, 1, after))


def keys(more_places: bool) -> tuple[Line, ...]:
    """The options after the places: hear again, the next ones when there are, back to the result."""
    options = [line("places.keys.repeat")]
    if more_places:
        options.append(line("places.keys.next"))
    options.append(line("places.keys.back"))
    return tuple(options)


def describe(nearby: Nearby, rank: int, now: datetime, distance: bool = True) -> tuple[Line, ...]:
    """One place: name and commune, distance, kind, hours, appointment, phone said twice."""
    place = nearby.place
    named = normalise(place.commune) in normalise(place.name)
    lines = [
        line("places.place_named", rank=line(f"places.rank.{rank}"), name=place.name)
        if named
        else line("places.place", rank=line(f"places.rank.{rank}"), name=place.name, commune=place.commune)
    ]
    if distance:
        lines.append(_distance(nearby.km))
    if place.format in SPOKEN_FORMATS:
        lines.append(line(SPOKEN_FORMATS[place.format]))
    when = opening(place, nearby.zone, now)
    lines += _hours(when)
    if place.appointment:
        lines.append(line("places.appointment"))
    elif place.call_first or when.status is Status.UNKNOWN:
        lines.append(line("places.call_first"))
    else:
        lines.append(line("places.walk_in"))
    if place.phone:
        lines += [line("places.phone", phone=PhoneNumber(place.phone)),
                  line("places.phone_again", phone=PhoneNumber(place.phone))]
    else:
        lines.append(line("places.no_phone"))
    return tuple(lines)


def _distance(km: float) -> Line:
    rounded = round(km)
    if km < 1:
        return line("places.distance_near")
    if rounded == 1:
        return line("places.distance_one")
    return line("places.distance", km=rounded)


def _hours(when: Opening) -> list[Line]:
    if when.status is Status.TODAY:
        return [line("places.open_today", slots=_slots(when.slots, "places"))]
    if when.status is Status.LATER:
        opens = line("places.opens", day=_day(when), slots=_slots(when.slots, "places"))
        return [line("places.closed_today"), opens]
    return [line("places.hours_unknown")]


def _day(when: Opening) -> Line:
    return line("places.tomorrow") if when.days_ahead == 1 else line(f"places.day.{when.weekday}")


def _slots(slots: tuple[Slot, ...], prefix: str) -> tuple[Line, ...]:
    # Spoken « 13 heures 30 », « 8 heures 5 »; written « 13h30 », « 8h05 ».
    written = prefix == "places.sms"
    return tuple(
        line(f"{prefix}.slot", start=_time(start, prefix, written), end=_time(end, prefix, written))
        for start, end in slots
    )


def _time(moment: time, prefix: str, written: bool) -> Line:
    if not moment.minute:
        return line(f"{prefix}.time", hour=moment.hour)
    minutes = f"{moment.minute:02d}" if written else moment.minute
    return line(f"{prefix}.time_minutes", hour=moment.hour, minutes=minutes)


def source(directory: Directory) -> Line:
    """« Ces informations viennent de la liste officielle du 1er août 2024. »"""
    return line("places.source", date=spoken_date(directory.sources[0].date))


def spoken_date(text: str) -> Line:
    """An ISO date as the line says it: « 1er août 2024 », « 12 mars 2025 »."""
    day = date.fromisoformat(text)
    month = line(f"places.month.{day.month}")
    if day.day == 1:
        return line("places.date_first", month=month, year=day.year)
    return line("places.date", day=day.day, month=month, year=day.year)


def sms(nearby: Nearby, now: datetime) -> tuple[Line, ...]:
    """The chosen place in the result SMS, most useful first: name, address, phone, hours, appointment."""
    place = nearby.place
    street = ", ".join(part for part in (place.address_extra, place.address) if part)
    lines = [
        line("places.sms.name", name=gsm7(place.name)),
        line("places.sms.address", address=gsm7(street), postcode=place.postcode,
             commune=gsm7(place.commune)),
    ]
    if place.phone:
        lines.append(line("places.sms.phone", phone=" ".join(PhoneNumber(place.phone).pairs())))
    when = opening(place, nearby.zone, now)
    if when.status is Status.TODAY:
        lines.append(line("places.sms.today", slots=_slots(when.slots, "places.sms")))
    elif when.status is Status.LATER:
        lines.append(line("places.sms.opens", day=_day(when), slots=_slots(when.slots, "places.sms")))
    else:
        lines.append(line("places.sms.unknown"))
    if place.appointment:
        lines.append(line("places.sms.appointment"))
    return tuple(lines)

