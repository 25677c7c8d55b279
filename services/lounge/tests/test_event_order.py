"""R10: any order and any duplication of one aggregate's events leaves lounge's expected visits, flight
copies and visits as in-order delivery does (docs/events.md rule 4).

Each example builds two worlds of the same journey (fresh order, member and flight): booking's order
events of an order with LOUNGE, or booking's flight status of a guest's flight (delayed, then
cancelled or delayed again and departed) while the guest is in the lounge, built from the shared
event models as booking builds them. One world is delivered in order, the other as hypothesis plans
it, both through the consumer's own inbox path on the real database; their final states must match.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import strategies as st
from lounge_support import BEIJING, PEK, PEK_STAFF, a_morning, flight_number, order_snapshot

from airside.events import booking as booking_events
from airside.events import flights as flight_events
from airside.messaging.envelope import CloudEvent
from airside_tools.testing.convergence import anonymised, assert_same, check_property, deliver, examples, in_order, plans
from lounge.flights.models import Flight
from lounge.orders.models import ExpectedVisit
from lounge.visits.models import Visit

ORDERS, FLIGHTS = "lounge-booking", "lounge-flights"


def member_of(order_id: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, order_id))


def order_news(order_id: str, flight_no: str, std: datetime, variant: str) -> list[CloudEvent]:
    """Booking's events of one order, each with the whole order at its version."""
    escort, lounge = ("DEP_ESCORT",), ("DEP_ESCORT", "LOUNGE")
    steps = {
        "served": [
            ("created", lounge, "requested"),
            ("confirmed", lounge, "confirmed"),
            ("assigned", lounge, "assigned"),
            ("started", lounge, "in_service"),
            ("in_lounge", lounge, "in_lounge"),
            ("changed", lounge, "in_service"),
            ("completed", lounge, "completed"),
        ],
        "cancelled": [("created", lounge, "requested"), ("confirmed", lounge, "confirmed"), ("cancelled", lounge, "cancelled")],
        "lounge removed": [("created", lounge, "requested"), ("changed", escort, "requested"), ("confirmed", escort, "confirmed")],
        "lounge added": [("created", escort, "requested"), ("changed", lounge, "requested"), ("confirmed", lounge, "confirmed")],
    }[variant]
    member_id = member_of(order_id)
    events = []
    for version, (name, products, status) in enumerate(steps, start=1):
        snapshot = order_snapshot(
            order_id=order_id,
            member_id=member_id,
            flight_no=flight_no,
            flight_date=std.astimezone(BEIJING).date(),
            std=std,
            products=products,
            status=status,
            version=version,
        )
        definition = getattr(booking_events, f"order_{name}")
        events.append(definition.build(definition.payload(order=snapshot), subject=order_id, source="airside/booking"))
    return events


def flight_status(flight_no: str, std: datetime, known: datetime, status: str, **times: datetime) -> CloudEvent:
    """Booking's echo of a flight it changed: the whole flight, every time (docs/booking.md)."""
    payload = flight_events.FlightStatusChanged(
        carrier=flight_no[:2],
        number=flight_no[2:],
        flight_date=std.astimezone(BEIJING).date(),
        origin="PEK",
        destination="KMG",
        status=status,
        updated_at=known,
        std=std,
        gate="E12",
        **times,
    )
    return flight_events.flight_status.build(payload, subject=f"{flight_no}/{payload.flight_date}", source="airside/booking")


def flight_news(flight_no: str, std: datetime, now: datetime, variant: str) -> list[CloudEvent]:
    later = [now + timedelta(minutes=minutes) for minutes in range(1, 4)]
    news = [flight_status(flight_no, std, later[0], "delayed", etd=std + timedelta(minutes=95))]
    if variant == "cancelled":
        return [*news, flight_status(flight_no, std, later[1], "cancelled", etd=std + timedelta(minutes=95))]
    return [
        *news,
        flight_status(flight_no, std, later[1], "delayed", etd=std + timedelta(minutes=150)),
        flight_status(flight_no, std, later[2], "departed", etd=std + timedelta(minutes=150), atd=std + timedelta(minutes=155)),
    ]


@dataclass(frozen=True)
class Journey:
    name: str
    consumer: str
    variant: str
    events: int


JOURNEYS = [
    Journey("order with lounge, served", ORDERS, "served", 7),
    Journey("order with lounge, cancelled", ORDERS, "cancelled", 3),
    Journey("lounge removed by a change", ORDERS, "lounge removed", 3),
    Journey("lounge added by a change", ORDERS, "lounge added", 3),
    Journey("guest's flight delayed then cancelled", FLIGHTS, "cancelled", 2),
    Journey("guest's flight delayed twice, departed", FLIGHTS, "departed", 3),
]


def relative(values: dict, to: datetime) -> dict:
    """Times as offsets from the world's own schedule, so worlds on different days compare."""
    return {key: value - to if isinstance(value, datetime) else value for key, value in values.items()}


