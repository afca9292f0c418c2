"""Real gunicorn on loopback, as the Procfile runs it: a crowd of calls, a restart, a killed worker.

A request that reaches a worker at the moment it is SIGKILLed gets no answer. Twilio would then
fetch the number's fallback URL; here the fallback is the same webhook, so the simulated Twilio
posts that one request once more. At most one request per killed worker may need it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import http.client
import json
import os
import signal
import socket
import sqlite3
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import AUTH_TOKEN, SECRET, SEED, signature
from sqlalchemy import create_engine, select
from sqlalchemy.exc import OperationalError, ProgrammingError

from bench.postgres import Postgres
from bench.server import Gunicorn, free_port
from ivr.config import ENVIRONMENT, load_settings
from ivr.content import load_content
from ivr.db.tables import journal_events
from ivr.journal.events import Outcome
from ivr.phone import Answer, Phone, Transport, http_transport
from tests.caller import ScriptedCaller, eligible, profiles

pytestmark = pytest.mark.load

CALLS = 60
WORKERS = 3


@pytest.fixture(scope="module")
def content():
    settings = load_settings({})
    return load_content(settings.flow, settings.prompts)


@pytest.fixture
def launch(tmp_path):
    """Start gunicorn on a free loopback port (again on the same port after a stop); always stopped."""
    started: list[Gunicorn] = []
    port = free_port()
    # Only our settings: none of the developer's own environment leaks into the server.
    env = {name: "" for name in ENVIRONMENT}
    env.update(TWILIO_AUTH_TOKEN=AUTH_TOKEN, PUBLIC_BASE_URL=f"http://127.0.0.1:{port}", IVR_SECRET=SECRET,
               IVR_DATABASE_URL=f"sqlite:///{tmp_path / 'journal.sqlite3'}",
               PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))

    def start(**settings: str) -> Gunicorn:
        server = Gunicorn(port, WORKERS, {**env, **settings}, tmp_path)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


class Counting:
    """A transport counting requests, posting again once a request the network lost (the fallback)."""

    def __init__(self, transport: Transport, retry: bool = False) -> None:
        self.transport, self.retry = transport, retry
        self.sent = 0
        self.lost: dict[int, str] = {}  # request number: its URL
        self._flying: set[int] = set()
        self._lock = threading.Lock()

    def in_flight(self) -> set[int]:
        """The numbers of the requests sent and not yet answered."""
        with self._lock:
            return set(self._flying)

    def __call__(self, url: str, form: Mapping[str, str], headers: Mapping[str, str]) -> Answer:
        with self._lock:
            number = self.sent
            self.sent += 1
            self._flying.add(number)
        try:
            return self.transport(url, form, headers)
        except (urllib.error.URLError, ConnectionError, http.client.HTTPException):
            if not self.retry:
                raise
            with self._lock:
                self.lost[number] = url
            return self.transport(url, form, headers)
        finally:
            with self._lock:
                self._flying.discard(number)


def crowd(server: Gunicorn, content, transport: Transport, seed: int) -> list[ScriptedCaller]:
    answers = profiles(content.flow, CALLS, seed)
    return [
        ScriptedCaller.numbered(
            n,
            Phone(transport, base_url=server.url, auth_token=AUTH_TOKEN, call_sid=f"CA{seed:08d}{n:024d}",
                  status_callback="/voice/status"),
            content.flow, content.catalog, profile,
        )
        for n, profile in enumerate(answers)
    ]


def assert_every_call_ended_right(callers: list[ScriptedCaller]) -> None:
    wrong = [(n, c.result, c.expected()) for n, c in enumerate(callers) if c.expected() not in c.result]
    assert not wrong, f"{len(wrong)} calls heard the wrong result, first: {wrong[0]}"
    assert all(c.done for c in callers)
    assert not any(c.lost_state for c in callers), "a call lost its state and restarted its questions"


def run_all(callers: list[ScriptedCaller], turns: int = 60) -> None:
    with ThreadPoolExecutor(max_workers=len(callers)) as pool:
        for future in [pool.submit(c.run, turns) for c in callers]:
            future.result(timeout=120)


def test_sixty_simultaneous_calls_each_hear_their_own_result(launch, content):
    server = launch()
    transport = Counting(http_transport(timeout=15))
    callers = crowd(server, content, transport, seed=1)
    run_all(callers)
    assert_every_call_ended_right(callers)
    assert transport.sent >= CALLS * 4


def test_calls_continue_across_a_full_server_restart(launch, content):
    server = launch()
    callers = crowd(server, content, http_transport(timeout=15), seed=2)
    # Each call stops at a different depth: greeting, first questions, deep in, at the result.
    with ThreadPoolExecutor(max_workers=len(callers)) as pool:
        list(pool.map(lambda pair: pair[1].run(1 + pair[0] % 9), enumerate(callers), timeout=120))
    assert not all(c.done for c in callers)
    server.stop()
    assert server.process.returncode is not None
    launch()
    run_all(callers)
    assert_every_call_ended_right(callers)


def test_a_worker_killed_under_load_is_replaced_and_no_call_loses_its_state(launch, content):
    server = launch()
    transport = Counting(http_transport(timeout=15), retry=True)
    callers = crowd(server, content, transport, seed=3)
    before = server.worker_pids()
    with ThreadPoolExecutor(max_workers=len(callers)) as pool:
        futures = [pool.submit(c.run) for c in callers]
        deadline = time.monotonic() + 60
        while transport.sent < CALLS * 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        victim = before[0]
        sent, flying = transport.sent, transport.in_flight()
        os.kill(victim, signal.SIGKILL)
        # In flight at the kill: those above and those sent since. Requests sent after it open new
        # connections, which only the live workers accept.
        flying |= set(range(sent, transport.sent))
        for future in futures:
            future.result(timeout=120)
    deadline = time.monotonic() + 20
    while server.booted() < WORKERS + 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    after = server.worker_pids()
    assert victim not in after
    assert len(after) == WORKERS
    assert server.booted() == WORKERS + 1
    # A gevent worker serves several requests at once: those it held when killed are lost (Twilio
    # would post them to the fallback URL), and no other request.
    assert set(transport.lost) <= flying, transport.lost
    assert_every_call_ended_right(callers)


ADMIN = "admin-password-0123456789"
RESULTS = {Outcome.ELIGIBLE.value, Outcome.NONE.value, Outcome.PREREQUISITE.value}


def reference(call_sid: str) -> str:
    """The call's name in logs and journal, from its definition: HMAC-SHA256 under IVR_SECRET."""
    mac = hmac.new(SECRET.encode(), b"ivr call reference:" + call_sid.encode(), hashlib.sha256)
    return mac.hexdigest()[:16]


def expected_outcome(caller: ScriptedCaller) -> str:
    flow = caller.flow
    if any(not caller.profile[c.id] for c in flow.criteria if c.gate):
        return Outcome.PREREQUISITE.value
    return Outcome.ELIGIBLE.value if eligible(flow, caller.profile) else Outcome.NONE.value


def hang_up_all(callers: list[ScriptedCaller]) -> None:
    for n, caller in enumerate(callers):
        caller.phone.hang_up(duration=40 + n)


def journal_complete(url: str, events: int, timeout: float = 40.0) -> list[tuple[str, str | None]]:
    """(call, outcome) of every event, once the journal holds `events` of them (the writers are async)."""
    engine = create_engine(url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                with engine.connect() as connection:
                    rows = connection.execute(select(journal_events.c.call, journal_events.c.outcome)).all()
            except (OperationalError, ProgrammingError):
                # Down, or not made yet: each writer makes the tables with its first batch.
                rows = []
            if len(rows) >= events or time.monotonic() > deadline:
                return [tuple(row) for row in rows]
            time.sleep(0.2)
    finally:
        engine.dispose()


def assert_one_outcome_per_call(rows: list[tuple[str, str | None]], callers: list[ScriptedCaller]) -> None:
    outcomes: dict[str, list[str]] = {}
    for call, outcome in rows:
        outcomes.setdefault(call, [])
        if outcome in RESULTS:
            outcomes[call].append(outcome)
    assert set(outcomes) == {reference(c.phone.call_sid) for c in callers}
    for caller in callers:
        assert outcomes[reference(caller.phone.call_sid)] == [expected_outcome(caller)], caller.phone.call_sid


def scrape(server: Gunicorn) -> dict[str, float]:
    """The server's /metrics, summed by metric name and labels, as Prometheus would read it."""
    request = urllib.request.Request(f"{server.url}/metrics", headers={
        "Authorization": "Basic " + base64.b64encode(f"admin:{ADMIN}".encode()).decode()})
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    found: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            found[name] = float(value)
    return found


def test_calls_through_gunicorn_workers_give_exactly_one_outcome_each_in_the_journal(
    launch, content, database_url
):
    url = database_url
    server = launch(IVR_DATABASE_URL=url, IVR_LOG_FORMAT="json", IVR_ADMIN_PASSWORD=ADMIN)
    transport = Counting(http_transport(timeout=15))
    callers = crowd(server, content, transport, seed=4)
    run_all(callers)
    hang_up_all(callers)
    assert_every_call_ended_right(callers)
    rows = journal_complete(url, transport.sent)
    # One event per request, every worker's: none lost, none twice.
    assert len(rows) == transport.sent
    assert_one_outcome_per_call(rows, callers)

    # Every worker's figures, added up in multiprocess mode.
    metrics = scrape(server)
    assert metrics[f'ivr_calls_total{{flow="{content.flow.id}"}}'] == CALLS
    counts = 'ivr_webhook_seconds_count{endpoint="voice.'
    answered = sum(v for k, v in metrics.items() if k.startswith(counts))
    assert answered == transport.sent
    assert sum(v for k, v in metrics.items() if k.startswith("ivr_outcomes_total")) == CALLS

    # One JSON line per request at INFO, naming the call by its reference, never its CallSid or a number.
    server.stop()
    lines = [json.loads(line) for line in server.error_log.read_text().splitlines() if line.startswith("{")]
    requests = [e for e in lines if e["logger"] == "ivr.request" and e["path"].startswith("/voice")]
    assert len(requests) == transport.sent
    assert all(entry["level"] == "INFO" and entry["status"] in (200, 204) for entry in requests)
    assert {entry["call"] for entry in requests} == {reference(c.phone.call_sid) for c in callers}
    logged = server.error_log.read_text()
    assert not any(c.phone.call_sid in logged or c.phone.caller in logged for c in callers)
    assert "?s=" not in logged


def test_stopping_postgresql_mid_run_loses_no_call(launch, content):
    with Postgres() as database:
        server = launch(IVR_DATABASE_URL=database.url, IVR_ADMIN_PASSWORD=ADMIN)
        transport = Counting(http_transport(timeout=15))
        callers = crowd(server, content, transport, seed=5)
        with ThreadPoolExecutor(max_workers=len(callers)) as pool:
            futures = [pool.submit(c.run) for c in callers]
            deadline = time.monotonic() + 60
            while transport.sent < CALLS * 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            database.stop()
            stopped_at = transport.sent
            time.sleep(2.0)
            down_for = transport.sent - stopped_at
            database.start()
            for future in futures:
                future.result(timeout=120)
        hang_up_all(callers)
        assert_every_call_ended_right(callers)
        assert down_for > 0, "no request was answered while PostgreSQL was down"
        rows = journal_complete(database.url, transport.sent)
        assert len(rows) == transport.sent
        assert_one_outcome_per_call(rows, callers)
        metrics = scrape(server)
        assert metrics.get('ivr_journal_errors_total{kind="write_failed"}', 0) >= 1
        assert metrics.get('ivr_journal_errors_total{kind="lost"}', 0) == 0


# Safe on the open internet (issue 11): the server as the Procfile starts it, on loopback.

SLOW_CLIENTS = 12  # four times the workers: with sync workers, three were enough to stall every call
TRICKLE = 0.3  # seconds between two bytes of a slow client


@pytest.fixture(scope="module")
def line(tmp_path_factory):
    """One server for the tests below, as the Procfile starts it, with its logs to read."""
    port = free_port()
    env = {name: "" for name in ENVIRONMENT}
    env.update(TWILIO_AUTH_TOKEN=AUTH_TOKEN, PUBLIC_BASE_URL=f"http://127.0.0.1:{port}", IVR_SECRET=SECRET)
    with Gunicorn(port, WORKERS, env, tmp_path_factory.mktemp("line")) as server:
        yield server


class SlowClient(threading.Thread):
    """A client sending `fast` at once, then `slow` one byte every TRICKLE seconds; notes when and how
    its connection ends."""

    def __init__(self, port: int, fast: bytes = b"", slow: bytes = b"", limit: float = 15.0) -> None:
        super().__init__(daemon=True)
        self.port, self.fast, self.slow, self.limit = port, fast, slow, limit
        self.began = time.monotonic()
        self.ended: float | None = None
        self.answer = b""

    def run(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port)) as sock:
            sock.settimeout(TRICKLE)
            try:
                sock.sendall(self.fast)
                for byte in self.slow:
                    if time.monotonic() - self.began > self.limit:
                        return
                    sock.sendall(bytes([byte]))
                    with contextlib.suppress(TimeoutError):
                        self.answer = sock.recv(4096)
                        break
                else:
                    sock.settimeout(self.limit)
                    self.answer = sock.recv(4096)
            except OSError:
                pass
            self.ended = time.monotonic() - self.began


