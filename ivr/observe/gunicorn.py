"""gunicorn's hooks for the app (gunicorn.conf.py): Prometheus across workers, the journal at exit.

gunicorn.conf.py calls `metrics_folder` as it is read, in the master, before the app is loaded
(preload_app) and before any worker is forked: every process then writes its figures to the same
folder, and `/metrics` adds them up.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

MULTIPROC = "PROMETHEUS_MULTIPROC_DIR"


def metrics_folder(fresh: bool = False) -> Path:
    """The folder the workers share their metrics through: PROMETHEUS_MULTIPROC_DIR, or a new one.

    `fresh` deletes what a previous server left there, which would otherwise be added to ours.
    """
    if not os.environ.get(MULTIPROC):
        os.environ[MULTIPROC] = tempfile.mkdtemp(prefix="ivr-metrics-")
    folder = Path(os.environ[MULTIPROC])
    folder.mkdir(parents=True, exist_ok=True)
    if fresh:
        for stale in folder.glob("*.db"):
            stale.unlink()
    return folder


def worker_gone(pid: int) -> None:
    """A worker died or was replaced: its gauges no longer count (its counters still do)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)


def close_app(app: Any) -> None:
    """Write the journal events this process still holds, then stop its writer and SMS loop."""
    journal = getattr(app, "extensions", {}).get("ivr.journal")
    if journal is not None:
        journal.close()
    service = getattr(app, "extensions", {}).get("ivr")
    if service is not None and hasattr(service.assistant.sms, "close"):
        service.assistant.sms.close()
