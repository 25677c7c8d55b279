"""Conditional GET over HTTP: every single-resource GET answers a strong ETag and 304 to If-None-Match, and the
reception board answers 304 while it reads the same (docs/http.md)."""

from datetime import timedelta

from lounge_support import PEK, PEK_MANAGER, PEK_STAFF, a_flight, a_member, a_morning

from airside_tools.testing.conditional_get import (
    assert_a_patch_gives_a_new_etag,
    assert_conditional_get,
    declares_conditional_get,
    single_resource_gets,
)


async def a_visit(client, nats_url: str, frozen) -> dict:
    now = a_morning()
    frozen(now)
    flight_no, flight_date = await a_flight(client, nats_url, now + timedelta(hours=2))
    member_id = await a_member(client, nats_url)
    body = {"member_id": member_id, "flight": {"carrier": flight_no[:2], "number": flight_no[2:], "flight_date": str(flight_date)}}
    response = await client.post(f"/v1/lounges/{PEK}/visits", json=body, headers=PEK_STAFF)
    assert response.status_code == 201, response.text
    return response.json()


async def test_every_single_resource_get_gives_an_etag_and_honours_if_none_match(client, nats_server, frozen):
    document = (await client.get("/openapi.json")).json()
    visit = await a_visit(client, nats_server.url, frozen)
    counted = await client.post(f"/v1/lounges/{PEK}/stock-counts", json={"lines": [{"sku": "PANDA", "counted": 5}]}, headers=PEK_STAFF)
    assert counted.status_code == 201, counted.text
    drafts = await client.get("/v1/requisitions", params={"lounge_id": PEK, "status": "draft"}, headers=PEK_STAFF)
    flight = visit["flight"]
    samples = {
        "/v1/lounges/{lounge_id}": f"/v1/lounges/{PEK}",
        "/v1/members/{member_id}": f"/v1/members/{visit['member_id']}",
        "/v1/flights/{flight_no}/{flight_date}": f"/v1/flights/{flight['flight_no']}/{flight['flight_date']}",
        "/v1/visits/{visit_id}": f"/v1/visits/{visit['id']}",
        "/v1/requisitions/{requisition_id}": f"/v1/requisitions/{drafts.json()['items'][0]['id']}",
    }
    assert sorted(samples) == single_resource_gets(document)  # a new route needs a sample here
    for route, path in samples.items():
        assert declares_conditional_get(document["paths"][route]["get"]), route
        await assert_conditional_get(client, path, PEK_STAFF)


async def test_the_board_answers_304_until_a_guest_arrives_or_leaves(client, nats_server, frozen):
    document = (await client.get("/openapi.json")).json()
    assert declares_conditional_get(document["paths"]["/v1/lounges/{lounge_id}/board"]["get"])
    board = f"/v1/lounges/{PEK}/board"
    empty = await assert_conditional_get(client, board, PEK_STAFF)
    visit = await a_visit(client, nats_server.url, frozen)
    arrived = await client.get(board, headers={**PEK_STAFF, "If-None-Match": empty.headers["etag"]})
    assert arrived.status_code == 200 and [row["visit_id"] for row in arrived.json()["items"]] == [visit["id"]]
    assert arrived.headers["etag"] != empty.headers["etag"]
    assert (await client.get(board, headers={**PEK_STAFF, "If-None-Match": arrived.headers["etag"]})).status_code == 304
    assert (await client.post(f"/v1/visits/{visit['id']}/checkout", json={}, headers=PEK_STAFF)).status_code == 200
    left = await client.get(board, headers={**PEK_STAFF, "If-None-Match": arrived.headers["etag"]})
    assert left.status_code == 200 and left.json()["items"] == [] and left.headers["etag"] == empty.headers["etag"]


async def test_a_visit_gets_a_new_etag_when_it_changes(client, nats_server, frozen):
    visit = await a_visit(client, nats_server.url, frozen)
    path = f"/v1/visits/{visit['id']}"
    read = await client.get(path, headers=PEK_STAFF)
    assert (await client.post(f"{path}/checkout", json={}, headers=PEK_STAFF)).status_code == 200
    after = await client.get(path, headers={**PEK_STAFF, "If-None-Match": read.headers["etag"]})
    assert after.status_code == 200 and after.json()["status"] != read.json()["status"] and after.headers["etag"] != read.headers["etag"]


async def test_a_lounges_etag_is_the_one_its_patch_takes_and_a_patch_gives_a_new_one(client):
    path = f"/v1/lounges/{PEK}"
    minutes = (await client.get(path, headers=PEK_MANAGER)).json()["boarding_call_minutes"]
    _read, after = await assert_a_patch_gives_a_new_etag(client, path, PEK_MANAGER, {"boarding_call_minutes": minutes + 5})
    restore = {**PEK_MANAGER, "If-Match": after.headers["etag"]}
    assert (await client.patch(path, json={"boarding_call_minutes": minutes}, headers=restore)).status_code == 200