def slow_head(port: int) -> bytes:
    return f"POST /voice HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Padding: {'x' * 200}\r\n\r\n".encode()


def slow_body(port: int) -> tuple[bytes, bytes]:
    body = b"CallSid=CA1&Digits=1&" + b"x" * 200
    head = (f"POST /voice HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/x-www-form-"
            f"urlencoded\r\nContent-Length: {len(body)}\r\nX-Twilio-Signature: x\r\n\r\n").encode()
    return head, body


def test_slow_connections_do_not_delay_signed_requests_and_are_cut_off_within_seconds(line, content):
    head, body = slow_body(line.port)
    slow = [SlowClient(line.port, slow=slow_head(line.port)) for _ in range(SLOW_CLIENTS // 3)]
    slow += [SlowClient(line.port, fast=head, slow=body) for _ in range(SLOW_CLIENTS // 3)]
    slow += [SlowClient(line.port) for _ in range(SLOW_CLIENTS // 3)]  # connects, sends nothing
    for client in slow:
        client.start()
    time.sleep(1)
    # Whole calls, one request after another, while every slow client holds its connection.
    latencies: list[float] = []

    def timed(url, form, headers):
        began = time.monotonic()
        try:
            return http_transport(timeout=15)(url, form, headers)
        finally:
            latencies.append(time.monotonic() - began)

    callers = crowd(line, content, timed, seed=4)[:6]
    for caller in callers:
        caller.run()
    still_open = sum(client.ended is None for client in slow)
    for client in slow:
        client.join(timeout=20)
    assert_every_call_ended_right(callers)
    assert still_open == len(slow), "the slow clients were cut off before the calls were measured"
    # Twilio waits 15 s; with sync workers these requests waited 5 to 15 s behind the slow clients.
    assert max(latencies) < 2.0, sorted(latencies)[-5:]
    # Each slow client is cut off: no headers within keepalive (5 s), or no whole body within 5 s more.
    assert all(client.ended is not None and client.ended < 12 for client in slow), [c.ended for c in slow]
    bodies = slow[SLOW_CLIENTS // 3: 2 * SLOW_CLIENTS // 3]
    assert all(c.answer.startswith(b"HTTP/1.1 408") for c in bodies), [c.answer[:20] for c in bodies]


def rss_kib(server: Gunicorn) -> int:
    """Resident memory of the server's workers, in KiB."""
    total = 0
    for pid in server.worker_pids():
        for entry in Path(f"/proc/{pid}/status").read_text().splitlines():
            if entry.startswith("VmRSS:"):
                total += int(entry.split()[1])
    return total


def test_a_100_mb_body_is_refused_with_413_at_once_and_the_workers_do_not_grow(line):
    before = rss_kib(line)
    head = (f"POST /voice HTTP/1.1\r\nHost: 127.0.0.1:{line.port}\r\nContent-Type: application/x-www-form-"
            f"urlencoded\r\nContent-Length: {100 * 1024 * 1024}\r\nX-Twilio-Signature: x\r\n\r\n").encode()
    began = time.monotonic()
    with socket.create_connection(("127.0.0.1", line.port)) as sock:
        sock.settimeout(5)
        sock.sendall(head)
        with contextlib.suppress(OSError):  # the server may close while we still send
            for _ in range(64):
                sock.sendall(b"x" * 16384)  # 1 MB of the 100 announced
        answer = sock.recv(4096)
    elapsed = time.monotonic() - began
    assert answer.startswith(b"HTTP/1.1 413"), answer[:100]
    assert elapsed < 2.0
    assert rss_kib(line) - before < 4096


def test_the_access_log_shows_paths_without_query_strings_and_the_app_logs_its_calls(line):
    phone = Phone(http_transport(timeout=15), base_url=line.url, auth_token=AUTH_TOKEN,
                  call_sid="CA" + "5" * 32, caller="+33612345678")
    phone.dial("/voice/transfer?nir=1&nf=1&rappel=%2B33698765432")
    phone.press("1")
    time.sleep(0.5)
    access = line.access_log.read_text()
    errors = line.error_log.read_text()
    assert '"POST /voice/transfer HTTP/1.1" 200' in access
    assert '"POST /voice/step HTTP/1.1" 200' in access
    assert "?" not in access and "s=" not in access
    ref = reference("CA" + "5" * 32)
    assert "ivr.request: POST /voice/transfer 200" in errors
    assert f"call {ref}" in errors
    for digits in ("698765432", "612345678"):
        assert digits not in access + errors


def test_without_an_auth_token_the_procfile_server_refuses_to_start(tmp_path):
    env = {name: "" for name in ENVIRONMENT}
    env.update(PUBLIC_BASE_URL="http://127.0.0.1", IVR_SECRET=SECRET)
    server = Gunicorn(free_port(), 1, env, tmp_path)
    with pytest.raises(RuntimeError, match="gunicorn exited at start-up"):
        server.start(timeout=20)
    assert server.process.returncode == 2
    assert "TWILIO_AUTH_TOKEN is required" in server.error_log.read_text()


def test_for_local_use_the_server_refuses_to_listen_beyond_loopback(tmp_path):
    env = {name: "" for name in ENVIRONMENT}
    env.update(IVR_LOCAL="1")
    port = free_port()
    server = Gunicorn(port, 1, env, tmp_path, extra=("--bind", f"0.0.0.0:{port}"))
    with pytest.raises(RuntimeError, match="gunicorn exited at start-up"):
        server.start(timeout=20)
    assert "IVR_LOCAL=1 is for local use" in server.error_log.read_text()


BACK_TO_BACK = 100


def test_a_client_sending_requests_back_to_back_does_not_hold_up_another_caller(tmp_path):
    # One worker, two connections: the first sends many signed requests at once (pipelined, as a
    # busy keep-alive client's next request is always already there), the second one request. The
    # worker must answer the second after at most a few of the first's, not after all of them.
    port = free_port()
    env = {name: "" for name in ENVIRONMENT}
    env.update(TWILIO_AUTH_TOKEN=AUTH_TOKEN, PUBLIC_BASE_URL=f"http://127.0.0.1:{port}", IVR_SECRET=SECRET)
    form = {"CallSid": "CA1"}
    body = urllib.parse.urlencode(form)
    request = (f"POST /voice HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/x-www-form-"
               f"urlencoded\r\nContent-Length: {len(body)}\r\nX-Twilio-Signature: "
               f"{signature(f'http://127.0.0.1:{port}/voice', form)}\r\n\r\n{body}").encode()
    with Gunicorn(port, 1, env, tmp_path), socket.create_connection(("127.0.0.1", port)) as greedy, \
            socket.create_connection(("127.0.0.1", port)) as other:
        greedy.sendall(request * BACK_TO_BACK)
        other.sendall(request)
        other.settimeout(15)
        answer = other.recv(65536)
        # What the first client had received by then, without waiting for more.
        before = b""
        with contextlib.suppress(BlockingIOError):
            while chunk := greedy.recv(1 << 20, socket.MSG_DONTWAIT):
                before += chunk
        answered = before.count(b"HTTP/1.1 200")
    assert answer.startswith(b"HTTP/1.1 200")
    assert answered < BACK_TO_BACK // 4, f"{answered} of the first client's requests were answered first"


def test_a_journal_database_that_hangs_does_not_hold_up_the_callers_of_a_gevent_worker(tmp_path, content):
    # SQLite waits up to 3 s for a lock inside its C code. Were the journal's writer a plain greenlet,
    # each attempt would freeze its whole gevent worker, every caller on it included.
    port = free_port()
    path = tmp_path / "journal.sqlite3"
    env = {name: "" for name in ENVIRONMENT}
    env.update(TWILIO_AUTH_TOKEN=AUTH_TOKEN, PUBLIC_BASE_URL=f"http://127.0.0.1:{port}", IVR_SECRET=SECRET,
               IVR_DATABASE_URL=f"sqlite:///{path}", PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    with Gunicorn(port, 1, env, tmp_path) as server:
        transport = Counting(http_transport(timeout=15))
        first = crowd(server, content, transport, seed=6)[:1]
        run_all(first)
        # The journal is made and written once before the database hangs.
        journal_complete(f"sqlite:///{path}", transport.sent)
        lock = sqlite3.connect(path, isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")
        waits: list[float] = []
        try:
            phone = Phone(transport, base_url=server.url, auth_token=AUTH_TOKEN, call_sid="CA" + "7" * 32)
            phone.dial()
            ended = time.monotonic() + 7.0  # two of the writer's attempts, each stuck 3 s in SQLite
            while time.monotonic() < ended:
                for key in "1*":  # an answer, then back: the call goes on for as long as we like
                    began = time.monotonic()
                    phone.press(key)
                    waits.append(time.monotonic() - began)
                time.sleep(0.05)
            assert phone.waiting
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        phone.hang_up(9)
        server.stop()
        rows = journal_complete(f"sqlite:///{path}", transport.sent, timeout=5)
    assert max(waits) < 1.0, f"a request waited {max(waits):.2f} s behind the journal"
    assert len(waits) > 50
    assert len(rows) == transport.sent


def test_row_3_under_gunicorn_a_twilio_api_that_never_answers_does_not_hold_the_webhook(tmp_path):
    # Twilio's API reached through a proxy that takes the connection and never answers (HTTPS_PROXY,
    # which the REST client's requests honours): the slowest Twilio there is, and nothing leaves.
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(50)
    port = free_port()
    path = tmp_path / "ivr.sqlite3"
    env = {name: "" for name in ENVIRONMENT}
    env.update(TWILIO_AUTH_TOKEN=AUTH_TOKEN, PUBLIC_BASE_URL=f"http://127.0.0.1:{port}", IVR_SECRET=SECRET,
               IVR_DATABASE_URL=f"sqlite:///{path}", PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
               IVR_FLOW=str(SEED), TWILIO_ACCOUNT_SID="AC" + "0123456789abcdef" * 2, SMS_FROM="+33700000001",
               HTTPS_PROXY=f"http://127.0.0.1:{hole.getsockname()[1]}", NO_PROXY="")
    waits: list[float] = []
    try:
        with Gunicorn(port, 1, env, tmp_path) as server:
            phone = Phone(http_transport(timeout=15), base_url=server.url, auth_token=AUTH_TOKEN,
                          call_sid="CA" + "8" * 32, caller="+33612345678")
            phone.dial("/voice/transfer?nir=1&nf=1&rfr=1&nal=1&vitale=1&rib=1&cni=0&orange=0&msa=0")
            began = time.monotonic()
            heard = phone.press("2")
            waits.append(time.monotonic() - began)
            assert heard and "Je vous envoie un SMS" in heard[0]
            # The call goes on while the worker's outbox waits on Twilio.
            ended = time.monotonic() + 10
            while time.monotonic() < ended and phone.waiting:
                began = time.monotonic()
                phone.press("1")
                waits.append(time.monotonic() - began)
                time.sleep(0.1)
            status = None
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                with contextlib.closing(sqlite3.connect(path)) as database:
                    status = database.execute("SELECT status FROM sms_outbox").fetchone()[0]
                if status not in ("queued", "sending"):
                    break
                time.sleep(0.5)
    finally:
        hole.close()
    assert max(waits) < 1.0, f"a request waited {max(waits):.2f} s behind the SMS"
    assert len(waits) > 20
    # Past the try's wall-clock deadline, with no answer: it may have left, so it is not tried again.
    assert status == "unconfirmed"
