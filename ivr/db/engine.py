"""An SQLAlchemy engine for a database URL: SQLite in WAL mode, or PostgreSQL through psycopg 3."""

from __future__ import annotations

import contextlib
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

# A database that does not answer within this many seconds counts as down for this attempt.
CONNECT_TIMEOUT = 3
STATEMENT_TIMEOUT_MS = 10_000
FILE_NAME = "journal.sqlite3"


def default_url(instance: Path) -> str:
    """The SQLite file in the instance folder: nothing to install for one machine."""
    # A folder that cannot be made must not stop the line: the journal's writer will say so.
    with contextlib.suppress(OSError):
        instance.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{instance / FILE_NAME}"


def normalise(url: str) -> str:
    """PostgreSQL URLs use psycopg 3, whichever way they are spelt."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def make_engine(url: str) -> Engine:
    """An engine with short timeouts: a call never waits for it, but its writer should not hang."""
    url = normalise(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": CONNECT_TIMEOUT, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url,
        pool_size=2,
        max_overflow=2,
        pool_pre_ping=True,
        connect_args={
            "connect_timeout": CONNECT_TIMEOUT,
            "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
            "application_name": "ivr",
        },
    )


def _sqlite_pragmas(connection, _record) -> None:
    # WAL lets the dashboard read while workers write; NORMAL is durable enough for analysis data.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"
