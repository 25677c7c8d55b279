"""What the call center does on booking's order events and lounge's visit events.

Every handler keeps the order copy (newest version wins) and then has its effect, guarded by a
business key (one callback per order and purpose, one open disruption ticket per order) or by
state (only an unresolved ticket is resolved).
"""

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from airside import clock
from airside.db import upsert_newer
from airside.events import booking as booking_events
from airside.events import lounge as lounge_events
from airside.messaging.envelope import CloudEvent
from callcenter.callbacks.models import Purpose
from callcenter.callbacks.service import schedule_from_order
from callcenter.orders.models import OrderCopy, VisitCopy
from callcenter.tickets import records
from callcenter.tickets import service as tickets
from callcenter.tickets.models import Channel, Ticket, TicketCreate, TicketType
from callcenter.tickets.transitions import ACTIVE, Status

log = logging.getLogger("callcenter.orders")
SYSTEM = "system"


async def keep_copy(session: AsyncSession, order: booking_events.OrderSnapshot) -> None:
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
    await upsert_newer(session, OrderCopy, {"id": order.id, **values}, key="id")


async def on_order_event(session: AsyncSession, event: CloudEvent) -> None:
    await keep_copy(session, booking_events.order_changed.parse(event).order)


async def on_created(session: AsyncSession, event: CloudEvent) -> None:
    order = booking_events.order_created.parse(event).order
    await keep_copy(session, order)
    if order.source_ticket_id is None:
        return
    ticket = await records.find_ticket(session, order.source_ticket_id, for_update=True)
    if ticket is None or ticket.station != order.station or (ticket.order_id not in (None, order.id)):
        log.warning("order.created names a ticket we cannot link", extra={"order_id": order.id, "ticket_id": order.source_ticket_id})
        return
    linked = ticket.order_id is None
    if linked:
        ticket.order_id = order.id
        ticket.member_id = ticket.member_id or order.member_id
        records.log(session, ticket, SYSTEM, "order_linked", order_id=order.id, ref=order.ref)
    # The ticket waits on the member until the order is confirmed.
    if ticket.status in (Status.new, Status.open, Status.pending_internal):
        await tickets.move(session, ticket, Status.pending_customer, SYSTEM, reason="order_awaiting_confirmation")
    elif linked:
        tickets.touch(ticket, clock.now())


async def on_confirmed(session: AsyncSession, event: CloudEvent) -> None:
    order = booking_events.order_confirmed.parse(event).order
    await keep_copy(session, order)
    waiting = (
        await session.execute(
            select(Ticket).where(Ticket.order_id == order.id, Ticket.status.in_([status.value for status in ACTIVE])).with_for_update()  # type: ignore[attr-defined]
        )
    ).scalars()
    for ticket in list(waiting):
        if ticket.type == TicketType.booking_request or ticket.origin == "confirmation_overdue":
            await tickets.move(session, ticket, Status.resolved, SYSTEM, reason="order_confirmed")


async def on_completed(session: AsyncSession, event: CloudEvent) -> None:
    order = booking_events.order_completed.parse(event).order
    await keep_copy(session, order)
    await schedule_from_order(session=session, order=order, purpose=Purpose.service_followup, occurred_at=event.time)


async def on_no_show(session: AsyncSession, event: CloudEvent) -> None:
    order = booking_events.order_no_show.parse(event).order
    await keep_copy(session, order)
    await schedule_from_order(session=session, order=order, purpose=Purpose.no_show, occurred_at=event.time)


def _outbound(order: booking_events.OrderSnapshot, subject: str, description: str, priority: str) -> TicketCreate:
    return TicketCreate(
        type=TicketType.outbound,
        channel=Channel.system,
        subject=subject,
        description=description,
        station=order.station,
        member_id=order.member_id,
        priority=priority,  # type: ignore[arg-type]
        order_id=order.id,
        flight_no=order.flight.flight_no,
        flight_date=order.flight.flight_date,
    )


def _raised(priority: str, cancelled: bool) -> str:
    return "P1" if cancelled else f"P{max(1, int(priority[1]) - 1)}"


async def on_flight_disrupted(session: AsyncSession, event: CloudEvent) -> None:
    disrupted = booking_events.order_flight_disrupted.parse(event)
    order = disrupted.order
    await keep_copy(session, order)
    what = "cancelled" if disrupted.cancelled else f"delayed {disrupted.delay_minutes} min"
    key = f"disruption:{order.id}"
    existing = await tickets.find_by_origin(session, key)
    if existing is not None:
        # Never a second ticket while one is open: note the news and make it more urgent.
        await tickets.add_system_note(session, existing, f"Flight {order.flight.flight_no} {what}")
        await tickets.raise_priority(
            session=session, ticket=existing, priority=_raised(existing.priority, disrupted.cancelled), actor=SYSTEM
        )
        return
    body = _outbound(
        order,
        f"Flight {order.flight.flight_no} {what}: inform member, offer rebooking",
        f"Order {order.ref}: flight {order.flight.flight_no} on {order.flight.flight_date} is {what}.",
        "P1" if disrupted.cancelled else "P2",
    )
    await tickets.create_ticket(session=session, body=body, actor=SYSTEM, origin="disruption", origin_key=key, check_station=False)


async def on_confirmation_overdue(session: AsyncSession, event: CloudEvent) -> None:
    order = booking_events.order_confirmation_overdue.parse(event).order
    await keep_copy(session, order)
    held = await session.get(OrderCopy, order.id, populate_existing=True)
    if held is None or held.status != "requested":
        return  # confirmed (or cancelled) since: nothing to chase
    key = f"overdue:{order.id}"
    if await tickets.find_by_origin(session, key) is not None:
        return
    body = _outbound(order, f"Confirm order {order.ref} now", f"Order {order.ref} is still unconfirmed at its confirm-by time.", "P1")
    await tickets.create_ticket(
        session=session, body=body, actor=SYSTEM, origin="confirmation_overdue", origin_key=key, check_station=False
    )


async def on_visit(session: AsyncSession, event: CloudEvent) -> None:
    visit = lounge_events.visit_checked_in.parse(event).visit
    row = await session.get(VisitCopy, visit.id)
    values = {
        "station": visit.station,
        "lounge_id": visit.lounge_id,
        "member_id": visit.member_id,
        "order_id": visit.order_id,
        "status": visit.status,
        "checked_in_at": visit.checked_in_at,
        "version": visit.version,
    }
    if row is None:
        session.add(VisitCopy(id=visit.id, **values))
    elif row.version < visit.version:
        for key, value in values.items():
            setattr(row, key, value)


ORDER_HANDLERS = {
    booking_events.order_created.type: on_created,
    booking_events.order_confirmed.type: on_confirmed,
    booking_events.order_completed.type: on_completed,
    booking_events.order_no_show.type: on_no_show,
    booking_events.order_flight_disrupted.type: on_flight_disrupted,
    booking_events.order_confirmation_overdue.type: on_confirmation_overdue,
    **{
        definition.type: on_order_event
        for definition in (
            booking_events.order_assigned,
            booking_events.order_started,
            booking_events.order_in_lounge,
            booking_events.order_cancelled,
            booking_events.order_changed,
            booking_events.order_rescheduled,
            booking_events.order_reassignment_needed,
        )
    },
}

VISIT_HANDLERS = {
    definition.type: on_visit
    for definition in (
        lounge_events.visit_checked_in,
        lounge_events.visit_checked_out,
        lounge_events.visit_boarding_call_due,
        lounge_events.visit_flight_changed,
    )
}
