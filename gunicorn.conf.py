"""gunicorn's settings for the phone line, read by the Procfile, `make serve` and bench/server.py
(`gunicorn --config gunicorn.conf.py …`); options on the command line (--bind, --workers) win.

Twilio waits at most 15 s for a webhook, and the line must answer every caller even while slow or
idle connections are open: each connection is a gevent greenlet, not a worker, so a client that
sends a byte every few seconds holds only itself up.
"""

from __future__ import annotations

# The app is built once, in the master, and the workers fork from it (preload_app below): the plan
# of questions takes seconds to compute and is then shared. gevent's workers patch the standard
# library for cooperative sockets; with the app loaded before the fork, the master must patch it
# first, before anything imports ssl, socket or threading.
import gevent
from gevent import monkey

monkey.patch_all()

import ipaddress  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import shlex  # noqa: E402
import sys  # noqa: E402

from ivr.config import load_settings  # noqa: E402
from ivr.errors import ConfigError  # noqa: E402

# Settings are checked once here, in the master: a bad one stops the server with one clear message
# instead of every worker failing to boot.
try:
    _settings = load_settings()
except ConfigError as error:
    print(f"error: {error}", file=sys.stderr)
    raise SystemExit(2) from error
if _settings.local and not _settings.secret:
    # Local use without IVR_SECRET: one secret for this server, shared by its workers (they inherit
    # the environment), so a call may move between workers; calls do not survive a restart.
    os.environ["IVR_SECRET"] = secrets.token_urlsafe(32)

bind = [f"0.0.0.0:{os.environ.get('PORT', '8000')}"]
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
worker_class = "gevent"
# Build the app (its content checks and the plan of questions) once, before forking the workers.
preload_app = True
# Connections one worker holds at once, slow ones included; the webhooks themselves take milliseconds.
worker_connections = 1000
# A worker silent this long is stuck: replaced before Twilio's 15 s run out for the calls behind it.
timeout = 10
graceful_timeout = 10
# With gevent this is also how long a client has to send a request's line and headers: Twilio sends
# them at once, a slow client is cut off. (The body has 5 s more: ivr/web/limits.py.)
keepalive = 5
# Twilio's requests have about 15 headers and URLs under 300 characters.
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190
# No control socket: nothing here is driven at run time, and every server on a machine would share it.
control_socket_disable = True

# The access log names the path, never the query: it holds state tokens and a helpline's answers.
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'
# gunicorn's own loggers as by default, plus the app's ("ivr"), which would otherwise print nothing
# below WARNING: on standard error with gunicorn's error log.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": "WARNING", "handlers": ["error_console"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["access_console"], "propagate": False},
        "ivr": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
    },
    "handlers": {
        "error_console": {"class": "logging.StreamHandler", "formatter": "generic", "stream": "ext://sys.stderr"},
        "access_console": {"class": "logging.StreamHandler", "formatter": "access", "stream": "ext://sys.stdout"},
    },
    "formatters": {
        "generic": {"format": "%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s",
                    "datefmt": "[%Y-%m-%d %H:%M:%S %z]"},
        "access": {"format": "%(message)s"},
    },
}


def post_request(worker, req, environ, resp) -> None:
    """Let the worker's other connections go first before reading this one's next request."""
    # A keep-alive client that sends its next request at once would otherwise be served again and
    # again without a switch (its socket is always readable), and the worker's other callers wait:
    # with 16 busy connections, one worker's p99 was 1 s without this, 4 ms with it (bench/webhook.py).
    if worker_class == "gevent":
        gevent.sleep(0)

def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _binds(argv: list[str]) -> list[str]:
    """The addresses asked for on gunicorn's command line (and GUNICORN_CMD_ARGS), else ours."""
    args = [*shlex.split(os.environ.get("GUNICORN_CMD_ARGS", "")), *argv]
    found = []
    for i, arg in enumerate(args):
        if arg in ("-b", "--bind") and i + 1 < len(args):
            found.append(args[i + 1])
        elif arg.startswith("--bind="):
            found.append(arg.removeprefix("--bind="))
        elif arg.startswith("-b") and len(arg) > 2:
            found.append(arg[2:])
    return found or bind


# IVR_LOCAL=1 serves this machine only: refuse to listen on any other address. Checked here, before
# the app is loaded (preload_app), so a wrong command fails at once.
if _settings.local:
    for address in _binds(sys.argv[1:]):
        host = address.rsplit(":", 1)[0] if ":" in address and not address.startswith("unix:") else address
        if not address.startswith(("unix:", "fd://")) and not _loopback(host):
            print(f"error: IVR_LOCAL=1 is for local use: bind 127.0.0.1, not {host}", file=sys.stderr)
            raise SystemExit(2)