async def order_world(lounge, journey: Journey, plan) -> dict:
    order_id, flight_no, std = str(uuid.uuid4()), f"CA{flight_number()}", datetime.now(UTC).replace(microsecond=0) + timedelta(hours=5)
    await deliver(lounge.runtime.consumers[ORDERS], order_news(order_id, flight_no, std, journey.variant), plan)
    async with lounge.runtime.db.session() as session:
        row = await session.get(ExpectedVisit, order_id)
        flight = await session.get(Flight, (flight_no, std.astimezone(BEIJING).date()))
        state = {
            "expected": row.model_dump(exclude={"order_id", "updated_at", "flight_date"}) if row else None,
            "flight": relative(flight.model_dump(exclude={"flight_no", "number", "flight_date", "updated_at"}), std) if flight else None,
        }
    return anonymised(state, {order_id: "<order>", member_of(order_id): "<member>", order_id[:6]: "<ref>", flight_no: "<flight>"})


async def flight_world(lounge, frozen, journey: Journey, plan) -> dict:
    now = a_morning()
    frozen(now)
    flight_no, std = f"CA{flight_number()}", now + timedelta(hours=2)
    member_id = str(uuid.uuid4())
    member = booking_events.MemberSnapshot(
        id=member_id, card_no="R10", name="Li Wei", phone="+8613800138000", tier="gold", version=1, updated_at=now
    )
    registered = booking_events.member_registered.build(
        booking_events.MemberEvent(member=member), subject=member_id, source="airside/booking"
    )
    await lounge.runtime.consumers[ORDERS].apply(registered)
    await lounge.runtime.consumers[FLIGHTS].apply(flight_status(flight_no, std, now, "scheduled"))
    body = {
        "member_id": member_id,
        "flight": {"carrier": "CA", "number": flight_no[2:], "flight_date": str(std.astimezone(BEIJING).date())},
    }
    response = await lounge.client.post(f"/v1/lounges/{PEK}/visits", json=body, headers=PEK_STAFF)
    assert response.status_code == 201, response.text
    visit_id = response.json()["id"]
    frozen(now + timedelta(minutes=5))  # the news arrives a little later
    await deliver(lounge.runtime.consumers[FLIGHTS], flight_news(flight_no, std, now, journey.variant), plan)
    async with lounge.runtime.db.session() as session:
        visit = await session.get(Visit, visit_id)
        flight = await session.get(Flight, (flight_no, std.astimezone(BEIJING).date()))
        fields = (
            "status",
            "entitlement",
            "guests",
            "checked_in_at",
            "checked_out_at",
            "boarding_call_at",
            "boarding_call_sent_for",
            "open_key",
        )
        state = {
            "visit": relative({name: getattr(visit, name) for name in fields}, std),
            "flight": relative(flight.model_dump(exclude={"flight_no", "number", "flight_date"}), std),
        }
    if visit.status == "checked_in":  # leave the lounge as empty as it was
        await lounge.client.post(f"/v1/visits/{visit_id}/checkout", json={"payment_method": "card"}, headers=PEK_STAFF)
    return anonymised(state, {member_id: "<member>", flight_no: "<flight>", str(std.astimezone(BEIJING).date()): "<date>"})


async def run_world(lounge, frozen, journey: Journey, plan) -> dict:
    if journey.consumer == ORDERS:
        return await order_world(lounge, journey, plan)
    return await flight_world(lounge, frozen, journey, plan)


def journey_plans():
    return st.sampled_from(JOURNEYS).flatmap(
        lambda journey: st.tuples(st.just(journey), plans(journey.events, extra=min(journey.events, 5)))
    )


async def test_r10_expected_visits_flights_and_visits_end_as_in_order_delivery_leaves_them(lounge, frozen):
    async def converges(example) -> None:
        journey, plan = example
        expected = await run_world(lounge, frozen, journey, in_order(journey.events))
        actual = await run_world(lounge, frozen, journey, plan)
        assert_same(actual, expected, f"{journey.name}, delivered as {plan}")

    await check_property(journey_plans(), converges, max_examples=examples(40))


@pytest.mark.parametrize("journey", JOURNEYS, ids=[journey.name for journey in JOURNEYS])
async def test_r10_the_journey_reaches_its_end_state_in_order(lounge, frozen, journey):
    """What 'in order' leaves, stated once per journey, so the property compares against the right thing."""
    state = await run_world(lounge, frozen, journey, in_order(journey.events))
    if journey.consumer == ORDERS:
        expected = {"served": "expected", "cancelled": "dropped", "lounge removed": "dropped", "lounge added": "expected"}[journey.variant]
        assert (state["expected"]["status"], state["expected"]["order_version"]) == (expected, journey.events)
        assert state["flight"] is not None
    elif journey.variant == "cancelled":
        assert state["visit"]["status"] == "checked_in" and state["flight"]["status"] == "cancelled"
        assert state["visit"]["boarding_call_at"] == timedelta(minutes=95 - 40)
    else:
        assert state["visit"]["status"] == "checked_out" and state["visit"]["open_key"] is None
        assert state["visit"]["boarding_call_at"] == timedelta(minutes=150 - 40)


async def test_r10_an_older_snapshot_with_lounge_never_makes_a_dropped_order_expected_again(lounge):
    """A change removed the order's LOUNGE item; its creation (with LOUNGE) arrives after that change."""
    order_id, flight_no, std = str(uuid.uuid4()), f"CA{flight_number()}", datetime.now(UTC) + timedelta(hours=5)
    created, changed, _confirmed = order_news(order_id, flight_no, std, "lounge removed")
    consumer = lounge.runtime.consumers[ORDERS]
    await consumer.apply(changed)
    await consumer.apply(created)
    async with lounge.runtime.db.session() as session:
        row = await session.get(ExpectedVisit, order_id)
    assert (row.status, row.order_version) == ("dropped", 2)
