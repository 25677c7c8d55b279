"""The platform's tables in every service's Alembic history: outbox, inbox, dead letters, idempotency records, webhooks.

Each service's migrations create them with these functions, which read the columns, keys and indexes
from the models' own table metadata, so they are stated once. The statements are the ones the services'
first migrations ran when they still spelled the tables out (tests/test_platform_migrations.py holds
that DDL), so a database migrated before is left as it is.
"""

from __future__ import annotations

from alembic.operations import Operations
from sqlalchemy import Column, Index, PrimaryKeyConstraint, Table, UniqueConstraint

from airside.idempotency import IdempotencyRecord
from airside.messaging.inbox import DeadLetter, ProcessedEvent
from airside.messaging.outbox import OutboxEvent
from airside.webhooks.models import WebhookDelivery, WebhookSubscription

# By name, the order autogenerate wrote them in.
PLATFORM_TABLES: tuple[Table, ...] = tuple(
    sorted((model.__table__ for model in (DeadLetter, IdempotencyRecord, OutboxEvent, ProcessedEvent)), key=lambda table: table.name)  # type: ignore[attr-defined]
)

WEBHOOK_TABLES: tuple[Table, ...] = (WebhookSubscription.__table__, WebhookDelivery.__table__)  # type: ignore[attr-defined]

# The columns each service's later migrations add (`add_platform_column`): its first one creates the tables without them.
ADDED_LATER: dict[str, tuple[str, ...]] = {"idempotency_record": ("headers",), "outbox_event": ("republished",)}


def _column(column: Column) -> Column:
    """The model's column as a migration declares it; its table's keys and indexes are stated beside it."""
    default = column.server_default.arg if column.server_default is not None else None  # type: ignore[attr-defined]
    return Column(column.name, column.type, nullable=column.nullable, server_default=default, autoincrement=column.autoincrement)


def _indexes(table: Table) -> list[Index]:
    return sorted(table.indexes, key=lambda index: str(index.name))


def _create_table(op: Operations, table: Table, *, leave_out: tuple[str, ...] = ()) -> None:
    columns = [_column(column) for column in table.columns if column.name not in leave_out]
    primary_key = PrimaryKeyConstraint(*(column.name for column in table.primary_key.columns))
    unique_keys = sorted(
        ([column.name for column in constraint.columns], constraint.name)
        for constraint in table.constraints
        if isinstance(constraint, UniqueConstraint)
    )
    uniques = [UniqueConstraint(*names, name=name) for names, name in unique_keys]
    op.create_table(table.name, *columns, primary_key, *uniques)
    for index in _indexes(table):
        op.create_index(op.f(str(index.name)), table.name, [column.name for column in index.columns], unique=bool(index.unique))


def _drop_table(op: Operations, table: Table) -> None:
    for index in reversed(_indexes(table)):
        op.drop_index(op.f(str(index.name)), table_name=table.name)
    op.drop_table(table.name)


def create_platform_tables(op: Operations) -> None:
    """The four tables as they were first created; each service's migration 0001 calls this."""
    for table in PLATFORM_TABLES:
        _create_table(op, table, leave_out=ADDED_LATER.get(table.name, ()))


def drop_platform_tables(op: Operations) -> None:
    """What `create_platform_tables` created, gone again; migration 0001's downgrade calls this."""
    for table in reversed(PLATFORM_TABLES):
        _drop_table(op, table)


def create_webhook_tables(op: Operations) -> None:
    """Webhook subscriptions and their deliveries (docs/webhooks.md), in each service's history."""
    for table in WEBHOOK_TABLES:
        _create_table(op, table)


def drop_webhook_tables(op: Operations) -> None:
    for table in reversed(WEBHOOK_TABLES):
        _drop_table(op, table)


def add_platform_column(op: Operations, table_name: str, column_name: str) -> None:
    """A column the platform added to one of its tables after the first migration, as its model declares it."""
    if column_name not in ADDED_LATER.get(table_name, ()):
        raise ValueError(f"{table_name}.{column_name} is not in ADDED_LATER: migration 0001 creates it already")
    table = next(table for table in PLATFORM_TABLES if table.name == table_name)
    op.add_column(table_name, _column(table.columns[column_name]))
