"""What a test asks a NATS cluster about one stream: who leads it and whether its followers are current."""

from __future__ import annotations

import nats
from nats.js.api import StreamInfo

from airside_tools.processes import NatsCluster


async def stream_info(cluster: NatsCluster, stream: str) -> StreamInfo | None:
    """What the cluster says of `stream`, or None while it cannot answer (electing a leader)."""
    try:
        connection = await nats.connect(servers=cluster.url.split(","), connect_timeout=2, max_reconnect_attempts=1)
    except (nats.errors.Error, OSError):
        return None
    try:
        return await connection.jetstream(timeout=2).stream_info(stream)
    except (nats.errors.Error, TimeoutError):
        return None
    finally:
        await connection.close()


async def stream_leader(cluster: NatsCluster, stream: str) -> int | None:
    """The index of the node leading `stream`, or None while the cluster is electing one."""
    info = await stream_info(cluster, stream)
    leader = info.cluster.leader if info and info.cluster else None
    return next((index for index, node in enumerate(cluster.nodes) if node.name == leader), None)


async def replicas_current(cluster: NatsCluster, stream: str, followers: int = 2) -> bool:
    """Every follower of `stream` is online and holds everything its leader holds."""
    info = await stream_info(cluster, stream)
    replicas = (info.cluster.replicas or []) if info and info.cluster else []
    return len(replicas) == followers and all(replica.current and not replica.offline for replica in replicas)
