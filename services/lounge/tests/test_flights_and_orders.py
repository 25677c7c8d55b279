"""Lounge's copies from events: flights (newest updated_at wins, absent means unchanged) and expected visits."""

import uuid
from datetime import UTC, datetime, timedelta

from lounge_support import (
    ADMIN,
    PEK_STAFF,
    a_flight,
    a_member,
    expected_visit,
    flight_known,
    flight_number,
    order_snapshot,
    publish_flight,
    publish_order,
)

from airside.events import booking as booking_events
from airside_tools.testing.harness import auth, wait_for


async def test_the_flight_copy_keeps_the_newest_status_and_never_clears_a_field(client, nats_server):
    std = datetime(2031, 5, 1, 2, 0, tzinfo=UTC)
    t0 = datetime.now(UTC)
    flight_no, flight_date = await a_flight(client, nats_server.url, std, gate="E12", updated_at=t0)
    etd = std + timedelta(minutes=95)
    await publish_flight(nats_server.url, flight_no[2:], std, status="delayed", etd=etd, updated_at=t0 + timedelta(minutes=5))
    await publish_flight(nats_server.url, flight_no[2:], std, status="boarding", updated_at=t0 - timedelta(minutes=5), gate="X1")
    # Stamped at the same instant as the delay: not newer, so ignored here as in booking's copy.
    await publish_flight(nats_server.url, flight_no[2:], std, status="cancelled", updated_at=t0 + timedelta(minutes=5), gate="X2")
    flight = await wait_for(lambda: flight_known(client, flight_no, flight_date, status="delayed"), timeout=5, what="the delay")
    await a_flight(client, nats_server.url, std)  # a later event: the older one was handled by now
    flight = (await client.get(f"/v1/flights/{flight_no}/{flight_date}", headers=PEK_STAFF)).json()
    assert flight["status"] == "delayed" and flight["gate"] == "E12"
    assert datetime.fromisoformat(flight["etd"]) == etd and datetime.fromisoformat(flight["std"]) == std


async def test_a_flight_status_a_day_ahead_is_dead_lettered_at_once_and_the_copy_takes_later_news(client, nats_server):
    """A status stamped in the future would outrank every real one after it (the newest `updated_at` wins)."""
    std = datetime(2031, 5, 5, 2, 0, tzinfo=UTC)
    t0 = datetime.now(UTC)
    flight_no, flight_date = await a_flight(client, nats_server.url, std, updated_at=t0)
    await publish_flight(nats_server.url, flight_no[2:], std, status="cancelled", updated_at=t0 + timedelta(days=1, hours=1))
    await publish_flight(nats_server.url, flight_no[2:], std, status="delayed", updated_at=t0 + timedelta(minutes=5))
    await wait_for(lambda: flight_known(client, flight_no, flight_date, status="delayed"), timeout=5, what="the later, real status")

    async def parked() -> dict | None:
        letters = (await client.get("/v1/ops/dead-letters", params={"limit": 200}, headers=ADMIN)).json()["items"]
        return next((letter for letter in letters if f'"number":"{flight_no[2:]}"' in letter["payload"]), None)

    letter = await wait_for(parked, timeout=5, what="the status from the future dead-lettered")
    assert (letter["consumer"], letter["num_delivered"], letter["status"]) == ("lounge-flights", 1, "parked")
    assert '"status":"cancelled"' in letter["payload"] and "ahead of now" in letter["error"]


async def test_a_flight_path_takes_one_flight_number(client):
    assert (await client.get("/v1/flights/CA18311/2031-05-01", headers=PEK_STAFF)).status_code == 422
    assert (await client.get("/v1/flights/CA1831/not-a-date", headers=PEK_STAFF)).status_code == 422
    assert (await client.get(f"/v1/flights/CA{flight_number()}/2031-05-01", headers=PEK_STAFF)).status_code == 404
    assert (await client.get("/v1/flights/CA1831/2031-05-01", headers=auth("member", member_id="m"))).status_code == 403


