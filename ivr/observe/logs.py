"""Logging: one line per request at INFO, as text or JSON (IVR_LOG_FORMAT), under any server."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

# Attributes every LogRecord has; anything else was passed with `extra=` and goes into the JSON.
STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
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


def dict_config(kind: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` mapping: everything, gunicorn's own logs too, to stderr at INFO."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"ivr": {"()": formatter, "kind": kind}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "ivr", "stream": sys.stderr}},
        "root": {"level": "INFO", "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
            # The app's own request line replaces it; an access log would print the call's state.
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": True},
            **{name: {"level": "WARNING"} for name in QUIET},
        },
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
