from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from airside import conditional
from airside.auth import STAFF_ROLES, Principal, require
from airside.conditional import CONDITIONAL_GET, IfNoneMatch
from airside.db.dependencies import SessionDep
from airside.pagination import Keyset, LimitQuery, Page, keyset
from airside.types import StationCode
from callcenter.sla import service
from callcenter.sla.models import Priority, SlaPolicyBase, SlaPolicyPublic
from callcenter.stations import Calendar, CalendarPublic, Station

router = APIRouter(tags=["sla"])

Staff = Annotated[Principal, Depends(require(*STAFF_ROLES))]
Admin = Annotated[Principal, Depends(require())]


@router.get("/v1/sla-policies", summary="List the SLA policies")
async def list_policies(
    session: SessionDep, _staff: Staff, cursor: Annotated[Keyset, keyset(str)], limit: LimitQuery = 200
) -> Page[SlaPolicyPublic]:
    """The service-level policy of each ticket priority."""
    policies, next_cursor = cursor.page_of(await service.policies(session), limit, lambda policy: (policy.priority,))
    return Page(items=[SlaPolicyPublic.model_validate(policy, from_attributes=True) for policy in policies], next_cursor=next_cursor)


@router.get(
    "/v1/sla-policies/{priority}", summary="Read a priority's SLA policy", response_model=SlaPolicyPublic, responses=CONDITIONAL_GET
)
async def get_policy(priority: Priority, session: SessionDep, _staff: Staff, if_none_match: IfNoneMatch = None) -> Response:
    """The service-level policy of one ticket priority."""
    policy = SlaPolicyPublic.model_validate(await service.policy(session, priority), from_attributes=True)
    return conditional.answer(SlaPolicyPublic, policy, if_none_match)


@router.put("/v1/sla-policies/{priority}", summary="Set a priority's SLA policy")
async def put_policy(priority: Priority, body: SlaPolicyBase, session: SessionDep, _admin: Admin) -> SlaPolicyPublic:
    """Replace the first-response and resolution times of one ticket priority."""
    policy = await service.put_policy(session, priority, body)
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


@router.get(
    "/v1/stations/{code}/calendar", summary="Read a station's business calendar", response_model=CalendarPublic, responses=CONDITIONAL_GET
)
async def get_calendar(code: StationCode, session: SessionDep, principal: Staff, if_none_match: IfNoneMatch = None) -> Response:
    """A station's business hours and holidays, against which SLA clocks run."""
    return conditional.answer(CalendarPublic, _calendar(await service.station(session, principal, code)), if_none_match)


@router.put("/v1/stations/{code}/calendar", summary="Set a station's business calendar")
async def put_calendar(code: StationCode, body: Calendar, session: SessionDep, principal: Admin) -> CalendarPublic:
    """Replace a station's business hours and holidays."""
    station = await service.put_calendar(session, principal, code, body)
    await session.commit()
    return _calendar(station)
