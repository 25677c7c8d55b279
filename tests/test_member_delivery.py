"""Members across the three services as separate processes, under NATS and service crashes.

booking writes the member and its event in one transaction; lounge and callcenter build their
copies from the event. Exactly-once *in effect* is counted from each consumer's own metric of
applied events (a redelivery shows as `duplicate`, never as a second `applied`).
"""

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from airside_tools.testing.events import acknowledged_everything, unacknowledged
from airside_tools.testing.harness import ServiceSet, auth, wait_for

AGENT = auth("agent", stations=["PEK"])
STAFF = auth("supervisor", stations=["PEK"])
COPIES = {"lounge": "lounge-booking", "callcenter": "callcenter-booking"}


@pytest.fixture(scope="module")
def services(nats_server, databases, tmp_path_factory):
    service_set = ServiceSet(databases, nats_server.url, tmp_path_factory.mktemp("logs")).start()
    yield service_set
    service_set.stop()


@pytest.fixture
async def http():
    # Idle connections are dropped before uvicorn's 5 s keep-alive closes them under our feet.
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=40, keepalive_expiry=2)) as client:
        yield client


async def register(http, booking_url: str, label: str) -> str:
    body = {"name": f"Member {label}", "phone": "+8613800138000", "tier": "gold"}
    response = await http.post(f"{booking_url}/v1/members", json=body, headers={**AGENT, "Idempotency-Key": label})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def applied(http, service_url: str, consumer: str) -> float:
    metrics = (await http.get(f"{service_url}/metrics")).text
    pattern = rf'airside_consumer_events_total\{{consumer="{consumer}",outcome="applied",service="[a-z]+"\}} ([0-9.e+]+)'
    found = re.search(pattern, metrics)
    return float(found.group(1)) if found else 0.0


async def copies_present(http, services, member_ids: list[str]) -> bool:
    semaphore = asyncio.Semaphore(30)

    async def present(url: str, member_id: str) -> bool:
        async with semaphore:
            response = await http.get(f"{url}/v1/members/{member_id}", headers=STAFF)
            return response.status_code == 200 and response.json()["version"] == 1

    checks = [present(services[name].url, member_id) for name in COPIES for member_id in member_ids]
    return all(await asyncio.gather(*checks))


async def applied_counts(http, services) -> dict[str, float]:
    return {name: await applied(http, services[name].url, consumer) for name, consumer in COPIES.items()}


async def test_a_member_registered_in_booking_is_in_lounge_and_callcenter(services, http):
    # How fast is bench's business (P2 measures an event end to end against C5); here only that it arrives.
    member_id = await register(http, services["booking"].url, uuid.uuid4().hex)
    await wait_for(lambda: copies_present(http, services, [member_id]), timeout=30, what="both copies", interval=0.01)


async def test_nats_killed_during_500_registrations_loses_and_doubles_nothing(services, http, nats_server):
    before = await applied_counts(http, services)
    labels = [uuid.uuid4().hex for _ in range(500)]
    semaphore = asyncio.Semaphore(20)
    done = 0

    async def one(label: str) -> str:
        nonlocal done
        async with semaphore:
            member_id = await register(http, services["booking"].url, label)
            done += 1
            return member_id

    async def crash_nats() -> None:
        await wait_for(lambda: asyncio.sleep(0, done >= 150), timeout=60, what="150 registrations")
        nats_server.kill()
        await wait_for(lambda: asyncio.sleep(0, done >= 350), timeout=60, what="350 registrations")
        await asyncio.to_thread(nats_server.start)

    crash = asyncio.create_task(crash_nats())
    member_ids = await asyncio.gather(*(one(label) for label in labels))
    await crash

    assert len(set(member_ids)) == 500
    await wait_for(lambda: copies_present(http, services, member_ids), timeout=120, what="all 500 copies in lounge and callcenter")
    after = await applied_counts(http, services)
    assert {name: after[name] - before[name] for name in COPIES} == {"lounge": 500, "callcenter": 500}


