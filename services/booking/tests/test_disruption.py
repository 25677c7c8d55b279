"""Flight disruption: reschedule on delay, unassign when the window breaks, disruption events, cancellation."""

from datetime import timedelta

from booking_support import LEAD, act, assigned_order, confirmed_order, iso, local, local_day, new_concierge, new_flight, new_order, parse
from test_products_flights import publish_airline_status

from airside_tools.testing.events import published_events


def _events_of(order_id, *, count, kind):
    return lambda seen: sum(e.subject == order_id and e.type.endswith(kind) for e in seen) >= count


async def test_a_95_minute_delay_moves_the_order_and_disrupts_it(client, nats_server):
    day = local_day()
    order, concierge = await assigned_order(client, std=local(day, 15))
    flight = order["flight"]
    etd = parse(flight["std"]) + timedelta(minutes=95)
    response = await client.post(
        f"/v1/flights/{flight['flight_no']}/{flight['flight_date']}/status", json={"status": "delayed", "etd": iso(etd)}, headers=LEAD
    )
    assert response.status_code == 200
    moved = (await client.get(f"/v1/orders/{order['id']}", headers=LEAD)).json()
    assert parse(moved["meet_at"]) == local(day, 14, 35)
    assert parse(moved["staff_report_at"]) == local(day, 14, 20) and parse(moved["confirm_by"]) == local(day, 12, 35)
    assert moved["status"] == "assigned" and moved["concierge"]["id"] == concierge["id"]  # still fits a day-long shift
    events = await published_events(
        nats_server.url, "airside.booking.order.>", until=_events_of(order["id"], count=1, kind="flight_disrupted")
    )
    mine = {e.type.rsplit(".", 1)[-1]: e.data for e in events if e.subject == order["id"]}
    assert mine["rescheduled"]["delay_minutes"] == 95
    assert parse(mine["rescheduled"]["old_meet_at"]) == local(day, 13) and parse(mine["rescheduled"]["new_meet_at"]) == local(day, 14, 35)
    assert mine["flight_disrupted"] == {**mine["flight_disrupted"], "delay_minutes": 95, "cancelled": False}
    assert "reassignment_needed" not in mine


async def test_a_short_delay_reschedules_without_disruption(client, nats_server):
    order = await confirmed_order(client)
    flight = order["flight"]
    etd = parse(flight["std"]) + timedelta(minutes=30)
    await client.post(
        f"/v1/flights/{flight['flight_no']}/{flight['flight_date']}/status", json={"status": "delayed", "etd": iso(etd)}, headers=LEAD
    )
    # a second, later order makes sure the first's events are all out before we look
    await client.post(
        f"/v1/flights/{flight['flight_no']}/{flight['flight_date']}/status",
        json={"status": "delayed", "etd": iso(etd + timedelta(minutes=40))},
        headers=LEAD,
    )
    events = await published_events(nats_server.url, "airside.booking.order.>", until=_events_of(order["id"], count=2, kind="rescheduled"))
    mine = [e for e in events if e.subject == order["id"]]
    delays = [e.data["delay_minutes"] for e in mine if e.type.endswith("rescheduled")]
    assert delays == [30, 70]
    disrupted = [e.data["delay_minutes"] for e in mine if e.type.endswith("flight_disrupted")]
    assert disrupted == [70]


async def test_a_delay_past_the_shift_unassigns_and_asks_for_reassignment(client, nats_server):
    day = local_day()
    order = await confirmed_order(client, std=local(day, 15))  # window 12:45 to 14:30
    concierge = await new_concierge(client, shifts=[(day, "08:00", "15:00")])
    assert (await act(client, order, "assign", {"concierge_id": concierge["id"]})).status_code == 200
    flight = order["flight"]
    await client.post(
        f"/v1/flights/{flight['flight_no']}/{flight['flight_date']}/status",
        json={"status": "delayed", "etd": iso(local(day, 16))},
        headers=LEAD,
    )
    moved = (await client.get(f"/v1/orders/{order['id']}", headers=LEAD)).json()
    assert moved["status"] == "confirmed" and moved["concierge"] is None and parse(moved["meet_at"]) == local(day, 14)
    events = await published_events(
        nats_server.url, "airside.booking.order.>", until=_events_of(order["id"], count=1, kind="reassignment_needed")
    )
    needed = next(e for e in events if e.subject == order["id"] and e.type.endswith("reassignment_needed"))
    assert needed.data["previous_concierge"]["id"] == concierge["id"]


