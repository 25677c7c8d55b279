"""R10: any order and any duplication of one aggregate's events leaves every copy, ticket and callback
as in-order delivery does (docs/events.md rule 4).

Each example builds two worlds of the same journey (fresh order, member, ticket and visit ids), with
the events booking and lounge send built from the shared event models exactly as their producers
build them; delivers one world in order and the other as hypothesis plans it, through the
consumer's own inbox path on the real database; and compares the two worlds' final state.
"""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from cc_support import new_station, open_ticket, order_snapshot
from hypothesis import strategies as st
from sqlalchemy import or_, select

from airside.events import booking as booking_events
from airside.events import lounge as lounge_events
from airside.messaging.envelope import CloudEvent, EventDefinition
from airside_tools.testing.convergence import anonymised, assert_same, check_property, deliver, examples, in_order, plans
from airside_tools.testing.harness import auth
from callcenter.callbacks.models import Callback
from callcenter.copies import OrderCopy, VisitCopy
from callcenter.members.models import Member
from callcenter.tickets.models import Ticket, TicketNote

# 2030-03-06 09:30 Beijing: inside calling hours, so a callback's due time is its event's time.
JOURNEY_START = datetime(2030, 3, 6, 1, 30, tzinfo=UTC)
REF = "PEK-R10ORD"
CONCIERGE = {"id": "concierge-r10", "name": "王芳"}


@dataclass
class World:
    station: str
    order: str = field(default_factory=lambda: str(uuid.uuid4()))
    member: str = field(default_factory=lambda: str(uuid.uuid4()))
    visit: str = field(default_factory=lambda: str(uuid.uuid4()))
    ticket: str = "no-ticket"

    def roles(self) -> dict[str, str]:
        return {self.order: "<order>", self.member: "<member>", self.visit: "<visit>", self.ticket: "<ticket>"}


def timed(events: list[tuple[EventDefinition, object, str]]) -> list[CloudEvent]:
    """Envelopes as the producer's outbox holds them, a minute apart, so both worlds carry the same times."""
    built = []
    for minute, (definition, payload, subject) in enumerate(events):
        event = definition.build(payload, subject=subject, source=f"airside/{definition.producer}")
        built.append(event.model_copy(update={"time": JOURNEY_START + timedelta(minutes=minute)}))
    return built


def order_events(world: World, steps: list[tuple[EventDefinition, int, str, dict]]) -> list[CloudEvent]:
    """Booking's order events: each carries the whole order at its version (docs/booking.md)."""
    events = []
    for definition, version, status, extra in steps:
        snapshot = order_snapshot(
            world.station,
            id=world.order,
            ref=REF,
            member_id=world.member,
            version=version,
            status=status,
            items=[{"product": "DEP_ESCORT"}, {"product": "LOUNGE"}],
            concierge=CONCIERGE if version >= 3 and status not in ("requested", "confirmed") else None,
            source_ticket_id=world.ticket if world.ticket != "no-ticket" else None,
            **extra.pop("order", {}),
        )
        events.append((definition, definition.payload(order=snapshot, **extra), world.order))
    return timed(events)


def phone_booking(world: World, ending: str, overdue: bool) -> list[CloudEvent]:
    """Journey 1 (and 2, 4): a booking request, the order, maybe its confirmation chased, to its end."""
    steps = [(booking_events.order_created, 1, "requested", {})]
    if overdue:
        steps.append((booking_events.order_confirmation_overdue, 1, "requested", {}))
    if ending == "cancelled":
        return order_events(world, [*steps, (booking_events.order_cancelled, 2, "cancelled", {})])
    steps += [(booking_events.order_confirmed, 2, "confirmed", {}), (booking_events.order_assigned, 3, "assigned", {})]
    if ending == "no_show":
        return order_events(world, [*steps, (booking_events.order_no_show, 4, "no_show", {})])
    steps += [
        (booking_events.order_started, 4, "in_service", {}),
        (booking_events.order_in_lounge, 5, "in_lounge", {"visit_id": world.visit}),
        (booking_events.order_changed, 6, "in_service", {}),
        (booking_events.order_completed, 7, "completed", {"fees_collected": {"amount_minor": 5000, "method": "cash"}}),
    ]
    return order_events(world, steps)


