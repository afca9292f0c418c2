"""What the places data costs: start-up time and memory per worker, and the time of a lookup.

    python bench/places.py [--rounds 7]

Start-up is measured in fresh interpreters, as each gunicorn worker starts (the Procfile does not
preload): importing the app and calling create_app(). The baseline is the same app without the
places data (ivr.places.service replaced by a stub that loads nothing), measured in the same run,
alternating with ours so the neighbours' load hits both alike. Goals: at most +300 ms and +30 MB
per worker; a lookup under 1 ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WORKER = r"""
import gc, json, resource, sys, time, types
if sys.argv[1] == "baseline":
    # The app without the places data: the loader is a stub (ivr.places itself stays importable).
    stub = types.ModuleType("ivr.places.service")
    stub.load_places = lambda *args, **kwargs: None
    stub.Places = object  # only named in annotations (ivr/engine/call.py)
    sys.modules["ivr.places.service"] = stub
wall, cpu = time.perf_counter(), time.process_time()
from ivr.app import create_app
app = create_app({"IVR_LOCAL": "1", "TWILIO_AUTH_TOKEN": "0123456789abcdef0123456789abcdef"})
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
gc.collect()
rss = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS:")) / 1024
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"wall": wall * 1000, "cpu": cpu * 1000, "rss": rss, "peak": peak}))
"""
FIELDS = (("wall", "wall ms"), ("cpu", "CPU ms"), ("rss", "RSS MB"), ("peak", "peak RSS MB"))


def worker(kind: str) -> dict[str, float]:
    """One fresh interpreter's start-up figures."""
    done = subprocess.run([sys.executable, "-c", WORKER, kind], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    if done.returncode:
        raise SystemExit(f"the {kind} worker failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def start_up(rounds: int) -> None:
    runs: dict[str, list[dict[str, float]]] = {"baseline": [], "places": []}
    for _ in range(rounds):
        for kind in runs:
            runs[kind].append(worker(kind))
    print(f"Start-up per worker: import + create_app() in a fresh interpreter, median of {rounds} rounds")
    print(f"{'':28}" + "".join(f"{title:>14}" for _, title in FIELDS))
    for kind, label in (("baseline", "baseline (no places data)"), ("places", "with places data")):
        values = [statistics.median(r[key] for r in runs[kind]) for key, _ in FIELDS]
        print(f"{label:28}" + "".join(f"{v:14.1f}" for v in values))
    # Paired by round: a busy moment on this shared machine slows both runs of a round.
    pairs = list(zip(runs["places"], runs["baseline"], strict=True))
    growth = [statistics.median(p[key] - b[key] for p, b in pairs) for key, _ in FIELDS]
    print(f"{'growth (median of pairs)':28}" + "".join(f"{v:+14.1f}" for v in growth))
    print("goal: at most +300 ms and +30 MB per worker")


def lookups() -> None:
    from datetime import UTC, datetime

    from ivr.config import ROOT as PROJECT
    from ivr.places import say
    from ivr.places.service import load_places
    from ivr.prompts import load_catalog

    catalog = load_catalog(PROJECT / "prompts" / "fr")
    places = load_places(PROJECT / "data", catalog, PROJECT / "prompts" / "fr")
    directory = places.directory
    codes = [p.code for p in directory.postcodes]
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)

    def timed(action) -> list[float]:
        spent = []
        for code in codes:
            start = time.perf_counter_ns()
            action(code)
            spent.append((time.perf_counter_ns() - start) / 1000)
        return spent

    cases = {
        "postcode → its two nearest places": lambda code: directory.nearest(directory.postcode(code), 2),
        "postcode → the next two": lambda code: directory.nearest(directory.postcode(code), 2, skip=2),
        "keys → postcode → spoken lines": lambda code: [
            catalog.render(item)
            for item in say.page(directory, places.postcode(places.entry(digits=code)), 0, now)
        ],
        "speech « 75 0 11 » → postcode": lambda code: places.postcode(
            places.entry(speech=f"{code[:2]} {code[2]} {code[3:]}")
        ),
    }
    print(f"\nLookups over every postcode of the data ({len(codes)}), in-process, µs per lookup")
    print(f"{'':40}{'median':>10}{'p99':>10}{'max':>10}")
    for label, action in cases.items():
        timed(action)  # warm caches (zone info, parsed hours) as a running worker has them
        spent = sorted(timed(action))
        p99 = spent[int(len(spent) * 0.99)]
        print(f"{label:40}{statistics.median(spent):10.1f}{p99:10.1f}{spent[-1]:10.1f}")
    print("goal: under 1 ms (1000 µs)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="fresh interpreters per variant (default 7)")
    args = parser.parse_args()
    start_up(args.rounds)
    lookups()
    return 0


if __name__ == "__main__":
    sys.exit(main())
