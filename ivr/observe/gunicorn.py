"""gunicorn's hooks for the app: logging as IVR_LOG_FORMAT says, and Prometheus across workers.

Read by gunicorn.conf.py in the master, before any worker is forked: the workers inherit the
logging set-up and PROMETHEUS_MULTIPROC_DIR, and each dead worker's live figures are retired.
gunicorn's access log stays off: the app logs one line per request itself, with the call's
reference and without the query string (which carries the call's state).
"""

from __future__ import annotations

import logging.config
import os
import tempfile
from pathlib import Path

from ivr.observe.logs import dict_config

MULTIPROC = "PROMETHEUS_MULTIPROC_DIR"


def metrics_folder() -> Path:
    """The folder the workers share their metrics through: PROMETHEUS_MULTIPROC_DIR, or a fresh one."""
    if not os.environ.get(MULTIPROC):
        os.environ[MULTIPROC] = tempfile.mkdtemp(prefix="ivr-metrics-")
    return Path(os.environ[MULTIPROC])


def on_starting(server) -> None:
    """gunicorn's lines and the app's in one format on stderr; no figures left by a previous master."""
    # Not gunicorn's `logconfig_dict`: that setting would also switch its access log on.
    logging.config.dictConfig(dict_config(os.environ.get("IVR_LOG_FORMAT", "text")))
    folder = metrics_folder()
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()


def child_exit(server, worker) -> None:
    """A worker died or was replaced: its gauges no longer count (its counters still do)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
