"""Optimistic concurrency: `version` and `ETag` on resources, `If-Match` on PATCH (428 / 412)."""

from typing import Annotated, Any

from fastapi import Depends, Header, Response
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from airside.auth import CurrentUser
from airside.problems import Problem


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


async def required_if_match(
    _caller: CurrentUser,  # who is asking is settled before what they sent: no 428 to an anonymous caller
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> int:
    if if_match is None:
        raise Problem(428, "precondition_required", "send If-Match with the ETag you read, so no change is overwritten")
    raw = if_match.strip().removeprefix("W/").strip('"')
    if not raw.isdigit():
        raise Problem(412, "precondition_failed", "If-Match must be the ETag of the current version")
    return int(raw)


IfMatch = Annotated[int, Depends(required_if_match)]


def stale(current: int) -> Problem:
    return Problem(
        412, "precondition_failed", f"the resource changed; its current version is {current}", extra={"current_version": current}
    )


async def bump_version(session: AsyncSession, table: Any, key: Any, expected: int, values: dict[str, Any]) -> bool:
    """Apply `values` and increment `version` only if the row is still at `expected` (both databases)."""
    result = await session.execute(update(table).where(table.id == key, table.version == expected).values(**values, version=expected + 1))
    return bool(result.rowcount)  # type: ignore[attr-defined]
