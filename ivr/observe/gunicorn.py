"""gunicorn's hooks for the app: logging as IVR_LOG_FORMAT says, and Prometheus across workers.

Read by gunicorn.conf.py in the master, before any worker is forked: the workers inherit
PROMETHEUS_MULTIPROC_DIR, and each dead worker's live figures are retired.
"""

from __future__ import annotations

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


def log_config() -> dict:
    """gunicorn's `logconfig_dict`: its own lines and the app's in one format, on stderr."""
    return dict_config(os.environ.get("IVR_LOG_FORMAT", "text"))


def on_starting(server) -> None:
    """Figures left by a previous master would be added to ours: start from none."""
    folder = metrics_folder()
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()


def child_exit(server, worker) -> None:
    """A worker died or was replaced: its gauges no longer count (its counters still do)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
