"""Pruning of rows that have served their purpose, run by every service beside its relay."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete

from airside.db.columns import utcnow
from airside.db.database import Database
from airside.idempotency import IdempotencyRecord
from airside.messaging.inbox import ProcessedEvent
from airside.messaging.outbox import OutboxEvent
from airside.webhooks.models import DeliveryStatus, WebhookDelivery

if TYPE_CHECKING:
    from airside.runtime import Runtime

log = logging.getLogger("airside.housekeeping")

PRUNE_EVERY_SECONDS = 600
# A client retrying the same POST a day later is a new request.
IDEMPOTENCY_TTL = timedelta(hours=24)


async def prune(db: Database, *, retention: timedelta) -> None:
    """Published events, inbox rows and delivered webhooks outlive the stream's retention; idempotency
    records a day. A webhook that failed for good stays, a dead letter, until replayed or its subscription goes."""
    now = utcnow()
    async with db.session() as session:
        await session.execute(delete(OutboxEvent).where(OutboxEvent.published_at < now - retention))  # type: ignore[operator]
        # The stream no longer holds these events, so they cannot be delivered again.
        await session.execute(delete(ProcessedEvent).where(ProcessedEvent.processed_at < now - retention))  # type: ignore[arg-type]
        delivered = (WebhookDelivery.status == DeliveryStatus.delivered) & (WebhookDelivery.delivered_at < now - retention)  # type: ignore[operator]
        await session.execute(delete(WebhookDelivery).where(delivered))
        await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - IDEMPOTENCY_TTL))  # type: ignore[arg-type]
        await session.commit()


async def housekeeping(runtime: Runtime) -> None:
    retention = timedelta(days=runtime.settings.stream_max_age_days)
    while True:
        try:
            await prune(runtime.db, retention=retention)
        except Exception as exc:
            if not runtime.db.unavailable(exc):  # an outage is logged once, by the database
                log.exception("pruning failed")
        await asyncio.sleep(PRUNE_EVERY_SECONDS)
