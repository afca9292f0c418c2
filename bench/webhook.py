"""Webhook throughput and latency: our server against fixed-TwiML Flask baselines, and with its
call journal on SQLite and on PostgreSQL, same run, same load.

    python bench/webhook.py [--duration 3] [--connections 16] [--workers 3] [--rounds 9] [--paces 0,20]

All run under gunicorn as the Procfile starts it (gunicorn.conf.py), on loopback, and receive the
same requests, recorded from real calls and signed. Ours checks every signature and answers each
step under the chosen worker model (gevent). The baselines answer one fixed document: without
reading the request, or after reading the form and checking the signature (the signed baseline),
both under gunicorn's sync workers as the Procfile ran them before; the signed baseline runs under
gevent too, to tell the worker model's cost from our code's. "ours" runs without its journal
(IVR_JOURNAL=off); the journal rows run the same app journaling every request, into a SQLite file
or into a throwaway PostgreSQL server (Debian's package; the row is left out when it is not
installed). A journal row counts the rows its database holds at the end against the requests its
server answered. The load is `wrk` when installed, else a Python client. Prints each round,
medians, and the median of the per-round ratios (rounds are paired in time).

Each load runs at each pace: 0, every connection sends its next request as soon as it has the
answer (the servers saturated: throughput, and latency that is mostly time queued); 20, every
connection waits 20 ms after each answer, as a caller listens before answering (about half the
signed baseline's capacity here: latency that is mostly time served). The worker model is judged
by the signed baseline under it against the same app under sync workers; "ours" against the
signed baseline tells our code's cost on top.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import logging
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, replace
from pathlib import Path

from calls import Posted, record_calls
from postgres import Postgres
from server import OUR_APP, Gunicorn, free_port
from sqlalchemy import create_engine, text

AUTH_TOKEN = "0123456789abcdef" * 2
SECRET = "bench-state-token-secret-0123456789"
SYNC = ("--worker-class", "sync")
# name: (app spec, options over gunicorn.conf.py, label)
APPS = {
    "baseline": ("bench.baseline_app:create_app()", SYNC, "fixed TwiML, request unread, sync workers"),
    "signed": ("bench.baseline_app:create_app(signed=True)", SYNC,
               "fixed TwiML after form and signature check, sync workers"),
    "signed-gevent": ("bench.baseline_app:create_app(signed=True)", (),
                      "the signed baseline under gunicorn.conf.py (gevent)"),
    "ours": (OUR_APP, (), "ivr.app:create_app(), signatures checked, gunicorn.conf.py (gevent), no journal"),
    "sqlite": (OUR_APP, (), "ours, journal in SQLite (WAL)"),
    "postgres": (OUR_APP, (), "ours, journal in PostgreSQL (psycopg 3)"),
}
JOURNALS = ("sqlite", "postgres")
# (ours or a baseline, against): goals for throughput (at least) and p99 (at most).
RATIOS = {("ours", "signed"): (0.9, 1.2), ("ours", "baseline"): None, ("signed-gevent", "signed"): (0.9, 1.2),
          ("sqlite", "ours"): (0.9, None), ("postgres", "ours"): (0.9, None)}


@dataclass(frozen=True)
class Figures:
    rate: float  # requests per second
    p50: float  # milliseconds
    p99: float
    errors: int
    count: int = 0  # requests answered
    cpu: float = 0.0  # server CPU microseconds per request: steady even when neighbours load the machine


@dataclass(frozen=True)
class Request:
    path: str
    body: str
    signature: str


def server_settings(base_url: str) -> dict[str, str]:
    """What every server of the bench runs with: signatures checked against ours, no journal."""
    return {"IVR_LOCAL": "", "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "PUBLIC_BASE_URL": base_url,
            "IVR_SECRET": SECRET, "IVR_JOURNAL": "off"}


def recorded_requests(base_url: str) -> list[Request]:
    """The webhook requests of whole calls, signed for this base URL."""
    return requests_from(record_calls(base_url, AUTH_TOKEN, {"IVR_SECRET": SECRET, "IVR_JOURNAL": "off"}))


def requests_from(posted: list[Posted]) -> list[Request]:
    out = []
    for item in posted:
        parts = urllib.parse.urlsplit(item.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        out.append(Request(path, urllib.parse.urlencode(item.form), item.headers["X-Twilio-Signature"]))
    return out


LUA = """
local requests = %s
local counter = 0
local headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
local threads = 0
function setup(thread)
  -- Threads start at different places in the mix, as callers would.
  thread:set("offset", threads * 17)
  threads = threads + 1
