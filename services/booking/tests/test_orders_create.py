"""Creating orders: defaults for the times (across local midnight), price at tier, lead time, SSR and tier rules, ref, idempotency."""

import asyncio
import re
import uuid
from datetime import timedelta

import pytest
from booking_support import AGENT, SHANGHAI, iso, local, local_day, new_flight, new_member, new_order, order_body, parse

from airside_tools.testing.events import published_events
from airside_tools.testing.harness import auth
from booking.orders import times


async def test_a_departure_gets_every_default_and_order_created(client, nats_server):
    day = local_day()
    order = await new_order(client, std=local(day, 15))
    assert re.fullmatch(r"PEK-[2-9A-HJ-NP-Z]{6}", order["ref"]) and order["status"] == "requested" and order["version"] == 1
    assert parse(order["meet_at"]) == local(day, 13)
    assert parse(order["staff_report_at"]) == local(day, 12, 45)
    assert parse(order["confirm_by"]) == local(day, 11)
    assert parse(order["service_end_at"]) == local(day, 14, 30)  # meet_at + 90 min (DEP_ESCORT)
    assert order["price"] == {"amount_minor": 58_000 + 20_000, "currency": "CNY"}  # gold: escort + lounge
    events = await published_events(
        nats_server.url, "airside.booking.order.created", until=lambda seen: any(e.subject == order["id"] for e in seen)
    )
    snapshot = next(e for e in events if e.subject == order["id"]).data["order"]
    assert snapshot["ref"] == order["ref"] and snapshot["flight"]["std"] and snapshot["price"]["amount_minor"] == 78_000


@pytest.mark.parametrize(
    ("std_local", "meet_local", "report_local", "confirm_local"),
    [
        # meet_at 23:30 the evening before; confirm_by 21:30 is after calling hours → 21:00 that evening
        ((0, 1, 30), (-1, 23, 30), (-1, 23, 15), (-1, 21, 0)),
        # meet_at 03:00; confirm_by 01:00 is before calling hours → 21:00 the evening before
        ((0, 5, 0), (0, 3, 0), (0, 2, 45), (-1, 21, 0)),
        # meet_at 00:10; staff report 23:55 the day before
        ((0, 2, 10), (0, 0, 10), (-1, 23, 55), (-1, 21, 0)),
        # exactly 21:00 and exactly 09:00 are inside calling hours
        ((0, 1, 0), (-1, 23, 0), (-1, 22, 45), (-1, 21, 0)),
        ((0, 13, 0), (0, 11, 0), (0, 10, 45), (0, 9, 0)),
        ((0, 12, 59), (0, 10, 59), (0, 10, 44), (-1, 21, 0)),
    ],
)
async def test_times_across_local_midnight(client, std_local, meet_local, report_local, confirm_local):
    day = local_day()

    def at(spec):
        offset, hour, minute = spec
        return local(day + timedelta(days=offset), hour, minute)

    order = await new_order(client, std=at(std_local))
    assert order["flight"]["flight_date"] == day.isoformat()
    assert parse(order["meet_at"]) == at(meet_local)
    assert parse(order["staff_report_at"]) == at(report_local)
    assert parse(order["confirm_by"]) == at(confirm_local)


def test_confirm_by_rule_in_isolation():
    day = local_day()
    assert times.confirm_by(local(day, 23, 0), SHANGHAI) == local(day, 21, 0)
    assert times.confirm_by(local(day, 23, 1), SHANGHAI) == local(day, 21, 0)
    assert times.confirm_by(local(day, 11, 0), SHANGHAI) == local(day, 9, 0)
    assert times.confirm_by(local(day, 10, 59), SHANGHAI) == local(day - timedelta(days=1), 21, 0)
    assert times.confirm_by(local(day, 18, 0), SHANGHAI) == local(day, 16, 0)