def disruption(world: World, cancelled: bool) -> list[CloudEvent]:
    """Journey 5: delayed 95 minutes (the order moves), then more news: cancelled, or delayed further."""
    moved = {"order": {"meet_at": datetime(2030, 3, 6, 3, 35, tzinfo=UTC)}}
    steps = [
        (booking_events.order_created, 1, "requested", {}),
        (booking_events.order_confirmed, 2, "confirmed", {}),
        (booking_events.order_assigned, 3, "assigned", {}),
        (
            booking_events.order_rescheduled,
            4,
            "assigned",
            {**moved, "old_meet_at": JOURNEY_START, "new_meet_at": JOURNEY_START, "delay_minutes": 95},
        ),
        (booking_events.order_flight_disrupted, 4, "assigned", {**moved, "delay_minutes": 95, "cancelled": False}),
    ]
    if cancelled:
        steps += [
            (booking_events.order_flight_disrupted, 4, "assigned", {**moved, "delay_minutes": 95, "cancelled": True}),
            (booking_events.order_cancelled, 5, "cancelled", dict(moved)),
        ]
    else:
        later = {"order": {"meet_at": datetime(2030, 3, 6, 4, 30, tzinfo=UTC)}}
        steps.append(
            (
                booking_events.order_rescheduled,
                5,
                "assigned",
                {**later, "old_meet_at": JOURNEY_START, "new_meet_at": JOURNEY_START, "delay_minutes": 150},
            )
        )
        steps.append((booking_events.order_flight_disrupted, 5, "assigned", {**later, "delay_minutes": 150, "cancelled": False}))
    return order_events(world, steps)


def lounge_visit(world: World) -> list[CloudEvent]:
    """Journey 3 as lounge tells it: checked in, called, the flight moved, checked out."""
    checked_in_at = JOURNEY_START + timedelta(hours=1)

    def snapshot(version: int, status: str, **values: object) -> lounge_events.VisitSnapshot:
        return lounge_events.VisitSnapshot(
            id=world.visit,
            version=version,
            lounge_id="PEK-T3-VIP",
            station=world.station,
            member_id=world.member,
            order_id=world.order,
            flight_no="CA1831",
            flight_date=checked_in_at.date(),
            guests=1,
            entitlement="order",
            status=status,
            checked_in_at=checked_in_at,
            boarding_call_at=checked_in_at + timedelta(hours=1),
            **values,
        )

    return timed(
        [
            (lounge_events.visit_checked_in, lounge_events.VisitEvent(visit=snapshot(1, "checked_in")), world.visit),
            (lounge_events.visit_boarding_call_due, lounge_events.VisitEvent(visit=snapshot(1, "checked_in")), world.visit),
            (
                lounge_events.visit_flight_changed,
                lounge_events.VisitFlightChanged(
                    visit=snapshot(2, "checked_in"), new_etd=checked_in_at + timedelta(hours=2), delay_minutes=30
                ),
                world.visit,
            ),
            (
                lounge_events.visit_checked_out,
                lounge_events.VisitEvent(visit=snapshot(3, "checked_out", checked_out_at=checked_in_at + timedelta(hours=1))),
                world.visit,
            ),
        ]
    )


def member_changes(world: World) -> list[CloudEvent]:
    def member(version: int, name: str, tier: str) -> booking_events.MemberEvent:
        values = {"id": world.member, "card_no": "R10-CARD", "name": name, "phone": "+8613800138000", "tier": tier}
        return booking_events.MemberEvent(member={**values, "version": version, "updated_at": JOURNEY_START + timedelta(minutes=version)})

    return timed(
        [
            (booking_events.member_registered, member(1, "陈静", "standard"), world.member),
            (booking_events.member_updated, member(2, "陈静", "gold"), world.member),
            (booking_events.member_updated, member(3, "陈 静", "platinum"), world.member),
        ]
    )


