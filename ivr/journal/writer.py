"""The journal's writer: events wait in memory and a thread writes them in batches.

The thread starts in the process that records (gunicorn forks its workers after building the app,
and a thread does not survive a fork); under gevent it is a greenlet that hands each batch to a
real thread, so the database never holds up the requests of its worker.

A call never waits for the database. While the database is down or slow, events wait (up to
`capacity`) and are written once it answers again; beyond that, or at shutdown with the database
still down, they are dropped, counted and logged.
"""

from __future__ import annotations

import atexit
import collections
import logging
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TypeVar

import psycopg
from sqlalchemy import Connection, Engine, delete
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from ivr.db import migrate
from ivr.db.tables import journal_events
from ivr.journal.events import Event, now

log = logging.getLogger("ivr.journal")

CAPACITY = 100_000
BATCH = 5_000
# One transaction a second per worker at most: under load, batches stay large and cheap.
INTERVAL = 1.0
# After a failed write, wait this long, doubling up to the maximum, before trying again.
RETRY_FIRST, RETRY_MAX = 0.5, 5.0
PURGE_EVERY = 3600.0
# Lost events are logged at most this often, with the count so far.
LOSS_LOG_EVERY = 10.0

T = TypeVar("T")

# Told of trouble: ("write_failed", 1) for each failed attempt, ("lost", n) for events dropped.
Report = Callable[[str, int], None]


class Writer:
    """Writes events from a background thread; `put` never blocks and never raises."""

    def __init__(
        self,
        engine: Engine,
        retention_days: int,
        report: Report | None = None,
        capacity: int = CAPACITY,
        interval: float = INTERVAL,
    ) -> None:
        self.engine = engine
        self.retention = timedelta(days=retention_days)
        self.capacity = capacity
        self.interval = interval
        self.lost = 0
        self._report = report or (lambda kind, count: None)
        self._queue: collections.deque[Event] = collections.deque()
        self._pending: list[Event] = []
        self._wake = threading.Event()
        self._idle = threading.Condition()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._ready = False
        self._down_since: float | None = None
        self._next_purge = 0.0
        self._loss_logged = 0.0

    def put(self, event: Event) -> None:
        """Queue one event; drop it (counted) when the queue is full."""
        if self._pid != os.getpid():
            self._start()
        if len(self._queue) >= self.capacity:
            self._drop("queue full", 1)
            return
        self._queue.append(event)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued event is written; False if the database did not take them in time."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._queue or self._pending:
                if self._thread is None or not self._thread.is_alive():
                    return False
                self._wake.set()
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(min(left, 0.05))
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued if the database answers within `timeout`, then stop; count the rest."""
        if self._thread is not None and self._pid == os.getpid():
            self.flush(timeout)
            self._stop = True
            self._wake.set()
            self._thread.join(timeout)
        left = len(self._queue) + len(self._pending)
        if left:
            self._queue.clear()
            self._pending = []
            self._drop("database unreachable at shutdown", left)
        self.engine.dispose()

    def _start(self) -> None:
        # Started on first use in each process: a thread does not survive gunicorn's fork.
        self._pid = os.getpid()
        self._queue.clear()
        self._pending = []
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="ivr-journal", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def _run(self) -> None:
        offload = runner()
        delay, retry = self.interval, RETRY_FIRST
        while not self._stop:
            self._wake.wait(delay)
            self._wake.clear()
            if self._queue or self._pending:
                # One batch per wake: under load, events gather for a whole interval and a
                # transaction's fixed cost is shared by many; only a backlog is written at once.
                if offload(self._write_batch):
                    delay, retry = (0 if len(self._queue) >= BATCH else self.interval), RETRY_FIRST
                else:
                    delay, retry = retry, min(retry * 2, RETRY_MAX)
            with self._idle:
                self._idle.notify_all()
            if self._ready and time.monotonic() >= self._next_purge:
                offload(self._purge)

    def _write_batch(self) -> bool:
        if not self._pending:
            take = min(len(self._queue), BATCH)
            self._pending = [self._queue.popleft() for _ in range(take)]
        try:
            if not self._ready:
                migrate.ensure(self.engine)
                self._ready = True
            with self.engine.begin() as connection:
                insert(connection, self._pending)
        except (SQLAlchemyError, OSError, sqlite3.Error, psycopg.Error) as error:
            if _bad_data(error):
                # A row the database refuses will be refused again: drop this batch, keep going.
                log.error(
                    "journal: %d events refused by the database (%s)",
                    len(self._pending),
                    type(getattr(error, "orig", None) or error).__name__,
                )
                self._drop("refused by the database", len(self._pending))
                self._pending = []
                return True
            self._failed(error)
            return False
        if self._down_since is not None:
            log.warning(
                "journal: database back after %.0f s, %d events written",
                time.monotonic() - self._down_since,
                len(self._pending),
            )
            self._down_since = None
        self._pending = []
        return True

    def _failed(self, error: Exception) -> None:
        self._report("write_failed", 1)
        if self._down_since is None:
            self._down_since = time.monotonic()
            log.warning(
                "journal: database unreachable (%s); %d events wait in memory",
                type(getattr(error, "orig", None) or error).__name__,
                len(self._queue) + len(self._pending),
            )

    def _purge(self) -> None:
        self._next_purge = time.monotonic() + PURGE_EVERY
        try:
            removed = purge(self.engine, self.retention)
        except (SQLAlchemyError, OSError) as error:
            log.warning("journal: old events not deleted this time (%s)", type(error).__name__)
            self._next_purge = time.monotonic() + RETRY_MAX
            return
        if removed:
            log.info("journal: %d events older than %d days deleted", removed, self.retention.days)

    def _drop(self, reason: str, count: int) -> None:
        self.lost += count
        self._report("lost", count)
        moment = time.monotonic()
        if moment - self._loss_logged >= LOSS_LOG_EVERY or reason != "queue full":
            self._loss_logged = moment
            log.error("journal: %d events lost (%s); %d lost since start", count, reason, self.lost)


def offload(work: Callable[[], T]) -> T:
    """Run `work` (database calls) where it holds up no request: see `runner`."""
    return runner()(work)


def runner() -> Callable[[Callable[[], T]], T]:
    """How the writer runs its database work: at once in its own thread, or, where gevent has made
    threads greenlets (gunicorn.conf.py), in gevent's pool of real threads."""
    # A greenlet that waits inside SQLite (a busy lock, a slow disk) or builds a batch of thousands of
    # rows holds the whole worker: every request on it would wait. In a real thread it holds nobody.
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("threading"):
        import gevent

        return gevent.get_hub().threadpool.apply
    return lambda work: work()