end
function init(args)
  counter = offset or 0
end
function request()
  counter = counter + 1
  local r = requests[(counter %% #requests) + 1]
  headers["X-Twilio-Signature"] = r[3]
  return wrk.format("POST", r[1], headers, r[2])
end
%s
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("FIGURES %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def wrk(url: str, requests: list[Request], duration: int, connections: int, folder: Path,
        pace: int = 0) -> Figures:
    # JSON string literals of ASCII text are valid Lua string literals.
    rows = ",\n".join("{" + ", ".join(json.dumps(v) for v in (r.path, r.body, r.signature)) + "}"
                       for r in requests)
    script = folder / "mix.lua"
    # wrk waits what delay() returns (milliseconds) before a connection's next request.
    delay = f"function delay()\n  return {pace}\nend" if pace else ""
    script.write_text(LUA % ("{\n" + rows + "\n}", delay))
    threads = min(2, connections)
    run = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--timeout", "15s",
         "-s", str(script), url],
        capture_output=True, text=True, check=True,
    )
    found = re.search(r"FIGURES (\d+) (\d+) (\d+) (\d+) (\d+)", run.stdout)
    if not found:
        raise RuntimeError(f"wrk printed no figures:\n{run.stdout}\n{run.stderr}")
    count, micros, p50, p99, errors = map(int, found.groups())
    return Figures(count / (micros / 1e6), p50 / 1000, p99 / 1000, errors, count)


