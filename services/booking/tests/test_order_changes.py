"""PATCH with If-Match, search with keyset pagination, the daily service list (JSON and CSV), reannounce."""

import csv
import io
from datetime import timedelta

from booking_support import (
    ADMIN,
    AGENT,
    LEAD,
    act,
    assigned_order,
    confirmed_order,
    iso,
    local,
    local_day,
    new_flight,
    new_member,
    new_order,
    parse,
)

from airside_tools.testing.events import published_events
from airside_tools.testing.harness import auth


def if_match(order):
    return {"If-Match": f'"{order["version"]}"'}


async def test_patch_needs_if_match_and_refuses_a_stale_one(client):
    order = await new_order(client)
    url = f"/v1/orders/{order['id']}"
    assert (await client.patch(url, json={"notes": "x"}, headers=AGENT)).status_code == 428
    changed = await client.patch(url, json={"meeting_point": "Counter F"}, headers={**AGENT, **if_match(order)})
    assert changed.status_code == 200 and changed.json()["version"] == 2 and changed.headers["ETag"] == '"2"'
    stale = await client.patch(url, json={"meeting_point": "Counter G"}, headers={**AGENT, **if_match(order)})
    assert stale.status_code == 412
    assert (await client.get(url, headers=AGENT)).json()["meeting_point"] == "Counter F"


