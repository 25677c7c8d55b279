"""SQLAlchemy Core statements compiled once per dialect and run on the driver's own connection.

The hot writes (an order created or completed) and the outbox relay run here: through the ORM they
cost more CPU than PostgreSQL spends on them (bench/PROFILE.md). Every statement is built from the
models' table metadata, so the columns are stated once, by the models; SQLAlchemy compiles it and
gives the dialect's conversions (UTC times, JSON, dates), and asyncpg or aiosqlite runs it.

A write is a `WritePlan`: a head row (an INSERT that a unique key may refuse, or an UPDATE guarded by
the version read) and the rows that belong to it — history, outbox event, idempotency record —
written only if the head was. On PostgreSQL one statement carries it out (data-modifying CTEs,
atomic on its own, so no BEGIN and COMMIT round trips); on SQLite its statements run in one
transaction. The same plan, built by the same code, either way.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable

from airside.db.database import Database, driver_connection


def insert_of(dialect: str) -> Any:
    """The INSERT of a dialect by name, with its ON CONFLICT clauses (PostgreSQL's or SQLite's)."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


class Duplicate(Exception):
    """A unique key refused a row: a racing request with the same key committed first."""


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # the parameters in the statement's positional order
    processors: dict[str, Callable[[Any], Any] | None]
    defaults: dict[str, Any]  # parameters with a value of their own (literals in the statement)
    # Columns left out of an INSERT or UPDATE whose default (or onupdate) Python computes: SQLAlchemy's
    # execution context would, and a driver's statement has none.
    computed: dict[str, Callable[[], Any]]
    columns: tuple[tuple[str, Callable[[Any], Any] | None], ...]  # result columns and their conversions

    def args(self, values: Mapping[str, Any]) -> list[Any]:
        args = []
        for name in self.names:
            if name in values:
                value = values[name]
            elif name in self.computed:
                value = self.computed[name]()
            else:
                value = self.defaults[name]
            processor = self.processors[name]
            args.append(processor(value) if processor is not None and value is not None else value)
        return args

    def row(self, record: Sequence[Any]) -> dict[str, Any]:
        return {
            name: (convert(value) if convert is not None else value) for (name, convert), value in zip(self.columns, record, strict=True)
        }


_compiled: dict[tuple[Any, str], _Compiled] = {}


def _compile(statement: Any, dialect: Dialect) -> _Compiled:
    key = (statement, dialect.name)
    found = _compiled.get(key)
    if found is not None:
        return found
    compiled = statement.compile(dialect=dialect)
    names = tuple(compiled.positiontup or ())
    binds = compiled.binds
    processors = {name: binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in set(names)}
    defaults = {name: bind.value for name, bind in binds.items() if not bind.required}
    computed = {
        column.key: _computed(default)
        for prefetch, attribute in (("insert_prefetch", "default"), ("update_prefetch", "onupdate"))
        for column in getattr(compiled, prefetch, None) or ()
        if (default := getattr(column, attribute)) is not None
    }
    columns = tuple(
        (column.key, column.type.dialect_impl(dialect).result_processor(dialect, None))
        for column in getattr(statement, "exported_columns", ())
    )
    found = _compiled[key] = _Compiled(compiled.string, names, processors, defaults, computed, columns)
    return found


def _computed(default: Any) -> Callable[[], Any]:
    if default.is_callable:
        return lambda: default.arg(None)  # SQLAlchemy wraps a default of no arguments to take its context
    return lambda: default.arg


