"""webhook subscriptions and deliveries, the platform's tables for partners' signed webhooks (docs/webhooks.md)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 15:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

from airside.migrations import create_webhook_tables, drop_webhook_tables

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_webhook_tables(op)


def downgrade() -> None:
    drop_webhook_tables(op)
