"""A request's session and database, as FastAPI dependencies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from airside.db.database import Database


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.db.session() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_database(request: Request) -> Database:  # async: a plain def would run in a thread per request
    return request.app.state.db  # type: ignore[no-any-return]


# For a route that opens its session only on some paths (a session per request costs a generator dependency).
DatabaseDep = Annotated[Database, Depends(get_database)]
