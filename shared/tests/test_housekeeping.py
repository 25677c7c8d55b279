"""Pruning keeps what may still be needed and removes what has served its purpose."""

from datetime import timedelta

from sqlalchemy import select
from sqlmodel import SQLModel

from airside.db.columns import utcnow
from airside.db.database import Database
from airside.housekeeping import prune
from airside.idempotency import IdempotencyRecord
from airside.messaging.inbox import ProcessedEvent
from airside.messaging.outbox import OutboxEvent
from airside.webhooks.models import WebhookDelivery


def webhook_delivery(event_id: str, *, age: timedelta, status: str) -> WebhookDelivery:
    at = utcnow() - age
    delivered = at if status == "delivered" else None
    return WebhookDelivery(
        subscription_id="s",
        event_id=event_id,
        event_type="airside.test",
        payload="{}",
        status=status,
        created_at=at,
        delivered_at=delivered,
    )


def outbox_row(event_id: str, *, age: timedelta, published: bool) -> OutboxEvent:
    created = utcnow() - age
    return OutboxEvent(
        event_id=event_id, subject="airside.test", envelope="{}", created_at=created, next_attempt_at=created,
        published_at=created if published else None,
    )  # fmt: skip


async def test_prune_removes_only_expired_rows(databases):
    # A database of its own: no relay may meet the unpublished row (its subject is in no stream, so in a
    # running service's outbox it would hold back every later event).
    db = Database(databases.create("prune"))
    async with db.engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
    old, fresh = timedelta(days=8), timedelta(hours=1)
    async with db.session() as session:
        session.add_all(
            [
                outbox_row("old-published", age=old, published=True),
                outbox_row("old-unpublished", age=old, published=False),
                outbox_row("fresh-published", age=fresh, published=True),
                ProcessedEvent(consumer="c", event_id="old", processed_at=utcnow() - old),
                ProcessedEvent(consumer="c", event_id="fresh", processed_at=utcnow() - fresh),
                webhook_delivery("old-delivered", age=old, status="delivered"),
                webhook_delivery("old-failed", age=old, status="failed"),
                webhook_delivery("fresh-delivered", age=fresh, status="delivered"),
                IdempotencyRecord(
                    caller="a", route="r", key="old", request_hash="h", status_code=201, body="{}", created_at=utcnow() - timedelta(days=2)
                ),
                IdempotencyRecord(
                    caller="a", route="r", key="fresh", request_hash="h", status_code=201, body="{}", created_at=utcnow() - fresh
                ),
            ]
        )
        await session.commit()

    await prune(db, retention=timedelta(days=7))

    async with db.session() as session:
        outbox = set((await session.execute(select(OutboxEvent.event_id).where(OutboxEvent.subject == "airside.test"))).scalars())
        processed = set((await session.execute(select(ProcessedEvent.event_id).where(ProcessedEvent.consumer == "c"))).scalars())
        webhooks = set((await session.execute(select(WebhookDelivery.event_id).where(WebhookDelivery.subscription_id == "s"))).scalars())
        keys = set((await session.execute(select(IdempotencyRecord.key).where(IdempotencyRecord.caller == "a"))).scalars())
    await db.dispose()
    # An unpublished event is never pruned, however old: it has not been delivered yet.
    assert outbox == {"old-unpublished", "fresh-published"}
    assert processed == {"fresh"}
    assert keys == {"fresh"}
    # A webhook that failed for good is a dead letter: kept, however old, until replayed.
    assert webhooks == {"old-failed", "fresh-delivered"}
