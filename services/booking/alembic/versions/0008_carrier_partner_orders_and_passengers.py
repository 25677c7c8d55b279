"""a carrier's partner orders and passengers: service_order.payer_carrier (indexed, backfilled from payer), member.enrolled_by_carrier

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 18:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAYER_INDEX = ('ix_service_order_payer_carrier', ['payer_carrier', 'meet_at', 'id'])
# payer's carrier, for the orders written before the column (docs/carriers.md "Partner orders"); a member's
# order has no payer (SQL NULL or JSON null: both give NULL).
BACKFILL = {
    'postgresql': "UPDATE service_order SET payer_carrier = payer->>'carrier' WHERE payer_carrier IS NULL AND payer->>'carrier' IS NOT NULL",
    'sqlite': "UPDATE service_order SET payer_carrier = json_extract(payer, '$.carrier') "
    "WHERE payer_carrier IS NULL AND json_extract(payer, '$.carrier') IS NOT NULL",
}


def upgrade() -> None:
    # Nullable columns: the release before this one writes orders and members without them (docs/operations.md, Rolling upgrades).
    with op.batch_alter_table('service_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payer_carrier', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True))
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('enrolled_by_carrier', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True))
    dialect = op.get_context().dialect.name
    op.execute(BACKFILL[dialect])
    name, columns = PAYER_INDEX
    if dialect != 'postgresql':
        op.create_index(name, 'service_order', columns)
        return
    # CONCURRENTLY, outside the migration's transaction: orders go on being written while a large table is
    # indexed (docs/operations.md, Rolling upgrades). A build interrupted leaves an invalid index: dropped, built again.
    with op.get_context().autocommit_block():
        op.drop_index(name, table_name='service_order', if_exists=True, postgresql_concurrently=True)
        op.create_index(name, 'service_order', columns, postgresql_concurrently=True)


def downgrade() -> None:
    op.drop_index(PAYER_INDEX[0], table_name='service_order')
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_column('enrolled_by_carrier')
    with op.batch_alter_table('service_order', schema=None) as batch_op:
        batch_op.drop_column('payer_carrier')
