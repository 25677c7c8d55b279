"""pytest fixtures for Airside: a nats-server per test session, fresh databases, tokens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airside_tools.processes import NatsServer
from airside_tools.testing.databases import TestDatabases
from airside_tools.testing.harness import nats_under
from airside_tools.testing.postgres import PostgresInstance, postgres_bin_dir, postgres_instance


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestDatabases]:
    created = TestDatabases(tmp_path_factory.mktemp("sqlite"))
    yield created
    created.drop_all()


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    """A JetStream server of our own on a free port (never the machine's shared one)."""
    with nats_under(tmp_path_factory.mktemp("nats")) as server:
        yield server


@pytest.fixture
def own_postgres() -> Iterator[PostgresInstance]:
    """A PostgreSQL server of the test's own (whatever database the run uses), which it may stop and start."""
    if postgres_bin_dir() is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
    with postgres_instance() as instance:
        yield instance


def pytest_report_header() -> str:
    from airside_tools.testing.databases import postgres_admin_url

    return f"airside databases: {'PostgreSQL' if postgres_admin_url() else 'SQLite'}"