async def test_a_flight_number_with_digits_of_another_script_is_refused_by_path_and_by_check_in(client):
    arabic_indic_1831 = "\u0661\u0668\u0663\u0661"  # int() reads it as 1831: check-in took it for CA1831
    assert (await client.get(f"/v1/flights/CA{arabic_indic_1831}/2031-05-01", headers=PEK_STAFF)).status_code == 422
    body = {"member_id": str(uuid.uuid4()), "flight": {"carrier": "CA", "number": arabic_indic_1831, "flight_date": "2031-05-01"}}
    response = await client.post("/v1/lounges/PEK-T3-VIP/visits", json=body, headers=PEK_STAFF)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "body.flight.number", response.text


async def test_staff_of_other_stations_do_not_see_the_flight(client, nats_server):
    flight_no, flight_date = await a_flight(client, nats_server.url, datetime(2031, 5, 2, 2, tzinfo=UTC), origin="PEK", destination="KMG")
    assert (await client.get(f"/v1/flights/{flight_no}/{flight_date}", headers=auth("lounge_staff", stations=["KMG"]))).status_code == 200
    assert (await client.get(f"/v1/flights/{flight_no}/{flight_date}", headers=auth("lounge_staff", stations=["CTU"]))).status_code == 404


async def test_orders_with_lounge_become_expected_visits_and_cancellation_drops_them(client, nats_server):
    std = datetime(2031, 5, 3, 2, tzinfo=UTC)
    flight_no, flight_date = await a_flight(client, nats_server.url, std)
    member_id = await a_member(client, nats_server.url)
    order_id = str(uuid.uuid4())
    snapshot = order_snapshot(order_id=order_id, member_id=member_id, flight_no=flight_no, flight_date=flight_date, std=std, passengers=2)
    await publish_order(nats_server.url, snapshot)
    row = await wait_for(lambda: expected_visit(client, order_id), timeout=5, what="the expected visit")
    assert (row["status"], row["passengers"], row["flight_no"]) == ("expected", 2, flight_no)

    cancelled = snapshot.model_copy(update={"version": 3, "status": "cancelled"})
    stale = snapshot.model_copy(update={"version": 2, "status": "confirmed"})
    await publish_order(nats_server.url, cancelled, booking_events.order_cancelled)
    await publish_order(nats_server.url, stale, booking_events.order_changed)
    row = await wait_for(lambda: expected_visit(client, order_id, version=3), timeout=5, what="the cancellation")
    assert row["status"] == "dropped"

    no_lounge = str(uuid.uuid4())
    await publish_order(
        nats_server.url,
        order_snapshot(order_id=no_lounge, member_id=member_id, flight_no=flight_no, flight_date=flight_date, products=("ESCORT",)),
    )
    marker = str(uuid.uuid4())
    await publish_order(nats_server.url, order_snapshot(order_id=marker, member_id=member_id, flight_no=flight_no, flight_date=flight_date))
    await wait_for(lambda: expected_visit(client, marker), timeout=5, what="a later order")
    assert await expected_visit(client, no_lounge) is None


async def test_an_order_teaches_lounge_its_flight_until_a_status_arrives(client, nats_server):
    std = datetime(2031, 5, 4, 2, tzinfo=UTC)
    number = flight_number()
    flight_date = std.date()
    member_id = await a_member(client, nats_server.url)
    order_id = str(uuid.uuid4())
    await publish_order(
        nats_server.url, order_snapshot(order_id=order_id, member_id=member_id, flight_no=f"CA{number}", flight_date=flight_date, std=std)
    )
    await wait_for(lambda: flight_known(client, f"CA{number}", flight_date), timeout=5, what="the flight from the order")
    await publish_flight(nats_server.url, number, std, status="delayed", updated_at=datetime.now(UTC))
    await wait_for(lambda: flight_known(client, f"CA{number}", flight_date, status="delayed"), timeout=5, what="the real status")