async def test_arrival_meets_at_eta_or_sta_and_transfer_at_sta(client):
    day = local_day()
    member = await new_member(client)
    sta = local(day, 0, 10)
    arrival = await client.post(
        "/v1/orders",
        json=order_body(
            member["id"], new_flight(sta=sta, origin="KMG", destination="PEK"), direction="arrival", items=[{"product": "ARR_MEET"}]
        ),
        headers=AGENT,
    )
    assert arrival.status_code == 201, arrival.text
    body = arrival.json()
    assert parse(body["meet_at"]) == sta and parse(body["staff_report_at"]) == local(day - timedelta(days=1), 23, 55)
    transfer = await client.post(
        "/v1/orders",
        json=order_body(
            member["id"],
            new_flight(sta=local(day, 14), origin="KMG", destination="PEK"),
            direction="transfer",
            items=[{"product": "TRANSFER"}],
            notes="onward CA1831",
        ),
        headers=AGENT,
    )
    assert transfer.status_code == 201 and parse(transfer.json()["meet_at"]) == local(day, 14)


async def test_an_explicit_meet_at_wins(client):
    day = local_day()
    order = await new_order(client, std=local(day, 15), meet_at=iso(local(day, 12, 30)), meeting_point="Gate 3 counter")
    assert parse(order["meet_at"]) == local(day, 12, 30) and order["meeting_point"] == "Gate 3 counter"


async def test_an_unknown_flight_needs_std(client):
    member = await new_member(client)
    flight = new_flight(local(local_day(), 15))
    del flight["std"]
    response = await client.post("/v1/orders", json=order_body(member["id"], flight), headers=AGENT)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "body.flight.std"


async def test_a_known_flight_is_reused_with_its_delay(client):
    order = await new_order(client)
    flight = {key: order["flight"][key] for key in ("carrier", "number", "flight_date", "origin", "destination")}
    etd = parse(order["flight"]["std"]) + timedelta(minutes=30)
    url = f"/v1/flights/{order['flight']['flight_no']}/{flight['flight_date']}/status"
    assert (await client.post(url, json={"status": "delayed", "etd": iso(etd)}, headers=auth("concierge_lead"))).status_code == 200
    second = await new_order(client, flight=flight)
    assert parse(second["meet_at"]) == etd - timedelta(minutes=120)


async def test_a_known_flight_keeps_its_schedule_whatever_the_order_says(client):
    day = local_day()
    first = await new_order(client, std=local(day, 15))
    known = first["flight"]
    url = f"/v1/flights/{known['flight_no']}/{known['flight_date']}"
    ref = {key: known[key] for key in ("carrier", "number", "flight_date", "origin", "destination")}
    without_std = await new_order(client, flight=ref)
    assert parse(without_std["meet_at"]) == local(day, 13)
    other_std = await new_order(client, flight={**ref, "std": iso(local(day, 18))})
    assert parse(other_std["meet_at"]) == local(day, 13)  # booking's schedule wins
    held = (await client.get(url, headers=AGENT)).json()
    assert parse(held["std"]) == local(day, 15) and held["sta"] is None and held["updated_at"] == known["updated_at"]


async def test_a_known_flight_lacking_std_or_sta_gets_them_from_the_order(client):
    day = local_day()
    lead = auth("concierge_lead", stations=["PEK"])
    departure = new_flight(sta=local(day, 18))  # PEK → KMG, only its arrival known
    url = f"/v1/flights/{departure['carrier'] + departure['number']}/{departure['flight_date']}"
    put = await client.put(url, json={"origin": "PEK", "destination": "KMG", "sta": departure["sta"]}, headers=lead)
    assert put.status_code == 200 and put.json()["std"] is None
    member = await new_member(client)
    refused = await client.post("/v1/orders", json=order_body(member["id"], {**departure, "sta": None}), headers=AGENT)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "body.flight.std"
    order = await new_order(client, member=member, flight={**departure, "std": iso(local(day, 15)), "sta": iso(local(day, 19))})
    assert parse(order["meet_at"]) == local(day, 13)
    held = (await client.get(url, headers=lead)).json()
    assert parse(held["std"]) == local(day, 15) and parse(held["sta"]) == local(day, 18)  # filled std, kept sta
    # an arrival at PEK on a flight known only by its departure gets its sta from the order
    arrival = new_flight(local(day, 9), origin="KMG", destination="PEK")
    arrival_url = f"/v1/flights/{arrival['carrier'] + arrival['number']}/{arrival['flight_date']}"
    assert (
        await client.put(arrival_url, json={"origin": "KMG", "destination": "PEK", "std": arrival["std"]}, headers=lead)
    ).status_code == 200
    body = order_body(
        member["id"], {**arrival, "std": None, "sta": iso(local(day, 12))}, direction="arrival", items=[{"product": "ARR_MEET"}]
    )
    response = await client.post("/v1/orders", json=body, headers=AGENT)
    assert response.status_code == 201 and parse(response.json()["meet_at"]) == local(day, 12)
    assert parse((await client.get(arrival_url, headers=lead)).json()["sta"]) == local(day, 12)


