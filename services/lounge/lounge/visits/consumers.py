"""What lounge does on a flight's status: the flight copy, then its guests' boarding calls.

visits owns the flow and calls down to flights; lounge.subscriptions runs the handler on the
durable consumer of the flight status stream.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from airside.events import flights as flight_events
from airside.messaging.envelope import CloudEvent
from airside.messaging.streams import Handler
from lounge.flights import service as flights
from lounge.visits import boarding


async def on_flight_status(session: AsyncSession, event: CloudEvent) -> None:
    status = flight_events.received_status(event)
    change = await flights.apply_status(session=session, flight_no=status.flight_no, status=status)
    if change is not None:
        await boarding.on_flight_change(session=session, change=change)


HANDLERS: dict[str, Handler] = {flight_events.flight_status.type: on_flight_status}
