"""`ivr call`: play a whole call in the terminal; `ivr check`: validate the content files;
`ivr places`; `ivr graph`: draw a flow's plan."""

from __future__ import annotations

import argparse
import logging
import secrets
import sys
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from ivr.errors import GraphError, IvrError
from ivr.hours import PARIS
from ivr.journal.cli import add_commands
from ivr.phone import CallFailed, Phone, flask_transport, http_transport
from ivr.places.command import add_parser as add_places

KEYS = set("0123456789*#")
SILENCE = "."


def _phone(args: argparse.Namespace, out) -> Phone:
    # Each call its own CallSid, as Twilio gives: the journal tells calls apart by it.
    options = {
        "advisor_answers": not args.advisor_busy, "caller": args.caller, "status_callback": "/voice/status",
        "call_sid": "CA" + secrets.token_hex(16),
    }
    if args.url:
        return Phone(http_transport(), base_url=args.url.rstrip("/"), auth_token=args.auth_token, **options)
    from ivr.app import create_app
    from ivr.sms.sender import PrintSender

    pairs = (("IVR_FLOW", args.flow), ("HELPLINE_NUMBER", args.helpline), ("HELPLINE_HOURS", args.hours))
    # In the terminal the app serves only this process: local use, whatever the environment says.
    overrides = {"IVR_LOCAL": True, **{key: value for key, value in pairs if value}}
    # In the terminal the SMS is printed, never sent: the simulated caller's number is made up.
    clock = (lambda: args.at) if args.at else None
    app = create_app(overrides, sms_sender=PrintSender(out), clock=clock)
    token = app.config["IVR_SETTINGS"].auth_token
    return Phone(flask_transport(app.test_client()), auth_token=token, **options)


def _act(phone: Phone, entry: str) -> list[str]:
    entry = entry.strip()
    if entry in ("", SILENCE):
        return phone.wait()
    if all(ch in KEYS for ch in entry):
        return phone.press(entry)
    return phone.say(entry)


def _show(lines: list[str], phone: Phone, out) -> None:
    for whisper in phone.whispers:
        print(f"  (advisor hears) {whisper}", file=out)
    phone.whispers.clear()
    for text in lines:
        print(f"  line: {text}", file=out)
    if phone.dialled:
        print(f"  (transferred to {phone.dialled[-1]})", file=out)
        phone.dialled.clear()


def call(args: argparse.Namespace, out=None) -> int:
    out = out or sys.stdout
    phone = _phone(args, out)
    began = time.monotonic()
    _converse(phone, args, out)
    # Twilio tells the server how the call ended and how long it lasted.
    phone.hang_up(round(time.monotonic() - began))
    return 0


def _converse(phone: Phone, args: argparse.Namespace, out) -> None:
    script = None if args.keys is None else args.keys.split(",")
    entry = "/voice" if args.transfer is None else f"/voice/transfer?{args.transfer}"
    _show(phone.dial(entry), phone, out)
    while phone.waiting:
        if script is not None:
            if not script:
                print("  (end of the scripted keys: hanging up)", file=out)
                return
            entry = script.pop(0)
            print(f"caller> {entry.strip() or SILENCE}", file=out)
        else:
            try:
                entry = input("caller> (key 0-9 * #, words, or Enter for silence) ")
            except EOFError:
                print("\n  (caller hung up)", file=out)
                return
        _show(_act(phone, entry), phone, out)
    print("  (call ended)", file=out)


def check(args: argparse.Namespace, out=None) -> int:
    out = out or sys.stdout
    from ivr.config import load_settings
    from ivr.content import load_content
    from ivr.places.service import load_places

    # The content files only: no server starts, so the secrets a server needs are not asked for.
    settings = load_settings({"IVR_LOCAL": True, **({"IVR_FLOW": args.flow} if args.flow else {})})
    content = load_content(settings.flow, settings.prompts)
    print(f"ok: {settings.flow} ({len(content.flow.criteria)} criteria, "
          f"{len(content.flow.providers)} providers) with {settings.prompts}", file=out)
    directory = load_places(settings.places_data, content.catalog, settings.prompts).directory
    print(f"ok: {settings.places_data} ({len(directory.places)} France Services places, "
          f"{len(directory.postcodes)} postcodes)", file=out)
    return 0


