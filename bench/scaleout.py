"""P11: booking scaled out to 1, 2 and 3 replicas (processes) on one PostgreSQL database, one relay.

The load generator deals its connections round-robin among the replicas (a simple L4 balancer) and
sends P1's orders at full speed (closed model). Per replica count: orders/s, the relay's publish
rate over the same window, the backlog it left, and each process's CPU per order. On the 2-core
development machine the replicas, the relay, PostgreSQL, NATS and the load generator share two
cores, so the figure shows where one host stops, not how a cluster grows (docs/capacity.md).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from airside_tools.processes import ServiceProcess
from bench import datagen, stack, targets

CONNECTIONS = 32  # as P1
DRAIN_SECONDS = 60.0


@contextmanager
def paused(pids: Iterable[int]) -> Iterator[None]:
    """SIGSTOP some processes while a phase runs (idle neighbours that must not take a core), then SIGCONT."""
    stopped = list(pids)
    for pid in stopped:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)


@dataclass
class BookingReplicas:
    """Booking's replicas and one relay, started for one measurement on booking's database and stopped after."""

    database_url: str
    nats_url: str
    log_dir: Path
    replicas: int
    env: dict[str, str] = field(default_factory=dict)
    services: list[ServiceProcess] = field(default_factory=list)
    relay: ServiceProcess | None = None

    async def __aenter__(self) -> BookingReplicas:
        url = stack.asyncpg_url(self.database_url)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.services = [
            stack.service("booking", url, self.nats_url, self.log_dir / f"replica{n}", **self.env) for n in range(self.replicas)
        ]
        self.relay = stack.relay("booking", url, self.nats_url, self.log_dir, **self.env)
        for process in (*self.services, self.relay):
            process.start()
        await asyncio.to_thread(lambda: [process.wait_ready(90) for process in (*self.services, self.relay)])
        return self

    async def __aexit__(self, *_: object) -> None:
        await asyncio.to_thread(lambda: [process.stop() for process in (*self.services, *([self.relay] if self.relay else []))])

    @property
    def pids(self) -> dict[str, int]:
        pids = {f"booking-{n + 1}": process.process.pid for n, process in enumerate(self.services)}  # type: ignore[union-attr]
        assert self.relay is not None and self.relay.process is not None
        return {**pids, "booking-relay": self.relay.process.pid}


async def orders_at_full_speed(
    replicas: BookingReplicas, data: datagen.BookingData, *, seconds: float, pinned: bool = False, warmup: float = 1.0
) -> dict[str, Any]:
    """P1's closed-model load over the replicas (`pinned`: on the server core, as P1); the outbox's rows
    written and published in the measured window, and each process's CPU per order once the relay has
    published everything."""
    pids = replicas.pids
    before = {name: stack.cpu_seconds(pid) for name, pid in pids.items()}
    spec = {"mode": "closed", "ports": [process.port for process in replicas.services], "connections": CONNECTIONS}
    for process in replicas.services if pinned else ():
        stack.pin(process.process.pid, stack.SERVER_CPU)  # type: ignore[union-attr]
    started = datetime.now(UTC)
    try:
        load = await stack.load({**spec, "duration": seconds, "warmup": warmup, "requests": targets.order_requests(data)})
    finally:
        for process in replicas.services if pinned else ():
            stack.pin(process.process.pid, None)  # type: ignore[union-attr]
    window = (started + timedelta(seconds=warmup), started + timedelta(seconds=warmup + seconds))
    outbox = await _outbox_in(replicas.database_url, window)
    drained = await _wait_published(replicas.database_url, DRAIN_SECONDS)
    return {
        "replicas": replicas.replicas,
        "orders_per_second": load["throughput"],
        "errors": load["errors"],
        "ok": load["ok"],
        "completed": load["completed"],
        "latency_ms": load["latency_ms"],
        "events_written_per_second": outbox["written"] / seconds,
        "events_published_per_second": outbox["published"] / seconds,
        "backlog_at_end": outbox["backlog"],
        "drained_after_s": drained,
        "cpu_ms_per_order": stack.cpu_ms_per(load["answered"], pids, before),
    }


async def _outbox_in(url: str, window: tuple[datetime, datetime]) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(
            "SELECT count(*) FILTER (WHERE created_at >= $1 AND created_at < $2) AS written,"
            " count(*) FILTER (WHERE published_at >= $1 AND published_at < $2) AS published,"
            " count(*) FILTER (WHERE published_at IS NULL) AS backlog FROM outbox_event",
            *window,
        )
    finally:
        await conn.close()
    return dict(row)


async def _wait_published(url: str, timeout: float) -> float | None:
    """Seconds until the outbox is empty of unpublished rows; None if it is not within `timeout`."""
    started = time.monotonic()
    conn = await asyncpg.connect(url)
    try:
        while time.monotonic() - started < timeout:
            if not await conn.fetchval("SELECT count(*) FROM outbox_event WHERE published_at IS NULL"):
                return round(time.monotonic() - started, 2)
            await asyncio.sleep(0.2)
    finally:
        await conn.close()
    return None


async def p11(
    booking_url: str, nats_url: str, log_dir: Path, data: datagen.BookingData, *, seconds: float, counts: tuple[int, ...] = (1, 2, 3)
) -> dict[str, Any]:
    runs = {}
    for count in counts:
        async with BookingReplicas(booking_url, nats_url, log_dir / f"p11-{count}", count) as replicas:
            runs[str(count)] = await orders_at_full_speed(replicas, data, seconds=seconds)
        await asyncio.sleep(2)
    return {"runs": runs, "cpus": os.cpu_count(), "connections": CONNECTIONS}
