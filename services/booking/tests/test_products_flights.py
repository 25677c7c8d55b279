"""Products (prices per tier as data) and flights (upsert, ops status, airline events, publishing)."""

import uuid
from datetime import UTC, datetime, timedelta

import nats
import pytest
from booking_support import ADMIN, LEAD, flight_no, iso, local, local_day, new_flight, new_order, parse, publish_raw_airline_status

from airside.events import flights as flight_events
from airside_tools.testing.events import published_events
from airside_tools.testing.harness import auth, wait_for


async def test_seeded_products_carry_prices_per_tier(client):
    products = {
        product["code"]: product for product in (await client.get("/v1/products", headers=auth("member", member_id="m"))).json()["items"]
    }
    assert set(products) >= {"DEP_ESCORT", "ARR_MEET", "TRANSFER", "VIP_CHANNEL", "LOUNGE", "ASSIST"}
    assert products["DEP_ESCORT"]["duration_minutes"] == 90 and products["ARR_MEET"]["duration_minutes"] == 60
    assert products["VIP_CHANNEL"]["duration_minutes"] == 30 and products["LOUNGE"]["duration_minutes"] is None
    assert products["DEP_ESCORT"]["min_lead_minutes"] == 180
    assert set(products["LOUNGE"]["prices"]) == {"standard", "gold", "platinum", "vip"}


async def test_only_admin_changes_a_product_and_bad_prices_are_named(client):
    code = f"TEST_{uuid.uuid4().hex[:6].upper()}"
    body = {
        "name": "Fast track",
        "kind": "vip_lane",
        "duration_minutes": 20,
        "prices": {"standard": 100, "gold": 90, "platinum": 80, "vip": 70},
    }
    assert (await client.put(f"/v1/products/{code}", json=body, headers=auth("station_manager"))).status_code == 403
    response = await client.put(f"/v1/products/{code}", json=body, headers=ADMIN)
    assert response.status_code == 200 and response.json()["prices"]["vip"] == 70
    missing = await client.put(f"/v1/products/{code}", json={**body, "prices": {"standard": 1}}, headers=ADMIN)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "body.prices"


async def test_flight_routes_take_one_flight_no_and_parse_it(client):
    day = local_day(6)
    body = {"origin": "PEK", "destination": "KMG", "std": iso(local(day, 9)), "sta": iso(local(day, 12))}
    for number in (f"3U{uuid.uuid4().int % 9000 + 1000}", f"CA{uuid.uuid4().int % 900 + 100}A"):
        response = await client.put(f"/v1/flights/{number}/{day}", json=body, headers=LEAD)
        assert response.status_code == 200, response.text
        assert response.json()["carrier"] + response.json()["number"] == number
    for bad in ("C1", "CA12345", "ca1831", "CAA1831", "CA\u0661\u0668\u0663\u0661", "3U\uff18\uff18"):  # digits of other scripts too
        assert (await client.put(f"/v1/flights/{bad}/{day}", json=body, headers=LEAD)).status_code == 422


@pytest.mark.parametrize("airport", ["pek", "PEKK", "\x86\x15Õ", ""])
async def test_airports_must_be_iata_codes(client, airport):
    """Found by schemathesis: junk airports reached lounge's flight copy through the published status."""
    day = local_day(6)
    body = {"origin": airport, "destination": "KMG", "std": iso(local(day, 9)), "sta": iso(local(day, 12))}
    response = await client.put(f"/v1/flights/CA{uuid.uuid4().int % 9000 + 1000}/{day}", json=body, headers=ADMIN)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "body.origin"


async def test_flight_of_foreign_stations_is_forbidden_to_staff(client):
    body = {"origin": "CTU", "destination": "CAN", "std": iso(local(local_day(6), 9))}
    assert (await client.put(f"/v1/flights/ZZ{uuid.uuid4().int % 9000}/{local_day(6)}", json=body, headers=LEAD)).status_code == 403
    assert (
        await client.put(f"/v1/flights/ZZ{uuid.uuid4().int % 9000}/{local_day(6)}", json=body, headers=auth("service"))
    ).status_code == 200