async def test_nats_down_for_a_whole_burst_every_write_succeeds_and_the_backlog_drains(services, http, nats_server):
    before = await applied_counts(http, services)
    nats_server.kill()
    try:
        member_ids = [await register(http, services["booking"].url, uuid.uuid4().hex) for _ in range(100)]
        ready = (await http.get(f"{services['booking'].url}/readyz")).json()
        assert ready["outbox"]["pending"] >= 100
    finally:
        await asyncio.to_thread(nats_server.start)
    await wait_for(lambda: copies_present(http, services, member_ids), timeout=120, what="the backlog reaching both copies")
    after = await applied_counts(http, services)
    assert {name: after[name] - before[name] for name in COPIES} == {"lounge": 100, "callcenter": 100}
    assert (await http.get(f"{services['booking'].url}/readyz")).json()["outbox"]["pending"] == 0


async def processed_rows(database_url: str, consumer: str) -> int:
    """The consumer's inbox: one row per event whose effects it committed (read while it is down or running)."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            query = text("SELECT count(*) FROM processed_event WHERE consumer = :consumer")
            return (await connection.execute(query, {"consumer": consumer})).scalar_one()
    finally:
        await engine.dispose()


@asynccontextmanager
async def member_writes_held(database_url: str) -> AsyncIterator[None]:
    """The member copy's table held by a transaction of the test's, so a consumer's write to it waits: the
    consumer then holds its fetched batch, unacknowledged, for as long as the test likes."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                await connection.execute(text("LOCK TABLE member IN SHARE ROW EXCLUSIVE MODE"))
            else:  # SQLite: a write, even of nothing, takes the database's one writer's lock
                await connection.execute(text("DELETE FROM member WHERE 1 = 0"))
            yield
            await connection.rollback()
    finally:
        await engine.dispose()


async def test_a_consumer_killed_mid_batch_and_restarted_loses_and_doubles_nothing(services, http, nats_server):
    lounge = services["lounge"]
    labels = [uuid.uuid4().hex for _ in range(400)]
    semaphore = asyncio.Semaphore(20)

    async def one(label: str) -> str:
        async with semaphore:
            return await register(http, services["booking"].url, label)

    # SIGKILL while lounge holds a fetched batch it has not acknowledged: its write waits on the test's lock,
    # so the kill lands mid-batch however fast the batch would otherwise be applied.
    async with member_writes_held(lounge.env["LOUNGE_DATABASE_URL"]):
        registering = asyncio.gather(*(one(label) for label in labels))
        holding = partial(unacknowledged, nats_server.url, "AIRSIDE_BOOKING", COPIES["lounge"])
        await wait_for(holding, timeout=30, what="lounge holding a fetched batch", interval=0.01)
        lounge.kill()
    member_ids = await registering
    committed = await processed_rows(lounge.env["LOUNGE_DATABASE_URL"], COPIES["lounge"])
    await asyncio.to_thread(lounge.start().wait_ready)

    await wait_for(lambda: copies_present(http, services, member_ids), timeout=120, what="all copies after the restart")
    await wait_for(
        partial(acknowledged_everything, nats_server.url, "AIRSIDE_BOOKING", COPIES["lounge"]), timeout=60, what="lounge acking all"
    )
    # The restarted process applied exactly what had not committed before the kill: every event it applied
    # added its inbox row (none applied twice), and the rest of the 400 came back as redeliveries or new.
    after = await processed_rows(lounge.env["LOUNGE_DATABASE_URL"], COPIES["lounge"])
    assert await applied(http, lounge.url, COPIES["lounge"]) == after - committed
    assert await redelivered(http, lounge.url, COPIES["lounge"]) > 0  # it really was killed with a batch in hand
    admin = auth("admin", stations=["*"])
    for name in COPIES:
        letters = (await http.get(f"{services[name].url}/v1/ops/dead-letters", headers=admin)).json()["items"]
        assert letters == []


async def redelivered(http, service_url: str, consumer: str) -> float:
    metrics = (await http.get(f"{service_url}/metrics")).text
    found = re.search(rf'airside_consumer_redeliveries_total\{{consumer="{consumer}",service="[a-z]+"\}} ([0-9.e+]+)', metrics)
    return float(found.group(1)) if found else 0.0
