"""Alembic migrations, applied by `ivr db upgrade` or by the journal's writer on first use."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from ivr.db.engine import is_sqlite

MIGRATIONS = Path(__file__).with_name("migrations")
# The PostgreSQL advisory lock that lets one process at a time migrate a shared database.
LOCK_KEY = zlib.crc32(b"ivr.db.migrate")
# Threads of one process migrating at once (the file lock and the advisory lock are for processes).
_in_process = threading.Lock()


def config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for our migrations, bound to a connection when given."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def head() -> str:
    """The newest revision this code knows."""
    head = ScriptDirectory.from_config(config()).get_current_head()
    assert head is not None
    return head


def current(engine: Engine) -> str | None:
    """The revision the database is at, None when it is empty."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> str:
    """Bring the database to the newest revision; safe when several processes start at once."""
    with _lock(engine), engine.begin() as connection:
        if not is_sqlite(engine):
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        command.upgrade(config(connection), "head")
    return head()


def ensure(engine: Engine) -> None:
    """Upgrade the database unless it is already at the newest revision (the usual case, one query)."""
    if current(engine) != head():
        # The journal's writer and the SMS outbox may both find the database empty at once, in
        # one process: the second waits here, then finds it made.
        with _in_process:
            if current(engine) != head():
                upgrade(engine)


@contextlib.contextmanager
def _lock(engine: Engine) -> Iterator[None]:
    """For a SQLite file, a lock file beside it: pysqlite runs DDL outside any transaction."""
    database = engine.url.database
    if not is_sqlite(engine) or not database or database == ":memory:":
        yield
        return
    with open(Path(database).with_suffix(".migrate-lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
