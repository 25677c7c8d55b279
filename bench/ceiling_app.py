"""The ceilings' server: C1 (a bare JSON endpoint) and C2 (two INSERTs in one transaction, raw asyncpg).

Run exactly like the services (uvicorn, one worker, uvloop, httptools), so the ratios compare the
services' code with the least any FastAPI endpoint can cost on this machine.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import asyncpg
from fastapi import FastAPI, Request
from pydantic import BaseModel

SCHEMA = """
CREATE TABLE IF NOT EXISTS c2_state (id text PRIMARY KEY, name text NOT NULL, amount bigint NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS c2_outbox (
    seq bigserial PRIMARY KEY, event_id text UNIQUE NOT NULL, subject text NOT NULL, envelope text NOT NULL,
    created_at timestamptz NOT NULL, published_at timestamptz
);
"""


class Change(BaseModel):
    name: str
    amount: int


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    dsn = os.environ.get("BENCH_C2_DSN")
    app.state.pool = await asyncpg.create_pool(dsn, min_size=4, max_size=20) if dsn else None
    try:
        yield
    finally:
        if app.state.pool is not None:
            await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/c1")
async def c1() -> dict[str, object]:
    return {"ok": True, "service": "ceiling"}


@app.post("/c2", status_code=201)
async def c2(change: Change, request: Request) -> dict[str, object]:
    state_id, event_id, now = str(uuid.uuid4()), str(uuid.uuid4()), datetime.now(UTC)
    envelope = f'{{"id":"{event_id}","type":"bench.c2.changed","data":{{"id":"{state_id}","amount":{change.amount}}}}}'
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO c2_state (id, name, amount, created_at) VALUES ($1, $2, $3, $4)", state_id, change.name, change.amount, now
        )
        await conn.execute(
            "INSERT INTO c2_outbox (event_id, subject, envelope, created_at) VALUES ($1, $2, $3, $4)",
            event_id,
            "bench.c2.changed",
            envelope,
            now,
        )
    return {"id": state_id, "name": change.name, "amount": change.amount}
