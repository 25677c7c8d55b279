"""The gauges /metrics serves, read in the background: a scrape never waits on NATS or the database.

A scrape is needed most when a dependency hangs, so it only renders what was read last; each
source (database, nats) has its own loop, and `airside_metrics_age_seconds` says how old its
values are, so stale figures are visible as such.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable

from airside.db.database import Database
from airside.messaging.bus import Bus
from airside.messaging.inbox import Consumer, count_parked
from airside.messaging.outbox import backlog
from airside.metrics import DEAD_LETTERS, METRICS_AGE, NATS_CONNECTED, OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE

log = logging.getLogger("airside.metrics")


class MetricsRefresher:
    def __init__(self, db: Database, bus: Bus, consumers: list[Consumer], service: str, interval: float, nats_timeout: float) -> None:
        self.db = db
        self.bus = bus
        self.consumers = consumers
        self.service = service
        self.interval = interval
        self.nats_timeout = nats_timeout
        # None until a first read: the age is then infinite, which is what "never read" means to an alert.
        self.read_at: dict[str, float | None] = {"database": None, "nats": None}

    def report_ages(self) -> None:
        """At scrape time: how long ago each source was last read, and whether NATS answers now."""
        now = time.monotonic()
        for source, read_at in self.read_at.items():
            METRICS_AGE.labels(self.service, source).set(math.inf if read_at is None else round(now - read_at, 3))
        NATS_CONNECTED.labels(self.service).set(1 if self.bus.status == "connected" else 0)

    async def run(self) -> None:
        await asyncio.gather(self._every_interval("database", self.read_database), self._every_interval("nats", self.read_nats))

    async def _every_interval(self, source: str, read: Callable[[], Awaitable[None]]) -> None:
        while True:
            try:
                await read()
                self.read_at[source] = time.monotonic()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the age gauge shows it; the next pass tries again
                log.debug("metrics refresh failed", extra={"source": source, "error": repr(exc)})
            await asyncio.sleep(self.interval)

    async def read_database(self) -> None:
        pending, oldest_age = await backlog(self.db)
        parked = await count_parked(self.db)
        OUTBOX_BACKLOG.labels(self.service).set(pending)
        OUTBOX_OLDEST_AGE.labels(self.service).set(oldest_age)
        DEAD_LETTERS.labels(self.service).set(parked)

    async def read_nats(self) -> None:
        if not self.bus.connected:
            raise ConnectionError("not connected to NATS")
        await asyncio.gather(*(consumer.refresh_lag(self.nats_timeout) for consumer in self.consumers))
