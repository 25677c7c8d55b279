"""GET /v1/tickets: filters, `q` over subject and description, keyset by (created_at, id) newest first.

`q` is a substring match; on PostgreSQL a pg_trgm GIN index serves it (Chinese and Latin text
alike), on SQLite it is a plain LIKE scan.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from airside.search import contains_text
from callcenter.tickets.models import Ticket


async def search_tickets(
    *,
    session: AsyncSession,
    stations: frozenset[str] | None,
    filters: dict[str, Any],
    q: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Row[Any]]:
    # The table's columns, not ORM instances: a page is read, never changed, so it skips the identity map and
    # instance state; records.public reads the rows' attributes the same way (bench/PROFILE.md, P4).
    query = select(Ticket.__table__).order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit + 1)  # type: ignore[attr-defined]
    if stations is not None:
        query = query.where(Ticket.station.in_(sorted(stations)))  # type: ignore[attr-defined]
    for name, value in filters.items():
        if value is not None:
            query = query.where(getattr(Ticket, name) == value)
    if q and q.strip():
        term = q.strip()
        query = query.where(or_(contains_text(Ticket.subject, term), contains_text(Ticket.description, term)))
    if after is not None:
        last, last_id = after
        query = query.where(or_(Ticket.created_at < last, and_(Ticket.created_at == last, Ticket.id < last_id)))  # type: ignore[operator]
    return list((await session.execute(query)).all())
