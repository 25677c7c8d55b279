"""C1-C3: what this machine can do at best, measured in the same run as the targets."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import asyncpg

from airside.processes import wait_until
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
