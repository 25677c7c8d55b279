"""Whether a concierge can take an order's service window: own station, on shift throughout, not double-booked.

The orders' side of an assignment, so the moves that assign (and a change that may unassign) call down
into it; booking.assignments lists the candidates and a concierge's day from it.
"""

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from booking.concierges.models import Concierge, Shift
from booking.orders.models import Order
from booking.orders.transitions import HOLDS_CONCIERGE


async def lock_concierge(*, session: AsyncSession, concierge_id: str) -> Concierge | None:
    """Hold the concierge for the rest of the transaction so two assignments cannot both pass the checks."""
    if session.get_bind().dialect.name == "postgresql":
        query = select(Concierge).where(Concierge.id == concierge_id).with_for_update().execution_options(populate_existing=True)
        return (await session.execute(query)).scalar_one_or_none()
    # SQLite has no row locks: this write takes the database's single writer lock before we read.
    await session.execute(
        update(Concierge).where(Concierge.id == concierge_id).values(assignment_seq=Concierge.assignment_seq + 1)  # type: ignore[arg-type]
    )
    return await session.get(Concierge, concierge_id, populate_existing=True)


async def on_shift(*, session: AsyncSession, concierge_id: str, start: datetime, end: datetime) -> bool:
    """Shifts (possibly several, end to end) cover the whole of [start, end]."""
    shifts = (
        await session.execute(
            select(Shift.start_at, Shift.end_at)
            .where(Shift.concierge_id == concierge_id, Shift.start_at < end, Shift.end_at > start)  # type: ignore[arg-type]
            .order_by(Shift.start_at)  # type: ignore[arg-type]
        )
    ).all()
    covered_until = start
    for shift_start, shift_end in shifts:
        if shift_start > covered_until:
            return False
        covered_until = max(covered_until, shift_end)
        if covered_until >= end:
            return True
    return covered_until >= end


async def overlapping_assignments(*, session: AsyncSession, concierge_id: str, start: datetime, end: datetime, excluding: str) -> int:
    query = select(func.count()).where(
        Order.concierge_id == concierge_id,
        Order.status.in_([status.value for status in HOLDS_CONCIERGE]),  # type: ignore[attr-defined]
        Order.id != excluding,
        Order.staff_report_at < end,  # type: ignore[arg-type]
        Order.service_end_at > start,  # type: ignore[arg-type]
    )
    return int((await session.execute(query)).scalar_one())


async def unavailable_because(*, session: AsyncSession, concierge: Concierge | None, order: Order) -> str | None:
    """None when the concierge can take the order's window; else the reason, for the 409."""
    if concierge is None or concierge.station != order.station:
        return f"the concierge does not work at {order.station}"
    start, end = order.staff_report_at, order.service_end_at
    if not await on_shift(session=session, concierge_id=concierge.id, start=start, end=end):
        return f"{concierge.name} is not on shift for the whole window {start.isoformat()} to {end.isoformat()}"
    if await overlapping_assignments(session=session, concierge_id=concierge.id, start=start, end=end, excluding=order.id):
        return f"{concierge.name} has another assignment in that window"
    return None
