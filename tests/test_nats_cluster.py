"""R5 for members: a three-node NATS cluster with R3 streams loses the leader of booking's stream
mid-flow, and the node comes back; nothing is lost and nothing is applied twice."""

import asyncio
import re
import uuid
from functools import partial

import httpx
import pytest

from airside_tools.processes import NatsCluster
from airside_tools.testing.cluster import replicas_current, stream_info, stream_leader
from airside_tools.testing.events import acknowledged_everything
from airside_tools.testing.harness import ServiceSet, auth, wait_for

AGENT = auth("agent", stations=["PEK"])
STAFF = auth("supervisor", stations=["PEK"])
COPIES = {"lounge": "lounge-booking", "callcenter": "callcenter-booking"}
STREAMS = ("AIRSIDE_BOOKING", "AIRSIDE_LOUNGE", "AIRSIDE_CALLCENTER", "AIRSIDE_FLIGHTS")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    nodes = NatsCluster(tmp_path_factory.mktemp("cluster")).start()
    yield nodes
    nodes.stop()


@pytest.fixture(scope="module")
def services(cluster, databases, tmp_path_factory):
    service_set = ServiceSet(databases, cluster.url, tmp_path_factory.mktemp("logs"), AIRSIDE_STREAM_REPLICAS="3").start()
    yield service_set
    service_set.stop()


async def applied(http: httpx.AsyncClient, url: str, consumer: str) -> float:
    metrics = (await http.get(f"{url}/metrics")).text
    found = re.search(rf'airside_consumer_events_total\{{consumer="{consumer}",outcome="applied",service="[a-z]+"\}} ([0-9.e+]+)', metrics)
    return float(found.group(1)) if found else 0.0


async def test_every_stream_is_declared_with_three_replicas(cluster, services):
    async def led(name: str):
        # While the group elects its leader, the server lists all three peers as replicas and no leader.
        info = await stream_info(cluster, name)
        return info if info and info.cluster and info.cluster.leader else None

    for name in STREAMS:
        info = await wait_for(lambda name=name: led(name), timeout=30, what=f"{name} answering with a leader")
        assert info.config.num_replicas == 3, name
        assert len(info.cluster.replicas or []) == 2, name  # the leader plus two followers


async def test_losing_the_stream_leader_loses_and_doubles_no_event_and_the_node_catches_up(cluster, services):
    async with httpx.AsyncClient(timeout=30) as http:
        booking = services["booking"].url

        # The seeded stations' events published and applied, so the counts below are the members' alone.
        async def booking_published_all() -> bool:
            return (await http.get(f"{booking}/readyz")).json()["outbox"]["pending"] == 0

        await wait_for(booking_published_all, timeout=30, what="booking's outbox empty")
        for durable in COPIES.values():
            caught_up = partial(acknowledged_everything, cluster.url, "AIRSIDE_BOOKING", durable)
            await wait_for(caught_up, timeout=30, what=f"{durable} caught up")
        before = {name: await applied(http, services[name].url, consumer) for name, consumer in COPIES.items()}

        async def elected() -> tuple[int] | None:
            index = await stream_leader(cluster, "AIRSIDE_BOOKING")
            return None if index is None else (index,)  # node 0 leads too

        (leader,) = await wait_for(elected, timeout=30, what="a leader of AIRSIDE_BOOKING")
        semaphore = asyncio.Semaphore(10)
        created = 0

        async def register(label: str) -> str:
            nonlocal created
            async with semaphore:
                body = {"name": f"Cluster {label}", "phone": "+8613800138000", "tier": "standard"}
                response = await http.post(f"{booking}/v1/members", json=body, headers={**AGENT, "Idempotency-Key": label})
                assert response.status_code == 201, response.text
                created += 1
                return response.json()["id"]

        async def lose_the_leader() -> None:
            await wait_for(lambda: asyncio.sleep(0, created >= 60), timeout=60, what="60 registrations")
            await asyncio.to_thread(cluster.nodes[leader].kill)

        killer = asyncio.create_task(lose_the_leader())
        member_ids = await asyncio.gather(*(register(uuid.uuid4().hex) for _ in range(200)))
        await killer

        async def survivor_leads() -> bool:
            return (await stream_leader(cluster, "AIRSIDE_BOOKING")) not in (None, leader)

        await wait_for(survivor_leads, timeout=30, what="a surviving node leading AIRSIDE_BOOKING")

        async def all_copied() -> bool:
            for name in COPIES:
                responses = await asyncio.gather(*(http.get(f"{services[name].url}/v1/members/{m}", headers=STAFF) for m in member_ids))
                if not all(response.status_code == 200 and response.json()["version"] == 1 for response in responses):
                    return False
            return True

        await wait_for(all_copied, timeout=60, what="every member in lounge and callcenter after losing the leader")
        after = {name: await applied(http, services[name].url, consumer) for name, consumer in COPIES.items()}
        assert {name: after[name] - before[name] for name in COPIES} == {"lounge": 200, "callcenter": 200}  # none applied twice
        assert (await http.get(f"{booking}/readyz")).json()["outbox"]["pending"] == 0

        await asyncio.to_thread(cluster.nodes[leader].start)
        for name in STREAMS:
            await wait_for(lambda name=name: replicas_current(cluster, name), timeout=60, what=f"the returned node current on {name}")
