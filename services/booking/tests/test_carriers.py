"""Carriers and contracts (docs/carriers.md): admin manages them, each write publishes the whole carrier or
contract, a rate change adds a term and never edits one; partner orders are priced at the contract's rates."""

from datetime import UTC, datetime, timedelta

from booking_support import ADMIN, AGENT, iso, local, local_day, new_flight, new_member, order_body
from carrier_support import PEK_MANAGER, carrier_token, completed_partner_order, contract_body, new_carrier, new_contract, partner_body

from airside_tools.testing.events import published_events


def _of(subject: str, count: int):
    return lambda events: len([event for event in events if event.subject == subject]) >= count


async def test_admin_registers_a_carrier_and_changes_it_at_the_version_read(client, nats_server):
    designator = await new_carrier(client)
    again = await client.post("/v1/carriers", json={"designator": designator, "name": "Twice"}, headers=ADMIN)
    assert again.status_code == 409 and again.json()["type"].endswith("/carrier_exists")
    read = await client.get(f"/v1/carriers/{designator}", headers=AGENT)
    assert read.status_code == 200 and read.json()["version"] == 1 and read.headers["ETag"] == '"1"'
    body = {"billing_contact": {"name": "Interline accounts", "email": "interline@example.com"}}
    assert (await client.patch(f"/v1/carriers/{designator}", json=body, headers=ADMIN)).status_code == 428
    changed = await client.patch(f"/v1/carriers/{designator}", json=body, headers={**ADMIN, "If-Match": '"1"'})
    assert changed.status_code == 200, changed.text
    assert changed.json()["billing_contact"] == {"name": "Interline accounts", "email": "interline@example.com", "phone": None}
    assert (await client.patch(f"/v1/carriers/{designator}", json=body, headers={**ADMIN, "If-Match": '"1"'})).status_code == 412
    events = await published_events(nats_server.url, "airside.booking.carrier.upserted", until=_of(designator, 2))
    versions = [event.data["carrier"]["version"] for event in events if event.subject == designator]
    assert versions == [1, 2]


async def test_only_admin_manages_carriers_and_a_carrier_token_reads_only_its_own(client):
    designator = await new_carrier(client)
    other = await new_carrier(client)
    assert (await client.post("/v1/carriers", json={"designator": "Q9", "name": "No"}, headers=AGENT)).status_code == 403
    assert (await client.post("/v1/carriers", json={"designator": "Q9", "name": "No"}, headers=carrier_token("Q9"))).status_code == 403
    assert (await client.get(f"/v1/carriers/{designator}", headers=carrier_token(designator))).status_code == 200
    assert (await client.get(f"/v1/carriers/{other}", headers=carrier_token(designator))).status_code == 404
    listed = (await client.get("/v1/carriers", headers=carrier_token(designator))).json()["items"]
    assert [carrier["designator"] for carrier in listed] == [designator]
    bad = await client.post("/v1/carriers", json={"designator": "ca", "name": "Lower"}, headers=ADMIN)
    assert bad.status_code == 422 and "designator" in bad.text


async def test_a_contract_is_checked_and_published_whole(client, nats_server):
    designator = await new_carrier(client)
    unknown_station = await client.post(f"/v1/carriers/{designator}/contracts", json=contract_body(station="XXX"), headers=ADMIN)
    assert unknown_station.status_code == 422 and "station" in unknown_station.text
    unknown_product = contract_body(assist=[{"product_code": "NO_SUCH", "rate_minor": 1}])
    refused = await client.post(f"/v1/carriers/{designator}/contracts", json=unknown_product, headers=ADMIN)
    assert refused.status_code == 422 and "assist.0.product_code" in refused.text
    covers_nothing = await client.post(f"/v1/carriers/{designator}/contracts", json=contract_body(lounge=None, assist=[]), headers=ADMIN)
    assert covers_nothing.status_code == 422
    backwards = await client.post(f"/v1/carriers/{designator}/contracts", json=contract_body(valid_to="2025-12-31"), headers=ADMIN)
    assert backwards.status_code == 422
    contract = await new_contract(client, designator)
    assert contract["id"].startswith("ctr_") and contract["status"] == "active" and contract["version"] == 1
    (term,) = contract["terms"]
    assert term["version"] == 1 and term["effective_from"] == "2025-12-31T16:00:00Z"  # PEK's local midnight of valid_from
    assert term["lounge"]["rate_minor"] == 18000 and term["assist"] == [{"product_code": "DEP_ESCORT", "rate_minor": 15000}]
    overlap = await client.post(f"/v1/carriers/{designator}/contracts", json=contract_body(valid_from="2026-06-01"), headers=ADMIN)
    assert overlap.status_code == 409 and overlap.json()["contract_id"] == contract["id"]
    assert (await client.get(f"/v1/contracts/{contract['id']}", headers=carrier_token(designator))).json() == contract
    assert (await client.get(f"/v1/contracts/{contract['id']}", headers=carrier_token("Q8"))).status_code == 404
    listed = (await client.get(f"/v1/carriers/{designator}/contracts", headers=ADMIN)).json()["items"]
    assert [item["id"] for item in listed] == [contract["id"]]
    events = await published_events(nats_server.url, "airside.booking.contract.upserted", until=_of(contract["id"], 1))
    (published,) = [event.data["contract"] for event in events if event.subject == contract["id"]]
    assert published == {
        key: value for key, value in contract.items() if key != "created_at" and value is not None
    }  # events leave out nulls


