"""A throwaway PostgreSQL server on loopback, for the tests and the benchmark.

Debian's binaries (/usr/lib/postgresql/<version>/bin). PostgreSQL refuses to run as root, so
as root (CI) the server runs as the `postgres` user the package creates. Stop and start it
again on the same port and data, to play a database that goes away mid-run.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

try:
    from server import free_port
except ImportError:  # imported as bench.postgres, by the tests
    from bench.server import free_port

BINARIES = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
USER = "postgres"


def binaries() -> Path:
    """The newest installed server's binaries, or a message saying what to install."""
    for folder in BINARIES:
        if (folder / "pg_ctl").exists():
            return folder
    raise RuntimeError("PostgreSQL is not installed: `apt-get install postgresql` (see .ci/run)")


class Postgres:
    """initdb in a fresh folder, then start/stop on a free port; trust auth on loopback only."""

    def __init__(self, port: int | None = None) -> None:
        self.bin = binaries()
        self.port = port or free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="ivr-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.as_root = os.geteuid() == 0
        if self.as_root:
            account = pwd.getpwnam(USER)
            os.chown(self.folder, account.pw_uid, account.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "ivr", "-A", "trust", "-E", "UTF8", "--no-sync")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://ivr@127.0.0.1:{self.port}/postgres"

    def start(self) -> Postgres:
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            "30",
            "-o",
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
            "start",
        )
        return self

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def sql(self, statement: str) -> str:
        """Run one statement with psql; its output."""
        return self._run(
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "ivr",
            "-d",
            "postgres",
            "-At",
            "-c",
            statement,
        )

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)

    def _run(self, tool: str, *args: str) -> str:
        command = [str(self.bin / tool), *args]
        if self.as_root:
            command = ["runuser", "-u", USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.folder, check=False)
        if done.returncode == 0:
            return done.stdout
        log = self.log.read_text()[-1500:] if self.log.exists() else ""
        raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr.strip()}\n{log}")

    def __enter__(self) -> Postgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.remove()
