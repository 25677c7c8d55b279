"""Keyset pagination: `?limit=&cursor=` answering `{items, next_cursor}`; the cursor is opaque."""

from __future__ import annotations

import base64
from typing import Annotated, Any, Generic, TypeVar

import orjson
from fastapi import Query
from pydantic import BaseModel

from airside.problems import invalid

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


LimitQuery = Annotated[int, Query(ge=1, le=200, description="Page size")]
CursorQuery = Annotated[str | None, Query(description="next_cursor of the previous page")]


def encode_cursor(*values: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(values))).decode().rstrip("=")


def decode_cursor(cursor: str | None, arity: int) -> list[Any] | None:
    if cursor is None:
        return None
    try:
        values = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError as exc:
        raise invalid("query.cursor", "not a cursor this service issued") from exc
    if not isinstance(values, list) or len(values) != arity:
        raise invalid("query.cursor", "not a cursor this service issued")
    return values


R = TypeVar("R")


def keyset_page(rows: list[R], limit: int, key: Any) -> tuple[list[R], str | None]:
    """`rows` were fetched with `limit + 1`; the extra row only tells that another page exists."""
    if len(rows) <= limit:
        return rows, None
    kept = rows[:limit]
    return kept, encode_cursor(*key(kept[-1]))
