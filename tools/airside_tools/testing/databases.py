"""One fresh database per service per test run: PostgreSQL when AIRSIDE_TEST_POSTGRES_URL is set, else SQLite."""

from __future__ import annotations

import asyncio
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import asyncpg

POSTGRES_ENV = "AIRSIDE_TEST_POSTGRES_URL"


def postgres_admin_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


def _with_database(url: str, database: str) -> str:
    parts = urlparse(url)
    return urlunparse(parts._replace(path=f"/{database}"))


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


class TestDatabases:
    """Creates databases on demand and drops every one it created at the end."""

    def __init__(self, sqlite_dir: Path) -> None:
        self.sqlite_dir = sqlite_dir
        self.admin_url = postgres_admin_url()
        self.run_id = f"{os.getpid()}_{secrets.token_hex(3)}"
        self.created: list[str] = []
        self._count = 0

    @property
    def kind(self) -> str:
        return "postgresql" if self.admin_url else "sqlite"

    def create(self, name: str) -> str:
        """A new, empty database every call, even for the same name."""
        self._count += 1
        name = f"{name}_{self._count}"
        if self.admin_url is None:
            self.sqlite_dir.mkdir(parents=True, exist_ok=True)
            return f"sqlite+aiosqlite:///{self.sqlite_dir / f'{name}_{self.run_id}.db'}"
        database = f"airside_test_{name}_{self.run_id}"
        self._run(f'CREATE DATABASE "{database}"')
        self.created.append(database)
        return _with_database(self.admin_url, database).replace("postgresql://", "postgresql+asyncpg://", 1)

    def drop_all(self) -> None:
        for database in self.created:
            self._run(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        self.created.clear()

    def _run(self, statement: str) -> None:
        # Fixtures call this from inside the test event loop: give the statement a loop of its own.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, self._execute(statement)).result()

    async def _execute(self, statement: str) -> None:
        assert self.admin_url is not None
        try:
            connection = await asyncpg.connect(_plain(self.admin_url), timeout=10)
        except (OSError, asyncpg.PostgresError) as exc:
            raise RuntimeError(f"{POSTGRES_ENV} is set but PostgreSQL does not answer at {self.admin_url}: {exc}") from exc
        try:
            await connection.execute(statement)
        finally:
            await connection.close()
