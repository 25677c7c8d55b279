"""complaint compensation: the total over every proposal, the pending part and its proposer

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 22:10:00.000000
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('ticket', sa.Column('compensation_pending_minor', sa.Integer(), nullable=True))
    op.add_column('ticket', sa.Column('compensation_proposed_by', sa.String(length=200), nullable=True))
    # compensation_minor held the last proposal only: replay each complaint's history for its total
    # (approved proposals plus the pending one) and who proposed what awaits approval.
    conn = op.get_bind()
    complaints = conn.execute(sa.text("SELECT id FROM ticket WHERE compensation_minor IS NOT NULL")).scalars().all()
    history = sa.text("SELECT actor, detail FROM ticket_history WHERE ticket_id = :id AND action = 'complaint_stage' ORDER BY id")
    for ticket_id in complaints:
        approved, pending, proposer = 0, 0, None
        for actor, detail in conn.execute(history, {"id": ticket_id}):
            detail = json.loads(detail) if isinstance(detail, str) else detail
            stage = detail.get("to_stage")
            if stage == 'resolution_proposed':
                pending, proposer = detail.get("compensation_minor") or 0, actor
            elif stage == 'approved':
                approved, pending, proposer = approved + pending, 0, None
            elif stage == 'investigating' and "rejected_by" in detail:
                pending, proposer = 0, None
        conn.execute(
            sa.text(
                "UPDATE ticket SET compensation_minor = :total, compensation_pending_minor = :pending,"
                " compensation_proposed_by = :proposer WHERE id = :id"
            ),
            {"total": approved + pending, "pending": pending or None, "proposer": proposer, "id": ticket_id},
        )


def downgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_column('compensation_proposed_by')
        batch_op.drop_column('compensation_pending_minor')
