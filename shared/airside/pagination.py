"""Keyset pagination: `?limit=&cursor=` answering `{items, next_cursor}`; the cursor is opaque.

A cursor is the last row's sort key, JSON, signed with a key of the service (HMAC over the
service, the route and the key) and checked against the key's element types when it comes back:
a cursor that was not issued by this list, or altered, is a 422 `invalid_cursor`, never a query.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Iterable
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel, TypeAdapter, ValidationError

from airside.auth import CurrentUser
from airside.problems import FieldError, Problem

T = TypeVar("T")

LimitQuery = Annotated[int, Query(ge=1, le=200, description="Page size")]
CursorQuery = Annotated[str | None, Query(description="next_cursor of the previous page, as it was given")]
MAC_BYTES = 16


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def invalid_cursor(detail: str) -> Problem:
    message = f"{detail}; send a next_cursor exactly as a page of this list gave it, or none for the first page"
    return Problem(
        422,
        "invalid_cursor",
        f"cursor: {message}",
        title="Invalid cursor",
        errors=[FieldError(field="query.cursor", message=message, type="invalid_cursor")],
    )


class Keyset:
    """One request's position in a list: where the previous page ended (`after`) and how to tell the next."""

    def __init__(self, key: bytes, scope: str, shape: TypeAdapter[Any], cursor: str | None) -> None:
        self._key = key
        self._scope = scope.encode()
        self._shape = shape
        self.after: tuple[Any, ...] | None = None if cursor is None else self._decode(cursor)

    def _mac(self, payload: str) -> bytes:
        return hmac.new(self._key, self._scope + b"\n" + payload.encode(), hashlib.sha256).digest()[:MAC_BYTES]

    def encode(self, values: tuple[Any, ...]) -> str:
        payload = _b64(self._shape.dump_json(values))
        return f"{payload}.{_b64(self._mac(payload))}"

    def _decode(self, cursor: str) -> tuple[Any, ...]:
        payload, _, mac = cursor.partition(".")
        # The MAC is compared as the text we issued, not as what it decodes to: base64 decoding skips
        # characters outside its alphabet and ignores a last character's spare bits, so other spellings
        # of the same bytes would pass.
        try:
            valid = hmac.compare_digest(mac.encode("ascii"), _b64(self._mac(payload)).encode())
        except UnicodeEncodeError:
            valid = False
        if not valid:
            raise invalid_cursor("not a cursor this list issued")
        try:
            values: tuple[Any, ...] = self._shape.validate_json(_unb64(payload), strict=True)
        except (ValidationError, binascii.Error, ValueError) as exc:  # signed by us, yet not this list's key: a key from elsewhere
            raise invalid_cursor("not a position in this list") from exc
        return values

    def page(self, rows: list[T], limit: int, key: Callable[[T], tuple[Any, ...]]) -> tuple[list[T], str | None]:
        """`rows` were fetched with `limit + 1`; the extra row only tells that another page exists."""
        if len(rows) <= limit:
            return rows, None
        kept = rows[:limit]
        return kept, self.encode(key(kept[-1]))

    def page_of(self, rows: Iterable[T], limit: int, key: Callable[[T], tuple[Any, ...]]) -> tuple[list[T], str | None]:
        """A list read whole, because its parent bounds it (an order's history, a lounge's stock) or it is
        reference data (stations, the menu): ordered by `key`, unique per row, the page after the cursor."""
        ordered = sorted(rows, key=key)
        after = self.after
        rest = ordered if after is None else [row for row in ordered if key(row) > after]
        return self.page(rest[: limit + 1], limit, key)


def keyset(*elements: Any) -> Any:
    """A `cursor` query parameter for a list sorted by keys of these types (e.g. `AwareDatetime, str`).

    Checked after the caller is known, so an anonymous caller gets 401 whatever cursor it sent."""
    shape: TypeAdapter[Any] = TypeAdapter(tuple[elements])  # type: ignore[valid-type]

    async def dependency(request: Request, _caller: CurrentUser, cursor: CursorQuery = None) -> Keyset:
        route = request.scope.get("route")
        scope = f"{request.app.state.service_name} {request.method} {getattr(route, 'path', request.url.path)}"
        return Keyset(request.app.state.cursor_key, scope, shape, cursor)

    return Depends(dependency)
