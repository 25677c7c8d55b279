"""A flight changes, from ops or an airline system, and its open orders follow: the flow that owns both steps.

The flight record (booking.flights) knows nothing of orders; the orders' side of a change is
booking.orders.disruption. This module calls the one and then the other.
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from booking.flights import service as flights
from booking.flights.service import FlightChange
from booking.orders import disruption


async def apply_flight_change(
    *,
    session: AsyncSession,
    flight_no: str,
    flight_date: date,
    origin: str,
    destination: str,
    fields: dict[str, Any],
    updated_at: datetime,
    reason: str | None = None,
) -> FlightChange | None:
    """Create or change a flight, then move its open orders; None when the news is not newer than ours."""
    change = await flights.apply_change(
        session=session,
        flight_no=flight_no,
        flight_date=flight_date,
        origin=origin,
        destination=destination,
        fields=fields,
        updated_at=updated_at,
        reason=reason,
    )
    if change is not None and not change.created:
        await disruption.flight_changed(session=session, change=change)
    return change
