"""Run a WSGI app under gunicorn on loopback exactly as the Procfile does, for benches and load tests."""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUR_APP = "ivr.app:create_app()"
# $NAME and ${NAME:-default}, as the shell that runs a Procfile expands them.
VARIABLE = re.compile(r"\$(?:\{(?P<braced>\w+)(?::-(?P<default>[^}]*))?\}|(?P<plain>\w+))")


def free_port() -> int:
    """A port nobody listens on now: others run servers on this machine too."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def procfile_command(port: int, workers: int, app: str = OUR_APP, extra: Sequence[str] = ()) -> list[str]:
    """The Procfile's `web:` command (gunicorn.conf.py's settings), on loopback, with this app spec
    and worker count; `extra` options come last, so they win over the configuration file."""
    text = (ROOT / "Procfile").read_text(encoding="utf-8")
    web = next(line for line in text.splitlines() if line.startswith("web:"))
    values = {"PORT": str(port), "WEB_CONCURRENCY": str(workers)}

    def expand(found: re.Match[str]) -> str:
        name = found["braced"] or found["plain"]
        return values.get(name) or os.environ.get(name) or found["default"] or ""

    command = [VARIABLE.sub(expand, word) for word in shlex.split(web.removeprefix("web:"))]
    if ":" not in command[-1]:
        raise ValueError(f"the Procfile's web command should end with the app spec: {web}")
    # The venv's gunicorn, whatever PATH says.
    command[0] = str(Path(sys.executable).with_name(command[0]))
    options = ["--bind", f"127.0.0.1:{port}", "--workers", str(workers), *extra]
    return [*command[:-1], *options, app]


class Gunicorn:
    """One gunicorn master with its workers; `start` waits until every worker has booted."""

    def __init__(self, port: int, workers: int, env: Mapping[str, str], logs: Path,
                 app: str = OUR_APP, extra: Sequence[str] = ()) -> None:
        self.port, self.workers, self.app, self.extra = port, workers, app, tuple(extra)
        self.env = {**os.environ, **env, "PORT": str(port)}
        self.logs = logs
        self.process: subprocess.Popen | None = None
        self.url = f"http://127.0.0.1:{port}"

    @property
    def error_log(self) -> Path:
        return self.logs / f"gunicorn-{self.port}.err"

    @property
    def access_log(self) -> Path:
        return self.logs / f"gunicorn-{self.port}.out"

    def start(self, timeout: float = 30.0) -> Gunicorn:
        self.logs.mkdir(parents=True, exist_ok=True)
        self.error_log.write_text("")
        with open(self.access_log, "ab") as out, open(self.error_log, "ab") as err:
            self.process = subprocess.Popen(
                procfile_command(self.port, self.workers, self.app, self.extra),
                cwd=ROOT, env=self.env, stdout=out, stderr=err,
            )
        deadline = time.monotonic() + timeout
        while self.booted() < self.workers or not self._answers():
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start-up:\n{self.error_log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                self.stop()
                log = self.error_log.read_text()[-2000:]
                raise RuntimeError(f"gunicorn not ready in {timeout:.0f}s:\n{log}")
            time.sleep(0.05)
        return self

    def booted(self) -> int:
        """How many workers have booted since start (replacements included)."""
        return self.error_log.read_text().count("Booting worker")

    def worker_pids(self) -> list[int]:
        """The live workers' process ids, children of the master."""
        assert self.process is not None
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def cpu_seconds(self) -> float:
        """CPU time the master and its live workers have used so far (user + system)."""
        assert self.process is not None
        total = 0
        for pid in (self.process.pid, *self.worker_pids()):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime and stime, in clock ticks
        return total / os.sysconf("SC_CLK_TCK")

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/", timeout=1):
                return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False

    def stop(self) -> None:
        """Stop the master and its workers; wait for them so the port is free again."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def __enter__(self) -> Gunicorn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
