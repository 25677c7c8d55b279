"""P2: order.completed committed in booking → its callback visible in callcenter, at a constant rate.

Both ends are timed by PostgreSQL itself: a bench-only trigger NOTIFYs when booking's history
gets the `completed` row and when callcenter inserts the callback, and a NOTIFY is delivered
exactly when its transaction commits. One listener process receives both, so the two instants
come from one clock, with no polling interval in between.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg

from airside_tools.processes import ServiceProcess
from bench import stack
from bench.targets import OPEN_CONNECTIONS, bearer

CHANNEL = "bench_p2"
BOOKING_TRIGGER = """
CREATE OR REPLACE FUNCTION bench_p2_completed() RETURNS trigger AS $$
BEGIN PERFORM pg_notify('bench_p2', 'completed:' || NEW.order_id); RETURN NEW; END $$ LANGUAGE plpgsql;
CREATE OR REPLACE TRIGGER bench_p2_completed AFTER INSERT ON service_order_history
FOR EACH ROW WHEN (NEW.action = 'completed') EXECUTE FUNCTION bench_p2_completed();
"""
CALLCENTER_TRIGGER = """
CREATE OR REPLACE FUNCTION bench_p2_callback() RETURNS trigger AS $$
BEGIN PERFORM pg_notify('bench_p2', 'callback:' || NEW.order_id); RETURN NEW; END $$ LANGUAGE plpgsql;
CREATE OR REPLACE TRIGGER bench_p2_callback AFTER INSERT ON callback FOR EACH ROW EXECUTE FUNCTION bench_p2_callback();
"""


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


async def p2(
    booking: ServiceProcess, booking_db: str, callcenter_db: str, order_ids: list[str], *, rate: float, warmup: float
) -> dict[str, Any]:
    seen: dict[str, dict[str, float]] = {"completed": {}, "callback": {}}

    def listener(_conn: object, _pid: int, _channel: str, payload: str) -> None:
        kind, order_id = payload.split(":", 1)
        seen[kind].setdefault(order_id, time.time())

    connections = []
    for url, trigger in ((booking_db, BOOKING_TRIGGER), (callcenter_db, CALLCENTER_TRIGGER)):
        conn = await asyncpg.connect(url)
        await conn.execute(trigger)
        await conn.add_listener(CHANNEL, listener)
        connections.append(conn)
    headers = bearer(["concierge_lead"], sub="bench-lead")
    requests = [{"method": "POST", "path": f"/v1/orders/{order_id}/complete", "headers": headers, "body": {}} for order_id in order_ids]
    try:
        result = await stack.load(
            {"mode": "open", "port": booking.port, "connections": OPEN_CONNECTIONS, "rate": rate, "once": True,
             "warmup": warmup, "duration": len(order_ids) / rate - warmup, "requests": requests}
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while len(seen["callback"]) < len(seen["completed"]) and time.monotonic() < deadline:  # noqa: ASYNC110 - two counters
            await asyncio.sleep(0.1)
        stages = await stage_medians(connections[0], connections[1], set(order_ids[int(warmup * rate) :]))
    finally:
        for conn in connections:
            await conn.close()
    measured = order_ids[int(warmup * rate) :]
    latencies = [
        (seen["callback"][order_id] - seen["completed"][order_id]) * 1000
        for order_id in measured
        if order_id in seen["completed"] and order_id in seen["callback"]
    ]
    missing = sum(1 for order_id in measured if order_id in seen["completed"] and order_id not in seen["callback"])
    return {
        "rate": rate,
        "orders": len(measured),
        "completed": sum(1 for order_id in measured if order_id in seen["completed"]),
        "missing_callbacks": missing,
        "p50_ms": percentile(latencies, 0.5),
        "p90_ms": percentile(latencies, 0.9),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies, default=float("nan")),
        "stages_p50_ms": stages,
        "http": result,
    }


async def stage_medians(booking: asyncpg.Connection, callcenter: asyncpg.Connection, measured: set[str]) -> dict[str, float]:
    """Where the time goes, from the rows' own timestamps: the outbox row written → published (PubAck),
    → claimed by the call center's consumer, → the callback written (the consumer's batch start to its row)."""
    outbox = await booking.fetch(
        "SELECT event_id, envelope::json->>'subject' AS order_id, created_at, published_at FROM outbox_event"
        " WHERE subject = 'airside.booking.order.completed'"
    )
    claimed = dict(await callcenter.fetch("SELECT event_id, processed_at FROM processed_event WHERE consumer = 'callcenter-booking'"))
    written = dict(await callcenter.fetch("SELECT order_id, created_at FROM callback"))
    relay, delivery, handling = [], [], []
    for row in outbox:
        if row["order_id"] not in measured or row["published_at"] is None or row["event_id"] not in claimed:
            continue
        relay.append((row["published_at"] - row["created_at"]).total_seconds() * 1000)
        delivery.append((claimed[row["event_id"]] - row["published_at"]).total_seconds() * 1000)
        if row["order_id"] in written:
            handling.append((written[row["order_id"]] - claimed[row["event_id"]]).total_seconds() * 1000)
    return {"relay": percentile(relay, 0.5), "delivery": percentile(delivery, 0.5), "handling": percentile(handling, 0.5)}
