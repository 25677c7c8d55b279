"""`python -m airside.seeding <service>`: migrate and seed one service's database, then exit."""

import asyncio
import sys

from airside.app import load_service, prepare_database
from airside.db.database import Database


async def seed_service(name: str) -> str:
    definition = load_service(name)
    db = Database(definition.settings_class().database_url)
    try:
        await prepare_database(definition, db)
    finally:
        await db.dispose()
    return db.engine.dialect.name


if __name__ == "__main__":
    service = sys.argv[1]
    print(f"{service}: migrated and seeded ({asyncio.run(seed_service(service))})")
