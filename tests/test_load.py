"""Real gunicorn on loopback, as the Procfile runs it: a crowd of calls, a restart, a killed worker.

A request that reaches a worker at the moment it is SIGKILLed gets no answer. Twilio would then
fetch the number's fallback URL; here the fallback is the same webhook, so the simulated Twilio
posts that one request once more. At most one request per killed worker may need it.
"""

from __future__ import annotations

import http.client
import os
import signal
import threading
import time
import urllib.error
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import AUTH_TOKEN

from bench.server import Gunicorn, free_port
from ivr.config import ENVIRONMENT, load_settings
from ivr.content import load_content
from ivr.phone import Answer, Phone, Transport, http_transport
from tests.caller import ScriptedCaller, profiles

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
    env.update(TWILIO_AUTH_TOKEN=AUTH_TOKEN, PUBLIC_BASE_URL=f"http://127.0.0.1:{port}")

    def start() -> Gunicorn:
        server = Gunicorn(port, WORKERS, env, tmp_path)
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
        self.lost: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, url: str, form: Mapping[str, str], headers: Mapping[str, str]) -> Answer:
        with self._lock:
            self.sent += 1
        try:
            return self.transport(url, form, headers)
        except (urllib.error.URLError, ConnectionError, http.client.HTTPException):
            if not self.retry:
                raise
            with self._lock:
                self.lost.append(url)
            return self.transport(url, form, headers)


def crowd(server: Gunicorn, content, transport: Transport, seed: int) -> list[ScriptedCaller]:
    answers = profiles(content.flow, CALLS, seed)
    return [
        ScriptedCaller.numbered(
            n,
            Phone(transport, base_url=server.url, auth_token=AUTH_TOKEN, call_sid=f"CA{seed:08d}{n:024d}"),
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
        os.kill(victim, signal.SIGKILL)
        for future in futures:
            future.result(timeout=120)
    deadline = time.monotonic() + 20
    while server.booted() < WORKERS + 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    after = server.worker_pids()
    assert victim not in after
    assert len(after) == WORKERS
    assert server.booted() == WORKERS + 1
    assert len(transport.lost) <= 1, transport.lost
    assert_every_call_ended_right(callers)
