"""Run a service in-process (its real lifespan, database and NATS) or as a uvicorn process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from prometheus_client import REGISTRY

from airside.app import ServiceDefinition, create_service_app
from airside.auth import issue_token
from airside.runtime import Runtime
from airside.settings import AirsideSettings
from airside_tools.processes import NatsServer, RelayProcess, ServiceProcess, free_port

# Fast retries so a test sees a poison event parked in seconds, not the production half hour.
FAST_DELIVERY = {
    "AIRSIDE_RETRY_DELAYS": "0.2,0.2,0.2,0.2,0.2,0.2,0.2",
    "AIRSIDE_DEAD_LETTER_AFTER": "3",
    "AIRSIDE_ACK_WAIT_SECONDS": "5",
    "AIRSIDE_OUTBOX_SWEEP_SECONDS": "0.5",
    "AIRSIDE_SCHEDULER_INTERVAL_SECONDS": "0.2",
    # Tests run up to a dozen service processes against one PostgreSQL (max_connections 100).
    "AIRSIDE_DB_POOL_SIZE": "4",
    "AIRSIDE_DB_MAX_OVERFLOW": "4",
    # Nothing balances load in front of a test's services: a short drain keeps restarts quick.
    "AIRSIDE_DRAIN_SECONDS": "0.2",
    # A live feed's resume window and a client's queue, small so a test reaches their ends in a few events.
    "AIRSIDE_FEED_WINDOW": "16",
    "AIRSIDE_FEED_CLIENT_QUEUE": "16",
}

# Services under test are not embedded on PostgreSQL and refuse the development secret: they get this one.
TEST_JWT_SECRET = "airside-test-secret-for-the-test-suite-only-0123456789"
TEST_SIGNER = AirsideSettings(jwt_secret=TEST_JWT_SECRET)


def fast_webhooks(ca_file: Path) -> dict[str, str]:
    """Webhook settings for services delivering to a test receiver on this machine (airside_tools.webhook_receiver):
    loopback allowed, its CA trusted, and a retry schedule, timeout and disable window of seconds instead of a day,
    so outages are tested in seconds (docs/testing.md)."""
    return {
        "AIRSIDE_WEBHOOK_ALLOW_HOSTS": "127.0.0.1,localhost",
        "AIRSIDE_WEBHOOK_CA_FILE": str(ca_file),
        # 15.7 s of retries and a 25 s window: an outage a test makes on a loaded machine (three lanes of tests on two
        # cores) outlasts neither, and the schedule runs out before the window (docs/testing.md).
        "AIRSIDE_WEBHOOK_RETRY_DELAYS": "0.2,0.5,1,2,3,4,5",
        "AIRSIDE_WEBHOOK_DISABLE_AFTER_SECONDS": "25",
        "AIRSIDE_WEBHOOK_TIMEOUT_SECONDS": "2",
        # Longer than a test run: a rotated subscription signs with both secrets throughout.
        "AIRSIDE_WEBHOOK_SECRET_OVERLAP_SECONDS": "600",
    }


def token(
    *roles: str,
    stations: Iterable[str] = ("PEK",),
    sub: str | None = None,
    member_id: str | None = None,
    carrier: str | None = None,
    ttl: int = 3600,
) -> str:
    return issue_token(TEST_SIGNER, roles=roles, stations=stations, sub=sub, member_id=member_id, carrier=carrier, ttl_seconds=ttl)


def auth(
    *roles: str, stations: Iterable[str] = ("PEK",), sub: str | None = None, member_id: str | None = None, carrier: str | None = None
) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(*roles, stations=stations, sub=sub, member_id=member_id, carrier=carrier)}"}


@dataclass
class InProcessService:
    app: FastAPI
    client: httpx.AsyncClient

    @property
    def runtime(self) -> Runtime:
        return self.app.state.runtime


def settings_for_test(definition: ServiceDefinition, *, database_url: str, nats_url: str, **overrides: Any) -> AirsideSettings:
    values: dict[str, Any] = {name.removeprefix("AIRSIDE_").lower(): value for name, value in FAST_DELIVERY.items()}
    values.update(database_url=database_url, nats_url=nats_url, log_level="WARNING", jwt_secret=TEST_JWT_SECRET)
    values.update(overrides)
    return definition.settings_class(**values)


@asynccontextmanager
async def in_process(definition: ServiceDefinition, settings: AirsideSettings) -> AsyncIterator[InProcessService]:
    app = create_service_app(definition, settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            await wait_for(lambda: _topology_ready(app), timeout=20, what=f"{definition.name} connected to NATS")
            yield InProcessService(app=app, client=client)


async def _topology_ready(app: FastAPI) -> bool:
    bus = app.state.runtime.bus
    return bool(bus.connected and bus.topology_ready)


async def wait_for(check: Callable[[], Awaitable[Any]], *, timeout: float, what: str, interval: float = 0.05) -> Any:
    """Poll an async check until it returns something truthy; fail the test with `what` otherwise."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def _environment(name: str, database_url: str, nats_url: str, extra_env: dict[str, str]) -> dict[str, str]:
    return {
        f"{name.upper()}_DATABASE_URL": database_url,
        "AIRSIDE_NATS_URL": nats_url,
        "AIRSIDE_LOG_LEVEL": "INFO",
        "AIRSIDE_JWT_SECRET": TEST_JWT_SECRET,
        **FAST_DELIVERY,
        **extra_env,
    }


