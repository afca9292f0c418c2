"""The SMS outbox: the webhook only enqueues; a loop in each worker delivers, off the request path.

The database that holds the journal holds the outbox too, so its limits hold across workers and
instances: one SMS per call (a replayed request finds its call's row) and `cap` per destination
and day (Paris time; each message takes a numbered slot, unique with the destination and day).
The destination is an HMAC of the number under IVR_SECRET; the number and the message travel
sealed (AES-GCM-SIV under a key derived from IVR_SECRET) and are erased once the message is
settled. Each try has a wall-clock deadline; a message is tried at most twice, and again only
when it certainly did not leave.
"""

from __future__ import annotations

import atexit
import hashlib
import hmac
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCMSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ivr.db import migrate
from ivr.db.tables import sms_outbox
from ivr.engine.reply import SmsFate
from ivr.hours import PARIS
from ivr.journal.events import now
from ivr.journal.writer import offload
from ivr.sms.sender import Attempt

log = logging.getLogger("ivr.sms")

TRIES = 2
# One try, from the request's first byte to Twilio's answer: past this the try counts as unknown.
DEADLINE = 8.0
# The second try waits this long after a first one that did not leave.
RETRY_AFTER = timedelta(seconds=20)
# The caller was told « quelques minutes »: a message still waiting after this is not sent.
MAX_AGE = timedelta(minutes=10)
# A message claimed this long ago by a worker that never settled it (killed mid-try) may have left.
STUCK = timedelta(minutes=2)
INTERVAL = 1.0
BATCH = 20
TIDY_EVERY = 60.0


