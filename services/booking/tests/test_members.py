"""Members in booking: registration, reading, changing, search, and the events they emit."""

import uuid

import pytest

from airside_tools.testing.events import published_events
from airside_tools.testing.harness import auth

AGENT = auth("agent")


def new_member(**overrides):
    return {"name": "张伟", "phone": "+8613800138000", "tier": "gold", **overrides}


async def create(client, **overrides):
    response = await client.post("/v1/members", json=new_member(**overrides), headers=AGENT)
    assert response.status_code == 201, response.text
    return response.json()


async def test_registering_a_member_returns_it_and_emits_member_registered(client, nats_server):
    member = await create(client, name="Li Na", email="li.na@example.com")

    assert member["card_no"].startswith("AS") and member["version"] == 1 and member["status"] == "active"
    events = await published_events(
        nats_server.url, "airside.booking.member.registered", until=lambda seen: any(event.subject == member["id"] for event in seen)
    )
    event = next(event for event in events if event.subject == member["id"])
    assert event.source == "airside/booking"
    assert event.data["member"]["phone"] == "+8613800138000" and event.data["member"]["version"] == 1


async def test_phone_is_normalised_to_e164_and_card_no_can_be_given(client):
    card_no = f"C{uuid.uuid4().hex[:8].upper()}"
    member = await create(client, phone="+86 138 0013 8000", card_no=card_no)
    assert member["phone"] == "+8613800138000" and member["card_no"] == card_no
    again = await client.post("/v1/members", json=new_member(card_no=card_no), headers=AGENT)
    assert again.status_code == 409 and again.json()["type"] == "/problems/card_no_taken"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (new_member(tier="diamond"), "body.tier"),
        (new_member(phone="13800138000"), "body.phone"),
        (new_member(phone="+86123"), "body.phone"),
        (new_member(name=""), "body.name"),
        (new_member(name=42), "body.name"),
        (new_member(email="not-an-email"), "body.email"),
        ({"phone": "+8613800138000", "tier": "gold"}, "body.name"),
    ],
)
async def test_bad_member_input_is_a_422_naming_the_field(client, body, field):
    response = await client.post("/v1/members", json=body, headers=AGENT)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {error["field"] for error in response.json()["errors"]}


async def test_malformed_json_is_a_422_problem(client):
    response = await client.post("/v1/members", content=b'{"name": ', headers={**AGENT, "Content-Type": "application/json"})
    assert response.status_code == 422 and response.json()["type"] == "/problems/validation_error"


async def test_no_token_is_401(client):
    assert (await client.post("/v1/members", json=new_member())).status_code == 401
    assert (await client.get("/v1/members/whatever")).status_code == 401


@pytest.mark.parametrize("role", ["concierge", "lounge_staff", "service"])
async def test_roles_outside_the_member_desk_cannot_register(client, role):
    assert (await client.post("/v1/members", json=new_member(), headers=auth(role))).status_code == 403


async def test_a_member_reads_themself_but_never_another_member(client):
    me, other = await create(client), await create(client)
    mine = auth("member", member_id=me["id"])
    assert (await client.get(f"/v1/members/{me['id']}", headers=mine)).status_code == 200
    response = await client.get(f"/v1/members/{other['id']}", headers=mine)
    assert response.status_code == 404 and response.json()["type"] == "/problems/not_found"
    assert (await client.get("/v1/members", headers=mine)).status_code == 403


async def test_patch_needs_if_match_and_refuses_a_stale_version(client, nats_server):
    member = await create(client)
    path = f"/v1/members/{member['id']}"
    assert (await client.patch(path, json={"name": "王芳"}, headers=AGENT)).status_code == 428

    read = await client.get(path, headers=AGENT)
    assert read.headers["ETag"] == '"1"'
    changed = await client.patch(path, json={"name": "王芳"}, headers={**AGENT, "If-Match": read.headers["ETag"]})
    assert changed.status_code == 200 and changed.json()["version"] == 2 and changed.json()["name"] == "王芳"

    stale = await client.patch(path, json={"name": "Someone"}, headers={**AGENT, "If-Match": '"1"'})
    assert stale.status_code == 412 and stale.json()["current_version"] == 2

    events = await published_events(
        nats_server.url, "airside.booking.member.updated", until=lambda seen: any(event.subject == member["id"] for event in seen)
    )
    assert [event.data["member"]["version"] for event in events if event.subject == member["id"]] == [2]


async def test_a_member_changes_contact_but_not_tier(client):
    member = await create(client)
    mine = auth("member", member_id=member["id"])
    path = f"/v1/members/{member['id']}"
    tier = await client.patch(path, json={"tier": "vip"}, headers={**mine, "If-Match": '"1"'})
    assert tier.status_code == 403
    phone = await client.patch(path, json={"phone": "+8613911112222"}, headers={**mine, "If-Match": '"1"'})
    assert phone.status_code == 200 and phone.json()["phone"] == "+8613911112222"


async def test_idempotency_key_returns_the_first_result_and_refuses_another_body(client):
    key = {"Idempotency-Key": uuid.uuid4().hex}
    card_no = f"I{uuid.uuid4().hex[:8].upper()}"
    first = await client.post("/v1/members", json=new_member(card_no=card_no), headers={**AGENT, **key})
    retry = await client.post("/v1/members", json=new_member(card_no=card_no), headers={**AGENT, **key})
    assert first.status_code == retry.status_code == 201
    assert first.json()["id"] == retry.json()["id"]
    found = (await client.get("/v1/members", params={"q": card_no}, headers=AGENT)).json()["items"]
    assert len(found) == 1
    other = await client.post("/v1/members", json=new_member(card_no=card_no, name="Other"), headers={**AGENT, **key})
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_search_pages_through_matches_with_a_cursor(client):
    surname = f"Q{uuid.uuid4().hex[:6]}"
    created = [await create(client, name=f"{surname} {index}") for index in range(5)]
    seen, cursor = [], None
    while True:
        params = {"q": surname, "limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/v1/members", params=params, headers=AGENT)).json()
        seen += [member["id"] for member in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [member["id"] for member in created]
    bad = await client.get("/v1/members", params={"cursor": "%%%"}, headers=AGENT)
    assert bad.status_code == 422


async def test_the_correlation_id_travels_from_the_request_into_the_event(client, nats_server):
    correlation_id = uuid.uuid4().hex
    response = await client.post("/v1/members", json=new_member(), headers={**AGENT, "X-Correlation-ID": correlation_id})
    member_id = response.json()["id"]
    assert response.headers["X-Correlation-ID"] == correlation_id
    events = await published_events(
        nats_server.url, "airside.booking.member.registered", until=lambda seen: any(event.subject == member_id for event in seen)
    )
    event = next(event for event in events if event.subject == member_id)
    assert event.correlationid == correlation_id
    assert event.traceparent and event.traceparent.startswith("00-")
