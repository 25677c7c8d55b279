"""A carrier books for passengers who are not members yet (docs/carriers.md, "The `carrier` role" and "Partner
orders"): it enrols them at standard, reads only those it enrolled, reads back, lists and cancels the partner
orders it pays, and another carrier sees none of it."""

from booking_support import AGENT, new_member, new_order
from carrier_support import carrier_token, new_carrier, new_contract, partner_body


async def enrol(client, headers: dict[str, str], **body) -> dict:
    response = await client.post("/v1/members", json={"name": "李娜", "phone": "+8613700137111", **body}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def listed(client, headers: dict[str, str], **params) -> set[str]:
    response = await client.get("/v1/orders", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return {order["id"] for order in response.json()["items"]}


async def test_a_carrier_enrols_its_passenger_and_books_reads_lists_and_cancels_the_order_it_pays(client):
    designator, rival = await new_carrier(client), await new_carrier(client)
    await new_contract(client, designator)
    await new_contract(client, rival)
    airline, other_airline = carrier_token(designator), carrier_token(rival)

    passenger = await enrol(client, airline)
    assert passenger["tier"] == "standard" and passenger["enrolled_by_carrier"] == designator
    booked = await client.post("/v1/orders", json=partner_body(passenger["id"], designator), headers=airline)
    assert booked.status_code == 201, booked.text
    order = booked.json()
    # The desk books another partner order the airline pays (for a member of the programme): the airline's too.
    by_desk = (await client.post("/v1/orders", json=partner_body((await new_member(client))["id"], designator), headers=AGENT)).json()
    # Neither the passenger's own order nor the rival's partner order is the airline's.
    members_own = await new_order(client, member=passenger)
    rivals = (await client.post("/v1/orders", json=partner_body(passenger["id"], rival), headers=AGENT)).json()

    read = await client.get(f"/v1/orders/{order['id']}", headers=airline)
    assert read.status_code == 200 and read.json()["payer"]["carrier"] == designator and read.headers["ETag"] == '"1"'
    history = await client.get(f"/v1/orders/{order['id']}/history", headers=airline)
    assert history.status_code == 200 and [entry["action"] for entry in history.json()["items"]] == ["created"]
    for foreign in (members_own, rivals):
        assert (await client.get(f"/v1/orders/{foreign['id']}", headers=airline)).status_code == 404
        assert (await client.post(f"/v1/orders/{foreign['id']}/cancel", json={"reason": "x"}, headers=airline)).status_code == 404
    assert await listed(client, airline) == {order["id"], by_desk["id"]}
    assert await listed(client, airline, station="PEK", member_id=passenger["id"]) == {order["id"]}
    assert await listed(client, other_airline) == {rivals["id"]}

    # The rival sees nothing of the airline's: not the order, its history, its passenger; it cannot cancel it.
    assert (await client.get(f"/v1/orders/{order['id']}", headers=other_airline)).status_code == 404
    assert (await client.get(f"/v1/orders/{order['id']}/history", headers=other_airline)).status_code == 404
    assert (await client.get(f"/v1/members/{passenger['id']}", headers=other_airline)).status_code == 404
    refused = await client.post(f"/v1/orders/{order['id']}/cancel", json={"reason": "not ours"}, headers=other_airline)
    assert refused.status_code == 404

    # The airline may cancel its order, not change it.
    changed = await client.patch(f"/v1/orders/{order['id']}", json={"notes": "window"}, headers={**airline, "If-Match": '"1"'})
    assert changed.status_code == 403
    cancelled = await client.post(f"/v1/orders/{order['id']}/cancel", json={"reason": "passenger rebooked"}, headers=airline)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["cancel_reason"] == "passenger rebooked"
    again = await client.post(f"/v1/orders/{order['id']}/cancel", json={"reason": "twice"}, headers=airline)
    assert again.status_code == 409
    assert await listed(client, airline, status="cancelled") == {order["id"]}


async def test_a_carrier_enrols_at_standard_only_and_reads_but_never_changes_or_searches_its_passengers(client):
    designator = await new_carrier(client)
    airline = carrier_token(designator)
    gold = await client.post("/v1/members", json={"name": "李娜", "phone": "+8613700137111", "tier": "gold"}, headers=airline)
    assert gold.status_code == 422 and gold.json()["errors"][0]["field"] == "body.tier", gold.text
    passenger = await enrol(client, airline, tier="standard")
    assert passenger["tier"] == "standard" and passenger["enrolled_by_carrier"] == designator
    no_tier = await client.post("/v1/members", json={"name": "王芳", "phone": "+8613900139000"}, headers=AGENT)
    assert no_tier.status_code == 422 and no_tier.json()["errors"][0]["field"] == "body.tier", no_tier.text

    read = await client.get(f"/v1/members/{passenger['id']}", headers=airline)
    assert read.status_code == 200 and read.json() == passenger
    staff_read = (await client.get(f"/v1/members/{passenger['id']}", headers=AGENT)).json()
    assert staff_read["enrolled_by_carrier"] == designator
    programme_member = await new_member(client)
    assert programme_member["enrolled_by_carrier"] is None
    assert (await client.get(f"/v1/members/{programme_member['id']}", headers=airline)).status_code == 404
    assert (await client.get("/v1/members", params={"q": "李娜"}, headers=airline)).status_code == 403
    change = await client.patch(
        f"/v1/members/{passenger['id']}", json={"email": "li.na@example.com"}, headers={**airline, "If-Match": '"1"'}
    )
    assert change.status_code == 403
