from typing import Annotated

from fastapi import APIRouter
from pydantic import AwareDatetime

from airside.db.dependencies import SessionDep
from airside.pagination import Keyset, LimitQuery, Page, keyset
from airside.types import RecordId
from lounge.access import LoungeDesk
from lounge.lounges.service import lounge_to_see
from lounge.refusals import service
from lounge.refusals.models import EntryRefusalPublic

router = APIRouter(tags=["visits"])


@router.get("/v1/lounges/{lounge_id}/refusals", summary="List a lounge's refused entries")
async def list_refusals(
    lounge_id: str,
    session: SessionDep,
    principal: LoungeDesk,
    cursor: Annotated[Keyset, keyset(AwareDatetime, RecordId)],
    limit: LimitQuery = 200,
) -> Page[EntryRefusalPublic]:
    """Carriers' passengers turned away as not entitled under their contract, newest first."""
    await lounge_to_see(session, principal, lounge_id)
    rows = await service.list_refusals(session=session, lounge_id=lounge_id, after=cursor.after, limit=limit)
    refusals, next_cursor = cursor.page(rows, limit, lambda refusal: (refusal.refused_at, refusal.id))
    return Page(items=[EntryRefusalPublic.model_validate(row, from_attributes=True) for row in refusals], next_cursor=next_cursor)
