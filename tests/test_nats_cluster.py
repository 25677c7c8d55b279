"""R5: a three-node NATS cluster with R3 streams loses one node mid-flow; nothing is lost."""

import asyncio
import uuid

import httpx
import nats
import pytest

from airside.processes import NatsCluster
from airside.testing.harness import ServiceSet, auth, wait_for

AGENT = auth("agent", stations=["PEK"])
STAFF = auth("supervisor", stations=["PEK"])


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    nodes = NatsCluster(tmp_path_factory.mktemp("cluster")).start()
    yield nodes
    nodes.stop()


@pytest.fixture(scope="module")
def services(cluster, databases, tmp_path_factory):
    service_set = ServiceSet(
        databases, cluster.url, tmp_path_factory.mktemp("logs"), names=("booking", "lounge"), AIRSIDE_STREAM_REPLICAS="3"
    ).start()
    yield service_set
    service_set.stop()


async def test_streams_are_declared_with_three_replicas(cluster, services):
    nc = await nats.connect(servers=cluster.url.split(","))
    try:
        info = await nc.jetstream().stream_info("AIRSIDE_BOOKING")
    finally:
        await nc.close()
    assert info.config.num_replicas == 3
    assert len(info.cluster.replicas or []) == 2  # the leader plus two followers


async def test_losing_one_node_of_three_loses_no_event(cluster, services):
    async with httpx.AsyncClient(timeout=30) as http:
        booking, lounge = services["booking"].url, services["lounge"].url
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

        async def lose_a_node() -> None:
            await wait_for(lambda: asyncio.sleep(0, created >= 60), timeout=60, what="60 registrations")
            cluster.nodes[0].kill()

        killer = asyncio.create_task(lose_a_node())
        member_ids = await asyncio.gather(*(register(uuid.uuid4().hex) for _ in range(200)))
        await killer

        async def all_copied() -> bool:
            statuses = await asyncio.gather(*(http.get(f"{lounge}/v1/members/{member_id}", headers=STAFF) for member_id in member_ids))
            return all(response.status_code == 200 for response in statuses)

        await wait_for(all_copied, timeout=60, what="every member in lounge after losing a node")
        info = (await http.get(f"{booking}/readyz")).json()
        assert info["outbox"]["pending"] == 0
