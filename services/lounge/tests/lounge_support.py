"""Helpers for lounge tests: events in the shared schema, a frozen clock, unique flights."""

import itertools
import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import nats
from pydantic import BaseModel

from airside.events import booking as booking_events
from airside.events import flights as flight_events
from airside.events.common import FlightInfo, Money, Passenger
from airside.messaging.envelope import CloudEvent, EventDefinition
from airside_tools.testing import passes
from airside_tools.testing.harness import auth, wait_for

BEIJING = ZoneInfo("Asia/Shanghai")
PEK_STAFF = auth("lounge_staff", stations=["PEK"])
PEK_MANAGER = auth("station_manager", stations=["PEK"])
KMG_STAFF = auth("lounge_staff", stations=["KMG"])
ADMIN = auth("admin", stations=["*"])
PEK = "PEK-T3-VIP"
KMG = "KMG-VIP"

_numbers = itertools.count(random.randrange(1000, 5000))
_days = itertools.count(random.randrange(400))


def flight_number() -> str:
    """A flight number no other test of this run uses."""
    return str(next(_numbers))


def a_morning() -> datetime:
    """10:00 in Beijing on a day of its own, so flights and dates of different tests never meet."""
    day = date(2032, 1, 10) + timedelta(days=next(_days))
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=BEIJING).astimezone(UTC)


async def publish(
    nats_url: str, definition: EventDefinition[Any], payload: BaseModel, subject: str, source: str = "airside/booking"
) -> None:
    await publish_event(nats_url, definition.build(payload, subject=subject, source=source))


async def publish_event(nats_url: str, event: CloudEvent) -> None:
    """An envelope as it stands, on its type's subject (a test may have changed its data after building it)."""
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().publish(event.type, event.to_json(), headers={"Nats-Msg-Id": event.id})
    finally:
        await nc.close()


async def publish_flight(
    nats_url: str,
    number: str,
    std: datetime,
    *,
    carrier: str = "CA",
    origin: str = "PEK",
    destination: str = "KMG",
    status: str = "scheduled",
    updated_at: datetime | None = None,
    **fields: Any,
) -> date:
    flight_date = std.astimezone(BEIJING).date()
    payload = flight_events.FlightStatusChanged(
        carrier=carrier,
        number=number,
        flight_date=flight_date,
        origin=origin,
        destination=destination,
        status=status,
        updated_at=updated_at or datetime.now(UTC),
        std=std,
        **fields,
    )
    await publish(nats_url, flight_events.flight_status, payload, f"{carrier}{number}/{flight_date}", source="airline/ops")
    return flight_date


async def flight_known(client, flight_no: str, flight_date: date, **expected: Any) -> dict | None:
    response = await client.get(f"/v1/flights/{flight_no}/{flight_date}", headers=ADMIN)
    if response.status_code != 200:
        return None
    body = response.json()
    return body if all(body.get(key) == value for key, value in expected.items()) else None


async def a_flight(client, nats_url: str, std: datetime, **kwargs: Any) -> tuple[str, date]:
    """A flight published and copied: (flight_no, flight_date)."""
    number = flight_number()
    carrier = kwargs.get("carrier", "CA")
    flight_date = await publish_flight(nats_url, number, std, **kwargs)
    await wait_for(lambda: flight_known(client, f"{carrier}{number}", flight_date), timeout=5, what="the flight copy")
    return f"{carrier}{number}", flight_date


async def a_member(
    client, nats_url: str, *, tier: str = "gold", name: str = "Li Wei", version: int = 1, member_id: str | None = None
) -> str:
    member_id = member_id or str(uuid.uuid4())
    snapshot = booking_events.MemberSnapshot(
        id=member_id,
        card_no=f"AS{member_id[:8]}",
        name=name,
        phone="+8613800138000",
        tier=tier,
        version=version,
        updated_at=datetime.now(UTC),
    )
    definition = booking_events.member_registered if version == 1 else booking_events.member_updated
    await publish(nats_url, definition, booking_events.MemberEvent(member=snapshot), member_id)

    async def copied() -> bool:
        response = await client.get(f"/v1/members/{member_id}", headers=PEK_STAFF)
        return response.status_code == 200 and response.json()["version"] == version

    await wait_for(copied, timeout=5, what="the member copy")
    return member_id


def order_snapshot(
    *,
    order_id: str,
    member_id: str,
    flight_no: str,
    flight_date: date,
    std: datetime | None = None,
    products: tuple[str, ...] = ("LOUNGE",),
    passengers: int = 1,
    status: str = "confirmed",
    version: int = 1,
    station: str = "PEK",
    origin: str = "PEK",
) -> booking_events.OrderSnapshot:
    meet = (std or datetime.now(UTC)) - timedelta(hours=2)
    return booking_events.OrderSnapshot(
        id=order_id,
        ref=f"AS-{order_id[:6]}",
        version=version,
        member_id=member_id,
        station=station,
        status=status,
        direction="departure",
        flight=FlightInfo(
            flight_no=flight_no,
            carrier=flight_no[:2],
            number=flight_no[2:],
            flight_date=flight_date,
            origin=origin,
            destination="KMG",
            std=std,
        ),
        items=[booking_events.OrderItem(product=product) for product in products],
        passengers=[Passenger(name=f"Passenger {index}") for index in range(passengers)],
        meet_at=meet,
        staff_report_at=meet - timedelta(minutes=15),
        confirm_by=meet - timedelta(hours=2),
        price=Money(amount_minor=50000),
    )


async def publish_order(nats_url: str, snapshot: booking_events.OrderSnapshot, definition: EventDefinition[Any] | None = None) -> None:
    definition = definition or booking_events.order_created
    payload: BaseModel
    if definition is booking_events.order_cancelled:
        payload = booking_events.OrderCancelled(order=snapshot, reason="member asked")
    else:
        payload = booking_events.OrderEvent(order=snapshot)
    await publish(nats_url, definition, payload, snapshot.id)


async def expected_visit(client, order_id: str, *, version: int = 1, lounge: str = PEK) -> dict | None:
    response = await client.get(
        f"/v1/lounges/{lounge}/expected-visits", params={"order_id": order_id}, headers=PEK_MANAGER if lounge == PEK else ADMIN
    )
    rows = response.json()["items"] if response.status_code == 200 else []
    return rows[0] if rows and rows[0]["order_version"] == version else None


def boarding_pass(
    name: str, flight_no: str, flight_date: date, *, origin: str = "PEK", destination: str = "KMG", seat: str = "002A", cabin: str = "Y",
    frequent_flyer: tuple[str, str] | None = None,
) -> str:  # fmt: skip
    """The pass of a passenger of `flight_no` (a two-character carrier and its number); `cabin` is the compartment code,
    `frequent_flyer` the (airline designator, number) its conditional items carry."""
    carrier, number = flight_no[:2], flight_no[2:]
    return passes.boarding_pass(
        name, carrier=carrier, number=number, flight_date=flight_date, origin=origin, destination=destination, cabin=cabin, seat=seat,
        frequent_flyer=frequent_flyer,
    )  # fmt: skip
