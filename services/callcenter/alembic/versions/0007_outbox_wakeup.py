"""the outbox wakes its relay across processes: a trigger NOTIFYs every row waiting to be published

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 01:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

from airside.migrations import add_outbox_wakeup, drop_outbox_wakeup

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_outbox_wakeup(op)


def downgrade() -> None:
    drop_outbox_wakeup(op)
