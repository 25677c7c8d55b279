"""INSERT … ON CONFLICT DO NOTHING on both databases, for racing writers of one business key."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


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