@pytest.mark.parametrize(
    ("direction", "product", "needed"),
    [("departure", "DEP_ESCORT", "std"), ("arrival", "ARR_MEET", "sta"), ("transfer", "TRANSFER", "sta")],
)
async def test_an_unknown_flight_needs_its_time_even_with_a_meet_at(client, direction, product, needed):
    """docs/booking.md: for an unknown flight the order must give std (departure) or sta (arrival); meet_at is no substitute."""
    day = local_day()
    member = await new_member(client)
    route = {"origin": "PEK", "destination": "KMG"} if direction == "departure" else {"origin": "KMG", "destination": "PEK"}
    other = "sta" if needed == "std" else "std"
    flight = new_flight(**{other: local(day, 15)}, **route)
    body = order_body(member["id"], flight, direction=direction, items=[{"product": product}], meet_at=iso(local(day, 13)))
    response = await client.post("/v1/orders", json=body, headers=AGENT)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == f"body.flight.{needed}"
    url = f"/v1/flights/{flight['carrier'] + flight['number']}/{flight['flight_date']}"
    assert (await client.get(url, headers=AGENT)).status_code == 404  # nothing was created


async def test_an_order_naming_a_known_flight_by_another_route_is_422(client):
    order = await new_order(client)
    known = order["flight"]
    ref = {key: known[key] for key in ("carrier", "number", "flight_date")}
    member = await new_member(client)
    # booking knows it PEK → KMG; an order at PEK claiming it leaves PEK for CTU is refused
    body = order_body(member["id"], {**ref, "origin": "PEK", "destination": "CTU"})
    response = await client.post("/v1/orders", json=body, headers=AGENT)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "body.flight.destination"
    # and an arrival at KMG on it needs no std or sta: booking has them
    arrival = await client.post(
        "/v1/orders",
        json=order_body(
            member["id"],
            {**ref, "origin": "PEK", "destination": "KMG"},
            station="KMG",
            direction="arrival",
            items=[{"product": "ARR_MEET"}],
            meet_at=iso(parse(known["std"]) + timedelta(hours=3)),
        ),
        headers=auth("agent", stations=["KMG"]),
    )
    assert arrival.status_code == 201, arrival.text


async def test_a_station_that_is_not_the_flights_side_is_422(client):
    member = await new_member(client)
    response = await client.post(
        "/v1/orders", json=order_body(member["id"], new_flight(local(local_day(), 15), origin="KMG", destination="PEK")), headers=AGENT
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "body.station"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"items": []}, "body.items"),
        ({"items": [{"product": "NOPE"}]}, "body.items.0.product"),
        ({"passengers": []}, "body.passengers"),
        ({"passengers": [{"name": "A"}] * 10}, "body.passengers"),
        ({"passengers": [{"name": "A", "ssr": ["XXXX"]}]}, "body.passengers.0.ssr.0"),
        ({"direction": "sideways"}, "body.direction"),
        ({"channel": "fax"}, "body.channel"),
        ({"station": "pek"}, "body.station"),
        ({"meet_at": "2026-12-01T10:00:00"}, "body.meet_at"),
        ({"member_id": "no-such-member"}, "body.member_id"),
    ],
)
async def test_bad_order_input_is_a_422_naming_the_field(client, overrides, field):
    member = await new_member(client)
    body = {**order_body(member["id"], new_flight(local(local_day(), 15))), **overrides}
    response = await client.post("/v1/orders", json=body, headers=AGENT)
    assert response.status_code == 422, response.text
    assert any(error["field"].startswith(field) for error in response.json()["errors"]), response.json()


