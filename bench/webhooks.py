"""C4 and P9: webhook delivery to a partner's receiver on this machine (airside_tools.webhook_receiver, HTTPS),
which verifies every signature and records when each event arrived, on its own clock.

- C4, the ceiling: raw httpx POSTs of signed order events to the receiver, as many at once as a service
  dispatches (AIRSIDE_WEBHOOK_CONCURRENCY).
- P9 throughput: the same number of order events written to booking's outbox at once, relayed, fanned
  out to one subscription and delivered by the service. Both rates are taken at the receiver, first
  arrival to last.
- P9 latency: events committed to booking's outbox at a constant rate, one transaction each with the
  NOTIFY a service's commit sends its relay; each commit to the event's arrival at the receiver. The
  same over orders created by HTTP (P9o, for information): then booking's own work per order shares the
  machine's two cores with the delivery.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
from standardwebhooks import Webhook

from airside.messaging.outbox import WAKE_CHANNEL
from airside_tools.processes import ServiceProcess
from airside_tools.webhook_receiver import ReceiverProcess
from bench import datagen, stack
from bench.targets import OPEN_CONNECTIONS, bearer, order_requests

ORDER_CREATED = "airside.booking.order.created"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


ADMIN = bearer(["admin"], sub="bench-admin", stations=("*",))


async def subscribe(booking: ServiceProcess, receiver: ReceiverProcess, endpoint: str) -> tuple[str, str]:
    """A subscription to booking's order events at one endpoint of the receiver, which is told its secret: (id, secret)."""
    body = {"url": receiver.hook_url(endpoint), "event_types": ["airside.booking.order.*"], "description": "bench partner"}
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(f"{booking.url}/v1/webhooks", json=body, headers=ADMIN)
    response.raise_for_status()
    created = response.json()
    await receiver.set_secrets(created["secret"])
    return str(created["id"]), str(created["secret"])


async def unsubscribe(booking: ServiceProcess, subscription_id: str) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        (await client.delete(f"{booking.url}/v1/webhooks/{subscription_id}", headers=ADMIN)).raise_for_status()


async def arrivals(receiver: ReceiverProcess, endpoint: str, ids: set[str], *, timeout: float) -> dict[str, dict[str, Any]]:
    """What the receiver holds of `ids` at `endpoint`, once it holds as many or `timeout` has passed (the
    counts are polled: reading every event while they arrive would load the receiver being measured)."""
    deadline = time.monotonic() + timeout
    while (await receiver.counts()).get(endpoint, 0) < len(ids) and time.monotonic() < deadline:  # noqa: ASYNC110 - another process
        await asyncio.sleep(0.2)
    return {event["id"]: event for event in (await receiver.state()).at(endpoint) if event["id"] in ids}


def latency_figures(rate: float, events: int, held: int, latencies: list[float]) -> dict[str, Any]:
    """What a latency phase reports of the events it made, those the receiver holds, and their latencies."""
    return {
        "rate": rate,
        "events": events,
        "missing": events - held,
        "measured": len(latencies),
        "p50_ms": percentile(latencies, 0.5),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies, default=float("nan")),
    }


def arrival_rate(held: dict[str, dict[str, Any]]) -> float:
    times = sorted(event["received_at"] for event in held.values())
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0


async def latency(booking: ServiceProcess, booking_db: str, receiver: ReceiverProcess, data: datagen.BookingData, *, rate: float,
                  seconds: float, pids: dict[str, int], warmup: float = 1.0) -> dict[str, Any]:  # fmt: skip
    """Orders at `rate` over HTTP to a subscription of this run's own; each order.created's `time` to its arrival,
    after the warm-up. CPU per order of booking (the order, its fan-out and delivery) and its relay."""
    endpoint = f"latency-{rate:g}"
    subscription_id, _secret = await subscribe(booking, receiver, endpoint)
    before = {name: stack.cpu_seconds(pid) for name, pid in pids.items()}
    started = datetime.now(UTC)
    result = await stack.load(
        {"mode": "open", "port": booking.port, "connections": OPEN_CONNECTIONS, "rate": rate, "duration": seconds,
         "warmup": warmup, "requests": order_requests(data)}
    )  # fmt: skip
    conn = await asyncpg.connect(booking_db)
    try:
        rows = await conn.fetch("SELECT event_id FROM outbox_event WHERE subject = $1 AND created_at >= $2", ORDER_CREATED, started)
        owed = {row["event_id"] for row in rows}
        held = await arrivals(receiver, endpoint, owed, timeout=60)
        stages = await stage_medians(conn, held)
    finally:
        await conn.close()
    cpu = stack.cpu_ms_per(len(owed), pids, before)
    await unsubscribe(booking, subscription_id)
    measured_from = started.timestamp() + warmup
    latencies = [
        (event["received_at"] - datetime.fromisoformat(event["time"]).timestamp()) * 1000
        for event in held.values()
        if datetime.fromisoformat(event["time"]).timestamp() >= measured_from
    ]
    return {
        **latency_figures(rate, len(owed), len(held), latencies),
        "stages_p50_ms": stages,
        "cpu_ms_per_order": cpu,
        "http": {key: result[key] for key in ("ok", "completed", "errors", "throughput")},
    }


