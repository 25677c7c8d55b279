"""Bills, bar sales taking stock all or nothing, voids, settlement, stock.low and the draft requisition."""

import asyncio
import uuid
from datetime import timedelta

from lounge_support import KMG, PEK, PEK_MANAGER, PEK_STAFF, a_flight, a_member, a_morning, boarding_pass

from airside_tools.testing.events import published_events
from airside_tools.testing.harness import auth

KMG_STAFF = auth("lounge_staff", stations=["KMG"])
KMG_MANAGER = auth("station_manager", stations=["KMG"])


async def a_visit(client, nats_url, frozen, *, tier: str | None = "gold", lounge: str = PEK, headers=PEK_STAFF) -> dict:
    now = a_morning()
    frozen(now)
    origin = "PEK" if lounge == PEK else "KMG"
    flight_no, flight_date = await a_flight(client, nats_url, now + timedelta(hours=2), origin=origin, destination="CTU")
    if tier is None:
        body = {"boarding_pass": boarding_pass("WALK/IN", flight_no, flight_date, origin=origin, destination="CTU")}
    else:
        member_id = await a_member(client, nats_url, tier=tier)
        body = {"member_id": member_id, "flight": {"carrier": flight_no[:2], "number": flight_no[2:], "flight_date": str(flight_date)}}
    response = await client.post(f"/v1/lounges/{lounge}/visits", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def stock_of(client, lounge: str = PEK, headers=PEK_STAFF) -> dict[str, dict]:
    return {row["sku"]: row for row in (await client.get(f"/v1/lounges/{lounge}/stock", headers=headers)).json()["items"]}


async def set_stock(client, lounge: str, headers: dict, **counted: int) -> dict:
    lines = [{"sku": sku, "counted": value} for sku, value in counted.items()]
    response = await client.post(f"/v1/lounges/{lounge}/stock-counts", json={"lines": lines}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def sell(client, visit: dict, headers=PEK_STAFF, **lines: int):
    body = {"lines": [{"sku": sku, "qty": qty} for sku, qty in lines.items()]}
    return await client.post(f"/v1/visits/{visit['id']}/sales", json=body, headers=headers)


async def test_complimentary_items_are_free_on_an_entitled_visit_and_the_rest_is_billed(client, nats_server, frozen):
    visit = await a_visit(client, nats_server.url, frozen, tier="gold")
    response = await sell(client, visit, COFFEE=2, WHISKY=1)
    assert response.status_code == 201, response.text
    bill = response.json()
    by_sku = {line["sku"]: line for line in bill["lines"]}
    assert by_sku["COFFEE"]["complimentary"] is True and by_sku["COFFEE"]["amount_minor"] == 0
    assert by_sku["WHISKY"]["amount_minor"] == 12800
    assert (bill["total_minor"], bill["complimentary_minor"]) == (12800, 6400)

    missing = await client.post(f"/v1/visits/{visit['id']}/checkout", json={}, headers=PEK_STAFF)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "body.payment_method"
    done = await client.post(f"/v1/visits/{visit['id']}/checkout", json={"payment_method": "card"}, headers=PEK_STAFF)
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["bill"]["status"], done.json()["bill"]["payment_method"]) == (
        "checked_out",
        "settled",
        "card",
    )
    again = await client.post(f"/v1/visits/{visit['id']}/checkout", json={"payment_method": "card"}, headers=PEK_STAFF)
    assert again.status_code == 409
    events = await published_events(
        nats_server.url, "airside.lounge.sale.completed", until=lambda seen: any(event.subject == visit["id"] for event in seen)
    )
    sale = next(event.data for event in events if event.subject == visit["id"])
    assert (sale["total_minor"], sale["complimentary_minor"], sale["payment_method"]) == (12800, 6400, "card")
    assert sale["visit"]["status"] == "checked_out"


async def test_a_paid_visit_pays_for_everything_and_nothing_to_pay_needs_no_method(client, nats_server, frozen):
    paid = await a_visit(client, nats_server.url, frozen, tier="standard")
    bill = (await sell(client, paid, COFFEE=1)).json()
    assert bill["total_minor"] == 30000 + 3200
    free = await a_visit(client, nats_server.url, frozen, tier="vip")
    assert (await sell(client, free, TEA=1)).json()["total_minor"] == 0
    done = await client.post(f"/v1/visits/{free['id']}/checkout", headers=PEK_STAFF)
    assert done.status_code == 200 and done.json()["bill"]["status"] == "settled"


async def test_a_sale_short_of_stock_takes_nothing(client, nats_server, frozen):
    visit = await a_visit(client, nats_server.url, frozen)
    await set_stock(client, PEK, PEK_STAFF, BEER=50, WINE=1)
    response = await sell(client, visit, BEER=3, WINE=2)
    assert response.status_code == 409 and response.json()["type"] == "/problems/out_of_stock"
    assert response.json()["sku"] == "WINE" and "WINE" in response.json()["detail"]
    stock = await stock_of(client)
    assert (stock["BEER"]["on_hand"], stock["WINE"]["on_hand"]) == (50, 1)
    bill = (await client.get(f"/v1/visits/{visit['id']}/bill", headers=PEK_STAFF)).json()
    assert bill["lines"] == []
    unknown = await sell(client, visit, CIGAR=1)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "body.lines.0.sku"


async def test_concurrent_sales_never_take_stock_below_zero(client, nats_server, frozen):
    visit = await a_visit(client, nats_server.url, frozen)
    await set_stock(client, PEK, PEK_STAFF, NOODLES=25, PANDA=100)
    responses = await asyncio.gather(*(sell(client, visit, PANDA=1, NOODLES=2) for _ in range(30)))
    statuses = [response.status_code for response in responses]
    assert statuses.count(201) == 12 and statuses.count(409) == 18, statuses
    stock = await stock_of(client)
    assert (stock["NOODLES"]["on_hand"], stock["PANDA"]["on_hand"]) == (1, 88)


async def test_a_void_needs_a_reason_and_returns_the_stock(client, nats_server, frozen):
    visit = await a_visit(client, nats_server.url, frozen)
    await set_stock(client, PEK, PEK_STAFF, JUICE=100)
    bill = (await sell(client, visit, JUICE=4)).json()
    line_id = bill["lines"][0]["id"]
    assert (await client.post(f"/v1/sales/{line_id}/void", json={}, headers=PEK_STAFF)).status_code == 422
    assert (await stock_of(client))["JUICE"]["on_hand"] == 96
    voided = await client.post(f"/v1/sales/{line_id}/void", json={"reason": "spilt"}, headers=PEK_STAFF)
    assert voided.status_code == 200 and voided.json()["void_reason"] == "spilt"
    assert (await stock_of(client))["JUICE"]["on_hand"] == 100
    again = await client.post(f"/v1/sales/{line_id}/void", json={"reason": "spilt"}, headers=PEK_STAFF)
    assert again.status_code == 409
    await published_events(
        nats_server.url, "airside.lounge.sale.voided", until=lambda seen: any(event.subject == visit["id"] for event in seen)
    )


async def test_stock_low_fires_once_per_crossing_and_fills_one_draft(client, nats_server, frozen):
    visit = await a_visit(client, nats_server.url, frozen, lounge=KMG, headers=KMG_STAFF)
    await set_stock(client, KMG, KMG_STAFF, WHISKY=10, NUTS=25)  # reorder points 8 and 20
    assert (await sell(client, visit, KMG_STAFF, WHISKY=2)).status_code == 201  # 8: crosses
    assert (await sell(client, visit, KMG_STAFF, WHISKY=1)).status_code == 201  # 7: still low, no second event
    assert (await sell(client, visit, KMG_STAFF, NUTS=5)).status_code == 201  # 20: crosses
    events = await published_events(
        nats_server.url,
        "airside.lounge.stock.low",
        until=lambda seen: {("KMG-VIP", "NUTS"), ("KMG-VIP", "WHISKY")} <= {(e.data["lounge_id"], e.data["sku"]) for e in seen},
    )
    whisky = [event for event in events if event.data["lounge_id"] == KMG and event.data["sku"] == "WHISKY"]
    drafts = (await client.get("/v1/requisitions", params={"lounge_id": KMG, "status": "draft"}, headers=KMG_STAFF)).json()["items"]
    assert len(drafts) == 1
    assert {line["sku"]: line["qty"] for line in drafts[0]["lines"]}.items() >= {"WHISKY": 24, "NUTS": 100}.items()
    # Back above the point and down again: a new crossing, a new event.
    seen_before = len(whisky)
    await set_stock(client, KMG, KMG_STAFF, WHISKY=9)
    assert (await sell(client, visit, KMG_STAFF, WHISKY=1)).status_code == 201
    events = await published_events(
        nats_server.url,
        "airside.lounge.stock.low",
        until=lambda seen: len([e for e in seen if e.data["lounge_id"] == KMG and e.data["sku"] == "WHISKY"]) > seen_before,
    )
    assert len([e for e in events if e.data["lounge_id"] == KMG and e.data["sku"] == "WHISKY"]) == seen_before + 1


async def test_a_stock_count_stores_expected_counted_and_variance(client, nats_server):
    await set_stock(client, PEK, PEK_STAFF, COLA=120, WATER=80)
    count = await set_stock(client, PEK, PEK_STAFF, COLA=117, WATER=85)
    lines = {line["sku"]: line for line in count["lines"]}
    assert lines["COLA"] == {"sku": "COLA", "expected": 120, "counted": 117, "variance": -3}
    assert lines["WATER"] == {"sku": "WATER", "expected": 80, "counted": 85, "variance": 5}
    assert (await stock_of(client))["COLA"]["on_hand"] == 117
    events = await published_events(
        nats_server.url, "airside.lounge.stock.adjusted", until=lambda seen: any(e.data["count_id"] == count["id"] for e in seen)
    )
    adjusted = next(e.data for e in events if e.data["count_id"] == count["id"])
    assert {line["sku"]: line["variance"] for line in adjusted["lines"]} == {"COLA": -3, "WATER": 5}
    bad = await client.post(f"/v1/lounges/{PEK}/stock-counts", json={"lines": [{"sku": "COLA", "counted": -1}]}, headers=PEK_STAFF)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.lines.0.counted"


async def test_requisition_lifecycle_and_roles(client, nats_server, frozen):
    visit = await a_visit(client, nats_server.url, frozen)
    await set_stock(client, PEK, PEK_STAFF, WINE=13)  # reorder point 12
    assert (await sell(client, visit, WINE=1)).status_code == 201
    drafts = (await client.get("/v1/requisitions", params={"lounge_id": PEK, "status": "draft"}, headers=PEK_STAFF)).json()["items"]
    (draft,) = drafts
    path = f"/v1/requisitions/{draft['id']}"
    assert (await client.post(f"{path}/approve", headers=PEK_MANAGER)).json()["type"] == "/problems/illegal_transition"
    submitted = await client.post(f"{path}/submit", headers=PEK_STAFF)
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    assert (await client.post(f"{path}/approve", headers=PEK_STAFF)).status_code == 403
    assert (await client.post(f"{path}/approve", headers=auth("station_manager", stations=["KMG"]))).status_code == 404
    approved = await client.post(f"{path}/approve", headers=PEK_MANAGER)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert (await client.post(f"{path}/reject", json={"reason": "late"}, headers=PEK_MANAGER)).status_code == 409
    before = (await stock_of(client))["WINE"]["on_hand"]
    received = await client.post(f"{path}/receive", json={"lines": [{"sku": "WINE", "qty": 48}]}, headers=PEK_STAFF)
    assert received.status_code == 200 and received.json()["status"] == "received"
    assert (await stock_of(client))["WINE"]["on_hand"] == before + 48
    for event_type in ("submitted", "approved", "received"):
        await published_events(
            nats_server.url, f"airside.lounge.requisition.{event_type}", until=lambda seen: any(e.subject == draft["id"] for e in seen)
        )

    # The next crossing opens a new draft, which the manager rejects for good.
    await set_stock(client, PEK, PEK_STAFF, WINE=12)
    (second,) = (await client.get("/v1/requisitions", params={"lounge_id": PEK, "status": "draft"}, headers=PEK_STAFF)).json()["items"]
    assert second["id"] != draft["id"]
    await client.post(f"/v1/requisitions/{second['id']}/submit", headers=PEK_STAFF)
    assert (await client.post(f"/v1/requisitions/{second['id']}/reject", json={}, headers=PEK_MANAGER)).status_code == 422
    rejected = await client.post(f"/v1/requisitions/{second['id']}/reject", json={"reason": "over budget"}, headers=PEK_MANAGER)
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert (await client.post(f"/v1/requisitions/{second['id']}/approve", headers=PEK_MANAGER)).status_code == 409
    assert (await client.get(f"/v1/requisitions/{second['id']}", headers=KMG_STAFF)).status_code == 404


async def test_deliveries_add_stock(client):
    before = (await stock_of(client))["SNACKS"]["on_hand"]
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"lines": [{"sku": "SNACKS", "qty": 30}]}
    first = await client.post(f"/v1/lounges/{PEK}/deliveries", json=body, headers={**PEK_STAFF, **key})
    retry = await client.post(f"/v1/lounges/{PEK}/deliveries", json=body, headers={**PEK_STAFF, **key})
    assert first.status_code == retry.status_code == 201 and first.json()["id"] == retry.json()["id"]
    assert (await stock_of(client))["SNACKS"]["on_hand"] == before + 30
    assert (await client.post(f"/v1/lounges/{PEK}/deliveries", json=body, headers=KMG_STAFF)).status_code == 403