async def test_ops_status_is_applied_and_published_by_booking(client, nats_server):
    order = await new_order(client)
    flight = order["flight"]
    url = f"/v1/flights/{flight['flight_no']}/{flight['flight_date']}"
    etd = parse(flight["std"]) + timedelta(minutes=40)
    response = await client.post(f"{url}/status", json={"status": "delayed", "etd": iso(etd), "gate": "C12"}, headers=LEAD)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "delayed" and parse(response.json()["etd"]) == etd
    # absent fields keep their values
    boarding = await client.post(f"{url}/status", json={"status": "boarding"}, headers=LEAD)
    assert boarding.json()["gate"] == "C12" and parse(boarding.json()["etd"]) == etd
    subject = f"{flight['flight_no']}/{flight['flight_date']}"
    events = await published_events(
        nats_server.url, "airside.flight.status", until=lambda seen: sum(event.subject == subject for event in seen) >= 3
    )
    mine = [event for event in events if event.subject == subject]
    assert {event.source for event in mine} == {"airside/booking"}
    assert [event.data["status"] for event in mine] == ["scheduled", "delayed", "boarding"]
    # booking's own echo is older-or-equal: the flight stays as it is
    await wait_for(lambda: _settled(client, url), timeout=5, what="flight unchanged by echoes")


async def _settled(client, url):
    body = (await client.get(url, headers=LEAD)).json()
    return body["status"] == "boarding" and body["gate"] == "C12"


async def test_status_for_an_unknown_flight_is_404(client):
    response = await client.post(f"/v1/flights/ZZ1/{local_day(6)}/status", json={"status": "delayed"}, headers=LEAD)
    assert response.status_code == 404


@pytest.mark.parametrize("role", ["agent", "concierge", "member"])
async def test_roles_outside_ops_cannot_enter_status(client, role):
    order = await new_order(client)
    flight = order["flight"]
    response = await client.post(
        f"/v1/flights/{flight['flight_no']}/{flight['flight_date']}/status", json={"status": "delayed"}, headers=auth(role, member_id="m")
    )
    assert response.status_code == 403


async def publish_airline_status(nats_url: str, **data) -> str:
    payload = flight_events.FlightStatusChanged.model_validate(data)
    event = flight_events.flight_status.build(payload, subject=f"{data['carrier']}{data['number']}", source="airline/ops-control")
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().publish("airside.flight.status", event.to_json(), headers={"Nats-Msg-Id": event.id})
    finally:
        await nc.close()
    return event.id


async def test_airline_status_updates_the_flight_ignoring_older_news(client, nats_server):
    std = local(local_day(7), 16)
    flight = new_flight(std)
    order = await new_order(client, flight=flight)
    url = f"/v1/flights/{flight_no(flight)}/{flight['flight_date']}"
    base = {key: flight[key] for key in ("carrier", "number", "flight_date", "origin", "destination")}
    stamp = parse(order["flight"]["updated_at"])
    await publish_airline_status(
        nats_server.url,
        **base,
        status="delayed",
        etd=iso(std + timedelta(minutes=30)),
        gate="A1",
        updated_at=iso(stamp + timedelta(minutes=5)),
    )

    async def delayed():
        body = (await client.get(url, headers=LEAD)).json()
        return body if body["status"] == "delayed" else None

    held = await wait_for(delayed, timeout=10, what="airline status applied")
    assert parse(held["etd"]) == std + timedelta(minutes=30) and held["gate"] == "A1"
    # older news is ignored; newer news without gate keeps the gate
    await publish_airline_status(nats_server.url, **base, status="cancelled", updated_at=iso(stamp + timedelta(minutes=1)))
    await publish_airline_status(nats_server.url, **base, status="boarding", updated_at=iso(stamp + timedelta(minutes=9)))

    async def boarding():
        body = (await client.get(url, headers=LEAD)).json()
        return body if body["status"] == "boarding" else None

    held = await wait_for(boarding, timeout=10, what="newer airline status applied")
    assert held["gate"] == "A1" and parse(held["etd"]) == std + timedelta(minutes=30)
    events = await published_events(
        nats_server.url,
        "airside.flight.status",
        until=lambda seen: any(
            e.source == "airside/booking"
            and e.data.get("status") == "boarding"
            and e.data["number"] == flight["number"]
            and e.data["carrier"] == flight["carrier"]
            for e in seen
        ),
    )
    relayed = [
        e.data["status"]
        for e in events
        if e.source == "airside/booking" and e.data["carrier"] == flight["carrier"] and e.data["number"] == flight["number"]
    ]
    assert "cancelled" not in relayed and relayed[-2:] == ["delayed", "boarding"]


