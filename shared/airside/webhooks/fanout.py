"""From a service's own stream to the deliveries owed to partners (docs/webhooks.md).

A durable consumer of the service's stream, through the inbox like any other: in the inbox row's
transaction it adds one delivery per active subscription whose filters match the event, so an event
is owed to each subscription exactly once. After that commit the dispatchers of this process are
woken; their timer catches what a wake-up misses (another replica's commit).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from airside.db.columns import utcnow
from airside.messaging.envelope import VERSIONS, CloudEvent
from airside.messaging.streams import ConsumerSpec, stream_for
from airside.statements import insert_many_ignoring_duplicates
from airside.webhooks.models import DeliveryStatus, SubscriptionStatus, WebhookDelivery, WebhookSubscription
from airside.webhooks.patterns import matches

_WAKE_FLAG = "airside_webhook_deliveries_written"
_SUBSCRIPTIONS = "airside_webhook_subscriptions"  # the active subscriptions, read once per transaction
_wake_callbacks: list[Callable[[], None]] = []


def webhook_consumer(service: str) -> ConsumerSpec:
    """Every version of every event type `service` produces, on its own stream, handled by `record_deliveries`."""
    own = [definition for definition in VERSIONS.values() if definition.producer == service]
    versions: dict[str, set[int]] = {}
    for definition in own:
        versions.setdefault(definition.type, set()).add(definition.version)
    return ConsumerSpec(
        durable=f"{service}-webhooks",
        stream=stream_for(f"airside.{service}.").name,
        filter_subject=f"airside.{service}.>",
        handlers={type_: record_deliveries for type_ in versions},
        versions={type_: frozenset(numbers) for type_, numbers in versions.items()},
    )


async def record_deliveries(session: AsyncSession, event: CloudEvent) -> None:
    """One pending delivery per matching active subscription, due now; one already owed is left as it is."""
    subscriptions = session.info.get(_SUBSCRIPTIONS)
    if subscriptions is None:
        query = select(WebhookSubscription.id, WebhookSubscription.event_types).where(
            WebhookSubscription.status == SubscriptionStatus.active
        )
        subscriptions = session.info[_SUBSCRIPTIONS] = list((await session.execute(query)).all())
    owed = [subscription_id for subscription_id, event_types in subscriptions if matches(event_types, event.type)]
    if not owed:
        return
    now = utcnow()
    payload = event.to_json().decode()
    rows = [
        {
            "subscription_id": subscription_id,
            "event_id": event.id,
            "event_type": event.type,
            "payload": payload,
            "status": DeliveryStatus.pending.value,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for subscription_id in owed
    ]
    key = ["subscription_id", "event_id"]
    await insert_many_ignoring_duplicates(session, WebhookDelivery, rows, WebhookDelivery.id, index_elements=key)
    session.info[_WAKE_FLAG] = True


def on_deliveries_owed(wake: Callable[[], None]) -> Callable[[], None]:
    """Call `wake` after every commit of this process that owed a delivery; returns the way to stop."""
    _wake_callbacks.append(wake)
    return lambda: _wake_callbacks.remove(wake)


def wake_dispatchers() -> None:
    """Deliveries were made due outside a fan-out (a replay): the dispatchers look now, not at their next tick."""
    for wake in _wake_callbacks:
        wake()


@sa_event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    session.info.pop(_SUBSCRIPTIONS, None)
    if session.info.pop(_WAKE_FLAG, False):
        wake_dispatchers()


@sa_event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_SUBSCRIPTIONS, None)
    session.info.pop(_WAKE_FLAG, None)
