"""ticket indexes for a million tickets: filtered lists, the claim queue, auto-close

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 08:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLAIMABLE = sa.text("assignee IS NULL AND status IN ('new', 'open')")
RESOLVED = sa.text("status = 'resolved'")


def upgrade() -> None:
    # GET /v1/tickets?station=&status=[&priority=]: newest first straight from the index (keyset order).
    op.create_index('ix_ticket_station_status_priority', 'ticket', ['station', 'status', 'priority', 'created_at', 'id'])
    op.create_index('ix_ticket_station_status', 'ticket', ['station', 'status', 'created_at', 'id'])
    # POST /v1/queue/claim: the unassigned open tickets of a station in claim order; LIMIT 1 reads one entry.
    op.create_index(
        'ix_ticket_claimable', 'ticket', ['station', 'next_due', 'priority', 'created_at'],
        postgresql_where=CLAIMABLE, sqlite_where=CLAIMABLE,
    )
    # The auto-close pass: only resolved tickets, not every ticket ever resolved.
    op.create_index('ix_ticket_resolved_open', 'ticket', ['resolved_at'], postgresql_where=RESOLVED, sqlite_where=RESOLVED)


def downgrade() -> None:
    op.drop_index('ix_ticket_resolved_open', table_name='ticket')
    op.drop_index('ix_ticket_claimable', table_name='ticket')
    op.drop_index('ix_ticket_station_status', table_name='ticket')
    op.drop_index('ix_ticket_station_status_priority', table_name='ticket')