class Status(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # refused, or both tries failed: it did not leave
    UNCONFIRMED = "unconfirmed"  # no clear answer: it may have left, it is not tried again
    EXPIRED = "expired"  # waited longer than MAX_AGE


# What the caller hears of a message already in the outbox (a replayed request, the same call).
FATES = {Status.FAILED: SmsFate.FAILED, Status.EXPIRED: SmsFate.FAILED}

# Told of each message settled or refused: "sent", "refused", "capped", "deadline", "unconfirmed"…
Report = Callable[[str], None]


class Outbox:
    """The Postbox of a server with Twilio's REST API: durable, limited, delivered apart."""

    def __init__(
        self,
        engine: Engine,
        attempt: Callable[[str, str, str], Attempt],
        secrets: Sequence[str],
        cap: int = 1,
        report: Report | None = None,
        deadline: float = DEADLINE,
        clock: Callable[[], datetime] = now,
    ) -> None:
        self.engine = engine
        self.attempt = attempt
        self.cap = cap
        self.deadline = deadline
        self.clock = clock
        self._report = report or (lambda kind: None)
        keys = [HKDF(hashes.SHA256(), length=32, salt=None, info=b"ivr sms outbox").derive(s.encode())
                for s in secrets]
        self._seal = AESGCMSIV(keys[0])
        self._open = [AESGCMSIV(key) for key in keys]
        self._destination = hmac.new(secrets[0].encode(), b"ivr sms destination:", hashlib.sha256)
        self._pid = 0
        self._ready = False
        self._stop = False
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # The webhook's side: a few milliseconds, whatever Twilio does.

    def enqueue(self, call: str, number: str, body: str) -> SmsFate:
        """Take the call's message: on its way, refused for the day, or failed (the database is down)."""
        self.running()
        try:
            return offload(lambda: self._enqueue(call, number, body))
        except (SQLAlchemyError, OSError) as error:
            log.error("call %s: SMS not queued, the database did not take it (%s)", call,
                      type(error).__name__)
            self._report("not_queued")
            return SmsFate.FAILED

    def failed(self, call: str) -> bool:
        """Whether the call's SMS is known not to have left and the caller not told yet (now they are)."""
        try:
            return offload(lambda: self._tell(call))
        except (SQLAlchemyError, OSError):
            return False

    def _tell(self, call: str) -> bool:
        self._migrated()
        with self.engine.begin() as connection:
            # Once only, whichever worker asks first: the row changes from untold to told.
            return connection.execute(
                update(sms_outbox)
                .where(sms_outbox.c.call == call, sms_outbox.c.told.is_(False),
                       sms_outbox.c.status.in_((Status.FAILED.value, Status.EXPIRED.value)))
                .values(told=True)
            ).rowcount == 1

    def running(self) -> None:
        """Start this process's delivery loop (once per process: a thread does not survive a fork)."""
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._stop = False
            self._wake = threading.Event()
            self._thread = threading.Thread(target=self._run, name="ivr-sms", daemon=True)
            self._thread.start()
            atexit.register(self.close)

    def close(self) -> None:
        """Stop this process's delivery loop, letting the message it is sending settle first (at most
        one try's deadline): stopped mid-try, a message would stay unsettled until given up as
        unconfirmed. Messages not yet taken stay queued for the next server."""
        self._stop = True
        self._wake.set()
        thread = self._thread
        if thread is not None and self._pid == os.getpid() and thread is not threading.current_thread():
            thread.join(self.deadline + 1)

    def destination(self, number: str) -> str:
        """The number as the outbox knows it: an HMAC under IVR_SECRET, never the number."""
        mac = self._destination.copy()
        mac.update(number.encode())
        return mac.hexdigest()[:32]

    def _enqueue(self, call: str, number: str, body: str) -> SmsFate:
        self._migrated()
        already = self._status(call)
        if already is not None:
            return FATES.get(Status(already), SmsFate.ON_ITS_WAY)
        moment = self.clock()
        day = self._day(moment)
        destination = self.destination(number)
        nonce = os.urandom(12)
        sealed = nonce + self._seal.encrypt(nonce, f"{number}\n{body}".encode(), call.encode())
        for slot in range(self.cap):
            row = {"call": call, "destination": destination, "day": day, "slot": slot, "sealed": sealed,
                   "status": Status.QUEUED.value, "tries": 0, "created_at": moment, "next_at": moment,
                   "told": False}
            try:
                with self.engine.begin() as connection:
                    connection.execute(insert(sms_outbox), row)
            except IntegrityError:
                # Either this call's row came first (the same request twice), or the slot is taken.
                already = self._status(call)
                if already is not None:
                    return FATES.get(Status(already), SmsFate.ON_ITS_WAY)
                continue
            log.info("call %s: SMS queued", call)
            return SmsFate.ON_ITS_WAY
        log.warning("call %s: SMS refused, its destination had its %d SMS today", call, self.cap)
        self._report("capped")
        return SmsFate.CAPPED

    def _status(self, call: str) -> str | None:
        with self.engine.connect() as connection:
            return connection.execute(select(sms_outbox.c.status).where(sms_outbox.c.call == call)).scalar()

    @staticmethod
    def _day(moment: datetime) -> date:
        # The cap's day is the caller's: midnight in Paris, not in UTC.
        return moment.replace(tzinfo=UTC).astimezone(PARIS).date()

    def _migrated(self) -> None:
        if not self._ready:
            migrate.ensure(self.engine)
            self._ready = True

    # The delivery side: a loop in each worker, off the request path.

    def _run(self) -> None:
        tidy_at, down = 0.0, False
        while not self._stop:
            tried = 0
            try:
                if time.monotonic() >= tidy_at:
                    tidy_at = time.monotonic() + TIDY_EVERY
                    offload(self.settle_old)
                tried = self.deliver()
            except (SQLAlchemyError, OSError) as error:
                # Logged once per outage, counted at every turn.
                if not down:
                    log.warning("SMS outbox unreachable (%s); trying again each second", type(error).__name__)
                down = True
                self._report("outbox_unreachable")
            except Exception:
                # The loop must outlive any surprise: the messages of every later call depend on it.
                log.exception("SMS outbox: unexpected error; trying again")
                self._report("error")
            else:
                if down:
                    log.warning("SMS outbox reachable again")
                down = False
            if not tried:
                self._wake.wait(INTERVAL)

    def deliver(self) -> int:
        """Claim the messages due and try each once; how many were tried."""
        ids = offload(self._due)
        for tried, row_id in enumerate(ids):
            if self._stop:
                # Stopping: the rest stay queued, for the next turn of any worker.
                return tried
            self._deliver_one(row_id)
        return len(ids)

    def _due(self) -> list[int]:
        self._migrated()
        with self.engine.connect() as connection:
            return list(connection.execute(
                select(sms_outbox.c.id)
                .where(sms_outbox.c.status == Status.QUEUED.value, sms_outbox.c.next_at <= self.clock())
                .order_by(sms_outbox.c.id)
                .limit(BATCH)
            ).scalars())

    def _claim(self, row_id: int) -> tuple[str, int, bytes] | None:
        """Take the message for this worker (none other will try it); its call, try number and seal."""
        with self.engine.begin() as connection:
            taken = connection.execute(
                update(sms_outbox)
                .where(sms_outbox.c.id == row_id, sms_outbox.c.status == Status.QUEUED.value)
                .values(status=Status.SENDING.value, tries=sms_outbox.c.tries + 1, next_at=self.clock())
            ).rowcount
            if not taken:
                return None
            columns = (sms_outbox.c.call, sms_outbox.c.tries, sms_outbox.c.sealed)
            row = connection.execute(select(*columns).where(sms_outbox.c.id == row_id)).one()
        return row.call, row.tries, row.sealed

    def _deliver_one(self, row_id: int) -> None:
        claimed = offload(lambda: self._claim(row_id))
        if claimed is None:
            return
        call, tries, sealed = claimed
        opened = self._unseal(call, sealed)
        if opened is None:
            log.error("call %s: SMS unreadable (IVR_SECRET changed?), not sent", call)
            offload(lambda: self._settle(row_id, Status.FAILED))
            self._report("unreadable")
            return
        number, body = opened
        result = self._try(number, body, call)
        if result is Attempt.SENT:
            status = Status.SENT
        elif result is Attempt.RETRY and tries < TRIES:
            offload(lambda: self._again(row_id))
            self._report("retry")
            return
        elif result is Attempt.UNKNOWN:
            status = Status.UNCONFIRMED
        else:
            status = Status.FAILED
        offload(lambda: self._settle(row_id, status))
        self._report(status.value)

    def _try(self, number: str, body: str, call: str) -> Attempt:
        """One try within the wall-clock deadline; past it, the try goes on alone and counts as unknown."""
        outcome: list[Attempt] = []
        done = threading.Event()

        def go() -> None:
            try:
                outcome.append(self.attempt(number, body, call))
            except Exception:
                log.exception("call %s: SMS try failed unexpectedly", call)
                outcome.append(Attempt.UNKNOWN)
            done.set()

        threading.Thread(target=go, name="ivr-sms-try", daemon=True).start()
        if not done.wait(self.deadline) or not outcome:
            log.warning("call %s: SMS not confirmed within %.0f s, not tried again", call, self.deadline)
            self._report("deadline")
            return Attempt.UNKNOWN
        return outcome[0]

    def _unseal(self, call: str, sealed: bytes | None) -> tuple[str, str] | None:
        if not sealed:
            return None
        for key in self._open:
            try:
                text = key.decrypt(sealed[:12], sealed[12:], call.encode()).decode()
            except InvalidTag:
                continue
            number, _, body = text.partition("\n")
            return number, body
        return None

    def _again(self, row_id: int) -> None:
        with self.engine.begin() as connection:
            connection.execute(update(sms_outbox).where(sms_outbox.c.id == row_id).values(
                status=Status.QUEUED.value, next_at=self.clock() + RETRY_AFTER))

    def _settle(self, row_id: int, status: Status) -> None:
        # Settled: the number and the message are erased; only the keyed destination stays, for the cap.
        with self.engine.begin() as connection:
            connection.execute(update(sms_outbox).where(sms_outbox.c.id == row_id).values(
                status=status.value, sealed=None, settled_at=self.clock()))

    def settle_old(self) -> None:
        """Give up on messages waiting too long, and on tries a dead worker never settled; forget the
        days gone (a destination's rows serve only its cap of the day)."""
        self._migrated()
        moment = self.clock()
        with self.engine.begin() as connection:
            gone = self._day(moment) - timedelta(days=1)
            connection.execute(
                delete(sms_outbox).where(sms_outbox.c.day < gone, sms_outbox.c.settled_at.is_not(None))
            )
            expired = connection.execute(
                update(sms_outbox)
                .where(sms_outbox.c.status == Status.QUEUED.value, sms_outbox.c.created_at < moment - MAX_AGE)
                .values(status=Status.EXPIRED.value, sealed=None, settled_at=moment)
            ).rowcount
            stuck = connection.execute(
                update(sms_outbox)
                .where(sms_outbox.c.status == Status.SENDING.value, sms_outbox.c.next_at < moment - STUCK)
                .values(status=Status.UNCONFIRMED.value, sealed=None, settled_at=moment)
            ).rowcount
        for kind, count in (("expired", expired), ("unconfirmed", stuck)):
            for _ in range(count or 0):
                self._report(kind)
