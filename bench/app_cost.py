"""What our app costs per webhook request, without a server: CPU time against the signed baseline.

    python bench/app_cost.py [--rounds 7] [--repeat 5] [--profile]

Both WSGI apps are called directly, in this process, with the requests bench/webhook.py sends
(recorded from real calls, signed), as gunicorn would call them: ours logs its line at INFO (to
/dev/null) and keeps its Prometheus figures in a multiprocess folder, as under gunicorn.conf.py.
What is left out is the server's own share (reading, parsing HTTP, sending, its access log), the
same for both. Rounds alternate between the apps; prints each app's median CPU microseconds per
request and their ratio. `--profile` adds cProfile's cumulative view of ours.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging.config
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

from baseline_app import create_app as create_baseline
from webhook import Request, recorded_requests, server_settings

from ivr.observe.logs import gunicorn_logging

BASE_URL = "http://127.0.0.1:8000"
WsgiApp = Callable[[dict, Callable], object]


def environ(request: Request) -> dict:
    """The WSGI environment gunicorn builds for this request."""
    path, _, query = request.path.partition("?")
    body = request.body.encode()
    return {
        "REQUEST_METHOD": "POST", "PATH_INFO": path, "QUERY_STRING": query, "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000", "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": str(len(body)),
        "HTTP_X_TWILIO_SIGNATURE": request.signature,
        "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr, "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0), "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
    }


def serve_all(app: WsgiApp, requests: list[Request], statuses: dict[str, int]) -> None:
    def start_response(status: str, headers: list, exc_info: object = None) -> None:
        statuses[status] = statuses.get(status, 0) + 1

    for request in requests:
        b"".join(app(environ(request), start_response))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="rounds, the apps in turn; medians are printed")
    parser.add_argument("--repeat", type=int, default=5, help="passes over the requests per round and app")
    parser.add_argument("--profile", action="store_true", help="print cProfile's cumulative view of ours")
    args = parser.parse_args()

    # As under gunicorn: multiprocess figures (read on import) and the app's line at INFO.
    os.environ.update(server_settings(BASE_URL))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="ivr-bench-metrics-")
    config = gunicorn_logging("text")
    for handler in config["handlers"].values():
        handler.pop("stream")
        handler.update({"class": "logging.FileHandler", "filename": os.devnull})
    logging.config.dictConfig(config)
    from ivr.app import create_app

    requests = recorded_requests(BASE_URL)
    apps: dict[str, WsgiApp] = {"signed": create_baseline(signed=True), "ours": create_app()}
    statuses: dict[str, int] = {}
    for app in apps.values():  # warm: documents kept, code paths taken once
        serve_all(app, requests, statuses)
    costs: dict[str, list[float]] = {name: [] for name in apps}
    for number in range(args.rounds):
        names = list(apps)[number % 2:] + list(apps)[:number % 2]
        for name in names:
            began = time.process_time()
            for _ in range(args.repeat):
                serve_all(apps[name], requests, statuses)
            costs[name].append((time.process_time() - began) / (args.repeat * len(requests)) * 1e6)
    print(f"{len(requests)} webhook requests recorded from real calls, {args.rounds} rounds of "
          f"{args.repeat} passes per app; answers: {statuses}")
    for name, values in costs.items():
        print(f"  {name:7} {statistics.median(values):6.0f} us of CPU per request  "
              f"(rounds: {', '.join(f'{v:.0f}' for v in values)})")
    ratio = statistics.median(o / s for o, s in zip(costs["ours"], costs["signed"], strict=True))
    print(f"  ours / signed: {ratio:.2f} (median of per-round ratios)")
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(lambda: [serve_all(apps["ours"], requests, statuses) for _ in range(args.repeat)])
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
    return 0 if set(statuses) == {"200 OK"} else 1


if __name__ == "__main__":
    raise SystemExit(main())
