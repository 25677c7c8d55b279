"""visit: the frequent-flyer tier and number a carrier-paid visit entered on (docs/lounge.md)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('frequent_flyer_tier', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True))
        batch_op.add_column(sa.Column('frequent_flyer_number', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_column('frequent_flyer_number')
        batch_op.drop_column('frequent_flyer_tier')
