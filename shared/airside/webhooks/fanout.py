"""From a service's own stream to the deliveries owed to partners (docs/webhooks.md).

A durable consumer of the service's stream, through the inbox like any other: in the inbox row's
transaction it adds one delivery per active subscription whose filters match the event, so an event
is owed to each subscription exactly once. When the dispatcher of this process has room, the new
deliveries are leased to it at birth and handed to it after the commit, so the first attempt needs no
claim; otherwise they are due at once and the dispatchers are woken. Either way a crash loses nothing:
a lease runs out, and a due delivery waits for any worker's claim.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from airside.db.columns import utcnow
from airside.messaging.envelope import VERSIONS, CloudEvent
from airside.messaging.streams import STREAMS, ConsumerSpec, stream_for
from airside.statements import insert_many_ignoring_duplicates
from airside.webhooks.claims import Claimed
from airside.webhooks.models import DeliveryStatus, SubscriptionStatus, WebhookDelivery, WebhookSubscription
from airside.webhooks.patterns import matches

_WAKE_FLAG = "airside_webhook_deliveries_written"
_SUBSCRIPTIONS = "airside_webhook_subscriptions"  # the active subscriptions, read once per transaction
_OWED = "airside_webhook_owed"  # (event, subscriptions it is owed to), written before the commit
_HANDOFF = "airside_webhook_handoff"  # (dispatcher, deliveries reserved, deliveries owed), for after the commit
# The dispatcher of each database in this process (several in a test process), by the database's engine.
_dispatchers: dict[Any, Dispatcher] = {}

if TYPE_CHECKING:
    from airside.webhooks.dispatch import Dispatcher


def webhook_consumers(service: str) -> list[ConsumerSpec]:
    """The webhook consumer of a service that writes a stream of its own; none for one that does not."""
    return [webhook_consumer(service)] if any(spec.writer == service for spec in STREAMS) else []


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
        before_commit=write_deliveries,
    )


async def record_deliveries(session: AsyncSession, event: CloudEvent) -> None:
    """One pending delivery per matching active subscription, written with the transaction's others by
    `write_deliveries`; one already owed is left as it is."""
    subscriptions = session.info.get(_SUBSCRIPTIONS)
    if subscriptions is None:
        query = select(WebhookSubscription).where(WebhookSubscription.status == SubscriptionStatus.active)
        subscriptions = session.info[_SUBSCRIPTIONS] = list((await session.execute(query)).scalars())
    owed = [subscription for subscription in subscriptions if matches(subscription.event_types, event.type)]
    if owed:
        session.info.setdefault(_OWED, []).append((event, owed))


async def write_deliveries(session: AsyncSession) -> None:
    """The deliveries the transaction's events owe, in one INSERT. When this process's dispatcher has room, they
    are leased to it and handed over after the commit; else they are due at once and the dispatchers are woken."""
    owed: list[tuple[CloudEvent, list[WebhookSubscription]]] = session.info.pop(_OWED, [])
    if not owed:
        return
    now = utcnow()
    count = sum(len(subscriptions) for _event, subscriptions in owed)
    dispatcher = _dispatchers.get(session.bind)
    lease = dispatcher.lease_for(count) if dispatcher is not None else None
    payloads = {event.id: event.to_json().decode() for event, _subscriptions in owed}
    rows = [
        {
            "subscription_id": subscription.id,
            "event_id": event.id,
            "event_type": event.type,
            "payload": payloads[event.id],
            "status": DeliveryStatus.pending.value,
            "attempts": 0,
            "next_attempt_at": lease or now,
            "created_at": now,
        }
        for event, subscriptions in owed
        for subscription in subscriptions
    ]
    if dispatcher is None or lease is None:
        await _insert(session, rows)
        wake_after_commit(session)
        return
    handed: list[Claimed] = []
    # Reserved from now on: released when the transaction ends uncommitted, handed over when it commits.
    session.info.setdefault(_HANDOFF, []).append((dispatcher, count, handed))
    inserted = await _insert(session, rows)
    handed.extend(
        Claimed(subscription, event.id, payloads[event.id], 0, lease, now)
        for event, subscriptions in owed
        for subscription in subscriptions
        if (subscription.id, event.id) in inserted
    )


async def _insert(session: AsyncSession, rows: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """The (subscription, event) pairs inserted: a delivery already owed is not owed twice."""
    table = WebhookDelivery.__table__  # type: ignore[attr-defined]
    key = ["subscription_id", "event_id"]
    returned = (table.c.subscription_id, table.c.event_id)
    return await insert_many_ignoring_duplicates(session, WebhookDelivery, rows, returned, index_elements=key)


def serve(engine: Any, dispatcher: Dispatcher) -> Callable[[], None]:
    """Make `dispatcher` the one this process's fan-outs on `engine`'s database hand deliveries to and wake;
    returns the way to stop."""
    _dispatchers[engine] = dispatcher

    def stop() -> None:
        _dispatchers.pop(engine, None)

    return stop


def wake_after_commit(session: AsyncSession) -> None:
    """Deliveries this transaction makes due are attempted as soon as it commits, not at the next tick."""
    session.info[_WAKE_FLAG] = True


def wake_dispatchers() -> None:
    """Deliveries were made due: the dispatchers look now, not at their next tick."""
    for dispatcher in list(_dispatchers.values()):
        dispatcher.wake()


@sa_event.listens_for(Session, "after_commit")
def _hand_over_after_commit(session: Session) -> None:
    for dispatcher, reserved, handed in session.info.pop(_HANDOFF, []):
        dispatcher.take(handed, reserved)
    if session.info.pop(_WAKE_FLAG, False):
        wake_dispatchers()


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_at_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    """Rolled back, or closed without a commit (a failing handler): what was reserved is released."""
    if transaction.parent is not None:
        return
    session.info.pop(_SUBSCRIPTIONS, None)
    session.info.pop(_OWED, None)
    session.info.pop(_WAKE_FLAG, None)
    for dispatcher, reserved, _handed in session.info.pop(_HANDOFF, []):
        dispatcher.release(reserved)