async def paced(booking: ServiceProcess, booking_db: str, receiver: ReceiverProcess, event: dict[str, Any], *, rate: float,
                seconds: float, pids: dict[str, int], warmup: float = 1.0) -> dict[str, Any]:  # fmt: skip
    """Copies of `event` committed to booking's outbox at `rate`, each in a transaction of its own that wakes the
    relay as the service's commits do (NOTIFY); each commit's time to the event's arrival, after the warm-up."""
    endpoint = f"paced-{rate:g}"
    subscription_id, _secret = await subscribe(booking, receiver, endpoint)
    before = {name: stack.cpu_seconds(pid) for name, pid in pids.items()}
    committed: dict[str, float] = {}
    conn = await asyncpg.connect(booking_db)
    try:
        started = time.monotonic()
        for index in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, started + index / rate - time.monotonic()))
            (copy,) = copies(event, 1)
            async with conn.transaction():
                await conn.execute(
                    "INSERT INTO outbox_event (event_id, subject, envelope, created_at, next_attempt_at, attempts, republished)"
                    " VALUES ($1, $2, $3, now(), now(), 0, 0)",
                    copy["id"], ORDER_CREATED, json.dumps(copy),
                )  # fmt: skip
                await conn.execute(f"NOTIFY {WAKE_CHANNEL}")
            committed[copy["id"]] = time.time()
        held = await arrivals(receiver, endpoint, set(committed), timeout=60)
    finally:
        await conn.close()
    cpu = stack.cpu_ms_per(len(committed), pids, before)
    await unsubscribe(booking, subscription_id)
    after_warmup = sorted(committed.items(), key=lambda item: item[1])[int(rate * warmup) :]
    latencies = [(held[event_id]["received_at"] - at) * 1000 for event_id, at in after_warmup if event_id in held]
    return {**latency_figures(rate, len(committed), len(held), latencies), "cpu_ms_per_event": cpu}