async def test_a_rate_change_adds_a_term_and_never_rewrites_one(client, nats_server):
    designator = await new_carrier(client)
    contract = await new_contract(client, designator)
    past = await client.post(
        f"/v1/contracts/{contract['id']}/terms",
        json={"effective_from": "2026-01-02T00:00:00Z", "lounge": contract_body()["lounge"]},
        headers=ADMIN,
    )
    assert past.status_code == 422 and "effective_from" in past.text
    start = datetime.now(UTC) + timedelta(days=2)
    new_rates = {**contract_body()["lounge"], "rate_minor": 20000}
    changed = await client.post(
        f"/v1/contracts/{contract['id']}/terms", json={"effective_from": iso(start), "lounge": new_rates}, headers=ADMIN
    )
    assert changed.status_code == 201, changed.text
    first, second = changed.json()["terms"]
    assert first == contract["terms"][0]  # as it was
    assert second["version"] == 2 and second["lounge"]["rate_minor"] == 20000 and second["assist"] == []
    assert changed.json()["version"] == 2
    earlier = await client.post(
        f"/v1/contracts/{contract['id']}/terms",
        json={"effective_from": iso(start - timedelta(hours=1)), "lounge": new_rates},
        headers=ADMIN,
    )
    assert earlier.status_code == 409 and earlier.json()["type"].endswith("/term_order")
    assert (await client.post(f"/v1/contracts/{contract['id']}/terms", json={"lounge": new_rates}, headers=AGENT)).status_code == 403
    events = await published_events(nats_server.url, "airside.booking.contract.upserted", until=_of(contract["id"], 2))
    assert [len(event.data["contract"]["terms"]) for event in events if event.subject == contract["id"]] == [1, 2]


async def test_a_contract_ends_on_a_day_to_come_or_now_and_then_takes_no_term(client, nats_server):
    designator = await new_carrier(client)
    contract = await new_contract(client, designator)
    base = f"/v1/contracts/{contract['id']}"
    assert (await client.post(f"{base}/end", json={"valid_to": "2026-01-05"}, headers=ADMIN)).status_code == 422  # in the past
    assert (await client.post(f"{base}/end", json={}, headers=AGENT)).status_code == 403
    later = (datetime.now(UTC) + timedelta(days=40)).date().isoformat()
    dated = await client.post(f"{base}/end", json={"valid_to": later}, headers=ADMIN)
    assert dated.status_code == 200 and dated.json()["valid_to"] == later and dated.json()["status"] == "active"
    now = await client.post(f"{base}/end", json={}, headers=ADMIN)
    assert now.status_code == 200 and now.json()["status"] == "ended" and now.json()["version"] == 3
    assert (await client.post(f"{base}/end", json={}, headers=ADMIN)).status_code == 409
    term = await client.post(f"{base}/terms", json={"lounge": contract_body()["lounge"]}, headers=ADMIN)
    assert term.status_code == 409 and term.json()["type"].endswith("/contract_ended")
    events = await published_events(nats_server.url, "airside.booking.contract.upserted", until=_of(contract["id"], 3))
    assert [event.data["contract"]["status"] for event in events if event.subject == contract["id"]] == ["active", "active", "ended"]


# --- partner orders ---------------------------------------------------------------------------


async def test_a_partner_order_is_priced_at_the_contract_rate_and_names_its_payer(client):
    designator = await new_carrier(client)
    contract = await new_contract(client, designator)
    member = await new_member(client)
    created = await client.post("/v1/orders", json=partner_body(member["id"], designator), headers=AGENT)
    assert created.status_code == 201, created.text
    order = created.json()
    assert order["channel"] == "partner" and order["price"] == {"amount_minor": 15000, "currency": "CNY"}
    assert order["payer"] == {
        "carrier": designator,
        "contract_id": contract["id"],
        "contract_version": 1,
        "rates": [{"product": "DEP_ESCORT", "rate_minor": 15000}],
    }
    by_carrier = await client.post("/v1/orders", json=partner_body(member["id"], designator), headers=carrier_token(designator))
    assert by_carrier.status_code == 201, by_carrier.text
    for_another = await client.post("/v1/orders", json=partner_body(member["id"], "Q7"), headers=carrier_token(designator))
    assert for_another.status_code == 403
    members_own = await client.post(
        "/v1/orders", json=order_body(member["id"], new_flight(local(local_day(), 15))), headers=carrier_token(designator)
    )
    assert members_own.status_code == 403


async def test_a_partner_order_needs_a_payer_a_contract_and_covered_items(client):
    designator = await new_carrier(client)
    member = await new_member(client)
    no_contract = await client.post("/v1/orders", json=partner_body(member["id"], designator), headers=AGENT)
    assert no_contract.status_code == 409 and no_contract.json()["type"].endswith("/no_contract")
    await new_contract(client, designator)
    not_covered = await client.post("/v1/orders", json=partner_body(member["id"], designator, items=[{"product": "LOUNGE"}]), headers=AGENT)
    assert not_covered.status_code == 409 and not_covered.json()["type"].endswith("/not_covered")
    no_payer = {**partner_body(member["id"], designator)}
    del no_payer["payer"]
    missing = await client.post("/v1/orders", json=no_payer, headers=AGENT)
    assert missing.status_code == 422 and "payer" in missing.text
    wrong_channel = await client.post(
        "/v1/orders", json={**partner_body(member["id"], designator), "channel": "call_center"}, headers=AGENT
    )
    assert wrong_channel.status_code == 422 and "channel" in wrong_channel.text


async def test_a_completed_partner_order_is_a_line_of_the_carriers_statement(client):
    designator = await new_carrier(client)
    await new_contract(client, designator)
    order, summary = await completed_partner_order(client, designator)
    full = (await client.get(f"/v1/statements/{summary['id']}", headers=PEK_MANAGER)).json()
    (line,) = full["lines"]
    assert line["service"] == "DEP_ESCORT" and line["rate_minor"] == 15000 and line["reference"] == order["ref"]
