"""A PostgreSQL server of a test's own, from the machine's binaries, which the test may stop and start.

Never the machine's shared server: a test that takes the database away runs its own on a free port,
its data directory and socket in a temporary directory. As root, PostgreSQL refuses to run, so the
binaries run as the `postgres` OS user, which then owns the directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from glob import glob
from pathlib import Path

from airside_tools.processes import free_port


def postgres_bin_dir() -> Path | None:
    """The newest installed PostgreSQL's bin directory holding initdb and pg_ctl, else None."""
    found = [Path(path).parent for path in glob("/usr/lib/postgresql/*/bin/pg_ctl")]
    if not found and (pg_ctl := shutil.which("pg_ctl")) and shutil.which("initdb"):
        found = [Path(pg_ctl).parent]
    return max(found, key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0, default=None)


class PostgresInstance:
    """initdb, start, stop and start again on the same data and port; removed on `destroy`."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="airside-pg-"))
        self.data_dir = self.root / "data"
        self.log_file = self.root / "postgres.log"
        self.port = free_port()
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            self._as_user = ["runuser", "-u", "postgres", "--"]

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str = "postgres") -> str:
        """The URL a service is configured with (the async driver's)."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, tool: str, *args: str) -> None:
        completed = subprocess.run([*self._as_user, str(self.bin_dir / tool), *args], capture_output=True, text=True, timeout=120)
        if completed.returncode != 0:
            log = self.log_file.read_text() if self.log_file.exists() else ""
            raise RuntimeError(f"{tool} {' '.join(args)} failed: {completed.stdout}{completed.stderr}\n{log[-2000:]}")

    def init(self) -> PostgresInstance:
        self._run("initdb", "-D", str(self.data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        return self

    def start(self) -> None:
        # fsync off: the data of a test instance need not survive the machine, only a stop and start.
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60"
        self._run("pg_ctl", "-D", str(self.data_dir), "-o", options, "-l", str(self.log_file), "-w", "-t", "60", "start")

    def stop(self) -> None:
        """A fast shutdown, as an operator's restart: sessions are cut, committed data kept."""
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "60", "stop")

    def create_database(self, name: str) -> str:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return self.url(name)

    def destroy(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def postgres_instance() -> Iterator[PostgresInstance]:
    """A started instance of our own, removed on leaving; FileNotFoundError when no binaries are installed."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        raise FileNotFoundError("no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin or on PATH")
    instance = PostgresInstance(bin_dir).init()
    try:
        instance.start()
        yield instance
    finally:
        instance.destroy()
