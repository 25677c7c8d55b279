"""What an order's events do to tickets: the booking request it came from, the disruption ticket and
the chase of an overdue confirmation.

Each is guarded by a business key (one open disruption ticket per order, one note per disruption,
one overdue ticket per order) or by state (only an unresolved ticket is resolved, a confirmed
order's request never waits again), so it holds under redelivery and reordering.
"""

import logging
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from airside import clock
from airside.events import booking as booking_events
from callcenter.orders.order_copy import held_copy
from callcenter.tickets import records
from callcenter.tickets import service as tickets
from callcenter.tickets.models import Channel, TicketCreate, TicketOrigin, TicketType
from callcenter.tickets.transitions import ACTIVE, TicketStatus

log = logging.getLogger("callcenter.orders")
SYSTEM = "system"
REQUESTED = "requested"
# An order in one of these was confirmed: its booking request no longer waits on the member.
CONFIRMED_OR_LATER = frozenset({"confirmed", "assigned", "in_service", "in_lounge", "completed", "no_show"})
WAITING_ON_MEMBER_FROM = (TicketStatus.new, TicketStatus.open, TicketStatus.pending_internal)
# The namespace of disruption notes' ids: one note per piece of news, however often it arrives.
DISRUPTION_NEWS = uuid.UUID("6f1d8a52-3c55-4d39-9f0e-2b1f0c7a4e11")


async def follow_source_ticket(session: AsyncSession, order: booking_events.OrderSnapshot, *, confirmed: bool) -> None:
    """The booking request the order came from links the order, waits on the member while the order is
    unconfirmed and is resolved once it is confirmed, whichever of created and confirmed comes first."""
    if order.source_ticket_id is None:
        return
    ticket = await records.find_ticket(session, order.source_ticket_id, for_update=True)
    if ticket is None or ticket.station != order.station or (ticket.order_id not in (None, order.id)):
        log.warning("an order names a ticket we cannot link", extra={"order_id": order.id, "ticket_id": order.source_ticket_id})
        return
    linked = ticket.order_id is None
    if linked:
        ticket.order_id = order.id
        ticket.member_id = ticket.member_id or order.member_id
        records.log(session, ticket, SYSTEM, "order_linked", order_id=order.id, ref=order.ref)
    if confirmed or (await held_copy(session, order.id)).status in CONFIRMED_OR_LATER:
        if TicketStatus(ticket.status) in ACTIVE:
            await tickets.move(session, ticket, TicketStatus.resolved, SYSTEM, reason="order_confirmed")
            return
    elif ticket.status in WAITING_ON_MEMBER_FROM:  # never a ticket the confirmation resolved already
        await tickets.move(session, ticket, TicketStatus.pending_customer, SYSTEM, reason="order_awaiting_confirmation")
        return
    if linked:
        tickets.touch(ticket, clock.now())


async def settle_overdue(session: AsyncSession, order_id: str, reason: str) -> None:
    """The order was confirmed or cancelled: its confirmation is no longer chased."""
    ticket = await tickets.find_by_origin(session, f"overdue:{order_id}")
    if ticket is not None and TicketStatus(ticket.status) in ACTIVE:
        await tickets.move(session, ticket, TicketStatus.resolved, SYSTEM, reason=reason)


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


def _disruption_news(disrupted: booking_events.OrderFlightDisrupted) -> tuple[str, str]:
    """The note of one piece of news and its id, the same however often and in whatever order it arrives."""
    order = disrupted.order
    what = "cancelled" if disrupted.cancelled else f"delayed {disrupted.delay_minutes} min"
    key = f"{order.id}:{order.version}:{disrupted.cancelled}:{disrupted.delay_minutes}"
    return f"Flight {order.flight.flight_no} {what}", str(uuid.uuid5(DISRUPTION_NEWS, key))


async def note_disruption(session: AsyncSession, disrupted: booking_events.OrderFlightDisrupted) -> None:
    """One open outbound ticket per order; each piece of news is a note on it and makes it more urgent.
    The subject names no single piece of news, so the ticket reads the same whichever came first."""
    order = disrupted.order
    news, note_id = _disruption_news(disrupted)
    if await tickets.system_note_exists(session, note_id):
        return  # this news was handled (the ticket may have been resolved since)
    key = f"disruption:{order.id}"
    existing = await tickets.find_by_origin(session, key)
    if existing is not None:
        # Never a second ticket while one is open: note the news and make it more urgent.
        await tickets.add_system_note(session, existing, news, note_id=note_id)
        await tickets.raise_priority(
            session=session, ticket=existing, priority=_raised(existing.priority, disrupted.cancelled), actor=SYSTEM
        )
        return
    body = _outbound(
        order,
        f"Flight {order.flight.flight_no} disrupted: inform member, offer rebooking",
        f"Order {order.ref}: flight {order.flight.flight_no} on {order.flight.flight_date} is disrupted; each change is in the notes.",
        "P1" if disrupted.cancelled else "P2",
    )
    ticket = await tickets.create_ticket(
        session=session, body=body, actor=SYSTEM, origin=TicketOrigin.disruption, origin_key=key, check_station=False
    )
    await tickets.add_system_note(session, ticket, news, note_id=note_id)


async def chase_confirmation(session: AsyncSession, order: booking_events.OrderSnapshot) -> None:
    """One P1 ticket per order. Late news of an order confirmed or cancelled since still leaves the ticket
    in-order delivery leaves (raised, then resolved), so the chase shows in the record either way."""
    key = f"overdue:{order.id}"
    if await tickets.find_by_origin(session, key) is not None:
        return
    body = _outbound(order, f"Confirm order {order.ref} now", f"Order {order.ref} is still unconfirmed at its confirm-by time.", "P1")
    ticket = await tickets.create_ticket(
        session=session, body=body, actor=SYSTEM, origin=TicketOrigin.confirmation_overdue, origin_key=key, check_station=False
    )
    held = await held_copy(session, order.id)
    if held.status != REQUESTED:
        await tickets.move(
            session, ticket, TicketStatus.resolved, SYSTEM, reason="order_cancelled" if held.status == "cancelled" else "order_confirmed"
        )