@dataclass(frozen=True)
class Journey:
    name: str
    consumer: str
    build: object  # World -> list[CloudEvent]
    source_ticket: bool = False
    complaint: bool = False  # an agent records a complaint against the visit at some point of the delivery


BOOKING, LOUNGE = "callcenter-booking", "callcenter-lounge"
JOURNEYS = [
    Journey("phone booking, completed", BOOKING, lambda w: phone_booking(w, "completed", overdue=False), source_ticket=True),
    Journey("phone booking chased, completed", BOOKING, lambda w: phone_booking(w, "completed", overdue=True), source_ticket=True),
    Journey("phone booking chased, cancelled", BOOKING, lambda w: phone_booking(w, "cancelled", overdue=True), source_ticket=True),
    Journey("phone booking, no-show", BOOKING, lambda w: phone_booking(w, "no_show", overdue=False), source_ticket=True),
    Journey("delay then cancellation", BOOKING, lambda w: disruption(w, cancelled=True)),
    Journey("delay then a longer delay", BOOKING, lambda w: disruption(w, cancelled=False)),
    Journey("complaint about a lounge visit", LOUNGE, lounge_visit, complaint=True),
    Journey("member changes", BOOKING, member_changes),
]
EVENT_COUNTS = {journey.name: len(journey.build(World(station="XXX"))) for journey in JOURNEYS}


def journey_plans():
    def with_plan(journey: Journey):
        count = EVENT_COUNTS[journey.name]
        # The complaint's moment: before the first batch, between two, or after the last.
        return st.tuples(st.just(journey), plans(count, extra=min(count, 6)), st.integers(0, 2 * count))

    return st.sampled_from(JOURNEYS).flatmap(with_plan)


async def run_world(callcenter, station: str, journey: Journey, plan, complaint_at: int) -> dict:
    staff = auth("agent", stations=[station])
    world = World(station=station)
    if journey.source_ticket:
        world.ticket = (await open_ticket(callcenter.client, staff, station, type="booking_request", subject="Escort + lounge CA1831"))[
            "id"
        ]
    events = journey.build(world)
    consumer = callcenter.runtime.consumers[journey.consumer]
    complaint_at = min(complaint_at, len(plan))
    await deliver(consumer, events, plan[:complaint_at])
    if journey.complaint:
        complaint = await open_ticket(callcenter.client, staff, station, type="complaint", subject="Lounge too noisy", visit_id=world.visit)
        world.ticket = complaint["id"]
    await deliver(consumer, events, plan[complaint_at:])
    return await final_state(callcenter, world)


async def final_state(callcenter, world: World) -> dict:
    """Everything the call center holds of this world, without bookkeeping (versions of its own, times of now)."""
    async with callcenter.runtime.db.session() as session:
        copy = await session.get(OrderCopy, world.order)
        visit = await session.get(VisitCopy, world.visit)
        member = await session.get(Member, world.member)
        found = (
            await session.execute(
                select(Ticket).where(or_(Ticket.order_id == world.order, Ticket.id == world.ticket, Ticket.visit_id == world.visit))
            )
        ).scalars()
        tickets = []
        for ticket in found:
            notes = (await session.execute(select(TicketNote.body).where(TicketNote.ticket_id == ticket.id))).scalars()
            fields = (
                "type",
                "status",
                "priority",
                "origin",
                "origin_key",
                "order_id",
                "member_id",
                "visit_id",
                "complaint_stage",
                "subject",
            )
            tickets.append({**{name: getattr(ticket, name) for name in fields}, "description": ticket.description, "notes": sorted(notes)})
        callbacks = (await session.execute(select(Callback).where(Callback.order_id == world.order))).scalars()
        callback_fields = ("purpose", "status", "due_at", "due_by", "occurred_at", "products", "concierge_id", "order_ref", "member_id")
        state = {
            "order": copy.model_dump(exclude={"id"}) if copy else None,
            "visit": visit.model_dump(exclude={"id"}) if visit else None,
            "member": member.model_dump(exclude={"id"}) if member else None,
            "tickets": sorted(tickets, key=repr),
            "callbacks": sorted(({name: getattr(c, name) for name in callback_fields} for c in callbacks), key=repr),
        }
    return anonymised(state, world.roles())


