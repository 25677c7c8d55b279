"""SLA policies and business calendars as data: what a ticket's clock reads, and what admins change."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from airside.auth import Principal
from airside.problems import invalid, not_found
from callcenter.business_time import BusinessCalendar
from callcenter.sla.models import SLA_POLICIES, Priority, SlaPolicy, SlaPolicyBase
from callcenter.stations import Calendar, Station


def calendar_of(station: Station | None) -> BusinessCalendar:
    if station is None:
        return BusinessCalendar()
    return BusinessCalendar(
        timezone=station.timezone,
        opens=station.opens,
        closes=station.closes,
        holidays=frozenset(date.fromisoformat(day) for day in station.holidays),
    )


async def calendar_for(session: AsyncSession, code: str) -> BusinessCalendar:
    return calendar_of(await session.get(Station, code))


async def policy_minutes(session: AsyncSession, priority: str) -> tuple[int, int]:
    policy = await session.get(SlaPolicy, Priority(priority))
    if policy is None:
        return SLA_POLICIES[Priority(priority)]
    return policy.first_response_minutes, policy.resolution_minutes


async def policies(session: AsyncSession) -> list[SlaPolicy]:
    return list((await session.execute(select(SlaPolicy).order_by(SlaPolicy.priority))).scalars())


async def policy(session: AsyncSession, priority: Priority) -> SlaPolicy:
    found = await session.get(SlaPolicy, priority)
    if found is None:
        raise not_found("SLA policy")
    return found


async def put_policy(session: AsyncSession, priority: Priority, body: SlaPolicyBase) -> SlaPolicy:
    if body.first_response_minutes > body.resolution_minutes:
        raise invalid("body.first_response_minutes", "must not exceed resolution_minutes")
    found = await session.get(SlaPolicy, priority)
    if found is None:
        found = SlaPolicy(priority=priority, **body.model_dump())
        session.add(found)
    else:
        found.sqlmodel_update(body.model_dump())
        found.version += 1
    return found


async def station(session: AsyncSession, principal: Principal, code: str) -> Station:
    """A station the caller covers; another answers 404, as an unknown one does."""
    found = await session.get(Station, code)
    if found is None or not principal.covers(code):
        raise not_found("station")
    return found


async def put_calendar(session: AsyncSession, principal: Principal, code: str, body: Calendar) -> Station:
    if body.opens >= body.closes:
        raise invalid("body.closes", "business hours must close after they open")
    found = await station(session, principal, code)
    found.opens, found.closes, found.holidays = body.opens, body.closes, [day.isoformat() for day in sorted(set(body.holidays))]
    found.calendar_version += 1
    return found
