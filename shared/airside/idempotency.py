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
from airside.problems import invalid

# Visible ASCII, as a UUID or any client's token is: no blank, no spaces, nothing a log or a column would mangle.
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]{1,200}$"
KEY_HELP = "1 to 200 visible ASCII characters (a UUID is best); a retry with the same key and body gets the first answer"


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_record"

    caller: str = Field(primary_key=True, max_length=200)
    route: str = Field(primary_key=True, max_length=300)
    key: str = Field(primary_key=True, max_length=200)
    request_hash: str = Field(max_length=64)
    status_code: int
    body: str = Field(sa_type=Text)
    # The response headers a replay repeats (its ETag), as a JSON object; None when there were none.
    headers: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(sa_type=UtcDateTime, index=True)


def _replay(request_hash: str, expected_hash: str, status_code: int, body: str, headers: str | None) -> JSONResponse:
    if request_hash != expected_hash:
        raise invalid("Idempotency-Key", "this key was used with a different request body", "idempotency_key_reused")
    replayed = {**(orjson.loads(headers) if headers else {}), "Idempotent-Replay": "true"}
    return JSONResponse(orjson.loads(body), status_code=status_code, headers=replayed)


def _stored_headers(headers: dict[str, str]) -> str | None:
    return orjson.dumps(headers).decode() if headers else None


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
        return _replay(record.request_hash, self.request_hash, record.status_code, record.body, record.headers)

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
        response_headers = headers(result) if headers else {}
        if self.key is not None:
            session.add(
                IdempotencyRecord(
                    caller=self.caller,
                    route=self.route,
                    key=self.key,
                    request_hash=self.request_hash,
                    status_code=status_code,
                    body=orjson.dumps(body).decode(),
                    headers=_stored_headers(response_headers),
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
        return JSONResponse(body, status_code=status_code, headers=response_headers)


def encode(result: Any) -> Any:
    """A response body as JSON-ready data. Models dump in pydantic-core (what jsonable_encoder calls
    first, before walking the whole result again in Python, a second pass that changes nothing here)."""
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json", by_alias=True)
    return jsonable_encoder(result)


class LeanIdempotency:
    """The same records for write paths on the raw PostgreSQL driver (one statement, no Session)."""

    LOOKUP = "SELECT request_hash, status_code, body, headers FROM idempotency_record WHERE caller = $1 AND route = $2 AND key = $3"
    # The columns a lean path inserts and their types (INSERT … SELECT does not infer them from the target).
    COLUMNS = (("caller", "varchar"), ("route", "varchar"), ("key", "varchar"), ("request_hash", "varchar"), ("status_code", "int"),
               ("body", "text"), ("headers", "text"), ("created_at", "timestamptz"))  # fmt: skip

    @staticmethod
    def insert_from(source: str, first: int) -> str:
        """A data-modifying CTE's INSERT of the record, once per row of `source`, its values from `$first` on (see values)."""
        placeholders = ", ".join(f"${first + i}::{kind}" for i, (_, kind) in enumerate(LeanIdempotency.COLUMNS))
        return (
            f"INSERT INTO idempotency_record ({', '.join(name for name, _ in LeanIdempotency.COLUMNS)}) SELECT {placeholders} FROM {source}"
        )

    @staticmethod
    async def stored(idempotency: Idempotency, conn: Any) -> JSONResponse | None:
        if idempotency.key is None:
            return None
        row = await conn.fetchrow(LeanIdempotency.LOOKUP, idempotency.caller, idempotency.route, idempotency.key)
        if row is None:
            return None
        return _replay(row["request_hash"], idempotency.request_hash, row["status_code"], row["body"], row["headers"])

    @staticmethod
    def values(idempotency: Idempotency, status_code: int, body: Any, headers: dict[str, str]) -> tuple[Any, ...]:
        return (idempotency.caller, idempotency.route, idempotency.key, idempotency.request_hash, status_code,
                orjson.dumps(body).decode(), _stored_headers(headers), utcnow())  # fmt: skip


async def idempotency(
    request: Request,
    principal: CurrentUser,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY_PATTERN, description=KEY_HELP)] = None,
) -> Idempotency:
    route = request.scope.get("route")
    route_path = getattr(route, "path", request.url.path)
    digest = hashlib.sha256(
        request.method.encode() + b" " + request.url.path.encode() + b"\n" + canonical(await request.body())
    ).hexdigest()
    return Idempotency(idempotency_key, principal.sub, f"{request.method} {route_path}", digest)


def canonical(body: bytes) -> bytes:
    """The body as sorted, compact JSON, so a retry that serialises the same JSON otherwise is the same request.
    A body that is not JSON is hashed as sent (the route refuses it anyway)."""
    try:
        return orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS) if body else body
    except orjson.JSONDecodeError:
        return body


IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]
