"""Which concierge serves which order: the free concierges for an order's window, and a concierge's day.

Concierges (booking.concierges) know nothing of orders; whether one can take an order's window is
booking.orders.availability, which the assigning moves use too. These reads sit above both.
"""

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.assignments.models import Assignment, Candidate, Schedule
from booking.concierges.models import Concierge, ConciergePublic, Shift
from booking.concierges.service import list_concierges, local_day, shift_public, station_zone
from booking.orders.availability import unavailable_because
from booking.orders.models import Order
from booking.orders.transitions import HOLDS_CONCIERGE


async def schedule(*, session: AsyncSession, concierge: Concierge, day: date) -> Schedule:
    zone = await station_zone(session=session, code=concierge.station)
    start, end = local_day(day, zone)
    shifts = (
        await session.execute(select(Shift).where(Shift.concierge_id == concierge.id, Shift.shift_date == day).order_by(Shift.start_at))  # type: ignore[arg-type]
    ).scalars()
    orders = (
        await session.execute(
            select(Order)
            .where(Order.concierge_id == concierge.id, Order.meet_at >= start, Order.meet_at < end)  # type: ignore[arg-type, operator]
            .order_by(Order.meet_at, Order.id)  # type: ignore[arg-type]
        )
    ).scalars()
    return Schedule(
        concierge_id=concierge.id,
        date=day,
        shifts=[shift_public(shift) for shift in shifts],
        assignments=[
            Assignment(order_id=order.id, **order.model_dump(include=set(Assignment.model_fields) - {"order_id"})) for order in orders
        ],
    )


async def candidates(*, session: AsyncSession, order: Order) -> list[Candidate]:
    """Concierges of the order's station free for its window, least loaded that local day first."""
    zone = await station_zone(session=session, code=order.station)
    day_start, day_end = local_day(order.meet_at.astimezone(zone).date(), zone)
    free: list[Candidate] = []
    for concierge in await list_concierges(session=session, stations=[order.station]):
        if await unavailable_because(session=session, concierge=concierge, order=order) is not None:
            continue
        load = await session.scalar(
            select(func.count()).where(
                Order.concierge_id == concierge.id,
                Order.id != order.id,
                Order.status.in_([status.value for status in HOLDS_CONCIERGE]),  # type: ignore[attr-defined]
                Order.meet_at >= day_start,  # type: ignore[operator]
                Order.meet_at < day_end,  # type: ignore[operator]
            )
        )
        free.append(
            Candidate(**ConciergePublic.model_validate(concierge, from_attributes=True).model_dump(), assignments_that_day=int(load or 0))
        )
    return sorted(free, key=lambda candidate: (candidate.assignments_that_day, candidate.name, candidate.id))