async def test_changing_flight_and_items_recomputes_times_and_price(client, nats_server):
    day = local_day()
    order = await new_order(client, std=local(day, 15))
    new = new_flight(local(day, 18))
    response = await client.patch(
        f"/v1/orders/{order['id']}", json={"flight": new, "items": [{"product": "DEP_ESCORT"}]}, headers={**AGENT, **if_match(order)}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["flight"]["flight_no"] == new["carrier"] + new["number"]
    assert parse(body["meet_at"]) == local(day, 16) and parse(body["staff_report_at"]) == local(day, 15, 45)
    assert parse(body["confirm_by"]) == local(day, 14) and body["price"]["amount_minor"] == 58_000
    events = await published_events(
        nats_server.url, "airside.booking.order.changed", until=lambda seen: any(e.subject == order["id"] for e in seen)
    )
    assert next(e for e in events if e.subject == order["id"]).data["order"]["version"] == 2


async def test_a_change_that_no_longer_fits_the_concierge_unassigns(client):
    order, _ = await assigned_order(client)
    far = parse(order["meet_at"]) + timedelta(days=2)
    response = await client.patch(f"/v1/orders/{order['id']}", json={"meet_at": iso(far)}, headers={**LEAD, **if_match(order)})
    assert response.status_code == 200
    assert response.json()["status"] == "confirmed" and response.json()["concierge"] is None
    small = await client.patch(f"/v1/orders/{order['id']}", json={"notes": "fine"}, headers={**LEAD, **if_match(response.json())})
    assert small.json()["status"] == "confirmed"


async def test_a_change_that_still_fits_keeps_the_concierge(client):
    order, concierge = await assigned_order(client)
    response = await client.patch(
        f"/v1/orders/{order['id']}",
        json={"meet_at": iso(parse(order["meet_at"]) - timedelta(minutes=20))},
        headers={**LEAD, **if_match(order)},
    )
    assert response.json()["status"] == "assigned" and response.json()["concierge"]["id"] == concierge["id"]


async def test_a_change_still_obeys_the_product_rules(client):
    order = await new_order(client)
    response = await client.patch(
        f"/v1/orders/{order['id']}", json={"items": [{"product": "ASSIST"}]}, headers={**AGENT, **if_match(order)}
    )
    assert response.status_code == 422
    vip = await client.patch(
        f"/v1/orders/{order['id']}", json={"items": [{"product": "VIP_CHANNEL"}]}, headers={**AGENT, **if_match(order)}
    )
    assert vip.status_code == 409 and vip.json()["type"] == "/problems/tier_required"


async def test_search_filters_and_pages_by_keyset(client):
    member = await new_member(client)
    day = local_day(11)
    orders = [await new_order(client, member=member, std=local(day, hour)) for hour in (9, 12, 15, 18, 21)]
    await new_order(client, member=member, std=local(day + timedelta(days=1), 12))
    await act(client, orders[0], "confirm")
    seen, cursor = [], None
    while True:
        params = {"member_id": member["id"], "date": str(day), "station": "PEK", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/orders", params=params, headers=AGENT)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [order["id"] for order in orders]
    confirmed = (await client.get("/v1/orders", params={"member_id": member["id"], "status": "confirmed"}, headers=AGENT)).json()
    assert [item["id"] for item in confirmed["items"]] == [orders[0]["id"]]
    by_flight = (await client.get("/v1/orders", params={"flight_no": orders[1]["flight"]["flight_no"]}, headers=AGENT)).json()
    assert [item["id"] for item in by_flight["items"]] == [orders[1]["id"]]
    assert (await client.get("/v1/orders", params={"cursor": "garbage!"}, headers=AGENT)).status_code == 422


async def test_a_member_lists_only_their_own_orders_and_staff_only_their_stations(client):
    mine, theirs = await new_member(client), await new_member(client)
    order = await new_order(client, member=mine)
    await new_order(client, member=theirs)
    listed = (await client.get("/v1/orders", headers=auth("member", member_id=mine["id"]))).json()
    assert [item["id"] for item in listed["items"]] == [order["id"]]
    spying = (await client.get("/v1/orders", params={"member_id": theirs["id"]}, headers=auth("member", member_id=mine["id"]))).json()
    assert spying["items"] == []
    kmg = (await client.get("/v1/orders", params={"member_id": mine["id"]}, headers=auth("agent", stations=["KMG"]))).json()
    assert kmg["items"] == []


async def test_daily_service_list_in_json_and_csv(client):
    day = local_day(13)
    member = await new_member(client)
    completed, concierge = await assigned_order(client, member=member, std=local(day, 1, 30))  # meet 23:30 the evening before
    await act(client, completed, "start")
    await act(client, completed, "complete", {"fees_collected": {"amount_minor": 12_000, "method": "cash"}})
    cancelled = await confirmed_order(client, member=member, std=local(day, 10))
    await act(client, cancelled, "cancel", {"reason": "sick"})
    tomorrow = await new_order(client, member=member, std=local(day, 23, 30))  # meet 21:30 the same day
    report = await client.get("/v1/reports/daily-services", params={"station": "PEK", "date": str(day - timedelta(days=1))}, headers=LEAD)
    assert report.status_code == 200
    body = report.json()
    refs = [line["ref"] for line in body["orders"]]
    assert completed["ref"] in refs and cancelled["ref"] not in refs
    line = next(line for line in body["orders"] if line["ref"] == completed["ref"])
    assert (
        line["concierge_name"] == concierge["name"] and line["fees_collected_minor"] == 12_000 and line["meet_at_local"].endswith("23:30")
    )
    assert {
        "concierge_id": concierge["id"],
        "concierge_name": concierge["name"],
        "method": "cash",
        "amount_minor": 12_000,
        "orders": 1,
    } in body["fees_by_concierge"]
    same_day = (await client.get("/v1/reports/daily-services", params={"station": "PEK", "date": str(day)}, headers=LEAD)).json()
    assert {cancelled["ref"], tomorrow["ref"]} <= {line["ref"] for line in same_day["orders"]}
    assert same_day["totals_by_status"]["cancelled"] >= 1 and same_day["totals_by_product"]["DEP_ESCORT"] >= 2
    as_csv = await client.get(
        "/v1/reports/daily-services",
        params={"station": "PEK", "date": str(day - timedelta(days=1))},
        headers={**LEAD, "Accept": "text/csv"},
    )
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(as_csv.text)))
    assert rows[0][:3] == ["ref", "member_name", "card_no"]
    row = next(row for row in rows if row and row[0] == completed["ref"])
    record = dict(zip(rows[0], row, strict=True))
    assert record["status"] == "completed" and record["fees_collected_minor"] == "12000" and record["fees_method"] == "cash"
    assert record["products"] == "DEP_ESCORT+LOUNGE" and record["member_name"] == "王芳" and record["concierge_name"] == concierge["name"]
    assert [concierge["name"], "cash", "12000", "1"] in rows


async def test_reports_of_a_foreign_station_are_not_found(client):
    response = await client.get("/v1/reports/daily-services", params={"station": "KMG", "date": str(local_day())}, headers=LEAD)
    assert response.status_code == 404  # as the lounge's and the call center's reports answer


async def test_reannounce_publishes_members_and_open_orders(client, nats_server):
    order = await new_order(client)
    done = await new_order(client)
    await act(client, done, "cancel", {"reason": "x"})
    assert (await client.post("/v1/ops/reannounce", headers=LEAD)).status_code == 403
    response = await client.post("/v1/ops/reannounce", headers=ADMIN)
    assert response.status_code == 200 and response.json()["orders"] >= 1 and response.json()["members"] >= 2
    events = await published_events(
        nats_server.url, "airside.booking.order.changed", until=lambda seen: any(e.subject == order["id"] for e in seen)
    )
    assert not any(e.subject == done["id"] for e in events)
    members = await published_events(
        nats_server.url, "airside.booking.member.updated", until=lambda seen: any(e.subject == order["member_id"] for e in seen)
    )
    assert members
