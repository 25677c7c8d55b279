"""A flight status booking does not know yet (issue 13 item 3, docs/events.md Versioning): an airline's event
carrying it is applied, status unchanged, never parked; booking's own API and events keep to the known ones."""

import logging
from datetime import timedelta

from booking_support import ADMIN, LEAD, flight_no, iso, local, local_day, new_flight, new_order, parse, publish_raw_airline_status

from airside_tools.testing.events import published_events
from airside_tools.testing.harness import wait_for


async def test_an_unknown_airline_status_changes_no_status_the_rest_applies_and_it_is_logged_once(client, nats_server, caplog):
    caplog.set_level(logging.WARNING, logger="airside.events")
    std = local(local_day(8), 15)
    flight = new_flight(std)
    order = await new_order(client, flight=flight)
    url = f"/v1/flights/{flight_no(flight)}/{flight['flight_date']}"
    base = {key: flight[key] for key in ("carrier", "number", "flight_date", "origin", "destination")}
    stamp = parse(order["flight"]["updated_at"])
    etd = std + timedelta(minutes=50)
    sent = [
        await publish_raw_airline_status(
            nats_server.url, {**base, "status": "diverted", "etd": iso(etd), "gate": gate, "updated_at": iso(stamp + timedelta(minutes=n))}
        )
        for n, gate in ((1, "D1"), (2, "D2"))
    ]

    async def applied():
        body = (await client.get(url, headers=LEAD)).json()
        return body if body["gate"] == "D2" else None

    held = await wait_for(applied, timeout=10, what="both events applied")
    assert held["status"] == "scheduled" and parse(held["etd"]) == etd
    assert (await client.get(f"/v1/orders/{order['id']}", headers=LEAD)).json()["flight"]["status"] == "scheduled"
    letters = (await client.get("/v1/ops/dead-letters", params={"limit": 200}, headers=ADMIN)).json()["items"]
    assert not [letter for letter in letters if letter["event_id"] in sent]
    logged = [record for record in caplog.records if record.name == "airside.events" and "'diverted'" in record.getMessage()]
    assert len(logged) == 1 and "airside.flight.status" in logged[0].getMessage(), [record.getMessage() for record in logged]

    # Booking passes the flight on as it holds it: the new gate, and a status it knows.
    events = await published_events(
        nats_server.url,
        "airside.flight.status",
        until=lambda seen: any(
            e.source == "airside/booking" and e.data["number"] == flight["number"] and e.data.get("gate") == "D2" for e in seen
        ),
    )
    echoes = [e.data for e in events if e.source == "airside/booking" and e.data["number"] == flight["number"] and e.data.get("gate")]
    assert {data["status"] for data in echoes} == {"scheduled"}


async def test_a_status_booking_does_not_know_is_still_refused_over_http(client):
    """Booking's own API is held to the statuses it knows: only a consumer of events is tolerant."""
    flight = (await new_order(client))["flight"]
    url = f"/v1/flights/{flight['flight_no']}/{flight['flight_date']}"
    for response in (
        await client.post(f"{url}/status", json={"status": "diverted"}, headers=LEAD),
        await client.put(url, json={"origin": flight["origin"], "destination": flight["destination"], "status": "diverted"}, headers=LEAD),
    ):
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert [error["field"] for error in response.json()["errors"]] == ["body.status"], response.text
    assert (await client.get(url, headers=LEAD)).json()["status"] == "scheduled"
