"""Creating and completing an order have one write path on both databases (issue 11 item 1): a write
plan of the order's row, its history line, its event and the stored answer, carried out together or
not at all. These run on SQLite and on PostgreSQL alike; before, each database ran a different copy
(the ORM on SQLite, hand-written SQL on PostgreSQL), so neither copy was tested on the other."""

import asyncio
import uuid
from datetime import date, timedelta

import pytest
from booking_support import AGENT, LEAD, act, assigned_order, flight_no, local, local_day, new_flight, new_member, order_body
from sqlalchemy import func, select

from airside import clock
from airside.messaging.outbox import OutboxEvent
from airside_tools.testing.harness import auth, in_process, settings_for_test
from booking.flights.models import Flight
from booking.main import SERVICE
from booking.orders.models import Order, OrderHistory


async def _counts(booking, order_id: str) -> tuple[int, int]:
    async with booking.runtime.db.session() as session:
        history = await session.scalar(select(func.count()).where(OrderHistory.order_id == order_id))
        events = await session.scalar(select(func.count()).where(OutboxEvent.envelope.contains(order_id)))  # type: ignore[attr-defined]
    return int(history or 0), int(events or 0)


async def _known_flight(client) -> dict:
    """A flight booking knows with its schedule: the next order naming it writes no flight."""
    flight = new_flight(local(local_day(), 15))
    member = await new_member(client)
    assert (await client.post("/v1/orders", json=order_body(member["id"], flight), headers=AGENT)).status_code == 201
    return flight


@pytest.mark.parametrize("flight_known", [True, False], ids=["known flight", "new flight"])
async def test_racing_creations_with_one_key_write_one_order_its_history_and_its_event(booking, flight_known):
    client = booking.client
    flight = await _known_flight(client) if flight_known else new_flight(local(local_day(), 15))
    member = await new_member(client)
    headers = {**AGENT, "Idempotency-Key": uuid.uuid4().hex}
    body = order_body(member["id"], flight)
    answers = await asyncio.gather(*(client.post("/v1/orders", json=body, headers=headers) for _ in range(4)))
    assert {answer.status_code for answer in answers} == {201}, [answer.text for answer in answers]
    assert len({answer.text for answer in answers}) == 1  # every one is the first answer
    order_id = answers[0].json()["id"]
    async with booking.runtime.db.session() as session:
        orders = await session.scalar(select(func.count()).where(Order.member_id == member["id"]))
    assert orders == 1
    assert await _counts(booking, order_id) == (1, 1)


async def test_an_order_refused_after_its_new_flight_was_written_leaves_no_flight(booking):
    """The flight an order brings is written in the order's transaction: a later refusal takes it back."""
    client = booking.client
    member = await new_member(client)
    soon = clock.now() + timedelta(minutes=20)  # inside the lead time: a member's booking is refused
    flight = new_flight(soon + timedelta(hours=2))
    body = {**order_body(member["id"], flight, channel="app"), "meet_at": soon.isoformat()}
    refused = await client.post("/v1/orders", json=body, headers=auth("member", member_id=member["id"]))
    assert (refused.status_code, refused.json()["type"]) == (409, "/problems/too_late"), refused.text
    async with booking.runtime.db.session() as session:
        known = await session.get(Flight, (flight_no(flight), date.fromisoformat(flight["flight_date"])))
        flights = await session.scalar(select(func.count()).where(Flight.flight_no == flight_no(flight)))
        events = await session.scalar(select(func.count()).where(OutboxEvent.envelope.contains(flight_no(flight))))  # type: ignore[attr-defined]
    assert (known, flights, events) == (None, 0, 0)


async def test_racing_completions_complete_once(booking):
    """Two completions with different keys: one wins, the other is refused; one history line, one event."""
    client = booking.client
    order, concierge = await assigned_order(client)
    worker = auth("concierge", sub=concierge["subject"])
    assert (await act(client, order, "start", headers=worker)).status_code == 200
    answers = await asyncio.gather(
        *(act(client, order, "complete", headers={**worker, "Idempotency-Key": uuid.uuid4().hex}) for _ in range(3))
    )
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [200, 409, 409], [answer.text for answer in answers]
    async with booking.runtime.db.session() as session:
        history = (await session.execute(select(OrderHistory.action).where(OrderHistory.order_id == order["id"]))).scalars().all()
        events = await session.scalar(
            select(func.count()).where(OutboxEvent.subject == "airside.booking.order.completed", OutboxEvent.envelope.contains(order["id"]))  # type: ignore[attr-defined]
        )
    assert history.count("completed") == 1 and events == 1
    completed = next(answer for answer in answers if answer.status_code == 200).json()
    assert completed["status"] == "completed" and completed["version"] == order["version"] + 2


async def test_a_completion_retried_with_its_key_answers_the_first_answer_even_racing(booking):
    client = booking.client
    order, concierge = await assigned_order(client)
    worker = {**auth("concierge", sub=concierge["subject"]), "Idempotency-Key": uuid.uuid4().hex}
    assert (await act(client, order, "start", headers=auth("concierge", sub=concierge["subject"]))).status_code == 200
    body = {"fees_collected": {"amount_minor": 3000, "currency": "CNY", "method": "card"}}
    answers = await asyncio.gather(*(act(client, order, "complete", body, headers=worker) for _ in range(3)))
    assert {answer.status_code for answer in answers} == {200}, [answer.text for answer in answers]
    assert len({answer.text for answer in answers}) == 1
    assert answers[0].json()["fees_collected"] == {"amount_minor": 3000, "currency": "CNY", "method": "card"}
    assert (await _counts(booking, order["id"]))[0] == 5  # created, confirmed, assigned, started, completed


async def test_a_confirmation_retried_with_its_key_while_the_first_runs_answers_the_first_answer(booking):
    """The same for a move through the Session: a retry that lost the version race replays the first answer."""
    client = booking.client
    member = await new_member(client)
    order = (await client.post("/v1/orders", json=order_body(member["id"], new_flight(local(local_day(), 16))), headers=AGENT)).json()
    keyed = {**LEAD, "Idempotency-Key": uuid.uuid4().hex}
    answers = await asyncio.gather(*(act(client, order, "confirm", {"notes": "by phone"}, headers=keyed) for _ in range(3)))
    assert {answer.status_code for answer in answers} == {200}, [answer.text for answer in answers]
    assert len({answer.json()["version"] for answer in answers}) == 1


async def test_no_request_holds_two_connections_of_the_pool(nats_server, databases):
    """A request that held the connection of its read while it waited for a Session's (an order on a
    flight booking must write) waited out the pool's 30 s timeout, and answered 503, as soon as as
    many such requests ran as the pool holds (R1's first orders on its new flights did). With one
    connection for the relay's lock and one for everything else, every write still goes through."""
    settings = settings_for_test(SERVICE, database_url=databases.create("booking_small_pool"), nats_url=nats_server.url)
    settings = settings.model_copy(update={"db_pool_size": 2, "db_max_overflow": 0})
    async with in_process(SERVICE, settings) as booking:
        client = booking.client
        member = await new_member(client)
        for flight in (new_flight(local(local_day(), 15)), await _known_flight(client)):
            created = await asyncio.wait_for(client.post("/v1/orders", json=order_body(member["id"], flight), headers=AGENT), 20)
            assert created.status_code == 201, created.text
