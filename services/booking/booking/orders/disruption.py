"""A flight's times or status changed: move its open orders, release concierges, raise disruptions."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from airside.events import booking as events
from airside.events.booking import OrderStatus
from airside.messaging.outbox import record
from booking.flights.models import Flight
from booking.flights.service import FlightChange
from booking.orders import reads, saving, snapshots, times
from booking.orders.availability import lock_concierge, unavailable_because
from booking.orders.models import Order
from booking.orders.transitions import OPEN, RESCHEDULABLE

ACTOR = "airside/flight-status"
DISRUPTION_MINUTES = 60


def _delay(flight: Flight, direction: str) -> int:
    if direction == "departure":
        return times.delay_minutes(flight.std, flight.etd)
    return times.delay_minutes(flight.sta, flight.eta)


async def flight_changed(*, session: AsyncSession, change: FlightChange) -> None:
    flight = change.flight
    orders = (
        await session.execute(
            select(Order)
            .where(
                Order.flight_no == flight.flight_no,
                Order.flight_date == flight.flight_date,
                Order.status.in_([status.value for status in OPEN]),  # type: ignore[attr-defined]
            )
            .order_by(Order.meet_at, Order.id)  # type: ignore[arg-type]
        )
    ).scalars()
    for order in list(orders):
        shift = change.departure_shift if order.direction == "departure" else change.arrival_shift
        delay = _delay(flight, order.direction)
        if shift and order.status in RESCHEDULABLE:
            await reschedule(session=session, order=order, shift=shift, delay=delay)
        if change.newly_cancelled or (shift and delay >= DISRUPTION_MINUTES):
            payload = events.OrderFlightDisrupted(
                order=await snapshots.snapshot(session, order), delay_minutes=delay, cancelled=flight.cancelled
            )
            record(session, events.order_flight_disrupted, payload, subject=order.id)


async def reschedule(*, session: AsyncSession, order: Order, shift: timedelta, delay: int) -> Order:
    """Move meet_at by the change; staff_report_at, confirm_by and the window follow (docs/booking.md)."""
    old_meet_at = order.meet_at
    new_times = times.order_times(old_meet_at + shift, await reads.station_zone(session, order.station), order.service_minutes)
    values: dict[str, object] = dict(new_times.as_values())
    previous = await reads.concierge_person(session, order.concierge_id)
    released = False
    if order.status == OrderStatus.assigned and order.concierge_id is not None:
        concierge = await lock_concierge(session=session, concierge_id=order.concierge_id)
        probe = Order.model_construct(**{**order.model_dump(), **values})
        if await unavailable_because(session=session, concierge=concierge, order=probe) is not None:
            values.update(concierge_id=None, status=OrderStatus.confirmed.value)
            released = True
    order = await saving.save(
        session, order, values=values, action="rescheduled", actor=ACTOR, details={"shift_minutes": int(shift.total_seconds() // 60)}
    )
    snapshot = await snapshots.snapshot(session, order)
    payload = events.OrderRescheduled(order=snapshot, old_meet_at=old_meet_at, new_meet_at=order.meet_at, delay_minutes=delay)
    record(session, events.order_rescheduled, payload, subject=order.id)
    if released:
        record(
            session,
            events.order_reassignment_needed,
            events.OrderReassignmentNeeded(
                order=snapshot, previous_concierge=previous, reason="the new window breaks the concierge's shift or other assignments"
            ),
            subject=order.id,
        )
    return order