def service_process(
    name: str, *, database_url: str, nats_url: str, log_dir: Path, extra_env: dict[str, str] | None = None
) -> ServiceProcess:
    """A service as the Dockerfile runs it, on a free port, with fast delivery retries."""
    port = free_port()
    env = _environment(name, database_url, nats_url, {f"{name.upper()}_PORT": str(port), **(extra_env or {})})
    return ServiceProcess(name, port, env, log_dir / f"{name}.log")


def relay_process(
    name: str, *, database_url: str, nats_url: str, log_dir: Path, extra_env: dict[str, str] | None = None, log_name: str | None = None
) -> RelayProcess:
    """A service's relay in a process of its own (`airside relay <service>`), its probes on a free port."""
    env = _environment(name, database_url, nats_url, extra_env or {})
    return RelayProcess(name, free_port(), env, log_dir / f"{log_name or name + '-relay'}.log")


class ServiceSet:
    """The three services as separate uvicorn processes on one nats-server, each with its own database."""

    def __init__(
        self, databases: Any, nats_url: str, log_dir: Path, names: Iterable[str] = ("booking", "lounge", "callcenter"), **extra_env: str
    ) -> None:
        self.processes = {
            name: service_process(name, database_url=databases.create(name), nats_url=nats_url, log_dir=log_dir, extra_env=extra_env)
            for name in names
        }

    def __getitem__(self, name: str) -> ServiceProcess:
        return self.processes[name]

    def start(self, timeout: float = 60) -> ServiceSet:
        try:
            for process in self.processes.values():
                process.start()
            for process in self.processes.values():
                process.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def restart(self, name: str, timeout: float = 60) -> None:
        self.processes[name].stop()
        self.processes[name].start().wait_ready(timeout)

    def stop(self) -> None:
        for process in self.processes.values():  # all drain at once
            process.terminate()
        for process in self.processes.values():
            process.wait_stopped()


@contextmanager
def nats_under(root: Path) -> Iterator[NatsServer]:
    """A JetStream server of our own on a free port (never the machine's shared one), its store and log under `root`."""
    server = NatsServer(root / "store", log_file=root / "nats.log").start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def services_running(databases: Any, nats_url: str, log_dir: Path, **extra_env: str) -> Iterator[ServiceSet]:
    """The three services as processes on fresh databases, stopped on leaving."""
    service_set = ServiceSet(databases, nats_url, log_dir, **extra_env).start()
    try:
        yield service_set
    finally:
        service_set.stop()


async def job_passes(service: str, job: str, count: int, *, timeout: float = 10) -> None:
    """Wait until `count` more passes of a scheduled job of this process have completed: what a test
    waits for before asserting that further passes changed nothing."""

    def completed() -> float:
        return REGISTRY.get_sample_value("airside_job_passes_total", {"service": service, "job": job}) or 0.0

    target = completed() + count
    await wait_for(lambda: asyncio.sleep(0, completed() >= target), timeout=timeout, what=f"{count} passes of {service}'s {job}")
