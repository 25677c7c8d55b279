"""C3 and P3 in a child process on the server core: raw JetStream publishing, then the outbox relay.

`python -m bench.publish c3 NATS_URL SECONDS PAYLOAD_BYTES` prints {"rate": msg/s, ...};
`python -m bench.publish p3 DATABASE_URL NATS_URL` drains the outbox with airside's own relay and
prints {"rate": events/s, ...};
`python -m bench.publish c5 NATS_URL RATE SECONDS PAYLOAD_BYTES` publishes at a constant rate, each
awaiting its PubAck, to a durable pull consumer that acks what it fetches, and prints the latency
from the intended send time to receipt {"p50_ms", "p99_ms", ...}: the floor under P2.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
import uuid
from typing import Any

import nats
import uvloop
from nats.js.api import RetentionPolicy, StorageType, StreamConfig

from airside.db.database import Database
from airside.messaging.bus import Bus
from airside.messaging.outbox import OutboxRelay
from airside.settings import AirsideSettings

C3_STREAM = StreamConfig(
    name="BENCH_C3",
    subjects=["bench.c3.>"],
    retention=RetentionPolicy.LIMITS,
    storage=StorageType.FILE,
    duplicate_window=120.0,
)


async def c3(nats_url: str, seconds: float, payload_bytes: int) -> dict[str, Any]:
    """The fastest raw nats-py way to get PubAcks: windows of concurrent publishes, and publish_async."""
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await js.add_stream(C3_STREAM)
    payload = b"x" * payload_bytes
    results: dict[str, float] = {}

    async def gathered(window: int) -> None:
        await asyncio.gather(
            *(js.publish("bench.c3.gather", payload, headers={"Nats-Msg-Id": str(uuid.uuid4())}, timeout=10) for _ in range(window))
        )

    async def async_window(window: int) -> None:
        for _ in range(window):
            await js.publish_async("bench.c3.async", payload, headers={"Nats-Msg-Id": str(uuid.uuid4())})
        await js.publish_async_completed()

    for name, step, window in (("gather_500", gathered, 500), ("publish_async_2000", async_window, 2000)):
        await step(window)  # warm-up
        sent, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            await step(window)
            sent += window
        results[name] = sent / (time.perf_counter() - started)
    await js.delete_stream(C3_STREAM.name)
    await nc.close()
    best = max(results, key=lambda name: results[name])
    return {"rate": results[best], "method": best, "methods": results, "payload_bytes": payload_bytes}


C5_STREAM = StreamConfig(
    name="BENCH_C5", subjects=["bench.c5.>"], retention=RetentionPolicy.LIMITS, storage=StorageType.FILE, duplicate_window=120.0
)


async def c5(nats_url: str, rate: float, seconds: float, payload_bytes: int) -> dict[str, Any]:
    """Raw JetStream end to end at P2's rate: publish with PubAck → durable pull consumer → ack."""
    publisher, receiver = await nats.connect(nats_url), await nats.connect(nats_url)
    js = publisher.jetstream()
    await js.add_stream(C5_STREAM)
    subscription = await receiver.jetstream().pull_subscribe("bench.c5.>", durable="bench-c5", stream=C5_STREAM.name)
    count = int(rate * seconds)
    sent_at: dict[int, float] = {}
    received: dict[int, float] = {}
    filler = b"x" * max(payload_bytes - 12, 0)

    async def publish_one(index: int, due: float) -> None:
        sent_at[index] = due
        await js.publish(f"bench.c5.{index % 64}", str(index).encode().ljust(12) + filler, headers={"Nats-Msg-Id": str(uuid.uuid4())})

    async def receive() -> None:
        while len(received) < count:
            try:
                messages = await subscription.fetch(100, timeout=1)
            except TimeoutError:
                continue
            now = time.perf_counter()
            for message in messages:
                received.setdefault(int(message.data[:12].decode()), now)
                await message.ack()

    receiving = asyncio.create_task(receive())
    started = time.perf_counter() + 0.5
    sending = []
    for index in range(count):  # open model: each message leaves at its time, whatever the ones before did
        due = started + index / rate
        await asyncio.sleep(max(due - time.perf_counter(), 0))
        sending.append(asyncio.create_task(publish_one(index, due)))
    await asyncio.gather(*sending)
    await asyncio.wait_for(receiving, 30)
    warm = int(rate)  # the first second warms the connections
    latencies = sorted((received[index] - sent_at[index]) * 1000 for index in range(warm, count))
    await js.delete_stream(C5_STREAM.name)
    await publisher.close()
    await receiver.close()

    def at(fraction: float) -> float:
        return latencies[min(len(latencies) - 1, int(fraction * len(latencies)))]

    return {"rate": rate, "messages": len(latencies), "p50_ms": at(0.5), "p99_ms": at(0.99), "max_ms": latencies[-1]}


async def p3(database_url: str, nats_url: str) -> dict[str, Any]:
    """Drain the backlog with OutboxRelay.publish_batch, exactly the code a service runs."""
    settings = AirsideSettings(database_url=database_url, nats_url=nats_url, log_level="WARNING")
    db = Database(settings.database_url)
    bus = Bus(settings, "booking")
    bus.start()
    while not bus.topology_ready:  # noqa: ASYNC110 - the Bus exposes a flag, not an event
        await asyncio.sleep(0.05)
    relay = OutboxRelay(db, bus, settings, "booking")
    async with db.engine.connect() as conn:
        pending = (await conn.exec_driver_sql("SELECT count(*) FROM outbox_event WHERE published_at IS NULL")).scalar_one()
    published, batches, started = 0, 0, time.perf_counter()
    while True:
        count, full, stalled = await relay.publish_batch()
        published += count
        batches += 1
        if stalled:
            raise RuntimeError("NATS stalled during the backlog")
        if not full:
            break
    elapsed = time.perf_counter() - started
    await bus.close()
    await db.dispose()
    return {"rate": published / elapsed, "published": published, "pending_before": pending, "seconds": elapsed, "batches": batches}


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    if hasattr(os, "sched_setaffinity") and os.environ.get("BENCH_CPU"):
        os.sched_setaffinity(0, {int(os.environ["BENCH_CPU"])})
    kind, *args = sys.argv[1:]
    if kind == "c3":
        work = c3(args[0], float(args[1]), int(args[2]))
    elif kind == "c5":
        work = c5(args[0], float(args[1]), float(args[2]), int(args[3]))
    else:
        work = p3(args[0], args[1])
    result = uvloop.run(work)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
