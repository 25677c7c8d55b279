"""order.confirmation_overdue, once per order, across restarts and replicas.

The state lives in the order row: a replica claims an order with a conditional UPDATE (… WHERE
overdue_notified_at IS NULL) in the same transaction that records the event, so a second replica
(or a restarted one) finds nothing left to claim.
"""

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from airside.events import booking as events
from airside.events.booking import OrderStatus
from airside.messaging.outbox import record
from booking.orders import reads, snapshots
from booking.orders.models import Order

BATCH = 100


async def notify_overdue(*, session: AsyncSession, now: datetime) -> int:
    due = (
        await session.execute(
            select(Order.id)
            .where(Order.status == OrderStatus.requested.value, Order.overdue_notified_at.is_(None), Order.confirm_by <= now)  # type: ignore[union-attr, operator]
            .order_by(Order.confirm_by)  # type: ignore[arg-type]
            .limit(BATCH)
        )
    ).scalars()
    notified = 0
    for order_id in list(due):
        claimed = await session.execute(
            update(Order)
            .where(Order.id == order_id, Order.status == OrderStatus.requested.value, Order.overdue_notified_at.is_(None))  # type: ignore[union-attr]
            .values(overdue_notified_at=now)
        )
        if not claimed.rowcount:  # type: ignore[attr-defined]
            continue  # another replica got there first
        order = await reads.get_order(session=session, order_id=order_id)
        await session.refresh(order)
        record(
            session, events.order_confirmation_overdue, events.OrderEvent(order=await snapshots.snapshot(session, order)), subject=order.id
        )
        notified += 1
    return notified
