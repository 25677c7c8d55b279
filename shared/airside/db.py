"""Database engine, sessions, the UTC time column type and migrations, for PostgreSQL and SQLite."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import asyncpg
from alembic import command
from alembic.config import Config
from fastapi import Depends, Request
from pydantic_core import PydanticUndefined
from sqlalchemy import DateTime, MetaData, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect, ExceptionContext
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import class_mapper
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import greenlet_spawn

log = logging.getLogger("airside.db")

T = TypeVar("T")

# One advisory-lock key space for the whole project: migrations and the outbox relay take these.
MIGRATION_LOCK_KEY = 7_201_001


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC instant on both databases (SQLite would hand back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


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


# A server that does not answer (host gone, packets dropped) fails a request in this time, not asyncpg's 60 s.
CONNECT_TIMEOUT_SECONDS = 5.0
IDLE_PING_SECONDS = 5.0


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


# --- outages ----------------------------------------------------------------------------------


class DatabaseUnavailable(Exception):
    """The database cannot be reached: a request gets 503 with Retry-After, a loop tries again."""


# A server that is there but will not serve: connection exceptions (08), shutting down or starting
# up (57P01-57P03), no connection slot left (53300).
_UNAVAILABLE_SQLSTATES = ("08", "57P", "53300")


def sqlstate_of(exc: BaseException) -> str | None:
    """The SQLSTATE behind an error, through SQLAlchemy's wrapper and the driver adapter's."""
    orig = getattr(exc, "orig", None)
    for candidate in (exc, orig, getattr(orig, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(code, str):
            return code
    return None


def is_unavailable(exc: BaseException) -> bool:
    """True when `exc` says the database cannot be reached now, rather than that it refused a statement."""
    if isinstance(exc, DatabaseUnavailable | PoolTimeoutError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if any(isinstance(cause, ConnectionError | asyncpg.ConnectionDoesNotExistError) for cause in (exc, exc.__cause__)):
        return True  # the raw driver paths (`driver_connection`) see the socket's own error
    code = sqlstate_of(exc)
    return code is not None and code.startswith(_UNAVAILABLE_SQLSTATES)


class Availability:
    """Whether the database answers; said once in the log when it stops and once when it is back."""

    def __init__(self) -> None:
        self.lost_at: float | None = None

    def lost(self, exc: BaseException) -> None:
        if self.lost_at is None:
            self.lost_at = time.monotonic()
            log.error("database unavailable", extra={"error": f"{exc.__class__.__name__}: {exc}"[:300]})

    def back(self) -> None:
        if self.lost_at is not None:
            log.warning("database back", extra={"outage_seconds": round(time.monotonic() - self.lost_at, 3)})
            self.lost_at = None


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
        except (OSError, asyncpg.PostgresError) as exc:
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


def row_instance(model: type[T], values: dict[str, Any]) -> T:
    """A table-model instance from column values, built the way the ORM builds a loaded row.

    SQLModel's constructor sets every field through pydantic and SQLAlchemy instrumentation (about
    a quarter of a millisecond per instance here); the lean paths only read the instance, so its
    state dict is filled directly. Fields not given take their model defaults. A Session still
    inserts such an instance as a new row.
    """
    instance = class_mapper(model).class_manager.new_instance()
    state = instance.__dict__
    for name, field in model.model_fields.items():  # type: ignore[attr-defined]
        if name in values:
            state[name] = values[name]
        elif field.default_factory is not None:
            state[name] = field.default_factory()  # type: ignore[call-arg]
        elif field.default is not PydanticUndefined:
            state[name] = field.default
    return instance


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


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.db.session() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_database(request: Request) -> Database:  # async: a plain def would run in a thread per request
    return request.app.state.db  # type: ignore[no-any-return]


# For a route that opens its session only on some paths (a session per request costs a generator dependency).
DatabaseDep = Annotated[Database, Depends(get_database)]


# --- migrations -------------------------------------------------------------------------------


def _alembic_config(script_location: Path, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def migrate(db: Database, script_location: Path) -> None:
    """Upgrade to head; on PostgreSQL replicas starting together wait for one another."""
    async with db.engine.connect() as conn:
        if db.is_postgres:
            await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        try:
            await conn.run_sync(lambda sync: command.upgrade(_alembic_config(script_location, sync), "head"))
            await conn.commit()
        finally:
            if db.is_postgres:
                await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
                await conn.commit()


def run_alembic_env(metadata: MetaData, database_url: str) -> None:
    """The body of every service's alembic/env.py: online migrations on a shared or fresh connection."""
    from alembic import context

    def run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    shared_connection = context.config.attributes.get("connection")
    if shared_connection is not None:
        run(shared_connection)
        return

    async def run_standalone() -> None:
        db = Database(database_url)
        async with db.engine.connect() as conn:
            await conn.run_sync(run)
            await conn.commit()
        await db.dispose()

    asyncio.run(run_standalone())


async def insert_ignoring_duplicates(session: AsyncSession, table: Any, values: dict[str, Any], **conflict: Any) -> bool:
    """INSERT … ON CONFLICT DO NOTHING on both databases; True when the row was inserted.

    Racing writers of one business key never abort each other's transaction this way.
    """
    # The values go as parameters, not into the statement: it compiles once and is cached.
    statement = dialect_insert(session)(table.__table__).on_conflict_do_nothing(**conflict)
    result = await session.execute(statement, values)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def insert_many_ignoring_duplicates(
    session: AsyncSession, table: Any, rows: list[dict[str, Any]], key: Any, **conflict: Any
) -> set[Any]:
    """The same for many rows in one statement; the `key` column's values of the rows inserted."""
    statement = dialect_insert(session)(table).values(rows).on_conflict_do_nothing(**conflict).returning(key)
    return set((await session.execute(statement)).scalars())


def dialect_insert(session: AsyncSession) -> Any:
    """The INSERT of the session's database, with its ON CONFLICT clauses (PostgreSQL's or SQLite's)."""
    return insert_of(session.get_bind().dialect.name)


def insert_of(dialect: str) -> Any:
    """The INSERT of a dialect by name, with its ON CONFLICT clauses."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert
