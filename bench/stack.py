"""What the bench starts: its own PostgreSQL databases, nats-servers, services and the load generator."""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import asyncpg

from airside.settings import AirsideSettings
from airside_tools.processes import NatsServer, RelayProcess, ServiceProcess, free_port, nats_server_binary

ROOT = Path(__file__).resolve().parent.parent
NATS_CONF = ROOT / "deploy" / "nats" / "nats.conf"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
SERVER_CPU, CLIENT_CPU = 0, 1


def postgres_admin_url() -> str:
    return os.environ.get("AIRSIDE_BENCH_POSTGRES_URL", DEFAULT_POSTGRES).replace("postgresql+asyncpg://", "postgresql://", 1)


def pin(pid: int, cpu: int | None) -> None:
    """Keep the server under test on one core and the load generator on the other (None: float)."""
    if hasattr(os, "sched_setaffinity"):
        cpus = set(range(os.cpu_count() or 1))
        os.sched_setaffinity(pid, {cpu % len(cpus)} if cpu is not None else cpus)


class Databases:
    """Databases named bench_<run>_<name>, created on demand, all dropped at the end."""

    def __init__(self) -> None:
        self.admin_url = postgres_admin_url()
        self.run_id = secrets.token_hex(3)
        self.created: list[str] = []

    def url(self, database: str) -> str:
        return urlunparse(urlparse(self.admin_url)._replace(path=f"/{database}"))

    async def create(self, name: str) -> str:
        database = f"bench_{self.run_id}_{name}"
        await self._admin(f'CREATE DATABASE "{database}"')
        self.created.append(database)
        return self.url(database)

    async def drop_all(self) -> None:
        for database in self.created:
            await self._admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        self.created.clear()

    async def _admin(self, statement: str) -> None:
        conn = await asyncpg.connect(self.admin_url, timeout=10)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()


class ConfiguredNats(NatsServer):
    """nats-server from deploy/nats/nats.conf itself, only listen, monitor port and store moved, and its users left out.

    `sync_always=False` drops the `sync_interval: always` line: the server's default (fsync every
    2 minutes), to show what durability costs.
    """

    def __init__(self, store_dir: Path, *, sync_always: bool = True) -> None:
        super().__init__(store_dir, name="airside-bench")
        self.sync_always = sync_always
        self.config_file = store_dir.parent / f"{store_dir.name}.conf"

    def render_config(self) -> str:
        text = NATS_CONF.read_text()
        replacements = {
            r"(?m)^server_name:.*$": f"server_name: {self.name}",
            r"(?m)^listen:.*$": f"listen: {self.host}:{self.port}",
            r"(?m)^http_port:.*$": f"http: {self.host}:{self.monitor_port}",
            r"(?m)^(\s*)store_dir:.*$": rf"\g<1>store_dir: {json.dumps(str(self.store_dir))}",
        }
        for pattern, replacement in replacements.items():
            text, count = re.subn(pattern, replacement, text)
            if count != 1:
                raise RuntimeError(f"{NATS_CONF} changed shape: {pattern} matched {count} times")
        if "sync_interval: always" not in text:
            raise RuntimeError(f"{NATS_CONF} no longer says sync_interval: always; the bench's assumption is stale")
        # The users and permissions (deploy/nats/auth.conf) are left out: the ceilings' raw clients publish to
        # streams of their own, which no deployed user may, and every figure is taken on the same server.
        text, count = re.subn(r"(?m)^include \./auth\.conf$", "# include ./auth.conf: left out by the bench", text)
        if count != 1:
            raise RuntimeError(f"{NATS_CONF} no longer includes ./auth.conf once; the bench's assumption is stale")
        if not self.sync_always:
            text = text.replace("sync_interval: always", "# sync_interval: server default (bench comparison)")
        return text

    def command(self) -> list[str]:
        self.config_file.write_text(self.render_config())
        return [nats_server_binary(), "-c", str(self.config_file)]


# On PostgreSQL the services refuse the development secret; the bench signs its tokens with this one.
BENCH_SIGNER = AirsideSettings(jwt_secret=f"airside-bench-{secrets.token_hex(16)}")


def service(name: str, database_url: str, nats_url: str, log_dir: Path, **env: str) -> ServiceProcess:
    """A service under uvicorn exactly as the Dockerfile runs it, with production defaults and, as compose
    deploys it, its outbox left to its relay's process (`relay`)."""
    port = free_port()
    values = {
        f"{name.upper()}_PORT": str(port),
        "AIRSIDE_RELAY": "external",
        **_environment(name, database_url, nats_url),
        **env,
    }
    return ServiceProcess(name, port, values, log_dir / f"{name}.log")


def relay(name: str, database_url: str, nats_url: str, log_dir: Path, **env: str) -> RelayProcess:
    """The service's outbox relay in a process of its own (`airside relay <service>`), as compose runs it: with
    the service's environment (it also delivers the service's webhooks)."""
    return RelayProcess(name, free_port(), {**_environment(name, database_url, nats_url), **env}, log_dir / f"{name}-relay.log")


def _environment(name: str, database_url: str, nats_url: str) -> dict[str, str]:
    return {f"{name.upper()}_DATABASE_URL": database_url, "AIRSIDE_NATS_URL": nats_url, "AIRSIDE_JWT_SECRET": BENCH_SIGNER.signing_secret()}


def cpu_ms_per(count: int, pids: dict[str, int], before: dict[str, float]) -> dict[str, float]:
    """Each process's CPU since `before` (cpu_seconds), per request or event, in ms."""
    return {name: round((cpu_seconds(pid) - before[name]) * 1000 / max(count, 1), 3) for name, pid in pids.items()}


def cpu_seconds(pid: int) -> float:
    """User plus system CPU a process has used (Linux /proc): per request, it does not move with the neighbours."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ceiling_server(dsn: str | None, log_dir: Path) -> subprocess.Popen[bytes]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if dsn:
        env["BENCH_C2_DSN"] = dsn
    log = (log_dir / "ceiling.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.ceiling_app:app", "--host", "127.0.0.1", "--port", str(port),
         "--loop", "uvloop", "--http", "httptools", "--no-access-log"],
        env=env, stdout=log, stderr=log, cwd=ROOT,
    )  # fmt: skip
    process.port = port  # type: ignore[attr-defined]
    return process


async def load(spec: dict[str, Any], *, timeout: float = 300) -> dict[str, Any]:
    """Run the load generator in its own process on the client core; returns its summary."""
    with tempfile.TemporaryDirectory() as tmp:
        spec_file, result_file = Path(tmp) / "spec.json", Path(tmp) / "result.json"
        spec_file.write_text(json.dumps({"host": "127.0.0.1", "cpu": CLIENT_CPU, **spec}))
        process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bench.loadgen", str(spec_file), str(result_file), cwd=ROOT)
        try:
            code = await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            process.kill()
            raise
        if code != 0:
            raise RuntimeError(f"load generator exited with {code}")
        return json.loads(result_file.read_text())


def rss_mb(pid: int) -> float:
    """Resident set size of one process, from /proc (Linux)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


class RssSampler:
    """Peak RSS of some processes while a phase runs (sampled every 200 ms)."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.peak: dict[str, float] = dict.fromkeys(pids, 0.0)
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            for name, pid in self.pids.items():
                self.peak[name] = max(self.peak[name], rss_mb(pid))
            await asyncio.sleep(0.2)

    def __enter__(self) -> RssSampler:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()


def asyncpg_url(url: str) -> str:
    """The services' SQLAlchemy URL for a plain postgresql:// one."""
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)


async def migrate(service_name: str, url: str) -> None:
    """A database at the service's migration head (its own Alembic scripts), without seeding."""
    from airside.db.database import Database
    from airside.db.upgrade import migrate as upgrade

    db = Database(asyncpg_url(url))
    try:
        await upgrade(db, ROOT / "services" / service_name / "alembic")
    finally:
        await db.dispose()


async def truncate(url: str, table: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"TRUNCATE {table}")
    finally:
        await conn.close()
