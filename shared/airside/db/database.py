"""The `Database` a service holds (engine, sessions, outage watch), and the raw driver connection of its pool."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event, text
from sqlalchemy.engine import Dialect, ExceptionContext
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.util import greenlet_spawn

from airside.db.engine import make_engine
from airside.db.outage import Availability, DatabaseUnavailable, is_unavailable


class Database:
    def __init__(self, url: str, *, pool_size: int = 10, max_overflow: int = 10) -> None:
        if url.startswith("sqlite"):
            _ensure_sqlite_dir(url)
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size, max_overflow=max_overflow)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self.availability = Availability()
        if not url.startswith("sqlite"):
            event.listen(self.engine.sync_engine, "do_connect", self._connect)
            event.listen(self.engine.sync_engine, "handle_error", self._on_error)

    def _connect(self, dialect: Dialect, _record: Any, cargs: Any, cparams: Any) -> Any:
        """Every new connection: a refused one is an outage, the first one after it ends it."""
        try:
            connection = dialect.connect(*cargs, **cparams)
        except Exception as exc:  # the driver's own error or the dialect's adapter of it (SQLAlchemy 2.1)
            if not (isinstance(exc, OSError) or is_unavailable(exc)):
                raise  # a wrong password or database name is a configuration error, not an outage
            self.availability.lost(exc)
            raise DatabaseUnavailable(f"cannot connect: {exc.__class__.__name__}: {exc}") from exc
        self.availability.back()
        return connection

    def _on_error(self, context: ExceptionContext) -> None:
        if context.is_disconnect:
            self.availability.lost(context.original_exception)

    def unavailable(self, exc: BaseException) -> bool:
        """True, and the outage noted, when `exc` means the database cannot be reached now."""
        if not is_unavailable(exc):
            return False
        # A refused connection was noted where it was refused; a pool busy to its limit is load, not an outage.
        if not isinstance(exc, DatabaseUnavailable | PoolTimeoutError):
            self.availability.lost(exc)
        return True

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def session(self) -> AsyncSession:
        return self.sessionmaker()

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        self.availability.back()

    async def dispose(self) -> None:
        await self.engine.dispose()


def _ensure_sqlite_dir(url: str) -> None:
    path = url.split(":///", 1)[-1]
    if path and path != ":memory:":
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)


@asynccontextmanager
async def driver_connection(engine: AsyncEngine) -> AsyncIterator[Any]:
    """The asyncpg connection of a pooled connection, for hot paths written as raw statements.

    No transaction is begun: each statement commits on its own (the lean paths write in one
    statement) unless the caller opens `conn.transaction()`. Back in the pool, SQLAlchemy's reset
    finds nothing to roll back.
    """
    # The pool's connection itself, without an AsyncConnection around it: half the checkout cost.
    pooled = await greenlet_spawn(engine.sync_engine.raw_connection)
    try:
        yield pooled.driver_connection
    except (OSError, asyncpg.InterfaceError, asyncpg.ConnectionDoesNotExistError):
        await greenlet_spawn(pooled.invalidate)  # a broken connection never goes back to the pool
        raise
    finally:
        await greenlet_spawn(pooled.close)
