"""Migration 0006: complaints recorded before it (compensation_minor held the last proposal only) get
their total, the pending part and its proposer from their history."""

import json
import uuid
from datetime import UTC, datetime

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from airside.db.database import Database
from callcenter.main import SERVICE


def upgrade(connection, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(SERVICE.alembic_dir))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def complaint_row(stage: str, compensation_minor: int) -> dict:
    now = datetime(2030, 3, 5, tzinfo=UTC).replace(tzinfo=None)  # naive UTC, as UtcDateTime keeps it on SQLite
    ticket_id = str(uuid.uuid4())
    return dict(
        id=ticket_id, number=f"CC-{ticket_id[:8]}", type="complaint", channel="phone", status="open", priority="P2", station="PEK",
        subject="s", description="", tags="[]", created_by="agent", complaint_stage=stage, compensation_minor=compensation_minor,
        sla_anchor_at=now, first_response_elapsed=0.0, resolution_elapsed=0.0, sla_fired=0, escalation_level=0, contacts=0,
        created_at=now, updated_at=now, version=1,
    )  # fmt: skip


# (actor, to_stage, detail) as the workflow logged them before 0006.
APPROVED_THEN_PENDING = [
    ("agent-1", "resolution_proposed", {"compensation_minor": 30000}),
    ("agent-1", "awaiting_approval", {"approver_role": "team_lead"}),
    ("lead-1", "approved", {"approved_by": "lead-1"}),
    ("agent-1", "investigating", {"reason": "member_not_satisfied"}),
    ("lead-2", "resolution_proposed", {"compensation_minor": 15000}),
    ("lead-2", "awaiting_approval", {"approver_role": "team_lead"}),
]
REJECTED = [
    ("agent-1", "resolution_proposed", {"compensation_minor": 50000}),
    ("agent-1", "awaiting_approval", {"approver_role": "team_lead"}),
    ("lead-1", "investigating", {"rejected_by": "lead-1", "reason": "too much"}),
]


async def test_old_complaints_get_their_total_pending_part_and_proposer(databases):
    db = Database(databases.create("callcenter_migration"))
    try:
        cases = [(complaint_row("awaiting_approval", 15000), APPROVED_THEN_PENDING), (complaint_row("investigating", 50000), REJECTED)]
        async with db.engine.connect() as conn:
            await conn.run_sync(upgrade, "0005")
            for row, history in cases:
                await conn.execute(text(f"INSERT INTO ticket ({', '.join(row)}) VALUES ({', '.join(':' + name for name in row)})"), row)
                for actor, stage, detail in history:
                    await conn.execute(
                        text(
                            "INSERT INTO ticket_history (ticket_id, at, actor, action, detail) VALUES (:t, :at, :a, 'complaint_stage', :d)"
                        ),
                        {"t": row["id"], "at": row["created_at"], "a": actor, "d": json.dumps({"to_stage": stage, **detail})},
                    )
            await conn.commit()
            await conn.run_sync(upgrade, "head")
            await conn.commit()
            columns = "compensation_minor, compensation_pending_minor, compensation_proposed_by"
            found = [
                tuple((await conn.execute(text(f"SELECT {columns} FROM ticket WHERE id = :id"), {"id": row["id"]})).one())
                for row, _history in cases
            ]
        assert found == [(45000, 15000, "lead-2"), (0, None, None)]
    finally:
        await db.dispose()
