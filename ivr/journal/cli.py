"""`ivr report` and `ivr db upgrade|purge`: the journal from the terminal."""

from __future__ import annotations

import argparse
import json
from datetime import timedelta

from ivr.admin.labels import OUTCOMES, STEPS
from ivr.config import load_settings
from ivr.db import migrate
from ivr.db.engine import make_engine
from ivr.errors import ConfigError
from ivr.journal.events import ASK, now
from ivr.journal.report import Figures, figures, parse_span
from ivr.journal.writer import purge


def _engine():
    from ivr.app import database_url

    settings = load_settings()
    if not settings.journal:
        raise ConfigError("IVR_JOURNAL is off: this server keeps no journal")
    return settings, make_engine(database_url(settings))


def upgrade(args: argparse.Namespace, out) -> int:
    _, engine = _engine()
    before = migrate.current(engine)
    after = migrate.upgrade(engine)
    print(
        f"database at revision {after}" + ("" if before == after else f" (was {before or 'empty'})"), file=out
    )
    return 0


def purge_old(args: argparse.Namespace, out) -> int:
    settings, engine = _engine()
    days = args.days or settings.retention_days
    migrate.ensure(engine)
    removed = purge(engine, timedelta(days=days))
    print(f"{removed} events older than {days} days deleted", file=out)
    return 0


def report(args: argparse.Namespace, out) -> int:
    settings, engine = _engine()
    try:
        span = parse_span(args.since)
    except ValueError as error:
        raise ConfigError(f"--since: {error}") from error
    migrate.ensure(engine)
    from ivr.content import load_content

    flow = load_content(settings.flow, settings.prompts).flow
    found = figures(engine, now() - span, flow=args.flow or None, order=[c.id for c in flow.criteria])
    if args.json:
        print(json.dumps(found.as_json(), ensure_ascii=False, indent=2), file=out)
    else:
        _print(found, args.since, out)
    return 0


def _print(found: Figures, since: str, out) -> None:
    def share(count: int) -> str:
        return f"{100 * found.share(count):5.1f} %"

    print(f"Calls since {since}: {found.calls} ({found.flow or 'all flows'})", file=out)
    print("Outcomes:", file=out)
    for outcome, count in found.outcomes.items():
        print(f"  {OUTCOMES[outcome]:<32} {count:6d}  {share(count)}", file=out)
    print(
        f"Advisor: {found.advisor_asked} transferred ({share(found.advisor_asked)}), "
        f"{found.advisor_reached} reached",
        file=out,
    )
    print(f"SMS: {found.sms_sent} sent, {found.sms_failed} failed, {found.sms_capped} over the daily cap",
          file=out)
    median = "-" if found.median_duration is None else f"{found.median_duration:.0f} s"
    print(f"Median call length: {median} ({found.durations} calls with a duration)", file=out)
    print(
        f"Funnel:  {'question':<28} {'reached':>7} {'yes':>6} {'no':>6} {'unsure':>6} {'hung up':>7}",
        file=out,
    )
    for q in found.funnel:
        print(
            f"         {q.question:<28} {q.reached:7d} {q.yes:6d} {q.no:6d} {q.unsure:6d} {q.hung_up:7d}",
            file=out,
        )
    others = {step: n for step, n in found.hung_up_at.items() if not step.startswith(f"{ASK}:")}
    for step, count in sorted(others.items()):
        print(f"Hung up at {STEPS.get(step, step)}: {count}", file=out)


def add_commands(commands) -> None:
    """The journal's sub-commands, on `ivr`'s parser."""
    show = commands.add_parser("report", help="the journal's figures: calls, outcomes, funnel")
    show.add_argument("--since", default="7d", help="how far back: 7d, 24h, 2w (default 7d)")
    show.add_argument("--flow", help="one flow id (default: every flow)")
    show.add_argument("--json", action="store_true", help="one JSON object: calls, outcomes, funnel, …")
    show.set_defaults(run=report)
    db = commands.add_parser("db", help="the journal's database").add_subparsers(dest="db", required=True)
    db.add_parser("upgrade", help="apply the migrations (IVR_DATABASE_URL)").set_defaults(run=upgrade)
    old = db.add_parser("purge", help="delete events older than IVR_RETENTION_DAYS")
    old.add_argument("--days", type=int, help="another retention, in days")
    old.set_defaults(run=purge_old)
