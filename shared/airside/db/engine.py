"""Creating an engine: SQLite's pragmas, and on PostgreSQL a pool that pings a connection only after it sat idle."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

# A server that does not answer (host gone, packets dropped) fails a request in this time, not asyncpg's 60 s.
CONNECT_TIMEOUT_SECONDS = 5.0
IDLE_PING_SECONDS = 5.0


def make_engine(url: str, *, pool_size: int = 10, max_overflow: int = 10) -> AsyncEngine:
    # hide_parameters: an error's text and every traceback would otherwise carry the bound values
    # (phone numbers, names) into logs and dead letters.
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # WAL lets readers run beside the one writer; foreign keys are off by default in SQLite.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    # No pool_pre_ping: asyncpg's ping is BEGIN, a query and ROLLBACK, three round trips on every
    # checkout (a fifth of a small write's cost). A connection is pinged only after sitting idle,
    # which is when the server can have gone away (restart, idle timeout) without us noticing.
    engine = create_async_engine(
        url, pool_size=pool_size, max_overflow=max_overflow, hide_parameters=True, connect_args={"timeout": CONNECT_TIMEOUT_SECONDS}
    )
    event.listen(engine.sync_engine, "checkout", _ping_if_idle)
    event.listen(engine.sync_engine, "checkin", _stamp_checkin)
    return engine


def _stamp_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["airside_checkin"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    last = record.info.get("airside_checkin")
    if last is not None and time.monotonic() - last < IDLE_PING_SECONDS:
        return
    try:
        dbapi_connection.ping()
    except Exception as exc:
        # The pool discards this connection and checks out (or opens) another one.
        raise DisconnectionError(f"stale pooled connection: {exc!r}") from exc