async def test_a_cancellation_disrupts_every_open_order(client, nats_server):
    order = await new_order(client)
    flight = order["flight"]
    await client.post(f"/v1/flights/{flight['flight_no']}/{flight['flight_date']}/status", json={"status": "cancelled"}, headers=LEAD)
    events = await published_events(
        nats_server.url, "airside.booking.order.flight_disrupted", until=_events_of(order["id"], count=1, kind="flight_disrupted")
    )
    data = next(e for e in events if e.subject == order["id"]).data
    assert data["cancelled"] is True and data["order"]["flight"]["status"] == "cancelled"


async def test_an_airline_delay_reschedules_orders_through_the_consumer(client, nats_server):
    day = local_day()
    order = await new_order(client, std=local(day, 15))
    flight = order["flight"]
    base = {key: flight[key] for key in ("carrier", "number", "flight_date", "origin", "destination")}
    await publish_airline_status(
        nats_server.url,
        **base,
        status="delayed",
        etd=iso(local(day, 16, 35)),
        updated_at=iso(parse(flight["updated_at"]) + timedelta(seconds=1)),
    )
    events = await published_events(
        nats_server.url, "airside.booking.order.>", until=_events_of(order["id"], count=1, kind="flight_disrupted")
    )
    rescheduled = next(e for e in events if e.subject == order["id"] and e.type.endswith("rescheduled"))
    assert rescheduled.data["delay_minutes"] == 95 and parse(rescheduled.data["new_meet_at"]) == local(day, 14, 35)


async def _order_events(nats_url, order_id, *, count, kind):
    events = await published_events(nats_url, "airside.booking.order.>", until=_events_of(order_id, count=count, kind=kind))
    return [e for e in events if e.subject == order_id]


async def test_an_arrival_follows_eta_then_a_new_sta_only_while_no_eta_is_known(client, nats_server):
    day = local_day()
    flight = new_flight(sta=local(day, 15), origin="KMG", destination="PEK")
    order = await new_order(client, flight=flight, direction="arrival", items=[{"product": "ARR_MEET"}])
    assert parse(order["meet_at"]) == local(day, 15)
    url = f"/v1/flights/{order['flight']['flight_no']}/{flight['flight_date']}"
    # the schedule moves: sta 15:00 → 15:20, no eta yet → meet_at follows sta
    schedule = {"origin": "KMG", "destination": "PEK", "sta": iso(local(day, 15, 20))}
    assert (await client.put(url, json=schedule, headers=LEAD)).status_code == 200
    # then a 70-minute late arrival: eta 16:30 → meet_at 16:30 (= eta), staff 16:15, confirm_by 14:30
    response = await client.post(f"{url}/status", json={"status": "delayed", "eta": iso(local(day, 16, 30))}, headers=LEAD)
    assert response.status_code == 200, response.text
    moved = (await client.get(f"/v1/orders/{order['id']}", headers=LEAD)).json()
    assert parse(moved["meet_at"]) == local(day, 16, 30)
    assert parse(moved["staff_report_at"]) == local(day, 16, 15) and parse(moved["confirm_by"]) == local(day, 14, 30)
    # a departure-side change does not move an arrival
    await client.post(f"{url}/status", json={"status": "delayed", "etd": iso(local(day, 14))}, headers=LEAD)
    # once eta is known, a schedule change of sta does not move the meeting (meet_at = eta or sta)
    assert (await client.put(url, json={**schedule, "sta": iso(local(day, 15, 10))}, headers=LEAD)).status_code == 200
    held = (await client.get(f"/v1/orders/{order['id']}", headers=LEAD)).json()
    assert parse(held["meet_at"]) == local(day, 16, 30) and held["version"] == moved["version"]
    mine = await _order_events(nats_server.url, order["id"], count=1, kind="flight_disrupted")
    rescheduled = [e.data for e in mine if e.type.endswith("rescheduled")]
    assert [(parse(r["old_meet_at"]), parse(r["new_meet_at"])) for r in rescheduled] == [
        (local(day, 15), local(day, 15, 20)),
        (local(day, 15, 20), local(day, 16, 30)),
    ]
    assert rescheduled[-1]["delay_minutes"] == 70  # eta - sta
    disrupted = next(e.data for e in mine if e.type.endswith("flight_disrupted"))
    assert disrupted["delay_minutes"] == 70 and disrupted["cancelled"] is False


