"""Idempotency-Key: a retried POST returns the first result and never has a second effect.

The stored response is written in the same transaction as the business change, so a request
that committed is always answered from the store, and two racing requests with one key cannot
both commit (the second hits the primary key, rolls back and answers the first's response).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from airside.auth import CurrentUser
from airside.db import UtcDateTime, utcnow
from airside.problems import Problem, invalid


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_record"

    caller: str = Field(primary_key=True, max_length=200)
    route: str = Field(primary_key=True, max_length=300)
    key: str = Field(primary_key=True, max_length=200)
    request_hash: str = Field(max_length=64)
    status_code: int
    body: str = Field(sa_type=Text)
    created_at: datetime = Field(sa_type=UtcDateTime, index=True)


class Idempotency:
    def __init__(self, key: str | None, caller: str, route: str, request_hash: str) -> None:
        self.key = key
        self.caller = caller
        self.route = route
        self.request_hash = request_hash

    async def _stored(self, session: AsyncSession) -> JSONResponse | None:
        if self.key is None:
            return None
        record = await session.get(IdempotencyRecord, (self.caller, self.route, self.key))
        if record is None:
            return None
        if record.request_hash != self.request_hash:
            raise invalid("Idempotency-Key", "this key was used with a different request body", "idempotency_key_reused")
        return JSONResponse(orjson.loads(record.body), status_code=record.status_code, headers={"Idempotent-Replay": "true"})

    async def execute(
        self,
        session: AsyncSession,
        action: Callable[[], Awaitable[Any]],
        *,
        status_code: int = 200,
        headers: Callable[[Any], dict[str, str]] | None = None,
    ) -> JSONResponse:
        """Run `action` (which must not commit), store its response with it, and commit once."""
        if (replay := await self._stored(session)) is not None:
            return replay
        result = await action()
        body = encode(result)
        if self.key is not None:
            session.add(
                IdempotencyRecord(
                    caller=self.caller,
                    route=self.route,
                    key=self.key,
                    request_hash=self.request_hash,
                    status_code=status_code,
                    body=orjson.dumps(body).decode(),
                    created_at=utcnow(),
                )
            )
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            if self.key is not None and (replay := await self._stored(session)) is not None:
                return replay
            raise
        return JSONResponse(body, status_code=status_code, headers=headers(result) if headers else None)


def encode(result: Any) -> Any:
    """A response body as JSON-ready data. Models dump in pydantic-core (what jsonable_encoder calls
    first, before walking the whole result again in Python, a second pass that changes nothing here)."""
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json", by_alias=True)
    return jsonable_encoder(result)


class LeanIdempotency:
    """The same records for write paths on the raw PostgreSQL driver (one statement, no Session)."""

    LOOKUP = "SELECT request_hash, status_code, body FROM idempotency_record WHERE caller = $1 AND route = $2 AND key = $3"
    # The columns a lean path inserts, in its own statement beside the change.
    COLUMNS = ("caller", "route", "key", "request_hash", "status_code", "body", "created_at")

    @staticmethod
    async def stored(idempotency: Idempotency, conn: Any) -> JSONResponse | None:
        if idempotency.key is None:
            return None
        row = await conn.fetchrow(LeanIdempotency.LOOKUP, idempotency.caller, idempotency.route, idempotency.key)
        if row is None:
            return None
        if row["request_hash"] != idempotency.request_hash:
            raise invalid("Idempotency-Key", "this key was used with a different request body", "idempotency_key_reused")
        return JSONResponse(orjson.loads(row["body"]), status_code=row["status_code"], headers={"Idempotent-Replay": "true"})

    @staticmethod
    def values(idempotency: Idempotency, status_code: int, body: Any) -> tuple[Any, ...]:
        return (idempotency.caller, idempotency.route, idempotency.key, idempotency.request_hash, status_code,
                orjson.dumps(body).decode(), utcnow())  # fmt: skip


async def idempotency(
    request: Request,
    principal: CurrentUser,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> Idempotency:
    route = request.scope.get("route")
    route_path = getattr(route, "path", request.url.path)
    body = await request.body()
    digest = hashlib.sha256(request.method.encode() + b" " + request.url.path.encode() + b"\n" + body).hexdigest()
    if idempotency_key is not None and not idempotency_key.strip():
        raise Problem(422, "validation_error", "Idempotency-Key must not be blank")
    return Idempotency(idempotency_key, principal.sub, f"{request.method} {route_path}", digest)


IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]
