"""Lounge visits move orders into and out of `in_lounge`; events that do not fit the state are ignored."""

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from airside.events import booking as events
from airside.events import lounge as lounge_events
from airside.messaging.envelope import CloudEvent
from airside.messaging.outbox import record
from airside.messaging.streams import ConsumerSpec
from booking.orders import records
from booking.orders.models import Order
from booking.orders.transitions import Status

log = logging.getLogger("booking.visits")
ACTOR = "airside/lounge"
LOUNGE = "LOUNGE"


def lounge_only(order: Order) -> bool:
    """An order whose only item is LOUNGE needs no concierge."""
    return order.products == [LOUNGE]


async def _order_of(session: AsyncSession, visit: lounge_events.VisitSnapshot) -> Order | None:
    if not visit.order_id:
        return None
    return await session.get(Order, visit.order_id)


async def on_checked_in(session: AsyncSession, event: CloudEvent) -> None:
    visit = lounge_events.visit_checked_in.parse(event).visit
    order = await _order_of(session, visit)
    if order is None:
        return
    entering = order.status == Status.in_service or (lounge_only(order) and order.status == Status.confirmed)
    if not entering:  # e.g. a late check-in for an order already completed
        log.info("check-in ignored", extra={"order_id": order.id, "status": order.status, "visit_id": visit.id})
        return
    order = await records.save(
        session, order, values={"status": Status.in_lounge.value}, action="in_lounge", actor=ACTOR, details={"visit_id": visit.id}
    )
    record(
        session,
        events.order_in_lounge,
        events.OrderInLounge(order=await records.snapshot(session, order), visit_id=visit.id),
        subject=order.id,
    )


async def on_checked_out(session: AsyncSession, event: CloudEvent) -> None:
    visit = lounge_events.visit_checked_out.parse(event).visit
    order = await _order_of(session, visit)
    if order is None or order.status != Status.in_lounge:
        return
    if lounge_only(order):
        order = await records.save(
            session, order, values={"status": Status.completed.value}, action="completed", actor=ACTOR, details={"visit_id": visit.id}
        )
        record(session, events.order_completed, events.OrderCompleted(order=await records.snapshot(session, order)), subject=order.id)
        return
    order = await records.save(
        session, order, values={"status": Status.in_service.value}, action="left_lounge", actor=ACTOR, details={"visit_id": visit.id}
    )
    record(session, events.order_changed, events.OrderEvent(order=await records.snapshot(session, order)), subject=order.id)


LOUNGE_VISITS_CONSUMER = ConsumerSpec(
    durable="booking-lounge-visits",
    stream="AIRSIDE_LOUNGE",
    filter_subject="airside.lounge.visit.>",
    handlers={lounge_events.visit_checked_in.type: on_checked_in, lounge_events.visit_checked_out.type: on_checked_out},
)
