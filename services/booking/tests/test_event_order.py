"""R10: any order and any duplication of one aggregate's events leaves booking's orders and flights as
in-order delivery does (docs/events.md rule 4).

Each example builds two worlds of the same journey: an order made by booking's own routes, and the
events lounge (a visit of that order) or an airline system (its flight delayed, then cancelled or
delayed again) send about it, built from the shared event models as those producers build them. One
world is delivered in order, the other as hypothesis plans it, both through the consumer's own
inbox path on the real database; the worlds' final states must be equal.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from booking_support import act, assigned_order, confirmed_order, flight_no, parse
from hypothesis import strategies as st
from sqlalchemy import select

from airside.events import flights as flight_events
from airside.events import lounge as lounge_events
from airside.messaging.envelope import CloudEvent
from airside.messaging.outbox import OutboxEvent
from airside_tools.testing.convergence import anonymised, assert_same, check_property, deliver, examples, in_order, plans
from booking.flights.models import Flight
from booking.orders.models import Order, OrderHistory

VISITS, FLIGHTS = "booking-lounge-visits", "booking-flights"


def visit_events(order: dict) -> list[CloudEvent]:
    """Lounge's check-in and check-out of the order's visit, each with the whole visit (docs/lounge.md)."""
    checked_in_at = parse(order["meet_at"]) + timedelta(minutes=30)
    values = {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, order["id"])),  # one visit per world, a lounge id as lounge makes them
        "lounge_id": "PEK-T3-VIP",
        "station": order["station"],
        "member_id": order["member_id"],
        "order_id": order["id"],
        "flight_no": order["flight"]["flight_no"],
        "flight_date": order["flight"]["flight_date"],
        "guests": 0,
        "entitlement": "order",
        "checked_in_at": checked_in_at,
    }
    checked_in = lounge_events.VisitSnapshot(**values, version=1, status="checked_in")
    checked_out = lounge_events.VisitSnapshot(
        **values, version=3, status="checked_out", checked_out_at=checked_in_at + timedelta(minutes=50)
    )
    return [
        lounge_events.visit_checked_in.build(lounge_events.VisitEvent(visit=checked_in), subject=checked_in.id, source="airside/lounge"),
        lounge_events.visit_checked_out.build(lounge_events.VisitEvent(visit=checked_out), subject=checked_out.id, source="airside/lounge"),
    ]


def flight_news(order: dict, then: str) -> list[CloudEvent]:
    """An airline system's statuses, each the whole picture it knows: delayed 95 minutes, then `then`."""
    flight = order["flight"]
    std = parse(flight["std"])
    known = datetime.now(UTC).replace(microsecond=0)
    base = {key: flight[key] for key in ("carrier", "number", "flight_date", "origin", "destination")}

    def status(minutes_later: int, status: str, delay: int, **extra: object) -> CloudEvent:
        payload = flight_events.FlightStatusChanged(
            **base, status=status, updated_at=known + timedelta(minutes=minutes_later), std=std, etd=std + timedelta(minutes=delay), **extra
        )
        return flight_events.flight_status.build(payload, subject=f"{flight_no(flight)}/{flight['flight_date']}", source="airline/ops")

    news = [status(1, "delayed", 95, gate="A12")]
    if then == "cancelled":
        news.append(status(2, "cancelled", 95, gate="A12", reason="weather"))
    else:
        news += [status(2, "delayed", 150, gate="B3"), status(3, "boarding", 150, gate="B3")]
    return news


async def in_service_order(client) -> dict:
    order, _ = await assigned_order(client)
    response = await act(client, order, "start")
    assert response.status_code == 200, response.text
    return response.json()


async def lounge_only_order(client) -> dict:
    return await confirmed_order(client, items=[{"product": "LOUNGE"}])


async def assigned(client) -> dict:
    return (await assigned_order(client))[0]


@dataclass(frozen=True)
class Journey:
    name: str
    consumer: str
    order: object  # client -> order
    news: object  # order -> events


JOURNEYS = [
    Journey("escorted order's lounge visit", VISITS, in_service_order, visit_events),
    Journey("lounge-only order's visit", VISITS, lounge_only_order, visit_events),
    Journey("delay then cancellation", FLIGHTS, assigned, lambda order: flight_news(order, "cancelled")),
    Journey("delay then a longer delay and boarding", FLIGHTS, assigned, lambda order: flight_news(order, "delayed")),
]
EVENT_COUNTS = {
    "escorted order's lounge visit": 2,
    "lounge-only order's visit": 2,
    "delay then cancellation": 2,
    "delay then a longer delay and boarding": 3,
}