async def test_a_new_menu_item_is_stocked_at_zero_in_every_lounge_until_delivered(client, nats_server, frozen):
    sku = f"OOLONG-{uuid.uuid4().hex[:6].upper()}"
    item = {"name": "Oolong tea", "category": "hot_drink", "price_minor": 3000, "complimentary": False}
    assert (await client.put(f"/v1/menu/{sku}", json=item, headers=auth("admin", stations=["*"]))).status_code == 200
    for lounge, headers in ((PEK, PEK_STAFF), (KMG, KMG_STAFF)):
        row = (await stock_of(client, lounge, headers))[sku]
        assert row["on_hand"] == 0 and row["reorder_point"] == 0 and row["reorder_qty"] >= 1
    visit = await a_visit(client, nats_server.url, frozen)
    refused = await sell(client, visit, **{sku: 1})
    assert refused.status_code == 409 and refused.json()["type"] == "/problems/out_of_stock" and refused.json()["sku"] == sku
    delivered = await client.post(f"/v1/lounges/{PEK}/deliveries", json={"lines": [{"sku": sku, "qty": 5}]}, headers=PEK_STAFF)
    assert delivered.status_code == 201, delivered.text
    sold = await sell(client, visit, **{sku: 2})
    assert sold.status_code == 201, sold.text
    assert next(line for line in sold.json()["lines"] if line["sku"] == sku)["amount_minor"] == 6000
    assert (await stock_of(client))[sku]["on_hand"] == 3 and (await stock_of(client, KMG, KMG_STAFF))[sku]["on_hand"] == 0
    # changing the item again keeps the stock it has
    changed = await client.put(f"/v1/menu/{sku}", json={**item, "price_minor": 3200}, headers=auth("admin", stations=["*"]))
    assert changed.status_code == 200 and (await stock_of(client))[sku]["on_hand"] == 3
