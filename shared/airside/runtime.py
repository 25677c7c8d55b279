"""What a running service holds, and the shape of a job started beside its relay and consumers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from airside.db.database import Database
from airside.feeds.hub import FeedHub
from airside.messaging.bus import Bus
from airside.messaging.inbox import Consumer
from airside.messaging.outbox import OutboxRelay
from airside.metrics_refresh import MetricsRefresher
from airside.settings import AirsideSettings
from airside.shutdown import Drain

log = logging.getLogger("airside.app")

# How long the relay and the consumers get to finish the batch in hand once the server has stopped.
DELIVERY_STOP_SECONDS = 10.0


@dataclass
class Runtime:
    """What a running service holds: its settings, database, bus, relay, consumers and jobs."""

    settings: AirsideSettings
    db: Database
    bus: Bus
    relay: OutboxRelay | None  # None when the relay runs in a process of its own (AIRSIDE_RELAY=external)
    consumers: dict[str, Consumer]
    metrics: MetricsRefresher
    drain: Drain
    feed: FeedHub | None  # the live feeds' one subscription to the service's own stream (docs/feeds.md)
    # The relay and the consumers stop after their batch; the jobs and the refresher are cancelled.
    delivery: list[asyncio.Task[None]] = field(default_factory=list)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    async def stop(self) -> None:
        if self.feed is not None:
            await self.feed.close()
        if self.relay is not None:
            self.relay.stop()
        for consumer in self.consumers.values():
            consumer.stop()
        late: set[asyncio.Task[None]] = set()
        if self.delivery:
            _stopped, late = await asyncio.wait(self.delivery, timeout=DELIVERY_STOP_SECONDS)
        for task in (*late, *self.tasks):
            task.cancel()
        await asyncio.gather(*self.delivery, *self.tasks, return_exceptions=True)
        stopped = sorted(task.get_name() for task in self.delivery if task not in late)
        log.info("delivery stopped", extra={"after_batch": stopped, "cancelled": sorted(task.get_name() for task in late)})


Job = Callable[[Runtime], Awaitable[None]]