async def test_a_transfer_moves_with_the_inbound_flights_eta(client, nats_server):
    day = local_day()
    flight = new_flight(sta=local(day, 14), origin="KMG", destination="PEK")
    order, concierge = await assigned_order(
        client, flight=flight, direction="transfer", items=[{"product": "TRANSFER"}], notes="onward CA1831"
    )
    assert parse(order["meet_at"]) == local(day, 14)
    url = f"/v1/flights/{order['flight']['flight_no']}/{flight['flight_date']}/status"
    response = await client.post(url, json={"status": "delayed", "eta": iso(local(day, 14, 45))}, headers=LEAD)
    assert response.status_code == 200, response.text
    moved = (await client.get(f"/v1/orders/{order['id']}", headers=LEAD)).json()
    assert parse(moved["meet_at"]) == local(day, 14, 45) and parse(moved["staff_report_at"]) == local(day, 14, 30)
    assert parse(moved["confirm_by"]) == local(day, 12, 45)
    assert moved["status"] == "assigned" and moved["concierge"]["id"] == concierge["id"]
    mine = await _order_events(nats_server.url, order["id"], count=1, kind="rescheduled")
    rescheduled = next(e.data for e in mine if e.type.endswith("rescheduled"))
    assert rescheduled["delay_minutes"] == 45 and parse(rescheduled["new_meet_at"]) == local(day, 14, 45)
    assert not any(e.type.endswith("flight_disrupted") for e in mine)  # under 60 minutes


async def test_a_schedule_change_of_std_by_put_moves_the_open_orders(client, nats_server):
    day = local_day()
    flight = new_flight(local(day, 15))
    order, concierge = await assigned_order(client, flight=flight)
    other = await new_order(client, flight={**flight, "std": None})  # a second order on the known flight
    url = f"/v1/flights/{order['flight']['flight_no']}/{flight['flight_date']}"
    body = {"origin": "PEK", "destination": "KMG", "std": iso(local(day, 16, 10))}
    response = await client.put(url, json=body, headers=LEAD)
    assert response.status_code == 200 and parse(response.json()["std"]) == local(day, 16, 10)
    for moved_id in (order["id"], other["id"]):
        moved = (await client.get(f"/v1/orders/{moved_id}", headers=LEAD)).json()
        assert parse(moved["meet_at"]) == local(day, 14, 10), moved_id
        assert parse(moved["staff_report_at"]) == local(day, 13, 55) and parse(moved["confirm_by"]) == local(day, 12, 10)
    assert (await client.get(f"/v1/orders/{order['id']}", headers=LEAD)).json()["concierge"]["id"] == concierge["id"]
    mine = await _order_events(nats_server.url, order["id"], count=1, kind="rescheduled")
    rescheduled = next(e.data for e in mine if e.type.endswith("rescheduled"))
    assert parse(rescheduled["old_meet_at"]) == local(day, 13) and parse(rescheduled["new_meet_at"]) == local(day, 14, 10)
