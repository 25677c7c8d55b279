"""A lounge added after the seed (a row ops insert) takes concurrent first requests without a 5xx:
every per-lounge row a first request creates (the occupancy counter above all) is created race-free."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import time, timedelta

import pytest
from lounge_support import PEK_STAFF, a_flight, a_morning, boarding_pass
from sqlalchemy import delete

from lounge.lounges.models import Lounge

CAPACITY = 5


@pytest.fixture
async def fresh_lounge(lounge, client) -> AsyncIterator[str]:
    """A lounge inserted as ops would, open round the clock; gone again after the test (other tests list the lounges)."""
    lounge_id = f"PEK-NEW-{uuid.uuid4().hex[:8]}"
    async with lounge.runtime.db.session() as session:
        session.add(
            Lounge(id=lounge_id, station="PEK", name="Beijing T2 Lounge", capacity=CAPACITY, opens=time(0), closes=time(0),
                   boarding_call_minutes=40, day_pass_minor=30000, guest_fee_minor=20000)
        )  # fmt: skip
        await session.commit()
    yield lounge_id
    for visit in (await client.get(f"/v1/lounges/{lounge_id}/visits", params={"status": "checked_in"}, headers=PEK_STAFF)).json()["items"]:
        await client.post(f"/v1/visits/{visit['id']}/checkout", json={"payment_method": "card"}, headers=PEK_STAFF)
    async with lounge.runtime.db.session() as session:
        await session.execute(delete(Lounge).where(Lounge.id == lounge_id))  # type: ignore[arg-type]
        await session.commit()


def walk_ins(flight_no: str, flight_date, count: int) -> list[dict]:
    return [
        {"boarding_pass": boarding_pass(f"FIRST/GUEST{'ABCDEFGHIJKLMNOPQRST'[index]}", flight_no, flight_date)} for index in range(count)
    ]


async def test_concurrent_first_check_ins_at_a_new_lounge_fill_it_exactly(fresh_lounge, client, nats_server, frozen):
    now = a_morning()
    frozen(now)
    flight_no, flight_date = await a_flight(client, nats_server.url, now + timedelta(hours=2))
    lounge_id = fresh_lounge
    responses = await asyncio.gather(
        *(client.post(f"/v1/lounges/{lounge_id}/visits", json=body, headers=PEK_STAFF) for body in walk_ins(flight_no, flight_date, 20))
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] * CAPACITY + [409] * (20 - CAPACITY), [response.text for response in responses if response.status_code >= 500]
    assert {response.json()["type"] for response in responses if response.status_code == 409} == {"/problems/lounge_full"}
    occupancy = (await client.get(f"/v1/lounges/{lounge_id}/occupancy", headers=PEK_STAFF)).json()
    assert occupancy == {"capacity": CAPACITY, "occupied": CAPACITY, "available": 0}


# Every write under a lounge, with a body it accepts or refuses on business grounds at a new lounge.
FIRST_REQUESTS = {
    "/v1/lounges/{lounge_id}/visits": lambda flight: walk_ins(*flight, 8),
    "/v1/lounges/{lounge_id}/stock-counts": lambda _flight: [{"lines": [{"sku": "TEA", "counted": 10}]}] * 8,
    "/v1/lounges/{lounge_id}/deliveries": lambda _flight: [{"lines": [{"sku": "TEA", "qty": 10}]}] * 8,
}


def lounge_writes(app) -> set[str]:
    return {
        path
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/v1/lounges/{lounge_id}/") and operations.keys() & {"post", "put", "patch"}
    }


def test_every_write_under_a_lounge_is_tried_at_a_new_lounge(lounge):
    assert lounge_writes(lounge.app) == set(FIRST_REQUESTS)


@pytest.mark.parametrize("path", sorted(FIRST_REQUESTS))
async def test_concurrent_first_writes_at_a_new_lounge_never_answer_5xx(fresh_lounge, client, nats_server, frozen, path):
    now = a_morning()
    frozen(now)
    flight = await a_flight(client, nats_server.url, now + timedelta(hours=2))
    lounge_id = fresh_lounge
    bodies = FIRST_REQUESTS[path](flight)
    url = path.format(lounge_id=lounge_id)
    responses = await asyncio.gather(*(client.post(url, json=body, headers=PEK_STAFF) for body in bodies))
    assert all(response.status_code < 500 for response in responses), [response.text for response in responses]
