"""Running a service's Alembic migrations: at start-up (`migrate`) and as the body of its alembic/env.py.

The platform's own tables within those migrations are `airside.migrations`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection

from airside.db.database import Database

# One advisory-lock key space for the whole project: migrations take this one, the outbox relay
# the keys from its RELAY_LOCK_BASE.
MIGRATION_LOCK_KEY = 7_201_001
# How often a replica waiting for another's migrations asks for the lock again.
MIGRATION_LOCK_POLL_SECONDS = 0.2


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
            # Asked again and again, never waited for inside a statement: a waiting statement holds a snapshot,
            # and CREATE INDEX CONCURRENTLY in the replica migrating waits for every older snapshot (a deadlock).
            while not (await conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})).scalar_one():
                await conn.commit()
                await asyncio.sleep(MIGRATION_LOCK_POLL_SECONDS)
            # The lock is the session's: Alembic then opens a transaction of its own, which a migration's
            # autocommit_block (docs/operations.md, Rolling upgrades) needs to commit.
            await conn.commit()
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
