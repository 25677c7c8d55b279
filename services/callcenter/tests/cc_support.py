"""Helpers for the call center's tests: stations of their own, agents, a driven clock, events as booking sends them."""

import random
import string
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import nats
from pydantic import BaseModel
from sqlalchemy import select

from airside import clock
from airside.events import booking as booking_events
from airside.messaging.envelope import EventDefinition
from airside.messaging.outbox import OutboxEvent
from airside_tools.testing.harness import auth
from callcenter.stations import Station

# 2030-03-05 is a Tuesday; Asia/Shanghai is UTC+8 with no DST.
DAY = date(2030, 3, 5)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """A Beijing wall-clock time as a UTC instant."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def iso(at: datetime) -> str:
    """How the API writes an instant."""
    return at.isoformat().replace("+00:00", "Z")


@contextmanager
def frozen(at: datetime) -> Iterator[None]:
    """Drive the service clock (never sleep): requests and handlers inside see `at`."""
    clock.override = at
    try:
        yield
    finally:
        clock.override = None


async def new_station(service, *, holidays: list[str] | None = None) -> str:
    """A station of this test's own, so queues and reports hold only this test's data."""
    async with service.runtime.db.session() as session:
        while True:
            code = "".join(random.choices(string.ascii_uppercase, k=3))
            if code not in ("PEK", "KMG") and await session.get(Station, code) is None:
                break
        session.add(Station(code=code, name=f"Test {code}", timezone="Asia/Shanghai", holidays=holidays or []))
        await session.commit()
    return code


async def new_agent(client, station: str, role: str = "agent", *, team: str | None = None) -> tuple[dict, dict[str, str]]:
    """An agent record and the headers of a token acting as that agent."""
    sub = f"sub-{uuid.uuid4()}"
    body = {"name": f"Agent {sub[-4:]}", "station": station, "role": role, "subject": sub, "team": team}
    response = await client.post("/v1/agents", json=body, headers=auth("supervisor", stations=[station]))
    assert response.status_code == 201, response.text
    return response.json(), auth(role, stations=[station], sub=sub)


def ticket_body(station: str, **overrides) -> dict:
    return {
        "type": "inquiry",
        "channel": "phone",
        "subject": "Lounge opening hours",
        "description": "Caller asks",
        "station": station,
        **overrides,
    }


async def open_ticket(client, headers: dict[str, str], station: str, **overrides) -> dict:
    response = await client.post("/v1/tickets", json=ticket_body(station, **overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def outbox(service, event_type: str, subject: str | None = None) -> list[dict]:
    """The events the service recorded (the outbox is the record), oldest first."""
    import orjson

    async with service.runtime.db.session() as session:
        query = select(OutboxEvent).where(OutboxEvent.subject == event_type).order_by(OutboxEvent.seq)
        rows = (await session.execute(query)).scalars().all()
    envelopes = [orjson.loads(row.envelope) for row in rows]
    return [envelope for envelope in envelopes if subject is None or envelope.get("subject") == subject]


def order_snapshot(
    station: str, *, member_id: str | None = None, version: int = 1, status: str = "requested", **overrides
) -> booking_events.OrderSnapshot:
    order_id = overrides.pop("id", str(uuid.uuid4()))
    meet_at = datetime(2030, 3, 6, 2, 0, tzinfo=UTC)
    values = {
        "id": order_id,
        "ref": f"SO{order_id[:6].upper()}",
        "version": version,
        "member_id": member_id or str(uuid.uuid4()),
        "station": station,
        "status": status,
        "direction": "departure",
        "flight": {
            "flight_no": "CA1831",
            "carrier": "CA",
            "number": "1831",
            "flight_date": "2030-03-06",
            "origin": "PEK",
            "destination": "KMG",
        },
        "items": [{"product": "departure_escort"}, {"product": "lounge"}],
        "passengers": [{"name": "陈静"}],
        "meet_at": meet_at,
        "staff_report_at": meet_at - timedelta(minutes=15),
        "confirm_by": meet_at - timedelta(hours=2),
        "concierge": {"id": "c-1", "name": "王芳"},
        "price": {"amount_minor": 88000},
        **overrides,
    }
    return booking_events.OrderSnapshot.model_validate(values)


async def publish(nats_url: str, definition: EventDefinition, payload: BaseModel, *, subject: str, event_id: str | None = None) -> str:
    """Publish as booking (or lounge) would; returns the event id."""
    event = definition.build(payload, subject=subject, source=f"airside/{definition.producer}")
    if event_id:
        event.id = event_id
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().publish(event.type, event.to_json(), headers={"Nats-Msg-Id": event.id})
    finally:
        await nc.close()
    return event.id
