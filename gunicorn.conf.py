"""gunicorn's settings for the phone line, read by the Procfile, `make serve` and bench/server.py
(`gunicorn --config gunicorn.conf.py …`); options on the command line (--bind, --workers) win.

Twilio waits at most 15 s for a webhook, and the line must answer every caller even while slow or
idle connections are open: each connection is a gevent greenlet, not a worker, so a client that
sends a byte every few seconds holds only itself up.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import sys

from ivr.config import load_settings
from ivr.errors import ConfigError

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


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def on_starting(server) -> None:
    """IVR_LOCAL=1 serves this machine only: refuse to listen on any other address."""
    if not _settings.local:
        return
    for address in server.cfg.address:
        if isinstance(address, tuple) and not _loopback(address[0]):
            print(f"error: IVR_LOCAL=1 is for local use: bind 127.0.0.1, not {address[0]}", file=sys.stderr)
            raise SystemExit(2)