class Runner:
    """One pooled connection's driver, running compiled statements.

    Standalone (`Runner.open`), each PostgreSQL statement commits on its own and `commit` ends a SQLite
    transaction; borrowed from a Session (`Runner.of_session`), the statements join its transaction
    and the Session commits them.
    """

    def __init__(self, driver: Any, dialect: Dialect, *, owned: bool) -> None:
        self.driver = driver
        self.dialect = dialect
        self.is_postgres = dialect.name == "postgresql"
        self.owned = owned

    @staticmethod
    @asynccontextmanager
    async def open(db: Database) -> AsyncIterator[Runner]:
        async with driver_connection(db.engine) as driver:
            yield Runner(driver, db.engine.dialect, owned=True)

    @staticmethod
    async def of_session(session: AsyncSession) -> Runner:
        """The driver of the Session's transaction; asked again in the same transaction, the same Runner."""
        if session.new or session.dirty or session.deleted:
            await session.flush()  # what the Session holds is written first, as its own statements would autoflush it
        transaction = session.sync_session.get_transaction()
        held = session.info.get(_RUNNER)
        if held is not None and transaction is not None and held[0] is transaction:
            return held[1]
        connection = await session.connection()
        pooled = await connection.get_raw_connection()
        if connection.dialect.name == "postgresql" and not pooled.driver_connection.is_in_transaction():
            await connection.exec_driver_sql("SELECT 1")  # SQLAlchemy begins PostgreSQL's transaction lazily: begin it now
        run = Runner(pooled.driver_connection, connection.dialect, owned=False)
        session.info[_RUNNER] = (session.sync_session.get_transaction(), run)
        return run

    async def rows(self, statement: Executable, values: Mapping[str, Any]) -> list[dict[str, Any]]:
        compiled = _compile(statement, self.dialect)
        args = compiled.args(values)
        try:
            if self.is_postgres:
                records = await self.driver.fetch(compiled.sql, *args)
            else:
                cursor = await self.driver.execute(compiled.sql, args)
                records = await cursor.fetchall()
                await cursor.close()
        except (asyncpg.UniqueViolationError, sqlite3.IntegrityError) as exc:
            if isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" not in str(exc):
                raise
            raise Duplicate(str(exc)) from exc
        return [compiled.row(record) for record in records] if compiled.columns else []

    async def first(self, statement: Executable, values: Mapping[str, Any]) -> dict[str, Any] | None:
        found = await self.rows(statement, values)
        return found[0] if found else None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """Statements that must commit together (the relay's read, publish and mark)."""
        if self.is_postgres:
            async with self.driver.transaction():
                yield
            return
        try:
            yield
        except BaseException:
            await self.rollback()
            raise
        await self.commit()

    async def commit(self) -> None:
        if self.owned and not self.is_postgres:  # SQLite began a transaction at the first write
            await self.driver.commit()

    async def rollback(self) -> None:
        if self.owned and not self.is_postgres:
            await self.driver.rollback()


_RUNNER = "airside.runner"  # session.info: (the transaction, its Runner)


# --- inserts a unique key may refuse ----------------------------------------------------------


async def insert_ignoring_duplicates(session: AsyncSession, table: Any, values: dict[str, Any], **conflict: Any) -> bool:
    """INSERT … ON CONFLICT DO NOTHING in the Session's transaction, on both databases; True when the
    row was inserted. Racing writers of one business key never abort each other's transaction this way."""
    key = next(iter(table.__table__.primary_key.columns))
    return bool(await insert_many_ignoring_duplicates(session, table, [values], key, **conflict))


async def insert_many_ignoring_duplicates(
    session: AsyncSession, table: Any, rows: list[dict[str, Any]], key: Any, **conflict: Any
) -> set[Any]:
    """The same for many rows (of the same columns) in one statement; the `key` column's values of the rows inserted
    (a tuple of columns for `key`: tuples of their values)."""
    run = await Runner.of_session(session)
    names = tuple(rows[0])
    keys = key if isinstance(key, tuple) else (key,)
    shape = (table, names, len(rows), run.dialect.name, _conflict_key(conflict), tuple(column.key for column in keys))
    statement = _ignoring.get(shape)
    if statement is None:  # one per batch size: a consumer's batches come in a few sizes
        target = getattr(table, "__table__", table)
        rows_of_binds = [binds_of(target, names, f"n{index}_") for index in range(len(rows))]
        statement = _ignoring[shape] = (
            insert_of(run.dialect.name)(target)
            .values(rows_of_binds)
            .on_conflict_do_nothing(**conflict)
            .returning(*(target.c[column.key] for column in keys))
        )
    values = {f"n{index}_{name}": value for index, row in enumerate(rows) for name, value in row.items()}
    inserted = await run.rows(statement, values)
    if isinstance(key, tuple):
        return {tuple(row.values()) for row in inserted}
    return {next(iter(row.values())) for row in inserted}


