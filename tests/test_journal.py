"""The call journal, against SQLite and a real PostgreSQL server: what calls leave in it, what
the team reads from it, what it never holds, and calls that go on whatever the database does."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import sqlite3
import statistics
import time
from collections import Counter
from datetime import timedelta

import psycopg
from conftest import AUTH_TOKEN, SECRET
from sqlalchemy import create_engine, func, inspect, select

from bench.server import free_port
from ivr.app import create_app
from ivr.cli import main
from ivr.db import migrate
from ivr.db.tables import journal_events
from ivr.journal.events import CALL_OUTCOMES, now
from ivr.journal.report import figures
from ivr.phone import Phone, flask_transport
from tests.caller import FunnelCaller

CALLER = "+33612345678"


def journal_app(url: str, **extra: str):
    return create_app(
        {"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "IVR_SECRET": SECRET, "IVR_DATABASE_URL": url, **extra}
    )


def writer(app):
    return app.extensions["ivr"].assistant.journal.writer


def engine_of(app):
    return app.extensions["ivr.dashboard"].engine


def play_calls(app, count: int = 24, seed: int = 7) -> list[FunnelCaller]:
    return FunnelCaller.crowd(app, flask_transport(app.test_client()), AUTH_TOKEN, count, seed)


def test_migrations_bring_an_empty_database_to_the_newest_revision(database_url, monkeypatch, capsys):
    monkeypatch.setenv("IVR_DATABASE_URL", database_url)
    assert main(["db", "upgrade"]) == 0
    assert f"database at revision {migrate.head()} (was empty)" in capsys.readouterr().out
    engine = create_engine(database_url)
    columns = {c["name"] for c in inspect(engine).get_columns("journal_events")}
    assert {
        "at",
        "call",
        "flow",
        "version",
        "webhook",
        "phase",
        "question",
        "action",
        "outcome",
        "duration",
    } <= columns
    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr().out.strip() == f"database at revision {migrate.head()}"
    engine.dispose()


def test_the_funnel_and_outcomes_are_those_the_calls_made(database_url):
    app = journal_app(database_url)
    scripts = play_calls(app)
    assert writer(app).flush(15)
    flow = app.extensions["ivr"].call.flow
    found = figures(
        engine_of(app), now() - timedelta(hours=1), flow=flow.id, order=[c.id for c in flow.criteria]
    )

    assert found.calls == len(scripts)
    assert {o: n for o, n in found.outcomes.items() if n} == Counter(s.outcome() for s in scripts)
    assert set(found.outcomes) == {o.value for o in CALL_OUTCOMES}
    by_question = {q.question: q for q in found.funnel}
    for cid in {c for s in scripts for c in s.asked}:
        row = by_question[cid]
        assert row.reached == sum(cid in s.asked for s in scripts), cid
        for action in ("yes", "no", "unsure"):
            assert getattr(row, action) == sum((action, cid) in s.answers for s in scripts), (cid, action)
        assert row.hung_up == sum(s.hung_up_at == cid for s in scripts), cid
    assert [q.question for q in found.funnel] == [c.id for c in flow.criteria if c.id in by_question]
    assert found.median_duration == statistics.median(s.duration for s in scripts)
    app.extensions["ivr"].assistant.journal.close()


def test_the_journal_holds_no_phone_number_and_no_call_sid(database_url):
    app = journal_app(database_url)
    scripts = play_calls(app, count=6)
    assert writer(app).flush(15)
    with engine_of(app).connect() as connection:
        rows = connection.execute(select(journal_events)).all()
    stored = json.dumps([[str(v) for v in row] for row in rows])
    assert rows
    for script in scripts:
        assert script.phone.call_sid not in stored
    for number in (CALLER, CALLER[1:], "0612345678", "612345678", "+33900000000"):
        assert number not in stored
    # The call is named by an HMAC of its CallSid under IVR_SECRET, nothing else.
    keyed = hmac.new(
        SECRET.encode(), b"ivr call reference:" + scripts[0].phone.call_sid.encode(), hashlib.sha256
    ).hexdigest()[:16]
    assert {row.call for row in rows} >= {keyed}
    app.extensions["ivr"].assistant.journal.close()


def test_a_call_has_the_same_reference_in_every_app_with_the_same_secret_only():
    sid = "CA" + "5" * 32
    same = [
        create_app({"IVR_SECRET": SECRET, "IVR_JOURNAL": "off"})
        .extensions["ivr"]
        .assistant.party(sid, "", "")
        for _ in range(2)
    ]
    other = create_app({"IVR_SECRET": SECRET[::-1], "IVR_JOURNAL": "off"}).extensions["ivr"].assistant
    assert same[0].ref == same[1].ref != other.party(sid, "", "").ref
    assert sid not in same[0].ref


def test_events_older_than_the_retention_are_deleted_by_the_command(database_url, monkeypatch, capsys):
    monkeypatch.setenv("IVR_DATABASE_URL", database_url)
    monkeypatch.setenv("IVR_RETENTION_DAYS", "30")
    assert main(["db", "upgrade"]) == 0
    engine = create_engine(database_url)
    ages = (400, 31, 29, 1)
    with engine.begin() as connection:
        connection.execute(
            journal_events.insert(),
            [
                {
                    "at": now() - timedelta(days=days),
                    "call": f"c{days}",
                    "flow": "f",
                    "version": 1,
                    "webhook": "incoming",
                }
                for days in ages
            ],
        )
    assert main(["db", "purge"]) == 0
    assert "2 events older than 30 days deleted" in capsys.readouterr().out
    with engine.connect() as connection:
        assert sorted(connection.scalars(select(journal_events.c.call))) == ["c1", "c29"]
    engine.dispose()


def test_the_server_deletes_events_older_than_the_retention_by_itself(database_url):
    app = journal_app(database_url, IVR_RETENTION_DAYS="10")
    engine = engine_of(app)
    migrate.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(
            journal_events.insert(),
            [
                {
                    "at": now() - timedelta(days=11),
                    "call": "old",
                    "flow": "f",
                    "version": 1,
                    "webhook": "incoming",
                }
            ],
        )
    play_calls(app, count=1)
    assert writer(app).flush(15)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            calls = set(connection.scalars(select(journal_events.c.call).distinct()))
        if "old" not in calls:
            break
        time.sleep(0.05)
    assert "old" not in calls and calls
    app.extensions["ivr"].assistant.journal.close()


def transcript(app, script: tuple[str, ...]) -> list[tuple[str, float]]:
    """Each TwiML document a scripted call receives, with the time the request took."""
    client = app.test_client()
    documents = []

    def timed(url, form, headers):
        began = time.perf_counter()
        answer = flask_transport(client)(url, form, headers)
        # State tokens are sealed with a fresh nonce: the same words, never the same token.
        documents.append((re.sub(r"s=[\w-]+", "s=…", answer.body), time.perf_counter() - began))
        return answer

    phone = Phone(timed, auth_token=AUTH_TOKEN, caller=CALLER, status_callback="/voice/status")
    phone.dial()
    for key in script:
        if phone.waiting:
            phone.press(key)
    phone.hang_up(42)
    return documents


SCRIPT = ("1", "3", "1", "1", "2", "#", "1", "1", "1", "1", "1", "1", "1", "1", "1", "9")


def test_with_the_database_down_callers_hear_the_same_in_time_and_the_loss_is_counted(caplog):
    down = f"postgresql+psycopg://ivr@127.0.0.1:{free_port()}/nowhere"
    without = create_app({"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "IVR_SECRET": SECRET, "IVR_JOURNAL": "off"})
    app = journal_app(down)
    writer(app).capacity = 5
    caplog.set_level(logging.WARNING, logger="ivr.journal")
    expected = [body for body, _ in transcript(without, SCRIPT)]
    heard = transcript(app, SCRIPT)
    assert [body for body, _ in heard] == expected
    # The database's 3-second connect timeout never reaches a caller.
    assert max(seconds for _, seconds in heard) < 1.0
    assert not writer(app).flush(1.0)
    assert writer(app).lost == len(expected) - 5
    metrics = app.extensions["ivr.dashboard"].metrics
    assert metrics.journal_errors.labels("lost")._value.get() == len(expected) - 5
    app.extensions["ivr"].assistant.journal.close()
    assert metrics.journal_errors.labels("lost")._value.get() == len(expected)
    assert metrics.journal_errors.labels("write_failed")._value.get() >= 1
    messages = [r.getMessage() for r in caplog.records]
    assert any("database unreachable" in m for m in messages)
    assert any("events lost (queue full)" in m for m in messages)
    assert any("events lost (database unreachable at shutdown)" in m for m in messages)


def hold_write_lock(database_url: str):
    """Another client holding the journal's table locked: every write waits for it."""
    if database_url.startswith("sqlite"):
        other = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        return other
    other = psycopg.connect(database_url.replace("postgresql+psycopg", "postgresql"))
    other.execute("LOCK TABLE journal_events IN ACCESS EXCLUSIVE MODE")
    return other


