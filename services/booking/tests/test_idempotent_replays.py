"""Idempotency-Key (issue 10 item 18): a retry is recognised by its JSON, not its bytes, and the replay
carries the first answer's headers (its ETag), on the Session paths and on the lean PostgreSQL ones
(order creation and completion take the raw driver there)."""

import json
import random
import uuid

import pytest
from booking_support import AGENT, LEAD, act, assigned_order, local, local_day, new_flight, new_member, order_body
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airside_tools.testing.harness import auth


def reordered(value, rng: random.Random):
    """The same JSON value with every object's keys in another order."""
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        return {key: reordered(value[key], rng) for key in keys}
    if isinstance(value, list):
        return [reordered(item, rng) for item in value]
    return value


def reserialised(body, seed: int = 7, indent: int | None = 3, separators: tuple[str, str] = (" ,  ", " :\t")) -> bytes:
    return json.dumps(reordered(body, random.Random(seed)), indent=indent, separators=separators, ensure_ascii=False).encode()


async def member_creation(client):
    return "/v1/members", {"name": "王芳", "phone": "+8613900139000", "tier": "gold", "email": "wang@example.com"}, AGENT, 201


async def order_creation(client):
    member = await new_member(client)
    flight = new_flight(local(local_day(), 15))
    # A first order makes the flight known: the next takes the lean path on PostgreSQL (it falls back for a new flight).
    assert (await client.post("/v1/orders", json=order_body(member["id"], flight), headers=AGENT)).status_code == 201
    return "/v1/orders", order_body(member["id"], flight, notes="aisle"), AGENT, 201


async def order_confirmation(client):
    member = await new_member(client)
    order = (await client.post("/v1/orders", json=order_body(member["id"], new_flight(local(local_day(), 16))), headers=AGENT)).json()
    return f"/v1/orders/{order['id']}/confirm", {"notes": "confirmed by phone"}, LEAD, 200


async def order_completion(client):
    order, concierge = await assigned_order(client)
    concierge_headers = auth("concierge", sub=concierge["subject"])
    assert (await act(client, order, "start", headers=concierge_headers)).status_code == 200
    body = {"fees_collected": {"amount_minor": 5000, "currency": "CNY", "method": "cash"}}
    return f"/v1/orders/{order['id']}/complete", body, concierge_headers, 200


REQUESTS = {
    "member creation": member_creation,
    "order creation": order_creation,
    "confirmation": order_confirmation,
    "completion": order_completion,
}


@pytest.mark.parametrize("prepare", REQUESTS.values(), ids=REQUESTS.keys())
async def test_a_retry_written_otherwise_is_the_same_request_and_its_replay_has_the_etag(client, prepare):
    path, body, headers, status = await prepare(client)
    keyed = {**headers, "Idempotency-Key": uuid.uuid4().hex, "Content-Type": "application/json"}
    first = await client.post(path, content=json.dumps(body, separators=(",", ":")).encode(), headers=keyed)
    assert first.status_code == status, first.text
    assert first.headers["ETag"] == f'"{first.json()["version"]}"'
    again = await client.post(path, content=reserialised(body), headers=keyed)
    assert (again.status_code, again.json()) == (first.status_code, first.json()), again.text
    assert again.headers["Idempotent-Replay"] == "true"
    assert again.headers["ETag"] == first.headers["ETag"]
    other = await client.post(path, json={**body, "unexpected": "field"}, headers=keyed)
    assert (other.status_code, other.json()["errors"][0]["type"]) == (422, "idempotency_key_reused")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 2**16),
    indent=st.none() | st.integers(0, 4),
    separators=st.tuples(st.sampled_from([",", ", ", " ,\n"]), st.sampled_from([":", ": ", " :\t"])),
)
async def test_any_serialisation_of_the_same_json_replays_the_first_answer(client, seed, indent, separators):
    path, body, headers, status = await member_creation(client)
    keyed = {**headers, "Idempotency-Key": uuid.uuid4().hex, "Content-Type": "application/json"}
    first = await client.post(path, content=reserialised(body, seed + 1, None, (",", ":")), headers=keyed)
    again = await client.post(path, content=reserialised(body, seed, indent, separators), headers=keyed)
    assert first.status_code == status and again.headers.get("Idempotent-Replay") == "true", again.text
    assert (again.json(), again.headers["ETag"]) == (first.json(), first.headers["ETag"])
