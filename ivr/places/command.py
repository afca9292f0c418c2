"""`ivr places 23000`: what the line says for a postcode; `ivr places build`: data/ from the CSV files."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ivr.engine.reply import line
from ivr.errors import ConfigError
from ivr.places import say
from ivr.places.build import build
from ivr.places.heard import Kind
from ivr.places.service import Places, load_places
from ivr.prompts import Catalog
from ivr.sms.message import compose
from ivr.sms.segments import measure

# --at is read as the time in mainland France, like the people who use this command.
CLOCK = ZoneInfo("Europe/Paris")


def moment(text: str | None) -> datetime:
    """--at "2026-11-30 10:00" as an aware time (mainland France), or now."""
    if not text:
        return datetime.now(UTC)
    try:
        return datetime.fromisoformat(text).replace(tzinfo=CLOCK)
    except ValueError:
        raise ConfigError(f"--at: a date and time such as '2026-11-30 10:00' (got {text!r})") from None


def run(args: argparse.Namespace, out) -> int:
    if args.entry == "build":
        return rebuild(args, out)
    from ivr.config import load_settings
    from ivr.prompts import load_catalog

    # Like `ivr check`: a look at the content, no server, so no Twilio settings needed.
    settings = load_settings({"IVR_LOCAL": True, **({"IVR_PLACES_DATA": args.data} if args.data else {})})
    catalog = load_catalog(settings.prompts)
    places = load_places(settings.places_data, catalog, settings.prompts)
    show(places, catalog, args.entry, moment(args.at), out)
    return 0


def show(places: Places, catalog: Catalog, entry: str, now: datetime, out) -> None:
    """Print what the line says for this entry (keys or words), for helpline staff and content checks."""

    def speak(lines) -> None:
        for item in lines:
            print(f"  line: {catalog.render(item)}", file=out)

    keys = entry and all(ch in "0123456789*#" for ch in entry)
    heard = places.entry(digits=entry) if keys else places.entry(speech=entry)
    if heard.kind is not Kind.POSTCODE:
        print(f"({heard.kind.value}: not a postcode)", file=out)
        speak((line("places.invalid"),))
        return
    postcode = places.postcode(heard)
    if postcode is None:
        speak((*say.not_found(heard.candidates[0]), line("places.mairie")))
        return
    print(f"postcode {postcode.code}: {', '.join(postcode.communes)}", file=out)
    print(f"(clock: {now:%Y-%m-%d %H:%M %Z})", file=out)
    speak(say.readback(postcode))
    print("caller> 1", file=out)
    directory = places.directory
    turn = 0
    while True:
        speak(say.page(directory, postcode, turn, now))
        more = say.more(directory, postcode, turn)
        speak(say.keys(more))
        if not more:
            break
        turn += 1
        print("caller> 2", file=out)
    first = directory.nearest(postcode, 1)[0]
    text = compose(catalog, say.sms(first, now))
    length = measure(text)
    print(f"SMS lines for the first place ({length.units} {length.encoding} characters):", file=out)
    for row in text.splitlines():
        print(f"  {row}", file=out)
    for nearby in directory.nearest(postcode, say.MOST):
        if nearby.place.comment:
            print(f"(comment, not spoken) {nearby.place.name}: {nearby.place.comment}", file=out)


def rebuild(args: argparse.Namespace, out) -> int:
    if not (args.france_services and args.postcodes):
        raise ConfigError("ivr places build needs --france-services FILE and --postcodes FILE")
    report = build(Path(args.france_services), Path(args.postcodes), Path(args.out),
                   france_services_date=args.france_services_date, postcodes_date=args.postcodes_date)
    for warning in report.warnings:
        print(f"warning: {warning}", file=out)
    print(f"ok: {args.out}/ rebuilt from {args.france_services} and {args.postcodes}", file=out)
    return 0


def add_parser(commands: argparse._SubParsersAction) -> None:
    """The `places` sub-command of `ivr`."""
    places = commands.add_parser(
        "places", help="what the line says for a postcode, or `build` to rebuild data/ from the CSV files"
    )
    places.add_argument("entry", help="a postcode as typed (23000) or said ('vingt-trois mille'), or build")
    places.add_argument("--at", help="the clock, in mainland France time: '2026-11-30 10:00' (default: now)")
    places.add_argument("--data", help="the places data folder (default: IVR_PLACES_DATA, data/)")
    places.add_argument("--france-services", metavar="FILE", help="build: the ANCT list (CSV)")
    places.add_argument("--postcodes", metavar="FILE", help="build: La Poste's postcodes (CSV, ;-separated)")
    places.add_argument("--france-services-date", metavar="YYYY-MM-DD",
                        help="build: the list's date (default: from its file name)")
    places.add_argument("--postcodes-date", metavar="DATE",
                        help="build: the postcodes file's date (default: from its file name)")
    places.add_argument("--out", default="data", help="build: the folder to write (default: data)")
    places.set_defaults(run=lambda args, out=None: run(args, out))
