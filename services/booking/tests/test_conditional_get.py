"""Conditional GET over HTTP: every single-resource GET answers a strong ETag and 304 to If-None-Match (docs/http.md)."""

from booking_support import ADMIN, AGENT, LEAD, new_concierge, new_order
from carrier_support import PEK_MANAGER, completed_partner_order, new_carrier, new_contract

from airside_tools.testing.conditional_get import (
    assert_a_patch_gives_a_new_etag,
    assert_conditional_get,
    declares_conditional_get,
    single_resource_gets,
)
from airside_tools.testing.harness import auth


async def test_every_single_resource_get_gives_an_etag_and_honours_if_none_match(client):
    document = (await client.get("/openapi.json")).json()
    order = await new_order(client)
    concierge = await new_concierge(client)
    flight = order["flight"]
    designator = await new_carrier(client)
    contract = await new_contract(client, designator)
    _partner_order, statement = await completed_partner_order(client, designator)
    samples = {
        "/v1/members/{member_id}": (f"/v1/members/{order['member_id']}", AGENT),
        "/v1/orders/{order_id}": (f"/v1/orders/{order['id']}", AGENT),
        "/v1/concierges/{concierge_id}": (f"/v1/concierges/{concierge['id']}", LEAD),
        "/v1/flights/{flight_no}/{flight_date}": (f"/v1/flights/{flight['flight_no']}/{flight['flight_date']}", ADMIN),
        "/v1/carriers/{designator}": (f"/v1/carriers/{designator}", ADMIN),
        "/v1/contracts/{contract_id}": (f"/v1/contracts/{contract['id']}", ADMIN),
        "/v1/statements/{statement_id}": (f"/v1/statements/{statement['id']}", PEK_MANAGER),
    }
    assert sorted(samples) == single_resource_gets(document)  # a new route needs a sample here
    for route, (path, headers) in samples.items():
        assert declares_conditional_get(document["paths"][route]["get"]), route
        await assert_conditional_get(client, path, headers)


async def test_an_orders_etag_is_the_one_its_patch_takes_and_a_change_gives_a_new_one(client):
    order = await new_order(client)
    _read, after = await assert_a_patch_gives_a_new_etag(client, f"/v1/orders/{order['id']}", AGENT, {"notes": "wheelchair at gate"})
    assert after.json()["notes"] == "wheelchair at gate"


async def test_a_members_etag_is_the_one_its_patch_takes(client):
    order = await new_order(client)
    _read, after = await assert_a_patch_gives_a_new_etag(client, f"/v1/members/{order['member_id']}", AGENT, {"name": "王芳芳"})
    assert after.json()["name"] == "王芳芳"


async def test_a_status_move_gives_a_new_etag(client):
    order = await new_order(client)
    url = f"/v1/orders/{order['id']}"
    before = (await client.get(url, headers=LEAD)).headers["etag"]
    assert (await client.post(f"{url}/confirm", headers=LEAD)).status_code == 200
    after = await client.get(url, headers={**LEAD, "If-None-Match": before})
    assert after.status_code == 200 and after.json()["status"] == "confirmed" and after.headers["etag"] != before


async def test_a_304_is_only_for_who_may_read_the_record(client):
    order = await new_order(client)
    tag = (await client.get(f"/v1/orders/{order['id']}", headers=AGENT)).headers["etag"]
    stranger = {**auth("member", member_id="someone-else"), "If-None-Match": tag}
    assert (await client.get(f"/v1/orders/{order['id']}", headers=stranger)).status_code == 404
