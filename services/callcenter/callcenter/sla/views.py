from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import select

from airside.auth import STAFF_ROLES, Principal, require
from airside.db import SessionDep
from airside.problems import invalid, not_found
from airside.types import StationCode
from callcenter.sla.models import Priority, SlaPolicy, SlaPolicyBase, SlaPolicyPublic
from callcenter.stations import Calendar, CalendarPublic, Station

router = APIRouter(tags=["sla"])

Staff = Annotated[Principal, Depends(require(*STAFF_ROLES))]
Admin = Annotated[Principal, Depends(require())]


@router.get("/v1/sla-policies")
async def list_policies(session: SessionDep, _staff: Staff) -> list[SlaPolicyPublic]:
    rows = (await session.execute(select(SlaPolicy).order_by(SlaPolicy.priority))).scalars()
    return [SlaPolicyPublic.model_validate(row, from_attributes=True) for row in rows]


@router.get("/v1/sla-policies/{priority}")
async def get_policy(priority: Priority, session: SessionDep, _staff: Staff) -> SlaPolicyPublic:
    policy = await session.get(SlaPolicy, priority)
    if policy is None:
        raise not_found("SLA policy")
    return SlaPolicyPublic.model_validate(policy, from_attributes=True)


@router.put("/v1/sla-policies/{priority}")
async def put_policy(priority: Priority, body: SlaPolicyBase, session: SessionDep, _admin: Admin) -> SlaPolicyPublic:
    if body.first_response_minutes > body.resolution_minutes:
        raise invalid("body.first_response_minutes", "must not exceed resolution_minutes")
    policy = await session.get(SlaPolicy, priority)
    if policy is None:
        policy = SlaPolicy(priority=priority, **body.model_dump())
        session.add(policy)
    else:
        policy.sqlmodel_update(body.model_dump())
        policy.version += 1
    await session.commit()
    return SlaPolicyPublic.model_validate(policy, from_attributes=True)


def _calendar(station: Station) -> CalendarPublic:
    return CalendarPublic(
        station=station.code,
        timezone=station.timezone,
        opens=station.opens,
        closes=station.closes,
        holidays=[date.fromisoformat(day) for day in station.holidays],
        version=station.calendar_version,
    )


async def _station(session: SessionDep, principal: Principal, code: str) -> Station:
    station = await session.get(Station, code)
    if station is None or not principal.covers(code):
        raise not_found("station")
    return station


@router.get("/v1/stations/{code}/calendar")
async def get_calendar(code: StationCode, session: SessionDep, principal: Staff) -> CalendarPublic:
    return _calendar(await _station(session, principal, code))


@router.put("/v1/stations/{code}/calendar")
async def put_calendar(code: StationCode, body: Calendar, session: SessionDep, principal: Admin) -> CalendarPublic:
    if body.opens >= body.closes:
        raise invalid("body.closes", "business hours must close after they open")
    station = await _station(session, principal, code)
    station.opens, station.closes, station.holidays = body.opens, body.closes, [day.isoformat() for day in sorted(set(body.holidays))]
    station.calendar_version += 1
    await session.commit()
    return _calendar(station)