async def test_assist_needs_an_ssr_code(client):
    member = await new_member(client)
    flight = new_flight(local(local_day(), 15))
    without = await client.post("/v1/orders", json=order_body(member["id"], flight, items=[{"product": "ASSIST"}]), headers=AGENT)
    assert without.status_code == 422 and without.json()["errors"][0]["field"] == "body.passengers"
    with_ssr = await client.post(
        "/v1/orders",
        json=order_body(
            member["id"], flight, items=[{"product": "ASSIST"}], passengers=[{"name": "王芳"}, {"name": "李明", "ssr": ["WCHR"]}]
        ),
        headers=AGENT,
    )
    assert with_ssr.status_code == 201


@pytest.mark.parametrize(("tier", "status"), [("standard", 409), ("gold", 409), ("platinum", 201), ("vip", 201)])
async def test_vip_channel_needs_platinum(client, tier, status):
    member = await new_member(client, tier=tier)
    body = order_body(member["id"], new_flight(local(local_day(), 15)), items=[{"product": "VIP_CHANNEL"}])
    response = await client.post("/v1/orders", json=body, headers=AGENT)
    assert response.status_code == status
    if status == 409:
        assert response.json()["type"] == "/problems/tier_required"


@pytest.mark.parametrize(("tier", "expected"), [("standard", 68_000 + 28_000), ("platinum", 48_000 + 10_000), ("vip", 38_000)])
async def test_price_is_the_items_at_the_members_tier(client, tier, expected):
    order = await new_order(client, member=await new_member(client, tier=tier))
    assert order["price"]["amount_minor"] == expected


async def test_lead_time_refuses_members_and_charges_staff_20_percent(client):
    member = await new_member(client)
    soon = iso(_now_plus(minutes=170))  # meet in 170 min: inside the 180 min lead time
    flight = new_flight(_now_plus(minutes=300))
    mine = auth("member", member_id=member["id"])
    refused = await client.post("/v1/orders", json=order_body(member["id"], flight, channel="app", meet_at=soon), headers=mine)
    assert refused.status_code == 409 and refused.json()["type"] == "/problems/too_late"
    staff = await client.post("/v1/orders", json=order_body(member["id"], flight, meet_at=soon), headers=AGENT)
    assert staff.status_code == 201
    assert staff.json()["price"]["amount_minor"] == 93_600 and staff.json()["late_fee"]["amount_minor"] == 15_600  # 78,000 + 20%
    in_time = await client.post(
        "/v1/orders", json=order_body(member["id"], flight, channel="app", meet_at=iso(_now_plus(minutes=190))), headers=mine
    )
    assert in_time.status_code == 201 and in_time.json()["price"]["amount_minor"] == 78_000 and in_time.json()["late_fee"] is None


def _now_plus(**delta):
    from datetime import UTC, datetime

    return datetime.now(UTC) + timedelta(**delta)


async def test_a_meeting_time_in_the_past_is_too_late_even_for_staff(client):
    member = await new_member(client)
    body = order_body(member["id"], new_flight(_now_plus(minutes=60)), meet_at=iso(_now_plus(minutes=-5)))
    response = await client.post("/v1/orders", json=body, headers=AGENT)
    assert response.status_code == 409 and response.json()["type"] == "/problems/too_late"


async def test_creation_is_idempotent_under_retry(client):
    member = await new_member(client)
    body = order_body(member["id"], new_flight(local(local_day(), 15)))
    headers = {**AGENT, "Idempotency-Key": uuid.uuid4().hex}
    first, *retries = await asyncio.gather(*(client.post("/v1/orders", json=body, headers=headers) for _ in range(3)))
    assert first.status_code == 201
    assert {response.json()["id"] for response in [first, *retries]} == {first.json()["id"]}
    again = await client.post("/v1/orders", json=body, headers=headers)
    assert again.json()["id"] == first.json()["id"] and again.headers.get("Idempotent-Replay") == "true"
    listed = await client.get("/v1/orders", params={"member_id": member["id"]}, headers=AGENT)
    assert len(listed.json()["items"]) == 1
    other = await client.post("/v1/orders", json={**body, "notes": "different"}, headers=headers)
    assert other.status_code == 422


async def test_refs_are_unique(client):
    member = await new_member(client)
    refs = {(await new_order(client, member=member))["ref"] for _ in range(5)}
    assert len(refs) == 5
