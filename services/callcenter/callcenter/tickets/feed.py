"""The agents' queue as a live feed: tickets entering, changing and leaving the caller's queue, with their SLA
due times, and SLA warnings and breaches as they fire (docs/feeds.md)."""

from typing import Any

from fastapi import APIRouter, Request

from airside.auth import Principal, Role
from airside.db.database import Database
from airside.db.dependencies import DatabaseDep
from airside.feeds.hub import FeedEvent, View
from airside.feeds.stream import FEED_RESPONSES, AccessToken, FeedHubDep, FeedResponse, LastEventId, open_feed
from airside.messaging.envelope import CloudEvent
from callcenter.agents.service import acting_agent
from callcenter.tickets import records
from callcenter.tickets.transitions import ACTIVE
from callcenter.tickets.views import Staff

router = APIRouter(tags=["tickets"])

# Who watches the whole queue of their stations; an agent alone watches what is free to claim and their own.
WHOLE_QUEUE = (Role.team_lead, Role.supervisor, Role.station_manager, Role.admin)


async def sla_due_times(db: Database, event: CloudEvent) -> dict[str, Any]:
    """The ticket's SLA due times as the ticket holds them, read once per event in this process, and only for events
    a client is sent (airside.feeds.hub.FeedHub.complete)."""
    ticket_id = (event.data.get("ticket") or {}).get("id")
    if ticket_id is None:
        return {}
    async with db.session() as session:
        ticket = await records.find_ticket(session, ticket_id)
    if ticket is None:
        return {}
    due = {name: getattr(ticket, name) for name in ("first_response_due", "resolution_due", "next_due")}
    return {"sla": {name: moment.isoformat().replace("+00:00", "Z") if moment else None for name, moment in due.items()}}


def queue_view(principal: Principal, agent_id: str | None) -> View:
    whole = principal.has(*WHOLE_QUEUE)

    def view(item: FeedEvent) -> dict[str, Any] | None:
        ticket = item.event.data.get("ticket")
        if not isinstance(ticket, dict) or not principal.covers(ticket.get("station", "")):
            return None
        in_queue = ticket.get("status") in ACTIVE and (whole or ticket.get("assignee") in (None, agent_id))
        return {} if in_queue else {"leaves": True}

    return view


@router.get("/v1/queue/stream", summary="Watch the ticket queue live", response_class=FeedResponse, responses=FEED_RESPONSES)
async def queue_stream(
    request: Request,
    db: DatabaseDep,
    principal: Staff,
    hub: FeedHubDep,
    resume_after: LastEventId,
    access_token: AccessToken = None,  # read by airside.auth; declared so the documents list it
) -> FeedResponse:
    """The queue's changes at the caller's stations as Server-Sent Events (docs/feeds.md): load the queue with
    GET /v1/tickets after `ready`, then apply the frames; `feed.leaves` marks a ticket leaving the caller's queue."""
    async with db.session() as session:  # not the request's session: the stream would hold its connection
        agent = await acting_agent(session, principal)
    return await open_feed(request, hub, queue_view(principal, agent.id if agent else None), resume_after)