def graph(args: argparse.Namespace, out=None) -> int:
    from ivr.app import create_app
    from ivr.graph.draw import FORMATS, dot, render
    from ivr.graph.observed import observe_report
    from ivr.graph.plan import build

    # The app's own flow, catalog and planner: the drawing is the plan calls follow. No server
    # starts, so the secrets a server needs are not asked for (as for `ivr check`).
    app = create_app({"IVR_LOCAL": True, **({"IVR_FLOW": args.flow} if args.flow else {})})
    service = app.extensions["ivr"]
    plan = build(service.call.flow, service.call.planner)
    suffix = Path(args.output).suffix.lstrip(".") if args.output else ""
    fmt = args.format or (suffix if suffix in FORMATS else "svg")
    observation = observe_report(plan, args.observed) if args.observed else None
    data = render(dot(plan, service.renderer.catalog, observation), fmt)
    if args.output:
        try:
            Path(args.output).write_bytes(data)
        except OSError as exc:
            raise GraphError(f"{args.output}: a file the drawing can be written to ({exc.strerror})") from exc
    else:
        (out or sys.stdout).buffer.write(data)
    asked = sum(1 for node in plan.nodes if node.question is not None)
    print(f"{plan.flow.id}: {asked} question nodes, {len(plan.nodes) - asked} endings "
          f"(unfolded tree: {plan.unfolded} nodes), {plan.questions(plan.expected):.2f} questions "
          f"per call expected", file=sys.stderr)
    return 0


def _moment(text: str) -> datetime:
    """A time given on the command line, in Paris time."""
    try:
        return datetime.fromisoformat(text).replace(tzinfo=PARIS)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"a date and time such as '2026-12-24 18:30', not {text!r}") from exc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ivr", description="FranceConnect phone assistant")
    commands = parser.add_subparsers(dest="command", required=True)
    play = commands.add_parser("call", help="play a call in the terminal")
    play.add_argument("--keys", help="scripted answers, comma-separated: keys, words, or . for silence")
    play.add_argument("--url", help="a running server's base URL (default: the app in-process)")
    play.add_argument("--auth-token", default="", help="sign requests to --url with this token")
    play.add_argument("--flow", help="flow file (default: IVR_FLOW)")
    play.add_argument("--helpline", help="advisor number in E.164 (default: HELPLINE_NUMBER)")
    play.add_argument("--hours", help="when the advisor answers, such as 'lun-ven 09:00-17:00' "
                                       "(default: HELPLINE_HOURS)")
    play.add_argument("--at", type=_moment, metavar="'YYYY-MM-DD HH:MM'",
                      help="the time of the call, Paris time, for the advisor's hours (default: now)")
    play.add_argument("--advisor-busy", action="store_true", help="the advisor does not answer")
    play.add_argument("--caller", default="+33612345678",
                      help="the caller's number (default: a French mobile, offered the SMS)")
    play.add_argument("--transfer", metavar="QUERY",
                      help="enter as a caller sent by a helpline, with known answers such as 'nf=1&vitale=0'")
    play.set_defaults(run=call)
    validate = commands.add_parser("check", help="validate the flow and prompt files")
    validate.add_argument("--flow", help="flow file (default: IVR_FLOW)")
    validate.set_defaults(run=check)
    add_commands(commands)
    add_places(commands)
    draw = commands.add_parser("graph", help="draw the plan of a flow: its questions, answers and endings")
    draw.add_argument("--flow", help="flow file (default: IVR_FLOW)")
    draw.add_argument("--format", choices=("svg", "png", "dot"),
                      help="svg, png (laid out by Graphviz) or dot (its source); default: from -o, else svg")
    draw.add_argument("-o", "--output", metavar="FILE",
                      help="write the drawing to this file (default: standard output)")
    draw.add_argument("--observed", metavar="REPORT",
                      help="also the shares callers really took, from a journal report of this flow "
                           "(the output of `ivr report --flow ID --since 30d --json`)")
    draw.set_defaults(run=graph)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    try:
        return args.run(args, sys.stdout)
    except IvrError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except CallFailed as error:
        print(f"call failed: {error}", file=sys.stderr)
        return 1
    except SQLAlchemyError as error:
        print(f"database error: {type(error).__name__}: {str(error).splitlines()[0]}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
