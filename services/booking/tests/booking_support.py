"""Builders shared by booking's tests: unique members, flights, concierges and orders per test."""

import random
import string
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import nats

from airside.events import flights as flight_events
from airside.messaging.envelope import CloudEvent
from airside_tools.testing.harness import auth

SHANGHAI = ZoneInfo("Asia/Shanghai")
AGENT = auth("agent", stations=["PEK"])
LEAD = auth("concierge_lead", stations=["PEK"])
ADMIN = auth("admin", stations=["*"])


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """A Shanghai wall-clock time as a UTC instant."""
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI).astimezone(UTC)


def local_day(days_ahead: int = 5) -> date:
    return (datetime.now(SHANGHAI) + timedelta(days=days_ahead)).date()


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def new_flight(std: datetime | None = None, *, sta: datetime | None = None, origin: str = "PEK", destination: str = "KMG") -> dict:
    """A flight booking has never seen: random carrier and number."""
    carrier = random.choice(string.ascii_uppercase) + random.choice(string.ascii_uppercase + string.digits)
    number = str(random.randint(1, 9999)) + random.choice(["", *string.ascii_uppercase])
    anchor = std or sta
    assert anchor is not None
    body = {
        "carrier": carrier,
        "number": number,
        "flight_date": anchor.astimezone(SHANGHAI).date().isoformat(),
        "origin": origin,
        "destination": destination,
    }
    if std is not None:
        body["std"] = iso(std)
    if sta is not None:
        body["sta"] = iso(sta)
    return body


def flight_no(flight: dict) -> str:
    return flight["carrier"] + flight["number"]


async def publish_raw_airline_status(nats_url: str, data: dict) -> str:
    """An airline event as sent, unchecked: what a broken (or newer) airline system could put on the stream."""
    event = CloudEvent(
        id=str(uuid.uuid4()),
        source="airline/ops-control",
        type=flight_events.flight_status.type,
        time=datetime.now(UTC),
        dataschema=flight_events.flight_status.dataschema,
        data=data,
    )
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().publish("airside.flight.status", event.to_json(), headers={"Nats-Msg-Id": event.id})
    finally:
        await nc.close()
    return event.id


async def new_member(client, tier: str = "gold") -> dict:
    response = await client.post("/v1/members", json={"name": "王芳", "phone": "+8613900139000", "tier": tier}, headers=AGENT)
    assert response.status_code == 201, response.text
    return response.json()


def order_body(member_id: str, flight: dict, **overrides) -> dict:
    return {
        "member_id": member_id,
        "station": "PEK",
        "direction": "departure",
        "flight": flight,
        "items": [{"product": "DEP_ESCORT"}, {"product": "LOUNGE"}],
        "passengers": [{"name": "王芳"}],
        "channel": "call_center",
        **overrides,
    }


async def new_order(client, *, member: dict | None = None, std: datetime | None = None, headers: dict | None = None, **overrides) -> dict:
    member = member or await new_member(client)
    flight = overrides.pop("flight", None) or new_flight(std or local(local_day(), 15))
    response = await client.post("/v1/orders", json=order_body(member["id"], flight, **overrides), headers=headers or AGENT)
    assert response.status_code == 201, response.text
    return response.json()


async def new_concierge(
    client, station: str = "PEK", *, shifts: list[tuple[date, str, str]] = (), subject: str | None = None, name: str | None = None
) -> dict:
    headers = auth("concierge_lead", stations=[station])
    body = {"name": name or f"礼宾 {uuid.uuid4().hex[:4]}", "station": station, "phone": "+8613700137000"}
    if subject:
        body["subject"] = subject
    response = await client.post("/v1/concierges", json=body, headers=headers)
    assert response.status_code == 201, response.text
    concierge = response.json()
    by_day: dict[date, list[dict]] = {}
    for day, start, end in shifts:
        by_day.setdefault(day, []).append({"start": start, "end": end})
    for day, ranges in by_day.items():
        put = await client.put(f"/v1/concierges/{concierge['id']}/shifts/{day.isoformat()}", json=ranges, headers=headers)
        assert put.status_code == 200, put.text
    return concierge


async def act(client, order: dict, action: str, body: dict | None = None, headers: dict | None = None):
    return await client.post(f"/v1/orders/{order['id']}/{action}", json=body, headers=headers or LEAD)


async def confirmed_order(client, **kwargs) -> dict:
    order = await new_order(client, **kwargs)
    response = await act(client, order, "confirm")
    assert response.status_code == 200, response.text
    return response.json()


async def assigned_order(client, concierge_name: str | None = None, **kwargs) -> tuple[dict, dict]:
    """An order assigned to a fresh concierge on shift all that local day and the next."""
    order = await confirmed_order(client, **kwargs)
    day = parse(order["meet_at"]).astimezone(SHANGHAI).date()
    # Two overnight shifts end to end: on duty from noon the day before to noon the day after.
    shifts = [(day - timedelta(days=1), "12:00", "11:59"), (day, "11:59", "11:58")]
    concierge = await new_concierge(client, shifts=shifts, name=concierge_name)
    response = await act(client, order, "assign", {"concierge_id": concierge["id"]})
    assert response.status_code == 200, response.text
    return response.json(), concierge