def _conflict_key(conflict: dict[str, Any]) -> tuple[Any, ...]:
    return tuple((name, tuple(value) if isinstance(value, list) else value) for name, value in sorted(conflict.items()))


_ignoring: dict[tuple[Any, ...], Any] = {}


# --- write plans ------------------------------------------------------------------------------


class Head:
    """The row a write hinges on: a statement per dialect that returns the row's key when it was written."""

    def __init__(self, build: Callable[[str], Any]) -> None:
        self._build = build
        self._built: dict[str, Any] = {}

    def statement(self, dialect: str) -> Any:
        if dialect not in self._built:
            self._built[dialect] = self._build(dialect)
        return self._built[dialect]


def binds_of(table: Table, names: Sequence[str], prefix: str = "") -> dict[str, Any]:
    """A bound parameter per column name, typed as the column (its conversions apply), named `prefix + name`."""
    return {name: bindparam(prefix + name, type_=table.c[name].type) for name in names}


def insert_unless_taken(table: Table, *, unique: Sequence[str]) -> Head:
    """INSERT every column; a row with the same `unique` columns already there means nothing is written."""
    names = [column.name for column in table.columns]
    key = next(iter(table.primary_key))

    def build(dialect: str) -> Any:
        return insert_of(dialect)(table).values(binds_of(table, names)).on_conflict_do_nothing(index_elements=list(unique)).returning(key)

    return Head(build)


def update_at_version(table: Table, names: Sequence[str], *, key: str = "id", version: str = "version") -> Head:
    """UPDATE `names` and the version, only on the version read (a racing change leaves nothing written).
    Values: each name, `key` and `version` (the one read)."""

    def build(_dialect: str) -> Any:
        condition = (table.c[key] == bindparam(f"where_{key}", type_=table.c[key].type)) & (
            table.c[version] == bindparam(f"where_{version}", type_=table.c[version].type)
        )
        changed = {**binds_of(table, names, "set_"), version: table.c[version] + 1}
        return update(table).where(condition).values(changed).returning(table.c[key])

    return Head(build)


@dataclass
class WritePlan:
    head: Head
    values: dict[str, Any]  # the head's parameters
    rows: list[tuple[Table, dict[str, Any]]] = field(default_factory=list)  # written only with the head

    def add(self, table: Table, values: dict[str, Any]) -> None:
        self.rows.append((table, values))


_plans: dict[tuple[Any, ...], Any] = {}
_inserts: dict[tuple[Any, ...], Any] = {}


def _one_statement(plan: WritePlan, dialect: str) -> Any:
    shape = (plan.head, dialect, tuple((table, tuple(values)) for table, values in plan.rows))
    statement = _plans.get(shape)
    if statement is None:
        head = plan.head.statement(dialect).cte("head")
        statement = select(func.count()).select_from(head)
        for index, (table, values) in enumerate(plan.rows):
            chosen = select(*binds_of(table, list(values), f"r{index}_").values()).select_from(head)
            statement = statement.add_cte(insert(table).from_select(list(values), chosen).cte(f"row{index}"))
        statement = _plans[shape] = statement
    return statement


def _insert(table: Table, names: tuple[str, ...]) -> Any:
    statement = _inserts.get((table, names))
    if statement is None:
        statement = _inserts[(table, names)] = insert(table).values(binds_of(table, names))
    return statement


async def apply(run: Runner, plan: WritePlan) -> bool:
    """Carry the plan out; False when the head was not written (its key taken, or the version moved on),
    and then nothing was. Raises Duplicate when a row's unique key refuses it (nothing is kept)."""
    if run.is_postgres:
        values = dict(plan.values)
        for index, (_table, row) in enumerate(plan.rows):
            values.update({f"r{index}_{name}": value for name, value in row.items()})
        written = await run.rows(_one_statement(plan, run.dialect.name), values)
        return bool(next(iter(written[0].values())))
    if not await run.rows(plan.head.statement(run.dialect.name), plan.values):
        return False
    try:
        for table, row in plan.rows:
            await run.rows(_insert(table, tuple(row)), row)
    except BaseException:
        await run.rollback()
        raise
    await run.commit()
    return True
