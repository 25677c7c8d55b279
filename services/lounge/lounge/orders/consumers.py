"""What lounge does on booking's order events: orders with a LOUNGE item become expected visits.

lounge.subscriptions runs these handlers on the durable consumer of booking's stream.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from airside.events import booking as booking_events
from airside.messaging.envelope import CloudEvent
from airside.messaging.streams import Handler
from lounge.orders import service


async def on_order_event(session: AsyncSession, event: CloudEvent) -> None:
    """Every order event carries the whole order: orders with LOUNGE become expected visits."""
    await service.apply_order(session=session, order=booking_events.order_created.parse(event).order)


ORDER_EVENTS = (
    booking_events.order_created,
    booking_events.order_confirmed,
    booking_events.order_assigned,
    booking_events.order_started,
    booking_events.order_in_lounge,
    booking_events.order_completed,
    booking_events.order_no_show,
    booking_events.order_cancelled,
    booking_events.order_changed,
    booking_events.order_rescheduled,
    booking_events.order_reassignment_needed,
    booking_events.order_flight_disrupted,
    booking_events.order_confirmation_overdue,
)

HANDLERS: dict[str, Handler] = {definition.type: on_order_event for definition in ORDER_EVENTS}
