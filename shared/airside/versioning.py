"""Optimistic concurrency: `version` and `ETag` on resources, `If-Match` on PATCH (428 missing, 412 stale, 422 malformed)."""

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


# An ETag this API issues ("3", also weak or unquoted); anything else is malformed: a 422 naming the
# header, neither missing (428) nor stale (412). ASCII digits only: str.isdigit() also takes "²".
IF_MATCH_PATTERN = r'^ *(W/)?("[0-9]{1,9}"|[0-9]{1,9}) *$'
IfMatchHeader = Header(alias="If-Match", pattern=IF_MATCH_PATTERN, description='The ETag you read, e.g. "3"')


async def required_if_match(
    _caller: CurrentUser,  # who is asking is settled before what they sent: no 428 to an anonymous caller
    if_match: Annotated[str | None, IfMatchHeader] = None,
) -> int:
    if if_match is None:
        raise Problem(428, "precondition_required", "send If-Match with the ETag you read, so no change is overwritten")
    return int(if_match.strip().removeprefix("W/").strip('"'))


IfMatch = Annotated[int, Depends(required_if_match)]


def stale(current: int) -> Problem:
    return Problem(
        412, "precondition_failed", f"the resource changed; its current version is {current}", extra={"current_version": current}
    )


async def bump_version(session: AsyncSession, table: Any, key: Any, expected: int, values: dict[str, Any]) -> bool:
    """Apply `values` and increment `version` only if the row is still at `expected` (both databases)."""
    result = await session.execute(update(table).where(table.id == key, table.version == expected).values(**values, version=expected + 1))
    return bool(result.rowcount)  # type: ignore[attr-defined]