async def stage_medians(booking: asyncpg.Connection, held: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Where the time goes, from the rows' own timestamps: the event's time → published by the relay (PubAck)
    → its delivery row written by the fan-out → received by the partner."""
    rows = await booking.fetch(
        "SELECT o.event_id, o.published_at, d.created_at AS owed_at FROM outbox_event o"
        " JOIN webhook_delivery d ON d.event_id = o.event_id WHERE o.event_id = ANY($1::text[])",
        list(held),
    )
    relay, fanout, dispatch = [], [], []
    for row in rows:
        event = held[row["event_id"]]
        committed = datetime.fromisoformat(event["time"]).timestamp()
        relay.append((row["published_at"].timestamp() - committed) * 1000)
        fanout.append((row["owed_at"].timestamp() - row["published_at"].timestamp()) * 1000)
        dispatch.append((event["received_at"] - row["owed_at"].timestamp()) * 1000)
    return {"relay": percentile(relay, 0.5), "fanout": percentile(fanout, 0.5), "dispatch": percentile(dispatch, 0.5)}


async def template(booking_db: str) -> dict[str, Any]:
    """A real order.created envelope of this run (the latency phase wrote them), to copy with fresh ids."""
    conn = await asyncpg.connect(booking_db)
    try:
        envelope = await conn.fetchval("SELECT envelope FROM outbox_event WHERE subject = $1 LIMIT 1", ORDER_CREATED)
    finally:
        await conn.close()
    return dict(json.loads(envelope))


def copies(event: dict[str, Any], count: int) -> list[dict[str, Any]]:
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return [{**event, "id": str(uuid.uuid4()), "time": now} for _ in range(count)]


async def c4(receiver: ReceiverProcess, secret: str, events: list[dict[str, Any]], *, concurrency: int) -> dict[str, Any]:
    """Signed POSTs of `events` to the receiver, `concurrency` at a time over kept-alive HTTPS connections, a
    client per connection as the dispatcher holds them (a single pool's cost per request grows with its size)."""
    signer = Webhook(secret)
    queue = list(reversed(events))
    failures = 0
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal failures
        while queue:
            event = queue.pop()
            body = json.dumps(event, separators=(",", ":"))
            moment = datetime.now(UTC).replace(microsecond=0)
            headers = {
                "content-type": "application/cloudevents+json; charset=utf-8",
                "webhook-id": event["id"],
                "webhook-timestamp": str(int(moment.timestamp())),
                "webhook-signature": signer.sign(event["id"], moment, body),
            }
            response = await client.post(receiver.hook_url("c4"), content=body, headers=headers)
            failures += response.status_code >= 300

    clients = [httpx.AsyncClient(verify=receiver.tls, limits=limits, timeout=30) for _ in range(concurrency)]
    try:
        await asyncio.gather(*(worker(client) for client in clients))
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    held = await arrivals(receiver, "c4", {event["id"] for event in events}, timeout=10)
    body_bytes = len(json.dumps(events[0], separators=(",", ":")))
    return {"rate": arrival_rate(held), "events": len(events), "received": len(held), "failures": failures, "body_bytes": body_bytes}


async def throughput(
    booking_db: str, receiver: ReceiverProcess, events: list[dict[str, Any]], pids: dict[str, int], paused: list[int]
) -> dict[str, Any]:
    """`events` committed to booking's outbox in one transaction; delivered to the subscription by the service.
    The lounge and the call center are paused meanwhile (`paused`, SIGSTOP), as they are idle while C4 runs:
    on two cores their consuming the same events would be measured, not the delivery. CPU per event of
    booking (fan-out and dispatch) and of its relay, for where the time goes."""
    for pid in paused:
        os.kill(pid, signal.SIGSTOP)
    try:
        return await _throughput(booking_db, receiver, events, pids)
    finally:
        for pid in paused:
            os.kill(pid, signal.SIGCONT)


async def _throughput(booking_db: str, receiver: ReceiverProcess, events: list[dict[str, Any]], pids: dict[str, int]) -> dict[str, Any]:
    before = {name: stack.cpu_seconds(pid) for name, pid in pids.items()}
    now = datetime.now(UTC)
    rows = [(event["id"], ORDER_CREATED, json.dumps(event), now, now, None, 0) for event in events]
    conn = await asyncpg.connect(booking_db)
    try:
        await conn.copy_records_to_table(
            "outbox_event",
            records=rows,
            columns=["event_id", "subject", "envelope", "created_at", "next_attempt_at", "published_at", "attempts"],
        )
    finally:
        await conn.close()
    committed = time.time()
    held = await arrivals(receiver, "backlog", {event["id"] for event in events}, timeout=180)
    last = max((event["received_at"] for event in held.values()), default=committed)
    cpu = stack.cpu_ms_per(len(events), pids, before)
    return {
        "rate": arrival_rate(held),
        "events": len(events),
        "missing": len(events) - len(held),
        "seconds_to_last": last - committed,
        "cpu_ms_per_event": cpu,
        "stages": await stage_spans(booking_db, [event["id"] for event in events], committed),
    }


async def stage_spans(booking_db: str, event_ids: list[str], committed: float) -> dict[str, list[float]]:
    """For where the time goes: seconds after the commit at which the backlog's first and last event were
    published (the relay), owed (the fan-out's delivery rows) and recorded delivered (the dispatcher)."""
    conn = await asyncpg.connect(booking_db)
    try:
        row = await conn.fetchrow(
            """SELECT min(o.published_at) AS published_first, max(o.published_at) AS published_last,
                      min(d.created_at) AS owed_first, max(d.created_at) AS owed_last,
                      min(d.delivered_at) AS delivered_first, max(d.delivered_at) AS delivered_last
               FROM outbox_event o JOIN webhook_delivery d ON d.event_id = o.event_id
               WHERE o.event_id = ANY($1::text[])""",
            event_ids,
        )
    finally:
        await conn.close()
    spans = {}
    for stage in ("published", "owed", "delivered"):
        first, last = row[f"{stage}_first"], row[f"{stage}_last"]
        spans[stage] = [round(moment.timestamp() - committed, 3) for moment in (first, last)] if first and last else []
    return spans


async def measure(booking: ServiceProcess, booking_db: str, receiver: ReceiverProcess, data: datagen.BookingData, *,
                  rate: float, seconds: float, events: int, concurrency: int, pids: dict[str, int],
                  paused: list[int]) -> dict[str, Any]:  # fmt: skip
    """P9o's latency on real orders first (for information); then, over copies of one of those orders' events,
    P9's latency at the rate, C4 and P9's throughput. Each phase has a subscription of its own."""
    measured = {"P9_orders": await latency(booking, booking_db, receiver, data, rate=rate, seconds=seconds, pids=pids)}
    event = await template(booking_db)
    measured["P9_latency"] = await paced(booking, booking_db, receiver, event, rate=rate, seconds=seconds, pids=pids)
    subscription_id, secret = await subscribe(booking, receiver, "backlog")
    measured["C4"] = await c4(receiver, secret, copies(event, events), concurrency=concurrency)
    measured["P9_throughput"] = await throughput(booking_db, receiver, copies(event, events), pids, paused)
    # Gone before the phases after this one: their orders would be delivered to it too.
    await unsubscribe(booking, subscription_id)
    return measured
