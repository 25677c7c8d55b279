"""Reading lounges; a manager changes one through lounge.lounge_changes, since its guests' boarding calls follow."""

from typing import Annotated

from fastapi import APIRouter, Response

from airside import conditional
from airside.conditional import CONDITIONAL_GET, IfNoneMatch
from airside.db.dependencies import SessionDep
from airside.pagination import Keyset, LimitQuery, Page, keyset
from lounge.access import Staff
from lounge.lounges import service
from lounge.lounges.models import LoungePublic

router = APIRouter(prefix="/v1/lounges", tags=["lounges"])


@router.get("", summary="List lounges")
async def list_lounges(
    session: SessionDep, principal: Staff, cursor: Annotated[Keyset, keyset(str, str)], limit: LimitQuery = 200
) -> Page[LoungePublic]:
    """The lounges visible to the caller."""
    lounges = await service.lounges_at(session, principal.station_filter())
    kept, next_cursor = cursor.page_of(lounges, limit, lambda lounge: (lounge.station, lounge.id))
    return Page(items=[LoungePublic.model_validate(lounge, from_attributes=True) for lounge in kept], next_cursor=next_cursor)


@router.get("/{lounge_id}", summary="Read a lounge", response_model=LoungePublic, responses=CONDITIONAL_GET)
async def get_lounge(lounge_id: str, session: SessionDep, principal: Staff, if_none_match: IfNoneMatch = None) -> Response:
    """One lounge, with the ETag to send as If-Match when changing it."""
    lounge = await service.lounge_to_see(session, principal, lounge_id)
    return conditional.answer(
        LoungePublic, LoungePublic.model_validate(lounge, from_attributes=True), if_none_match, version=lounge.version
    )
