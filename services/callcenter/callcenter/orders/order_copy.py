"""The call center's copy of an order: the newest snapshot wins, whatever order the events arrive in."""

from sqlalchemy.ext.asyncio import AsyncSession

from airside.copies import keep_newest
from airside.events import booking as booking_events
from callcenter.copies import OrderCopy


async def keep_copy(session: AsyncSession, order: booking_events.OrderSnapshot) -> None:
    """Apply the snapshot if it is newer than the copy."""
    values = {
        "ref": order.ref,
        "member_id": order.member_id,
        "station": order.station,
        "status": order.status,
        "products": [item.product for item in order.items],
        "concierge_id": order.concierge.id if order.concierge else None,
        "concierge_name": order.concierge.name if order.concierge else None,
        "source_ticket_id": order.source_ticket_id,
        "flight_no": order.flight.flight_no,
        "version": order.version,
    }
    await keep_newest(session, OrderCopy, {"id": order.id, **values})


async def held_copy(session: AsyncSession, order_id: str) -> OrderCopy:
    """The copy as now held, the newest news of the order."""
    held = await session.get(OrderCopy, order_id)
    assert held is not None
    return held
