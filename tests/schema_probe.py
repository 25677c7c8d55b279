"""Migrates one service's fresh database and prints, as JSON, the DDL each step ran and the schema it left.

Run by tests/test_platform_migrations.py in a process per service, as the services' models share table
names: `python tests/schema_probe.py <service> <database url> <another database url>`. On the first: upgrade
to 0001 and downgrade to base, each step's DDL statements in order and the schema it left; on the second
(0001's downgrade leaves the enum types behind on PostgreSQL) upgrade to head, its schema and what
alembic's autogenerate finds between that database's platform tables and the models.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import event, inspect
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from airside.db.database import Database
from airside.migrations import PLATFORM_TABLES

DDL_VERBS = ("CREATE", "DROP", "ALTER", "COMMENT")
PLATFORM = {table.name for table in PLATFORM_TABLES}


def _by_name(item: Any) -> tuple[str, list[str]]:
    return str(item["name"]), list(item.get("column_names", ()))


def reflected_schema(connection: Connection) -> dict[str, Any]:
    """Every table's columns (in order), keys, indexes and constraints, as the database itself reports them."""
    inspector = inspect(connection)
    dialect = connection.dialect
    tables: dict[str, Any] = {}
    for name in sorted(inspector.get_table_names()):
        if name == "alembic_version":
            continue
        tables[name] = {
            "columns": [
                {
                    "name": column["name"],
                    "type": column["type"].compile(dialect=dialect),
                    "nullable": column["nullable"],
                    "default": column.get("default"),
                }
                for column in inspector.get_columns(name)
            ],
            "primary_key": inspector.get_pk_constraint(name),
            "indexes": sorted(inspector.get_indexes(name), key=_by_name),
            "unique_constraints": sorted(inspector.get_unique_constraints(name), key=_by_name),
            "check_constraints": sorted(inspector.get_check_constraints(name), key=_by_name),
            "foreign_keys": sorted(inspector.get_foreign_keys(name), key=_by_name),
        }
    schema: dict[str, Any] = {"tables": tables}
    if dialect.name == "postgresql":
        schema["enums"] = sorted(inspector.get_enums(), key=lambda enum: enum["name"])  # type: ignore[attr-defined]
    # A round trip through JSON: what the snapshot holds is what is compared.
    return json.loads(json.dumps(schema, default=str, sort_keys=True))


def _config(script_location: str, connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", script_location)
    config.attributes["connection"] = connection
    return config


async def probe(service_name: str, database_url: str, head_database_url: str) -> dict[str, Any]:
    service = importlib.import_module(f"{service_name}.main").SERVICE
    importlib.import_module(f"{service_name}.models")  # every table of the service, for the comparison at head
    script_location = str(service.alembic_dir)
    statements: list[str] = []

    def _record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(DDL_VERBS):
            statements.append(statement.strip())

    def step(connection: Connection, action: str, revision: str) -> list[str]:
        statements.clear()
        getattr(command, action)(_config(script_location, connection), revision)
        return list(statements)

    def drift(connection: Connection) -> list[str]:
        def platform_only(item: Any, name: str | None, kind: str, _reflected: bool, _compare_to: Any) -> bool:
            return (name if kind == "table" else item.table.name) in PLATFORM

        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": platform_only})
        return sorted(repr(difference) for difference in compare_metadata(context, SQLModel.metadata))

    result: dict[str, Any] = {}
    db = Database(database_url)
    event.listen(db.engine.sync_engine, "before_cursor_execute", _record)
    try:
        async with db.engine.connect() as conn:
            result["upgrade_0001_ddl"] = await conn.run_sync(step, "upgrade", "0001")
            result["schema_0001"] = await conn.run_sync(reflected_schema)
            result["downgrade_base_ddl"] = await conn.run_sync(step, "downgrade", "base")
            result["schema_base"] = await conn.run_sync(reflected_schema)
            await conn.commit()
    finally:
        await db.dispose()
    db = Database(head_database_url)
    try:
        async with db.engine.connect() as conn:
            await conn.run_sync(step, "upgrade", "head")
            result["schema_head"] = await conn.run_sync(reflected_schema)
            result["drift_head"] = await conn.run_sync(drift)
            await conn.commit()
    finally:
        await db.dispose()
    return result


if __name__ == "__main__":
    print(json.dumps(asyncio.run(probe(*sys.argv[1:4])), sort_keys=True))
