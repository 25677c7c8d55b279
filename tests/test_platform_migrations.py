"""The platform tables (outbox, inbox, dead letters, idempotency) come from one helper, airside.migrations,
which every service's history calls (issue 11 item 2).

tests/schemas/migrations_0001.json was made from the services' first migrations while they still spelled
those tables out: the DDL their upgrade to 0001 and their downgrade ran and the schema they left, on
SQLite and PostgreSQL. A fresh database migrated with today's history must run the same statements and be
left with the same tables, columns, types, nullability, keys, indexes and constraints; so a database
migrated before is untouched. At head, the later migrations that changed platform tables must have left
exactly what the models declare, the same in every service.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from airside.migrations import PLATFORM_TABLES

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = json.loads((ROOT / "tests" / "schemas" / "migrations_0001.json").read_text())
SERVICES = ("booking", "lounge", "callcenter")
PLATFORM = tuple(table.name for table in PLATFORM_TABLES)


@pytest.fixture(scope="module")
def probes(databases) -> dict[str, dict]:
    """Each service's history run on fresh databases of this run's kind, in a process of its own (their models share table names)."""
    found = {}
    for service in SERVICES:
        urls = [databases.create(f"{service}_history"), databases.create(f"{service}_head")]
        done = subprocess.run(
            [sys.executable, str(ROOT / "tests" / "schema_probe.py"), service, *urls], capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr[-3000:]
        found[service] = json.loads(done.stdout)
    return found


def is_platform(statement: str) -> bool:
    return any(name in statement for name in PLATFORM)


@pytest.mark.parametrize("step", ["upgrade_0001_ddl", "downgrade_base_ddl"])
@pytest.mark.parametrize("service", SERVICES)
def test_the_first_migration_runs_the_statements_it_ran_when_it_spelled_the_platform_tables_out(probes, databases, service, step):
    before = SNAPSHOT[service][databases.kind][step]
    now = probes[service][step]
    assert any(is_platform(statement) for statement in before)
    # The same statements, each exactly; only their interleaving changed (the platform's tables come as one block).
    assert [s for s in now if is_platform(s)] == [s for s in before if is_platform(s)]
    assert [s for s in now if not is_platform(s)] == [s for s in before if not is_platform(s)]


@pytest.mark.parametrize("step", ["schema_0001", "schema_base"])
@pytest.mark.parametrize("service", SERVICES)
def test_the_first_migration_leaves_the_schema_it_left(probes, databases, service, step):
    before = SNAPSHOT[service][databases.kind][step]
    now = probes[service][step]
    if step == "schema_0001":
        assert set(PLATFORM) <= set(now["tables"])
    for table in sorted(set(before["tables"]) | set(now["tables"])):
        assert now["tables"].get(table) == before["tables"].get(table), table
    assert now == before


@pytest.mark.parametrize("service", SERVICES)
def test_at_head_the_platform_tables_are_what_the_models_declare(probes, service):
    """Later migrations added platform columns (headers, republished); alembic's comparison finds nothing left to do."""
    assert probes[service]["drift_head"] == []
    assert set(PLATFORM) <= set(probes[service]["schema_head"]["tables"])


def test_at_head_every_service_has_the_same_platform_tables(probes):
    tables = {service: {name: probes[service]["schema_head"]["tables"][name] for name in PLATFORM} for service in SERVICES}
    assert tables["lounge"] == tables["booking"]
    assert tables["callcenter"] == tables["booking"]
