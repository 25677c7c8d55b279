"""outbox rows count deliberate republishes: each goes out under a new Nats-Msg-Id

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 22:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

from airside.migrations import add_platform_column

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_platform_column(op, 'outbox_event', 'republished')


def downgrade() -> None:
    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        batch_op.drop_column('republished')
