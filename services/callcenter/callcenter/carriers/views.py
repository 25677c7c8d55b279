from typing import Annotated

from fastapi import APIRouter, Depends, Response

from airside import conditional
from airside.auth import Principal, Role, require
from airside.conditional import CONDITIONAL_GET, IfNoneMatch
from airside.db.dependencies import SessionDep
from airside.flight_numbers import Designator
from callcenter.carriers import service
from callcenter.carriers.models import CarrierDetail

router = APIRouter(prefix="/v1/carriers", tags=["carriers"])

Agents = Annotated[Principal, Depends(require(Role.agent, Role.team_lead, Role.supervisor))]


@router.get("/{designator}", summary="Read a carrier", response_model=CarrierDetail, responses=CONDITIONAL_GET)
async def get_carrier(designator: Designator, session: SessionDep, principal: Agents, if_none_match: IfNoneMatch = None) -> Response:
    """Who the carrier is, whom to write about billing, and its contracts at the caller's stations (which days
    they cover, active or ended), as booking last announced them; 404 until the first event arrived."""
    detail = await service.carrier_detail(session, designator, principal.station_filter())
    return conditional.answer(CarrierDetail, detail, if_none_match)