async def test_r10_every_ticket_callback_and_copy_ends_as_in_order_delivery_leaves_it(callcenter):
    station = await new_station(callcenter)

    async def converges(example) -> None:
        journey, plan, complaint_at = example
        count = EVENT_COUNTS[journey.name]
        expected = await run_world(callcenter, station, journey, in_order(count), count)
        actual = await run_world(callcenter, station, journey, plan, complaint_at)
        assert_same(actual, expected, f"{journey.name}, delivered as {plan}")

    await check_property(journey_plans(), converges, max_examples=examples(40))


@pytest.mark.parametrize("journey", JOURNEYS, ids=[journey.name for journey in JOURNEYS])
async def test_r10_the_journey_reaches_its_end_state_in_order(callcenter, journey):
    """What 'in order' leaves, stated once per journey, so the property compares against the right thing."""
    station = await new_station(callcenter)
    count = EVENT_COUNTS[journey.name]
    state = await run_world(callcenter, station, journey, in_order(count), count)
    tickets = {(ticket["type"], ticket["origin"]): ticket for ticket in state["tickets"]}
    if journey.source_ticket:
        request = tickets[("booking_request", None)]
        assert request["order_id"] == "<order>" and request["member_id"] == "<member>"
        assert request["status"] == ("pending_customer" if "cancelled" in journey.name else "resolved")
    if "chased" in journey.name:
        assert tickets[("outbound", "confirmation_overdue")]["status"] == "resolved"
    if "completed" in journey.name:
        assert [callback["purpose"] for callback in state["callbacks"]] == ["service_followup"]
    if "no-show" in journey.name:
        assert [callback["purpose"] for callback in state["callbacks"]] == ["no_show"]
    if "delay" in journey.name:
        (outbound,) = [ticket for ticket in state["tickets"] if ticket["origin"] == "disruption"]
        assert outbound["priority"] == "P1" and outbound["status"] == "new"
        assert outbound["notes"] == sorted(
            [
                "Flight CA1831 delayed 95 min",
                "Flight CA1831 cancelled" if "cancellation" in journey.name else "Flight CA1831 delayed 150 min",
            ]
        )
    if journey.complaint:
        complaint = tickets[("complaint", None)]
        assert (complaint["member_id"], complaint["order_id"], complaint["visit_id"]) == ("<member>", "<order>", "<visit>")
        assert state["visit"]["status"] == "checked_out" and state["visit"]["version"] == 3
    if journey.name == "member changes":
        assert (state["member"]["tier"], state["member"]["version"]) == ("platinum", 3)


async def test_r10_a_confirmation_before_its_creation_leaves_the_booking_request_resolved(callcenter):
    """The defect as found: order.confirmed applied first, then order.created moved the request back to
    pending_customer, where journey 1 waited for ever."""
    station = await new_station(callcenter)
    world = World(station=station)
    staff = auth("agent", stations=[station])
    world.ticket = (await open_ticket(callcenter.client, staff, station, type="booking_request", subject="Escort CA1831"))["id"]
    created, confirmed = phone_booking(world, "completed", overdue=False)[:2]
    consumer = callcenter.runtime.consumers[BOOKING]
    await consumer.apply(confirmed)
    await consumer.apply(created)
    (request,) = (await final_state(callcenter, world))["tickets"]
    assert (request["status"], request["order_id"]) == ("resolved", "<order>")
