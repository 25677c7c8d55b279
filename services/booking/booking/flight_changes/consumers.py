"""Flight status from airline systems (and booking's own echo, which is older-or-equal and ignored)."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from airside.events import flights as flight_events
from airside.events.common import FlightStatus
from airside.messaging.envelope import CloudEvent
from airside.messaging.streams import Handler
from airside.types import known
from booking.flight_changes.service import apply_flight_change
from booking.flights.service import CHANGEABLE, FlightNews


def _utc(value: Any) -> Any:
    """Airline systems should send UTC with an offset; a bare time is taken as UTC."""
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) and value.tzinfo is None else value


async def on_flight_status(session: AsyncSession, event: CloudEvent) -> None:
    status = flight_events.received_status(event)
    updated_at = _utc(status.updated_at)
    fields = {name: _utc(getattr(status, name)) for name in CHANGEABLE if name in status.model_fields_set}
    # A status this release does not know changes no status (docs/events.md, Versioning); the times still apply.
    fields["status"] = known(FlightStatus, status.status)
    news = FlightNews(status.flight_no, status.flight_date, status.origin, status.destination, fields, updated_at, status.reason)
    await apply_flight_change(session=session, news=news)


HANDLERS: dict[str, Handler] = {flight_events.flight_status.type: on_flight_status}
