"""Snapshots of every member and open order on the outbox, for a consumer building its copy from scratch."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from airside.events import booking as events
from airside.messaging.outbox import record
from booking.members.models import Member
from booking.orders import snapshots
from booking.orders.models import Order
from booking.orders.transitions import OPEN


async def reannounce(session: AsyncSession) -> tuple[int, int]:
    """Record member.updated for every member and order.changed for every open order; how many of each."""
    members = 0
    for member in (await session.execute(select(Member).order_by(Member.created_at, Member.id))).scalars():
        record(session, events.member_updated, events.MemberEvent(member=member.snapshot()), subject=member.id)
        members += 1
    orders = 0
    open_orders = select(Order).where(Order.status.in_([status.value for status in OPEN])).order_by(Order.created_at, Order.id)  # type: ignore[attr-defined]
    for order in (await session.execute(open_orders)).scalars():
        record(session, events.order_changed, events.OrderEvent(order=await snapshots.snapshot(session, order)), subject=order.id)
        orders += 1
    return members, orders
