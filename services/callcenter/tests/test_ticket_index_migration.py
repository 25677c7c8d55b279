"""Migration 0003 on PostgreSQL builds the ticket indexes CONCURRENTLY, through the start-up migration
(`airside.db.upgrade.migrate`, its lock and all): a ticket written while a build waits goes through
(docs/operations.md, Rolling upgrades)."""

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text

from airside.db.database import Database
from airside.db.upgrade import migrate
from airside_tools.testing.harness import wait_for
from callcenter.main import SERVICE

INDEXES = {"ix_ticket_station_status_priority", "ix_ticket_station_status", "ix_ticket_claimable", "ix_ticket_resolved_open"}


def alembic_config(connection=None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SERVICE.alembic_dir))
    config.attributes["connection"] = connection
    return config


def upgrade(connection, revision: str) -> None:
    command.upgrade(alembic_config(connection), revision)


def ticket_row() -> dict:
    """A ticket as the schema at 0002 has it."""
    now = datetime(2030, 3, 5, tzinfo=UTC)
    ticket_id = str(uuid.uuid4())
    return dict(
        id=ticket_id, number=f"CC-{ticket_id[:8]}", type="inquiry", channel="phone", status="open", priority="P2", station="PEK",
        subject="s", description="", tags="[]", created_by="agent", sla_anchor_at=now, first_response_elapsed=0.0,
        resolution_elapsed=0.0, sla_fired=0, escalation_level=0, contacts=0, created_at=now, updated_at=now, version=1,
    )  # fmt: skip


async def insert_ticket(conn) -> None:
    row = ticket_row()
    await conn.execute(text(f"INSERT INTO ticket ({', '.join(row)}) VALUES ({', '.join(':' + name for name in row)})"), row)


async def test_the_ticket_indexes_are_built_while_tickets_are_written(databases):
    if databases.kind != "postgresql":
        pytest.skip("CREATE INDEX CONCURRENTLY is PostgreSQL's (AIRSIDE_TEST_POSTGRES_URL); SQLite builds them in the migration")
    db = Database(databases.create("callcenter_index_migration"))
    try:
        async with db.engine.connect() as conn:
            await conn.run_sync(upgrade, "0002")
            await conn.commit()
        async with db.engine.connect() as in_progress, db.engine.connect() as observer:
            await insert_ticket(in_progress)  # a write in progress, not committed: every index build waits for it
            migrating = asyncio.create_task(migrate(db, SERVICE.alembic_dir))

            async def build_waiting() -> bool:
                waiting = await observer.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE query ILIKE 'CREATE INDEX%' AND wait_event_type = 'Lock'")
                )
                await observer.commit()
                return bool(waiting.scalar_one())

            await wait_for(build_waiting, timeout=30, what="the first index build waiting for the write in progress")
            async with db.engine.connect() as writer:
                # A plain CREATE INDEX queued for its SHARE lock would hold this insert behind it until the write in
                # progress ends: lock_timeout turns that wait into an error instead of a hang.
                await writer.execute(text("SET lock_timeout = '10s'"))
                await insert_ticket(writer)
                await writer.commit()
            assert not migrating.done()
            await in_progress.commit()
            await migrating
            validity = "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = ANY(:n)"
            built = await observer.execute(text(validity), {"n": sorted(INDEXES)})
            assert dict(built.all()) == dict.fromkeys(INDEXES, True)
            assert (await observer.execute(text("SELECT count(*) FROM ticket"))).scalar_one() == 2
    finally:
        await db.dispose()


async def test_two_replicas_starting_together_migrate_once_and_both_start(databases):
    """The replica waiting for the migration lock holds no snapshot the concurrent builds would wait for (a deadlock)."""
    if databases.kind != "postgresql":
        pytest.skip("the migration lock and CREATE INDEX CONCURRENTLY are PostgreSQL's (AIRSIDE_TEST_POSTGRES_URL)")
    url = databases.create("callcenter_two_replicas")
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    replicas = [Database(url), Database(url)]
    try:
        await asyncio.gather(*(migrate(db, SERVICE.alembic_dir) for db in replicas))
        async with replicas[0].engine.connect() as conn:
            assert (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all() == [head]
    finally:
        for db in replicas:
            await db.dispose()