def python_load(url: str, requests: list[Request], duration: int, connections: int, pace: int = 0) -> Figures:
    """The fallback: one thread per connection, keep-alive when the server allows it."""
    host = urllib.parse.urlsplit(url)
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + duration

    def client(start: int) -> None:
        mine: list[float] = []
        connection = http.client.HTTPConnection(host.hostname, host.port, timeout=15)
        index = start
        while time.monotonic() < stop:
            request = requests[index % len(requests)]
            index += 1
            began = time.perf_counter()
            try:
                connection.request("POST", request.path, request.body, {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Twilio-Signature": request.signature,
                })
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
                if response.will_close:
                    connection.close()
            except OSError:
                ok = False
                connection.close()
            mine.append(time.perf_counter() - began)
            if not ok:
                with lock:
                    errors[0] += 1
            if pace:
                time.sleep(pace / 1000)
        with lock:
            latencies.extend(mine)

    began = time.monotonic()
    threads = [threading.Thread(target=client, args=(n * 7,)) for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    cuts = statistics.quantiles(latencies, n=100)
    return Figures(len(latencies) / elapsed, cuts[49] * 1000, cuts[98] * 1000, errors[0], len(latencies))


def journal_rows(url: str) -> int:
    """How many events a journal database holds."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM journal_events")).scalar_one()
    finally:
        engine.dispose()


def summarise(pace: int, results: dict[str, list[Figures]]) -> None:
    """Medians over rounds at one pace, and the ratios the goals are about."""
    print(f"pace {pace} ms, median over rounds:")
    for name, runs in results.items():
        print(f"  {name:13} {statistics.median(f.rate for f in runs):7.0f} req/s  "
              f"p50 {statistics.median(f.p50 for f in runs):6.2f} ms  "
              f"p99 {statistics.median(f.p99 for f in runs):6.2f} ms  "
              f"cpu {statistics.median(f.cpu for f in runs):4.0f} us/req  ({APPS[name][2]})")
    for (one, other), goals in RATIOS.items():
        if one not in results or other not in results:
            continue
        pairs = list(zip(results[one], results[other], strict=True))
        rate = statistics.median(o.rate / b.rate for o, b in pairs)
        tail = statistics.median(o.p99 / b.p99 for o, b in pairs)
        cpu = statistics.median(b.cpu / o.cpu for o, b in pairs)
        verdict = ""
        if goals:
            met = rate >= goals[0] and (goals[1] is None or tail <= goals[1])
            wanted = f">= {goals[0]}" + ("" if goals[1] is None else f", <= {goals[1]}")
            verdict = f"  (goals: {wanted}: {'met' if met else 'NOT met'})"
        print(f"  {one} / {other}: throughput {rate:.2f}, p99 {tail:.2f}, "
              f"requests per CPU second {cpu:.2f} (medians of per-round ratios){verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=3, help="seconds of load per round and server")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (the Procfile's default)")
    parser.add_argument("--rounds", type=int, default=9, help="rounds, servers in turn; medians are printed")
    parser.add_argument("--python", action="store_true", help="use the Python client even if wrk is here")
    parser.add_argument("--servers", default=",".join(APPS),
                        help=f"which servers to load, comma-separated (default: all of {', '.join(APPS)})")
    parser.add_argument("--paces", default="0,20",
                        help="ms each connection waits after an answer; one load per pace (default 0,20)")
    args = parser.parse_args()
    try:
        paces = [int(pace) for pace in args.paces.split(",")]
    except ValueError:
        parser.error(f"--paces takes whole milliseconds separated by commas, not {args.paces!r}")

    # The calls are recorded in-process: their log lines would only bury the figures.
    logging.basicConfig(level=logging.WARNING)
    ports = {name: free_port() for name in APPS}
    ours_url = f"http://127.0.0.1:{ports['ours']}"
    requests = recorded_requests(ours_url)
    tool = "wrk" if shutil.which("wrk") and not args.python else "python"
    print(f"{len(requests)} webhook requests recorded from real calls; load: {tool}, "
          f"{args.connections} connections, {args.rounds} rounds of {args.duration}s per server, "
          f"{args.workers} gunicorn workers, {os.cpu_count()} cores, paces {paces} ms")

    # Every server checks signatures against our public URL, the one the requests were signed for.
    env = server_settings(ours_url)
    chosen = args.servers.split(",")
    if unknown := set(chosen) - set(APPS):
        parser.error(f"unknown server(s): {', '.join(sorted(unknown))}; choose among {', '.join(APPS)}")
    apps = {name: APPS[name] for name in APPS if name in chosen}
    with tempfile.TemporaryDirectory(prefix="ivr-bench-") as tmp, contextlib.ExitStack() as stack:
        folder = Path(tmp)
        databases = {"sqlite": f"sqlite:///{folder / 'journal.sqlite3'}"}
        if "postgres" in apps:
            try:
                databases["postgres"] = stack.enter_context(Postgres()).url
            except RuntimeError as error:
                print(f"no PostgreSQL row: {error}")
                del apps["postgres"]
        results: dict[int, dict[str, list[Figures]]] = {pace: {name: [] for name in apps} for pace in paces}
        servers = {}
        for name, (app, extra, _) in apps.items():
            own = env
            if name in JOURNALS:
                own = {**env, "IVR_JOURNAL": "on", "IVR_DATABASE_URL": databases[name]}
            servers[name] = stack.enter_context(
                Gunicorn(ports[name], args.workers, own, folder, app=app, extra=extra))
        for number in range(args.rounds):
            # Servers take turns in a rotating order, so a neighbour's burst hits each alike.
            names = list(apps)[number % len(apps):] + list(apps)[:number % len(apps)]
            for pace in paces:
                for name in names:
                    url = servers[name].url
                    began = servers[name].cpu_seconds()
                    if tool == "wrk":
                        figures = wrk(url, requests, args.duration, args.connections, folder, pace)
                    else:
                        figures = python_load(url, requests, args.duration, args.connections, pace)
                    used = servers[name].cpu_seconds() - began
                    figures = replace(figures, cpu=used / (figures.rate * args.duration) * 1e6)
                    results[pace][name].append(figures)
                    print(f"  round {number + 1} pace {pace:2} {name:13} {figures.rate:7.0f} req/s  "
                          f"p50 {figures.p50:6.2f} ms  p99 {figures.p99:6.2f} ms  "
                          f"cpu {figures.cpu:4.0f} us/req  errors {figures.errors}")
        kept = {}
        for name in JOURNALS:
            if name in servers:
                # Stopping the server writes what its workers still hold.
                servers[name].stop()
                kept[name] = journal_rows(databases[name])

    for pace, by_server in results.items():
        summarise(pace, by_server)
    for name, rows in kept.items():
        answered = sum(f.count for by_server in results.values() for f in by_server[name])
        # wrk counts the requests answered within each round; a few more were in flight at its end.
        print(f"journal {name}: {rows} rows for {answered} requests counted by the load tool"
              + ("" if rows >= answered else f"  (MISSING {answered - rows})"))
    errors = sum(f.errors for by_server in results.values() for runs in by_server.values() for f in runs)
    if errors:
        print(f"ERRORS: {errors} failed or non-200 responses")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
