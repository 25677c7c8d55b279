"""Reading lounges; a manager changes one through lounge.lounge_changes, since its guests' boarding calls follow."""

from fastapi import APIRouter, Response

from airside.db.dependencies import SessionDep
from airside.versioning import set_etag
from lounge.access import Staff
from lounge.lounges import service
from lounge.lounges.models import LoungePublic

router = APIRouter(prefix="/v1/lounges", tags=["lounges"])


@router.get("")
async def list_lounges(session: SessionDep, principal: Staff) -> list[LoungePublic]:
    lounges = await service.lounges_at(session, principal.station_filter())
    return [LoungePublic.model_validate(lounge, from_attributes=True) for lounge in lounges]


@router.get("/{lounge_id}")
async def get_lounge(lounge_id: str, session: SessionDep, principal: Staff, response: Response) -> LoungePublic:
    lounge = await service.lounge_to_see(session, principal, lounge_id)
    set_etag(response, lounge.version)
    return LoungePublic.model_validate(lounge, from_attributes=True)
