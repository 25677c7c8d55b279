"""Idempotency-Key: a retried POST returns the first result and never has a second effect.

The stored response is written in the same transaction as the business change, so a request
that committed is always answered from the store, and two racing requests with one key cannot
both commit (the second hits the primary key, rolls back and answers the first's response).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Text, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from airside.auth import CurrentUser
from airside.db.columns import UtcDateTime, utcnow
from airside.problems import Problem, invalid
from airside.statements import WritePlan

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


# The stored answer, as the fast write paths read it joined to their own row and `LOOKUP` reads it alone.
RECORD = IdempotencyRecord.__table__  # type: ignore[attr-defined]
REPLAY_COLUMNS = tuple(RECORD.c[name].label(f"idempotency_{name}") for name in ("request_hash", "status_code", "body", "headers"))


def recorded() -> Any:
    """The join condition of this request's record (parameters from `Idempotency.params`)."""
    return (
        (RECORD.c.caller == bindparam("idempotency_caller", type_=RECORD.c.caller.type))
        & (RECORD.c.route == bindparam("idempotency_route", type_=RECORD.c.route.type))
        & (RECORD.c.key == bindparam("idempotency_key", type_=RECORD.c.key.type))
    )


LOOKUP = select(*REPLAY_COLUMNS).where(recorded())


class Idempotency:
    def __init__(self, key: str | None, caller: str, route: str, request_hash: str) -> None:
        self.key = key
        self.caller = caller
        self.route = route
        self.request_hash = request_hash

    def params(self) -> dict[str, Any]:
        return {"idempotency_caller": self.caller, "idempotency_route": self.route, "idempotency_key": self.key}

    def replay_of(self, row: Mapping[str, Any] | None) -> JSONResponse | None:
        """The first answer, from a row holding REPLAY_COLUMNS (all None when nothing was stored)."""
        if self.key is None or row is None or row["idempotency_request_hash"] is None:
            return None
        if row["idempotency_request_hash"] != self.request_hash:
            raise invalid("Idempotency-Key", "this key was used with a different request body", "idempotency_key_reused")
        headers = row["idempotency_headers"]
        replayed = {**(orjson.loads(headers) if headers else {}), "Idempotent-Replay": "true"}
        return JSONResponse(orjson.loads(row["idempotency_body"]), status_code=row["idempotency_status_code"], headers=replayed)

    def record_values(self, status_code: int, body: Any, headers: dict[str, str]) -> dict[str, Any]:
        """The record of an answer (`body` JSON-ready), written in the transaction of the change it answers."""
        return {
            "caller": self.caller,
            "route": self.route,
            "key": self.key,
            "request_hash": self.request_hash,
            "status_code": status_code,
            "body": orjson.dumps(body).decode(),
            "headers": orjson.dumps(headers).decode() if headers else None,
            "created_at": utcnow(),
        }

    def add_record(self, plan: WritePlan, status_code: int, body: Any, headers: dict[str, str]) -> None:
        """The record of the answer as one more row of the write plan that makes the change (none without a key)."""
        if self.key is not None:
            plan.add(RECORD, self.record_values(status_code, body, headers))

    async def stored(self, session: AsyncSession) -> JSONResponse | None:
        if self.key is None:
            return None
        return self.replay_of((await session.execute(LOOKUP, self.params())).mappings().first())

    async def execute(
        self,
        session: AsyncSession,
        action: Callable[[], Awaitable[Any]],
        *,
        status_code: int = 200,
        headers: Callable[[Any], dict[str, str]] | None = None,
    ) -> JSONResponse:
        """Run `action` (which must not commit), store its response with it, and commit once."""
        if (replay := await self.stored(session)) is not None:
            return replay
        try:
            result = await action()
        except Problem:
            # A retry racing its first request read before that committed, and lost to it (a version moved on):
            # the first answer is the answer.
            await session.rollback()
            if (replay := await self.stored(session)) is not None:
                return replay
            raise
        body = encode(result)
        response_headers = headers(result) if headers else {}
        if self.key is not None:
            session.add(IdempotencyRecord(**self.record_values(status_code, body, response_headers)))
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            if self.key is not None and (replay := await self.stored(session)) is not None:
                return replay
            raise
        return JSONResponse(body, status_code=status_code, headers=response_headers)


def encode(result: Any) -> Any:
    """A response body as JSON-ready data. Models dump in pydantic-core (what jsonable_encoder calls
    first, before walking the whole result again in Python, a second pass that changes nothing here)."""
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json", by_alias=True)
    return jsonable_encoder(result)


async def idempotency(
    request: Request,
    principal: CurrentUser,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY_PATTERN, description=KEY_HELP)] = None,
) -> Idempotency:
    route = request.scope.get("route")
    route_path = getattr(route, "path", request.url.path)
    digest = ""  # without a key nothing is stored or replayed: the body is not hashed (bench/PROFILE.md)
    if idempotency_key is not None:
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
