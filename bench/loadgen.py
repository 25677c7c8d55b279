"""HTTP/1.1 load generator: closed model (max throughput) and open model (wrk2-style constant rate).

Runs as its own process (`python -m bench.loadgen SPEC.json RESULT.json`) pinned to its own core,
so it never shares the event loop or the core with the server under test. Raw asyncio protocol on
uvloop with httptools' parser: far cheaper per request than an HTTP client library, so one Python
core drives more requests than one uvicorn worker can answer.

Open model: request i is *intended* at start + i / rate whatever happened before; its latency is
measured from that intended instant, so a stalled server cannot hide its tail by slowing the
sender (coordinated omission). A request waiting for a free connection is late, and counted so.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httptools
import uvloop


def encode_request(host: str, port: int, request: dict[str, Any]) -> bytes:
    """One keep-alive request, encoded once up front (the generator's per-request cost is a write)."""
    body = request.get("body")
    payload = b"" if body is None else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
    lines = [f"{request.get('method', 'GET')} {request['path']} HTTP/1.1", f"Host: {host}:{port}"]
    for name, value in (request.get("headers") or {}).items():
        lines.append(f"{name}: {value}")
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


class Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[int] | None = None
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_message_complete(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(self.parser.get_status_code())

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("server closed the connection"))
        if not self.closed.done():
            self.closed.set_result(None)

    async def send(self, raw: bytes) -> int:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return await self.waiter


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    answered: int = 0  # every response, warm-up included (the server's CPU per request divides by this)
    # (index, intended, done) per request, when the caller wants to join them with other clocks.
    timeline: list[tuple[int, float, float]] = field(default_factory=list)


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def summarise(tally: Tally, seconds: float) -> dict[str, Any]:
    lat = tally.latencies
    ok = sum(count for status, count in tally.statuses.items() if 200 <= status < 300)
    return {
        "completed": len(lat),
        "answered": tally.answered,
        "ok": ok,
        "statuses": {str(status): count for status, count in sorted(tally.statuses.items())},
        "errors": dict(tally.errors),
        "seconds": seconds,
        "throughput": len(lat) / seconds if seconds > 0 else 0.0,
        "latency_ms": {
            name: percentile(lat, fraction) * 1000
            for name, fraction in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p999", 0.999), ("max", 1.0))
        }
        | {"mean": (sum(lat) / len(lat) * 1000) if lat else float("nan")},
    }


async def _connect(spec: dict[str, Any]) -> list[Connection]:
    """The spec's connections; with `ports` (replicas of one service), dealt round-robin among them."""
    loop = asyncio.get_running_loop()
    ports = spec.get("ports") or [spec["port"]]
    connections = []
    for index in range(spec["connections"]):
        _transport, protocol = await loop.create_connection(Connection, spec["host"], ports[index % len(ports)])
        connections.append(protocol)
    return connections


async def closed_model(spec: dict[str, Any], raws: list[bytes]) -> dict[str, Any]:
    """Every connection sends its next request as soon as the last one answered: the server's ceiling."""
    connections = await _connect(spec)
    warmup, duration = spec.get("warmup", 1.0), spec["duration"]
    start = time.perf_counter()
    measure_from, stop_at = start + warmup, start + warmup + duration
    tally = Tally()
    counter = iter(range(10**12))

    async def worker(connection: Connection) -> None:
        while (now := time.perf_counter()) < stop_at:
            raw = raws[next(counter) % len(raws)]
            try:
                status = await connection.send(raw)
            except ConnectionError as exc:
                tally.errors[repr(exc)] += 1
                return
            done = time.perf_counter()
            tally.answered += 1
            if now >= measure_from:
                tally.latencies.append(done - now)
                tally.statuses[status] += 1

    await asyncio.gather(*(worker(connection) for connection in connections))
    for connection in connections:
        if connection.transport is not None:
            connection.transport.close()
    return summarise(tally, duration)


async def open_model(spec: dict[str, Any], raws: list[bytes]) -> dict[str, Any]:
    """Constant arrival rate; latency from each request's intended send time.

    With `once`, each request of the list is sent exactly once (unique ids, e.g. orders to complete).
    """
    connections = await _connect(spec)
    rate, warmup = float(spec["rate"]), spec.get("warmup", 1.0)
    total = len(raws) if spec.get("once") else int(rate * (warmup + spec["duration"]))
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for connection in connections:
        idle.put_nowait(connection)
    tally = Tally()
    pending: set[asyncio.Task[None]] = set()
    start = time.perf_counter() + 0.05
    measure_from = start + warmup
    record_timeline = bool(spec.get("timeline"))

    async def one(index: int, intended: float, connection: Connection) -> None:
        try:
            status = await connection.send(raws[index % len(raws)])
        except ConnectionError as exc:
            tally.errors[repr(exc)] += 1
            return
        done = time.perf_counter()
        tally.answered += 1
        idle.put_nowait(connection)
        if intended >= measure_from:
            tally.latencies.append(done - intended)
            tally.statuses[status] += 1
        if record_timeline:
            tally.timeline.append((index, intended, done))

    for index in range(total):
        intended = start + index / rate
        delay = intended - time.perf_counter()
        if delay > 0.0005:
            await asyncio.sleep(delay)
        connection = await idle.get()  # all busy: this request is late, and its latency says so
        task = asyncio.create_task(one(index, intended, connection))
        pending.add(task)
        task.add_done_callback(pending.discard)
    if pending:
        await asyncio.wait(pending, timeout=spec.get("drain_timeout", 30))
    for connection in connections:
        if connection.transport is not None:
            connection.transport.close()
    result = summarise(tally, max(total / rate - warmup, 1e-9))
    result["offered_rate"] = rate
    if record_timeline:
        # Wall-clock instants so another process (a LISTEN watcher) can line its events up with ours.
        offset = time.time() - time.perf_counter()
        result["timeline"] = [(index, intended + offset, done + offset) for index, intended, done in sorted(tally.timeline)]
    return result


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    port = spec.get("port") or spec["ports"][0]
    raws = [encode_request(spec["host"], port, request) for request in spec["requests"]]
    if spec["mode"] == "closed":
        return await closed_model(spec, raws)
    return await open_model(spec, raws)


def main() -> None:
    spec_path, result_path = Path(sys.argv[1]), Path(sys.argv[2])
    spec = json.loads(spec_path.read_text())
    if spec.get("cpu") is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(spec["cpu"])})
    result = uvloop.run(run(spec))
    result_path.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
