"""The reception board's live feed: a lounge's check-ins, check-outs, boarding calls and flight changes,
with the lounge's occupancy after each (docs/feeds.md)."""

from typing import Any

from fastapi import APIRouter, Request

from airside.db.database import Database
from airside.db.dependencies import DatabaseDep
from airside.feeds.hub import FeedEvent, View
from airside.feeds.stream import FEED_RESPONSES, AccessToken, FeedHubDep, FeedResponse, LastEventId, open_feed
from airside.messaging.envelope import CloudEvent
from lounge.access import Staff
from lounge.lounges.service import lounge_to_see
from lounge.visits import service

router = APIRouter(tags=["visits"])

VISIT_EVENTS = "airside.lounge.visit."
# A visit checked out is no longer on the board.
OFF_THE_BOARD = "airside.lounge.visit.checked_out"


async def occupancy_after(db: Database, event: CloudEvent) -> dict[str, Any]:
    """The lounge's occupancy as the board shows it, read once per visit event in this process."""
    if not event.type.startswith(VISIT_EVENTS):
        return {}
    async with db.session() as session:
        occupancy = await service.occupancy_of(session, event.data["visit"]["lounge_id"])
    return {} if occupancy is None else {"occupancy": occupancy.model_dump()}


def board_view(lounge_id: str) -> View:
    def view(item: FeedEvent) -> dict[str, Any] | None:
        if not item.event.type.startswith(VISIT_EVENTS) or item.event.data.get("visit", {}).get("lounge_id") != lounge_id:
            return None
        return {"leaves": True} if item.event.type == OFF_THE_BOARD else {}

    return view


@router.get(
    "/v1/lounges/{lounge_id}/board/stream",
    summary="Watch the reception board live",
    response_class=FeedResponse,
    responses=FEED_RESPONSES,
)
async def board_stream(
    lounge_id: str,
    request: Request,
    db: DatabaseDep,
    principal: Staff,
    hub: FeedHubDep,
    resume_after: LastEventId,
    access_token: AccessToken = None,
) -> FeedResponse:
    """The board's changes as Server-Sent Events, for whoever may read the board (docs/feeds.md): load the
    board with GET /v1/lounges/{lounge_id}/board after `ready`, then apply the frames."""
    async with db.session() as session:  # not the request's session: the stream would hold its connection
        lounge = await lounge_to_see(session, principal, lounge_id)
    return await open_feed(request, hub, board_view(lounge.id), resume_after)
