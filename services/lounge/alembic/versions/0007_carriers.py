"""carriers: copies of booking's carriers and contracts, carrier-paid visits, refused entries (docs/lounge.md)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 15:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import airside.db.columns

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('carrier_copy',
    sa.Column('designator', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('designator')
    )
    op.create_table('contract_copy',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('carrier', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('station', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('terms', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('contract_copy', schema=None) as batch_op:
        batch_op.create_index('ix_contract_copy_carrier_station', ['carrier', 'station'], unique=False)
    op.create_table('entry_refusal',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('lounge_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('station', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('carrier', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('contract_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('flight_no', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('flight_date', sa.Date(), nullable=False),
    sa.Column('cabin', sqlmodel.sql.sqltypes.AutoString(length=1), nullable=True),
    sa.Column('passenger_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('refused_at', airside.db.columns.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('lounge_id', 'flight_no', 'flight_date', 'passenger_name', name='uq_entry_refusal_passenger')
    )
    with op.batch_alter_table('entry_refusal', schema=None) as batch_op:
        batch_op.create_index('ix_entry_refusal_lounge_refused_at', ['lounge_id', 'refused_at'], unique=False)
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payer', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True))
        batch_op.add_column(sa.Column('carrier', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True))
        batch_op.add_column(sa.Column('contract_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('contract_version', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('rate_minor', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True))
        batch_op.add_column(sa.Column('cabin', sqlmodel.sql.sqltypes.AutoString(length=1), nullable=True))
        batch_op.add_column(sa.Column('guests_carrier_paid', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('guests_billed', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('complimentary_menu', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('visit', schema=None) as batch_op:
        for column in ('complimentary_menu', 'guests_billed', 'guests_carrier_paid', 'cabin', 'currency', 'rate_minor',
                       'contract_version', 'contract_id', 'carrier', 'payer'):
            batch_op.drop_column(column)
    with op.batch_alter_table('entry_refusal', schema=None) as batch_op:
        batch_op.drop_index('ix_entry_refusal_lounge_refused_at')
    op.drop_table('entry_refusal')
    with op.batch_alter_table('contract_copy', schema=None) as batch_op:
        batch_op.drop_index('ix_contract_copy_carrier_station')
    op.drop_table('contract_copy')
    op.drop_table('carrier_copy')