async def run_world(booking, journey: Journey, plan) -> dict:
    order = await journey.order(booking.client)
    events = journey.news(order)
    assert len(events) == EVENT_COUNTS[journey.name]
    await deliver(booking.runtime.consumers[journey.consumer], events, plan)
    return await final_state(booking, order, with_bookkeeping=journey.consumer == VISITS)


async def final_state(booking, order: dict, *, with_bookkeeping: bool) -> dict:
    """The order and its flight as booking holds them. A visit's events take an order through fixed steps,
    so its version, history and events must match too; flight news may skip a superseded status, so
    there the order's times, status and concierge must match, not how many steps it took."""
    async with booking.runtime.db.session() as session:
        held = await session.get(Order, order["id"])
        flight = await session.get(Flight, (held.flight_no, held.flight_date))
        fields = (
            "status",
            "meet_at",
            "staff_report_at",
            "confirm_by",
            "service_end_at",
            "concierge_id",
            "price_minor",
            "cancellation_fee_minor",
        )
        state = {
            "order": {name: getattr(held, name) for name in fields},
            "flight": flight.model_dump(exclude={"flight_no", "carrier", "number", "flight_date", "std", "sta"}),
        }
        if with_bookkeeping:
            history = await session.execute(
                select(OrderHistory.action, OrderHistory.status).where(OrderHistory.order_id == held.id).order_by(OrderHistory.id)
            )
            published = await session.execute(
                select(OutboxEvent.subject).where(OutboxEvent.envelope.contains(held.id)).order_by(OutboxEvent.seq)  # type: ignore[union-attr]
            )
            state |= {"version": held.version, "history": [tuple(line) for line in history.all()], "events": list(published.scalars())}
    std = parse(order["flight"]["std"])
    for key in ("etd", "updated_at"):  # times relative to the world's own schedule
        if state["flight"].get(key) is not None:
            state["flight"][key] = state["flight"][key] - std
    for key in ("meet_at", "staff_report_at", "confirm_by", "service_end_at"):
        state["order"][key] = state["order"][key] - std
    state["flight"]["updated_at"] = None  # stamped by the world's own clock
    return anonymised(state, {order["id"]: "<order>", order["concierge"]["id"] if order.get("concierge") else "-": "<concierge>"})


def journey_plans():
    return st.sampled_from(JOURNEYS).flatmap(lambda journey: st.tuples(st.just(journey), plans(EVENT_COUNTS[journey.name])))


async def test_r10_orders_and_flights_end_as_in_order_delivery_leaves_them(booking):
    async def converges(example) -> None:
        journey, plan = example
        expected = await run_world(booking, journey, in_order(EVENT_COUNTS[journey.name]))
        actual = await run_world(booking, journey, plan)
        assert_same(actual, expected, f"{journey.name}, delivered as {plan}")

    await check_property(journey_plans(), converges, max_examples=examples(30))


@pytest.mark.parametrize("journey", JOURNEYS, ids=[journey.name for journey in JOURNEYS])
async def test_r10_the_journey_reaches_its_end_state_in_order(booking, journey):
    """What 'in order' leaves, stated once per journey, so the property compares against the right thing."""
    state = await run_world(booking, journey, in_order(EVENT_COUNTS[journey.name]))
    if journey.consumer == VISITS:
        lounge_only = "lounge-only" in journey.name
        assert state["order"]["status"] == ("completed" if lounge_only else "in_service")
        assert [action for action, _status in state["history"]][-2:] == ["in_lounge", "completed" if lounge_only else "left_lounge"]
    else:
        delay = timedelta(minutes=95 if "cancellation" in journey.name else 150)
        assert state["flight"]["etd"] == delay and state["order"]["meet_at"] == delay - timedelta(minutes=120)
        assert state["flight"]["status"] == ("cancelled" if "cancellation" in journey.name else "boarding")


async def test_r10_a_late_check_in_never_undoes_its_check_out(booking):
    """The defect as found: check-out applied, then its check-in arrives (a retry reordered them)."""
    order = await in_service_order(booking.client)
    checked_in, checked_out = visit_events(order)
    consumer = booking.runtime.consumers[VISITS]
    await consumer.apply(checked_out)
    await consumer.apply(checked_in)
    state = await final_state(booking, order, with_bookkeeping=True)
    assert state["order"]["status"] == "in_service"
    assert [action for action, _status in state["history"]][-2:] == ["in_lounge", "left_lounge"]
