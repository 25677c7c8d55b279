"""A flight changes, from ops or an airline system, and its open orders follow: the flow that owns both steps.

The flight record (booking.flights) knows nothing of orders; the orders' side of a change is
booking.orders.disruption. This module calls the one and then the other.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from booking.flights import service as flights
from booking.flights.service import FlightChange, FlightNews
from booking.orders import disruption


async def apply_flight_change(*, session: AsyncSession, news: FlightNews) -> FlightChange | None:
    """Create or change a flight, then move its open orders; None when the news is not newer than ours."""
    change = await flights.apply_change(session=session, news=news)
    if change is not None and not change.created:
        await disruption.flight_changed(session=session, change=change)
    return change
