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


# (name, columns, partial-index predicate)
INDEXES = (
    # GET /v1/tickets?station=&status=[&priority=]: newest first straight from the index (keyset order).
    ('ix_ticket_station_status_priority', ['station', 'status', 'priority', 'created_at', 'id'], None),
    ('ix_ticket_station_status', ['station', 'status', 'created_at', 'id'], None),
    # POST /v1/queue/claim: the unassigned open tickets of a station in claim order; LIMIT 1 reads one entry.
    ('ix_ticket_claimable', ['station', 'next_due', 'priority', 'created_at'], CLAIMABLE),
    # The auto-close pass: only resolved tickets, not every ticket ever resolved.
    ('ix_ticket_resolved_open', ['resolved_at'], RESOLVED),
)


def upgrade() -> None:
    if op.get_context().dialect.name != 'postgresql':
        for name, columns, where in INDEXES:
            op.create_index(name, 'ticket', columns, sqlite_where=where)
        return
    # CONCURRENTLY, outside the migration's transaction: ticket writes go on while a large table is indexed
    # (docs/operations.md, Rolling upgrades). A build interrupted leaves an invalid index behind: dropped, built again.
    with op.get_context().autocommit_block():
        for name, columns, where in INDEXES:
            op.drop_index(name, table_name='ticket', if_exists=True, postgresql_concurrently=True)
            op.create_index(name, 'ticket', columns, postgresql_where=where, postgresql_concurrently=True)


def downgrade() -> None:
    op.drop_index('ix_ticket_resolved_open', table_name='ticket')
    op.drop_index('ix_ticket_claimable', table_name='ticket')
    op.drop_index('ix_ticket_station_status', table_name='ticket')
    op.drop_index('ix_ticket_station_status_priority', table_name='ticket')
