"""A service built from the shared platform whose routes fail in each way a route can; test_failures.py
runs it under uvicorn, as the Dockerfiles run a service, and reads its log."""

import os
from pathlib import Path

from fastapi import APIRouter, Depends
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from airside.app import ServiceDefinition, create_service_app
from airside.db.database import Database
from airside.settings import AirsideSettings


class DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__("driver says no")
        self.sqlstate = sqlstate


async def crashing_dependency() -> None:
    raise RuntimeError("crashed in a dependency")


router = APIRouter(prefix="/v1/failures")


@router.get("/route")
async def crash_in_route() -> None:
    raise RuntimeError("crashed in a route")


@router.get("/dependency", dependencies=[Depends(crashing_dependency)])
async def crash_in_dependency() -> None:
    return None


@router.get("/statement")
async def crash_in_statement() -> None:
    raise DBAPIError("SELECT * FROM nowhere", {}, DriverError("42P01"))  # not the caller's data: a crash


# Nothing listens there: the driver's connection is refused, as by a database that is down.
absent = Database(f"postgresql+asyncpg://postgres@127.0.0.1:{os.environ['ABSENT_DATABASE_PORT']}/absent")


@router.get("/database-away")
async def database_away() -> None:
    async with absent.session() as session:
        await session.execute(text("SELECT 1"))


class CrashingSettings(AirsideSettings):
    pass


CRASHING = ServiceDefinition(
    name="crashing", title="failures", settings_class=CrashingSettings, routers=[router], alembic_dir=Path("unused")
)
app = create_service_app(CRASHING)
