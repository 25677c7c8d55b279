"""Refusals at the door: recorded once per passenger, flight and lounge, and published with the row.

A refusal answers 409 `not_entitled`, so the check-in's own transaction rolls back; the refusal is written
after it, in a transaction of its own with its event (docs/lounge.md "Carrier-paid entitlement").
"""

from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from airside.events import lounge as lounge_events
from airside.messaging.outbox import record
from airside.problems import Problem
from airside.statements import insert_ignoring_duplicates
from lounge.refusals.models import NOT_ENTITLED, EntryRefusal


class NotEntitled(Problem):
    """The 409 of a carrier's passenger the contract does not cover, carrying the refusal to record."""

    def __init__(self, refusal: EntryRefusal, detail: str) -> None:
        super().__init__(409, NOT_ENTITLED, detail)
        self.refusal = refusal


async def record_refusal(*, session: AsyncSession, refusal: EntryRefusal) -> bool:
    """Write the refusal and its `entry.refused` event together; the same passenger refused again for the
    same flight at the same lounge writes and publishes nothing. True when it was new."""
    values = refusal.model_dump()
    inserted = await insert_ignoring_duplicates(
        session, EntryRefusal, values, index_elements=["lounge_id", "flight_no", "flight_date", "passenger_name"]
    )
    if inserted:
        record(session, lounge_events.entry_refused, lounge_events.EntryRefused(**values), subject=refusal.id)
    return inserted


async def list_refusals(*, session: AsyncSession, lounge_id: str, after: tuple[datetime, str] | None, limit: int) -> list[EntryRefusal]:
    """The lounge's refusals, newest first; keyset after `after`, one row past the page."""
    query = (
        select(EntryRefusal)
        .where(EntryRefusal.lounge_id == lounge_id)
        .order_by(EntryRefusal.refused_at.desc(), EntryRefusal.id.desc())  # type: ignore[attr-defined]
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(tuple_(EntryRefusal.refused_at, EntryRefusal.id) < tuple_(*after))
    return list((await session.execute(query)).scalars())
