"""carrier copies: booking's carriers (with the billing contact) and their contracts, for agents (docs/callcenter.md)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 16:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('carrier_copy',
    sa.Column('designator', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('billing_contact', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('designator')
    )
    op.create_table('contract_copy',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('carrier', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('station', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('contract_copy', schema=None) as batch_op:
        batch_op.create_index('ix_contract_copy_carrier_station', ['carrier', 'station'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('contract_copy', schema=None) as batch_op:
        batch_op.drop_index('ix_contract_copy_carrier_station')
    op.drop_table('contract_copy')
    op.drop_table('carrier_copy')
