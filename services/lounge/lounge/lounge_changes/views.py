"""A manager changes a lounge (lounge.lounge_changes): the lounge record, then its guests' boarding calls."""

from fastapi import APIRouter, Response

from airside.db.dependencies import SessionDep
from airside.versioning import IfMatch, set_etag
from lounge.access import Manager
from lounge.lounge_changes.service import change_lounge
from lounge.lounges.models import LoungePublic, LoungeUpdate
from lounge.lounges.service import lounge_to_see

router = APIRouter(prefix="/v1/lounges", tags=["lounges"])


@router.patch("/{lounge_id}", summary="Change a lounge's settings")
async def update_lounge(
    lounge_id: str, body: LoungeUpdate, principal: Manager, expected_version: IfMatch, session: SessionDep, response: Response
) -> LoungePublic:
    """Change a lounge's name, capacity, hours or prices (its guests' boarding calls follow); needs If-Match."""
    lounge = await lounge_to_see(session, principal, lounge_id)
    await change_lounge(
        session=session, lounge=lounge, values=body.model_dump(exclude_unset=True, exclude_none=True), expected_version=expected_version
    )
    await session.commit()
    await session.refresh(lounge)
    set_etag(response, lounge.version)
    return LoungePublic.model_validate(lounge, from_attributes=True)
