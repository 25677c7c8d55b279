"""C1-C3: what this machine can do at best, measured in the same run as the targets."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg

from airside_tools.processes import wait_until
from bench import stack
from bench.ceiling_app import SCHEMA

# The spec's ceilings were taken with wrk and 32 connections; the closed-model runs use the same.
CLOSED_CONNECTIONS = 32
C2_BODY = {"name": "王小明 / Li Wei", "amount": 58000}


def _answers(port: int) -> bool:
    import httpx

    try:
        return httpx.get(f"http://127.0.0.1:{port}/c1", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


async def c1_c2(dbs: stack.Databases, log_dir: Path, *, seconds: float) -> dict[str, Any]:
    """C1 and C2 at full speed (closed model), and C2 under the open model at half its ceiling."""
    dsn = await dbs.create("ceiling")
    conn = await asyncpg.connect(dsn)
    await conn.execute(SCHEMA)
    await conn.close()
    server = stack.ceiling_server(dsn, log_dir)
    try:
        await asyncio.to_thread(wait_until, lambda: _answers(server.port), 30, "ceiling server")  # type: ignore[attr-defined]
        stack.pin(server.pid, stack.SERVER_CPU)
        port = server.port  # type: ignore[attr-defined]
        closed = {"mode": "closed", "port": port, "connections": CLOSED_CONNECTIONS, "duration": seconds, "warmup": 1.0}
        c1 = await stack.load({**closed, "requests": [{"path": "/c1"}]})
        c2_request = {"method": "POST", "path": "/c2", "body": C2_BODY}
        c2 = await stack.load({**closed, "requests": [c2_request]})
        return {"C1": c1, "C2": c2}
    finally:
        server.terminate()
        server.wait(10)


async def c3(nats_url: str, *, seconds: float, payload_bytes: int) -> dict[str, Any]:
    return await _child("c3", nats_url, str(seconds), str(payload_bytes))


async def c5(nats_url: str, *, rate: float, seconds: float, payload_bytes: int) -> dict[str, Any]:
    return await _child("c5", nats_url, str(rate), str(seconds), str(payload_bytes))


# P4's statements as the call center runs them (tickets/search.py, tickets/claims.py), on raw asyncpg.
C6_LIST = """
SELECT * FROM ticket WHERE station IN ($1) AND status = $2 AND priority = $3 ORDER BY created_at DESC, id DESC LIMIT 51
"""
C6_CANDIDATE = """
SELECT id FROM ticket WHERE station IN ($1) AND assignee IS NULL AND status IN ('new', 'open')
ORDER BY next_due ASC NULLS LAST, next_due, priority, created_at LIMIT 1 FOR UPDATE SKIP LOCKED
"""
C6_CLAIM = "UPDATE ticket SET assignee = $1 WHERE id = $2 AND assignee IS NULL"


async def c6(
    database_url: str, *, agents: list[str], filters: list[tuple[str, str]], rates: tuple[float, float], seconds: float
) -> dict[str, Any]:
    """The ticket list and the claim on raw asyncpg at P4's rates (open model), p99 from the intended start."""
    pool = await asyncpg.create_pool(database_url, min_size=4, max_size=8)

    async def listed(index: int) -> None:
        status, priority = filters[index % len(filters)]
        async with pool.acquire() as conn:
            await conn.fetch(C6_LIST, "PEK", status, priority)

    async def claimed(index: int) -> None:
        async with pool.acquire() as conn, conn.transaction():
            ticket = await conn.fetchval(C6_CANDIDATE, "PEK")
            if ticket is not None:
                await conn.execute(C6_CLAIM, agents[index % len(agents)], ticket)

    results = {}
    try:
        for name, step, rate in (("list", listed, rates[0]), ("claim", claimed, rates[1])):
            results[name] = await _open_model(step, rate=rate, seconds=seconds)
    finally:
        await pool.close()
    return results


async def _open_model(step: Any, *, rate: float, seconds: float) -> dict[str, float]:
    latencies: list[float] = []

    async def timed(index: int, due: float) -> None:
        await step(index)
        latencies.append((time.perf_counter() - due) * 1000)

    started = time.perf_counter() + 0.2
    tasks = []
    for index in range(int(rate * seconds)):
        due = started + index / rate
        await asyncio.sleep(max(due - time.perf_counter(), 0))
        tasks.append(asyncio.create_task(timed(index, due)))
    await asyncio.gather(*tasks)
    ordered = sorted(latencies[int(rate) :])  # the first second warms the connections
    return {"p50_ms": ordered[len(ordered) // 2], "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], "count": len(ordered)}


async def p3(database_url: str, nats_url: str) -> dict[str, Any]:
    return await _child("p3", database_url, nats_url)


async def _child(*args: str) -> dict[str, Any]:
    """bench.publish in its own process on the server core, like the service it stands for."""
    env = {**os.environ, "BENCH_CPU": str(stack.SERVER_CPU), "PYTHONPATH": str(stack.ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.publish", *args, cwd=stack.ROOT, env=env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(process.communicate(), 300)
    if process.returncode != 0:
        raise RuntimeError(f"bench.publish {args[0]} exited with {process.returncode}")
    return json.loads(out.decode().strip().splitlines()[-1])
