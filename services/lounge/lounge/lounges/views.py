from typing import Annotated

from fastapi import APIRouter, Depends, Response
from sqlalchemy import select

from airside.auth import STAFF_ROLES, Principal, Role, require
from airside.db import SessionDep
from airside.problems import not_found
from airside.versioning import IfMatch, bump_version, set_etag, stale
from lounge.lounges.models import Lounge, LoungePublic, LoungeUpdate
from lounge.visits import boarding

router = APIRouter(prefix="/v1/lounges", tags=["lounges"])

Staff = Annotated[Principal, Depends(require(*STAFF_ROLES))]
Manager = Annotated[Principal, Depends(require(Role.station_manager))]


async def lounge_for(session: SessionDep, principal: Principal, lounge_id: str) -> Lounge:
    """A lounge of the caller's stations; another station's lounge is not found."""
    lounge = await session.get(Lounge, lounge_id)
    if lounge is None or not principal.covers(lounge.station):
        raise not_found("lounge")
    return lounge


@router.get("")
async def list_lounges(session: SessionDep, principal: Staff) -> list[LoungePublic]:
    query = select(Lounge).order_by(Lounge.station, Lounge.id)
    if (stations := principal.station_filter()) is not None:
        query = query.where(Lounge.station.in_(stations))  # type: ignore[attr-defined]
    return [LoungePublic.model_validate(lounge, from_attributes=True) for lounge in (await session.execute(query)).scalars()]


@router.get("/{lounge_id}")
async def get_lounge(lounge_id: str, session: SessionDep, principal: Staff, response: Response) -> LoungePublic:
    lounge = await lounge_for(session, principal, lounge_id)
    set_etag(response, lounge.version)
    return LoungePublic.model_validate(lounge, from_attributes=True)


@router.patch("/{lounge_id}")
async def update_lounge(
    lounge_id: str, body: LoungeUpdate, principal: Manager, expected_version: IfMatch, session: SessionDep, response: Response
) -> LoungePublic:
    lounge = await lounge_for(session, principal, lounge_id)
    values = body.model_dump(exclude_unset=True, exclude_none=True)
    if lounge.version != expected_version or not await bump_version(session, Lounge, lounge_id, expected_version, values):
        raise stale(lounge.version)
    if "boarding_call_minutes" in values:
        await session.refresh(lounge)
        await boarding.on_lounge_change(session=session, lounge=lounge)
    await session.commit()
    await session.refresh(lounge)
    set_etag(response, lounge.version)
    return LoungePublic.model_validate(lounge, from_attributes=True)
