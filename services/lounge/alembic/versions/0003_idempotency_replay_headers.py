"""idempotency records keep the response headers a replay repeats (its ETag)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 21:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

from airside.migrations import add_platform_column

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_platform_column(op, 'idempotency_record', 'headers')


def downgrade() -> None:
    with op.batch_alter_table('idempotency_record', schema=None) as batch_op:
        batch_op.drop_column('headers')