def purge(engine: Engine, retention: timedelta) -> int:
    """Delete events older than the retention period; the number deleted."""
    with engine.begin() as connection:
        result = connection.execute(delete(journal_events).where(journal_events.c.at < now() - retention))
        return result.rowcount or 0


def insert(connection: Connection, events: Sequence[Event]) -> None:
    """Append events in the connection's transaction, by the cheapest way each database offers."""
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(COPY) as copy:
            for event in events:
                copy.write_row(event)
        return
    if connection.dialect.name == "sqlite":
        # The text form SQLAlchemy itself stores and reads back for a DateTime in SQLite.
        rows = [(event.at.strftime("%Y-%m-%d %H:%M:%S.%f"), *event[1:]) for event in events]
        connection.exec_driver_sql(SQLITE_INSERT, rows)
        return
    connection.execute(journal_events.insert(), [event._asdict() for event in events])


COLUMNS = ", ".join(f'"{name}"' for name in Event._fields)
COPY = f"COPY journal_events ({COLUMNS}) FROM STDIN"
SQLITE_INSERT = f"INSERT INTO journal_events ({COLUMNS}) VALUES ({', '.join('?' * len(Event._fields))})"


def _bad_data(error: Exception) -> bool:
    # IntegrityError, DataError: the rows are at fault, not the connection; they would fail again.
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return False
        error = error.orig
    return isinstance(error, BAD_DATA)


BAD_DATA = (sqlite3.IntegrityError, sqlite3.DataError, psycopg.DataError, psycopg.IntegrityError)
