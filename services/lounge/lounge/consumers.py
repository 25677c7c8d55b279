"""What lounge takes from other services' streams."""

from sqlalchemy.ext.asyncio import AsyncSession

from airside.copies import copy_handlers
from airside.events import booking as booking_events
from airside.events import flights as flight_events
from airside.messaging.envelope import CloudEvent
from airside.messaging.streams import ConsumerSpec
from lounge.flights import service as flights
from lounge.members.models import Member
from lounge.orders import service as orders
from lounge.stations import Station
from lounge.visits import boarding


async def apply_order(session: AsyncSession, event: CloudEvent) -> None:
    """Every order event carries the whole order: orders with LOUNGE become expected visits."""
    await orders.apply_order(session=session, order=booking_events.order_created.parse(event).order)


async def apply_flight_status(session: AsyncSession, event: CloudEvent) -> None:
    status = flight_events.received_status(event)
    change = await flights.apply_status(session=session, flight_no=status.flight_no, status=status)
    if change is not None:
        await boarding.on_flight_change(session=session, change=change)


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

BOOKING = ConsumerSpec(
    durable="lounge-booking",
    stream="AIRSIDE_BOOKING",
    filter_subject="airside.booking.>",
    handlers={
        **copy_handlers(stations=Station, members=Member),
        **{definition.type: apply_order for definition in ORDER_EVENTS},
    },
)

FLIGHTS = ConsumerSpec(
    durable="lounge-flights",
    stream="AIRSIDE_FLIGHTS",
    filter_subject="airside.flight.status",
    handlers={flight_events.flight_status.type: apply_flight_status},
)

CONSUMERS = [BOOKING, FLIGHTS]
