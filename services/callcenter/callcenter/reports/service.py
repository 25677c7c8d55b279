"""KPIs and the callback summary (回访总结报告), computed from tickets, callbacks and scores.

Windows are the station's local days [from, to]; times are wall-clock minutes. A list of rows is
aggregated in Python: report ranges are days to weeks of one or a few stations.
"""

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.callbacks.models import Callback, CsatScore, Outcome, Purpose
from callcenter.tickets.models import Ticket
from callcenter.tickets.sla_clock import breached

WITHIN = timedelta(hours=72)


def window(day_from: date, day_to: date, timezone: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(timezone)
    return datetime.combine(day_from, time(0), tzinfo=zone), datetime.combine(day_to + timedelta(days=1), time(0), tzinfo=zone)


def _avg(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def _p90(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[math.ceil(0.9 * len(ordered)) - 1], 1)  # nearest rank


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _minutes(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 60


def _within_72h(callback: Callback) -> bool:
    return (
        callback.outcome == Outcome.reached and callback.completed_at is not None and callback.completed_at <= callback.occurred_at + WITHIN
    )


def ticket_figures(tickets: list[Ticket]) -> dict[str, Any]:
    responded = [_minutes(t.created_at, t.first_responded_at) for t in tickets if t.first_responded_at]
    resolved = [t for t in tickets if t.resolved_at]
    decided = [t for t in tickets if t.resolved_at or any(breached(t).values())]
    return {
        "tickets_created": len(tickets),
        "first_response_avg_minutes": _avg(responded),
        "first_response_p90_minutes": _p90(responded),
        "resolution_avg_minutes": _avg([_minutes(t.created_at, t.resolved_at) for t in resolved if t.resolved_at]),
        "sla_compliance_pct": _pct(sum(1 for t in decided if not any(breached(t).values())), len(decided)),
        "first_contact_resolution_pct": _pct(sum(1 for t in resolved if t.contacts == 0), len(resolved)),
    }


def callback_figures(callbacks: list[Callback], scores: list[CsatScore], now: datetime) -> dict[str, Any]:
    # A follow-up counts once it is done or its 72 hours are over.
    counted = [c for c in callbacks if c.status != "pending" or c.occurred_at + WITHIN <= now]
    return {
        "callbacks_within_72h_pct": _pct(sum(1 for c in counted if _within_72h(c)), len(counted)),
        "csat_avg": _avg([score.csat for score in scores]),
    }


def _group(rows: Iterable[Any], key: Callable[[Any], str]) -> dict[str, list[Any]]:
    groups: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    return groups


async def _rows(
    session: AsyncSession, model: Any, column: Any, stations: frozenset[str] | None, start: datetime, end: datetime
) -> list[Any]:
    query = select(model).where(column >= start, column < end)
    if stations is not None:
        query = query.where(model.station.in_(sorted(stations)))
    return list((await session.execute(query)).scalars().all())


async def kpis(
    *,
    session: AsyncSession,
    stations: frozenset[str] | None,
    start: datetime,
    end: datetime,
    group_by: str | None,
    timezone: str,
    now: datetime,
) -> dict[str, Any]:
    tickets = await _rows(session, Ticket, Ticket.created_at, stations, start, end)
    callbacks = [
        c for c in await _rows(session, Callback, Callback.occurred_at, stations, start, end) if c.purpose == Purpose.service_followup
    ]
    scores = await _rows(session, CsatScore, CsatScore.recorded_at, stations, start, end)
    total = {**ticket_figures(tickets), **callback_figures(callbacks, scores, now)}
    if group_by is None:
        return {"total": total, "groups": []}
    zone = ZoneInfo(timezone)
    if group_by == "day":
        keys: tuple[Callable[[Any], str], ...] = (
            lambda t: t.created_at.astimezone(zone).date().isoformat(),
            lambda c: c.occurred_at.astimezone(zone).date().isoformat(),
            lambda s: s.recorded_at.astimezone(zone).date().isoformat(),
        )
    else:
        keys = (lambda t: t.assignee or "unassigned", lambda c: c.completed_by or "unassigned", lambda s: s.agent_id or "unassigned")
    by_ticket, by_callback, by_score = _group(tickets, keys[0]), _group(callbacks, keys[1]), _group(scores, keys[2])
    groups = [
        {"key": key, **ticket_figures(by_ticket.get(key, [])), **callback_figures(by_callback.get(key, []), by_score.get(key, []), now)}
        for key in sorted(set(by_ticket) | set(by_callback) | set(by_score))
    ]
    return {"total": total, "groups": groups}


def _callback_block(callbacks: list[Callback]) -> dict[str, Any]:
    made = [c for c in callbacks if c.attempts > 0 or c.completed_by == "survey"]
    reached = [c for c in made if c.outcome == Outcome.reached]
    scores = [c.csat for c in reached if c.csat is not None]
    return {
        "made": len(made),
        "reached": len(reached),
        "within_72h_pct": _pct(sum(1 for c in made if _within_72h(c)), len(made)),
        "csat_avg": _avg([float(s) for s in scores]),
        "csat_distribution": {str(score): scores.count(score) for score in range(1, 6)},
    }


async def callback_summary(*, session: AsyncSession, stations: frozenset[str] | None, start: datetime, end: datetime) -> dict[str, Any]:
    callbacks = await _rows(session, Callback, Callback.occurred_at, stations, start, end)
    per_product: dict[str, list[Callback]] = defaultdict(list)
    for callback in callbacks:
        for product in set(callback.products):
            per_product[product].append(callback)
    per_concierge = _group(callbacks, lambda c: c.concierge_name or "none")
    return {
        **_callback_block(callbacks),
        "per_product": [{"product": key, **_callback_block(rows)} for key, rows in sorted(per_product.items())],
        "per_concierge": [{"concierge": key, **_callback_block(rows)} for key, rows in sorted(per_concierge.items())],
    }
