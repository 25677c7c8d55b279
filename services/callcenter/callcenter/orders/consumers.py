"""What the call center does on booking's order events.

Every handler keeps the order copy (newest version wins, `order_copy`) and then has its effect: on
tickets (`ticket_effects`) or a callback, one per order and purpose (`callcenter.callbacks`).
Events of one order may arrive in any order and any number of times (retries reorder them): the
tickets and callbacks end as in-order delivery leaves them (docs/events.md rule 4, R10).
callcenter.subscriptions runs these handlers on the durable consumer of booking's stream.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from airside.events import booking as booking_events
from airside.messaging.envelope import CloudEvent
from airside.messaging.streams import Handler
from callcenter.callbacks.models import Purpose
from callcenter.callbacks.service import schedule_from_order
from callcenter.orders.order_copy import keep_copy
from callcenter.orders.ticket_effects import chase_confirmation, follow_source_ticket, note_disruption, settle_overdue


async def on_order_event(session: AsyncSession, event: CloudEvent) -> None:
    await keep_copy(session, booking_events.order_changed.parse(event).order)


async def on_created(session: AsyncSession, event: CloudEvent) -> None:
    order = booking_events.order_created.parse(event).order
    await keep_copy(session, order)
    await follow_source_ticket(session, order, confirmed=False)


async def on_confirmed(session: AsyncSession, event: CloudEvent) -> None:
    order = booking_events.order_confirmed.parse(event).order
    await keep_copy(session, order)
    await follow_source_ticket(session, order, confirmed=True)
    await settle_overdue(session, order.id, "order_confirmed")


async def on_cancelled(session: AsyncSession, event: CloudEvent) -> None:
    order = booking_events.order_cancelled.parse(event).order
    await keep_copy(session, order)
    await settle_overdue(session, order.id, "order_cancelled")


async def on_completed(session: AsyncSession, event: CloudEvent) -> None:
    order = booking_events.order_completed.parse(event).order
    await keep_copy(session, order)
    await schedule_from_order(session=session, order=order, purpose=Purpose.service_followup, occurred_at=event.time)


async def on_no_show(session: AsyncSession, event: CloudEvent) -> None:
    order = booking_events.order_no_show.parse(event).order
    await keep_copy(session, order)
    await schedule_from_order(session=session, order=order, purpose=Purpose.no_show, occurred_at=event.time)


async def on_flight_disrupted(session: AsyncSession, event: CloudEvent) -> None:
    disrupted = booking_events.order_flight_disrupted.parse(event)
    await keep_copy(session, disrupted.order)
    await note_disruption(session, disrupted)


async def on_confirmation_overdue(session: AsyncSession, event: CloudEvent) -> None:
    order = booking_events.order_confirmation_overdue.parse(event).order
    await keep_copy(session, order)
    await chase_confirmation(session, order)


HANDLERS: dict[str, Handler] = {
    booking_events.order_created.type: on_created,
    booking_events.order_confirmed.type: on_confirmed,
    booking_events.order_cancelled.type: on_cancelled,
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
            booking_events.order_changed,
            booking_events.order_rescheduled,
            booking_events.order_reassignment_needed,
        )
    },
}
