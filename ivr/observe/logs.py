"""Logging: one line per request at INFO, as text or JSON (IVR_LOG_FORMAT), under any server."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

# Attributes every LogRecord has; anything else was passed with `extra=` and goes into the JSON.
STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
TEXT = "%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s"
# Libraries whose INFO lines say nothing the team needs (Alembic announces its dialect on each check).
QUIET = ("alembic",)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def formatter(kind: str) -> logging.Formatter:
    return JsonFormatter() if kind == "json" else logging.Formatter(TEXT)


def gunicorn_logging(kind: str) -> dict[str, Any]:
    """gunicorn's `logconfig_dict`: its error log and the app's lines on stderr, as text or JSON;
    its access log (which gunicorn.conf.py formats without query strings) on stdout."""
    generic = {"()": formatter, "kind": kind}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "root": {"level": "WARNING", "handlers": ["error_console"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["access_console"], "propagate": False},
            "ivr": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
            **{name: {"level": "WARNING"} for name in QUIET},
        },
        "handlers": {
            "error_console": {"class": "logging.StreamHandler", "formatter": "generic", "stream": "ext://sys.stderr"},
            "access_console": {"class": "logging.StreamHandler", "formatter": "access", "stream": "ext://sys.stdout"},
        },
        "formatters": {"generic": generic, "access": {"format": "%(message)s"}},
    }


def configure(kind: str) -> None:
    """Log the app at INFO to stderr, unless the host (gunicorn's config, a CLI, pytest) already did."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(kind))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