@pytest.mark.parametrize(
    "malformed",
    [{"carrier": "C"}, {"carrier": "ca"}, {"number": "12345"}, {"number": "18A1"}, {"origin": "pek"}, {"destination": "KMGX"}],
)
async def test_a_malformed_airline_flight_is_dead_lettered_at_once_and_later_news_applies(client, nats_server, malformed):
    std = local(local_day(7), 16)
    flight = new_flight(std)
    order = await new_order(client, flight=flight)
    url = f"/v1/flights/{flight_no(flight)}/{flight['flight_date']}"
    base = {key: flight[key] for key in ("carrier", "number", "flight_date", "origin", "destination")}
    stamp = parse(order["flight"]["updated_at"])
    bad_id = await publish_raw_airline_status(
        nats_server.url, {**base, **malformed, "status": "cancelled", "updated_at": iso(stamp + timedelta(minutes=1))}
    )
    await publish_airline_status(
        nats_server.url, **base, status="delayed", etd=iso(std + timedelta(minutes=20)), updated_at=iso(stamp + timedelta(minutes=2))
    )

    async def delayed():
        body = (await client.get(url, headers=LEAD)).json()
        return body if body["status"] == "delayed" else None

    held = await wait_for(delayed, timeout=10, what="the later airline status applied")
    assert parse(held["etd"]) == std + timedelta(minutes=20)

    async def parked():
        letters = (await client.get("/v1/ops/dead-letters", params={"limit": 200}, headers=ADMIN)).json()["items"]
        return next((letter for letter in letters if letter["event_id"] == bad_id), None)

    letter = await wait_for(parked, timeout=5, what="the malformed status dead-lettered")
    assert letter["num_delivered"] == 1 and letter["status"] == "parked" and letter["consumer"] == "booking-flights"
    assert letter["event_type"] == "airside.flight.status" and "payload invalid" in letter["error"]
    assert (await client.get(f"/v1/orders/{order['id']}", headers=LEAD)).json()["flight"]["status"] == "delayed"


async def test_an_airline_status_a_day_ahead_is_dead_lettered_at_once_and_the_flight_takes_later_news(client, nats_server):
    """A status stamped in the future would outrank every real one after it (the newest `updated_at` wins)."""
    flight = new_flight(local(local_day(7), 16))
    order = await new_order(client, flight=flight)
    url = f"/v1/flights/{flight_no(flight)}/{flight['flight_date']}"
    base = {key: flight[key] for key in ("carrier", "number", "flight_date", "origin", "destination")}
    stamp = parse(order["flight"]["updated_at"])
    ahead = await publish_airline_status(
        nats_server.url, **base, status="cancelled", updated_at=iso(datetime.now(UTC) + timedelta(days=1, hours=1))
    )
    await publish_airline_status(nats_server.url, **base, status="delayed", updated_at=iso(stamp + timedelta(minutes=2)))

    async def delayed():
        body = (await client.get(url, headers=LEAD)).json()
        return body if body["status"] == "delayed" else None

    await wait_for(delayed, timeout=10, what="the later, real status applied")

    async def parked():
        letters = (await client.get("/v1/ops/dead-letters", params={"limit": 200}, headers=ADMIN)).json()["items"]
        return next((letter for letter in letters if letter["event_id"] == ahead), None)

    letter = await wait_for(parked, timeout=5, what="the status from the future dead-lettered")
    assert letter["num_delivered"] == 1 and letter["consumer"] == "booking-flights" and "ahead of now" in letter["error"]
    assert (await client.get(f"/v1/orders/{order['id']}", headers=LEAD)).json()["flight"]["status"] == "delayed"


async def test_ops_cannot_enter_a_status_stamped_more_than_a_day_ahead(client):
    flight = (await new_order(client))["flight"]
    url = f"/v1/flights/{flight['flight_no']}/{flight['flight_date']}/status"
    ahead = await client.post(url, json={"status": "delayed", "updated_at": iso(datetime.now(UTC) + timedelta(days=2))}, headers=LEAD)
    assert ahead.status_code == 422 and ahead.json()["errors"][0]["field"] == "body.updated_at", ahead.text
    soon = await client.post(url, json={"status": "delayed", "updated_at": iso(datetime.now(UTC) + timedelta(minutes=1))}, headers=LEAD)
    assert soon.status_code == 200, soon.text