def test_with_the_database_slow_callers_hear_the_same_in_time_and_nothing_is_lost(database_url):
    without = create_app({"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "IVR_SECRET": SECRET, "IVR_JOURNAL": "off"})
    app = journal_app(database_url)
    migrate.upgrade(engine_of(app))
    expected = [body for body, _ in transcript(without, SCRIPT)]
    lock = hold_write_lock(database_url)
    try:
        heard = transcript(app, SCRIPT)
        assert not writer(app).flush(1.0), "the lock should hold the writes back"
    finally:
        lock.rollback()
        lock.close()
    assert [body for body, _ in heard] == expected
    assert max(seconds for _, seconds in heard) < 1.0
    assert writer(app).flush(20)
    assert writer(app).lost == 0
    with engine_of(app).connect() as connection:
        # One event per request, the status callback's included.
        assert connection.scalar(select(func.count()).select_from(journal_events)) == len(expected)
    app.extensions["ivr"].assistant.journal.close()


def test_report_prints_the_figures_and_json_with_calls_outcomes_and_funnel(database_url, monkeypatch, capsys):
    monkeypatch.setenv("IVR_DATABASE_URL", database_url)
    app = journal_app(database_url)
    scripts = play_calls(app, count=8)
    app.extensions["ivr"].assistant.journal.close()
    capsys.readouterr()
    monkeypatch.setenv("IVR_FLOW", str(app.config["IVR_SETTINGS"].flow))
    assert main(["report", "--since", "1d", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["calls"] == len(scripts)
    assert {o: n for o, n in data["outcomes"].items() if n} == Counter(s.outcome() for s in scripts)
    first = app.extensions["ivr"].call.flow.criteria[0].id
    entry = next(q for q in data["funnel"] if q["question"] == first)
    assert entry["reached"] == sum(first in s.asked for s in scripts)
    assert main(["report", "--since", "1d"]) == 0
    text = capsys.readouterr().out
    assert f"Calls since 1d: {len(scripts)}" in text and first in text
    assert main(["report", "--since", "yesterday"]) == 2
