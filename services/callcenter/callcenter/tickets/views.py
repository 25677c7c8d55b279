"""Ticket routes: create, read, search, change, status, notes, calls, history, assign, merge, claim."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import AwareDatetime

from airside import conditional
from airside.auth import Principal, Role, require
from airside.conditional import CONDITIONAL_GET, IfNoneMatch
from airside.db.dependencies import SessionDep
from airside.idempotency import IdempotencyDep
from airside.pagination import Keyset, LimitQuery, Page, keyset
from airside.problems import forbidden
from airside.types import RecordId
from airside.versioning import IfMatch, etag, set_etag, stale
from callcenter.agents.service import acting_agent, agent_of_stations
from callcenter.sla.models import Priority
from callcenter.tickets import claims, records, search, service
from callcenter.tickets.models import (
    MEMBER_CHANNELS,
    AssignBody,
    CallCreate,
    CallPublic,
    HistoryEntry,
    MergeBody,
    NoteCreate,
    NotePublic,
    StatusChange,
    TicketCreate,
    TicketPublic,
    TicketType,
    TicketUpdate,
)
from callcenter.tickets.transitions import TicketStatus

router = APIRouter(tags=["tickets"])

TICKET_STAFF = (Role.agent, Role.team_lead, Role.supervisor, Role.station_manager)
Staff = Annotated[Principal, Depends(require(*TICKET_STAFF))]
StaffOrMember = Annotated[Principal, Depends(require(*TICKET_STAFF, Role.member))]
Reader = Annotated[Principal, Depends(require(*TICKET_STAFF, Role.member, Role.service))]
StaffReader = Annotated[Principal, Depends(require(*TICKET_STAFF, Role.service))]


def _etag(ticket: TicketPublic) -> dict[str, str]:
    return {"ETag": etag(ticket.version)}


@router.post("/v1/tickets", summary="Open a ticket", status_code=201, response_model=TicketPublic)
async def create_ticket(body: TicketCreate, session: SessionDep, principal: StaffOrMember, idempotency: IdempotencyDep) -> Response:
    """Open a ticket for a member (staff; members open theirs through the app)."""
    if principal.is_member_only:
        if body.member_id is None:
            body.member_id = principal.member_id
        if not principal.owns_member(body.member_id):
            raise forbidden("a member opens tickets only for themself")
        if body.channel not in MEMBER_CHANNELS:
            raise forbidden("members open tickets through the app or the web")
    else:
        principal.require_station_to_create(body.station)

    async def act() -> TicketPublic:
        return records.public(await service.create_ticket(session=session, body=body, actor=principal.sub))

    return await idempotency.execute(session, act, status_code=201, headers=_etag)


@router.get("/v1/tickets", summary="Find tickets", response_model=Page[TicketPublic], responses=CONDITIONAL_GET)
async def search_tickets(
    session: SessionDep,
    principal: Reader,
    cursor: Annotated[Keyset, keyset(AwareDatetime, RecordId)],
    status: TicketStatus | None = None,
    type: TicketType | None = None,
    priority: Priority | None = None,
    station: Annotated[str | None, Query(pattern="^[A-Z]{3}$")] = None,
    assignee: Annotated[str | None, Query(max_length=36)] = None,
    member_id: Annotated[str | None, Query(max_length=36)] = None,
    order_id: Annotated[str | None, Query(max_length=36)] = None,
    q: Annotated[str | None, Query(max_length=200, description="Words in subject or description")] = None,
    limit: LimitQuery = 50,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """Tickets visible to the caller, by status, priority, station or text."""
    stations = principal.station_filter()
    if principal.is_member_only:
        if member_id is not None and not principal.owns_member(member_id):
            return conditional.answer(Page[TicketPublic], Page(items=[], next_cursor=None), if_none_match)
        member_id, stations = principal.member_id, None
    filters = {
        "status": status.value if status else None,
        "type": type.value if type else None,
        "priority": priority.value if priority else None,
        "station": station,
        "assignee": assignee,
        "member_id": member_id,
        "order_id": order_id,
    }
    tickets = await search.search_tickets(session=session, stations=stations, filters=filters, q=q, after=cursor.after, limit=limit)
    kept, next_cursor = cursor.page(tickets, limit, lambda ticket: (ticket.created_at, ticket.id))
    page = Page(items=[records.public(ticket) for ticket in kept], next_cursor=next_cursor)
    # Straight to JSON in pydantic-core: the hot list (P4) skips FastAPI's dict-then-json.dumps pass. The
    # agents' queue polls this with If-None-Match: 304 while the page reads the same (its ETag is the body's hash).
    return conditional.answer(Page[TicketPublic], page, if_none_match)


@router.get("/v1/tickets/{ticket_id}", summary="Read a ticket", response_model=TicketPublic, responses=CONDITIONAL_GET)
async def get_ticket(ticket_id: str, session: SessionDep, principal: Reader, if_none_match: IfNoneMatch = None) -> Response:
    """One ticket, with the ETag to send as If-Match when changing it."""
    ticket = await records.visible_ticket(session, principal, ticket_id)
    return conditional.answer(TicketPublic, records.public(ticket), if_none_match, version=ticket.version)


@router.patch("/v1/tickets/{ticket_id}", summary="Change a ticket")
async def update_ticket(
    ticket_id: str, body: TicketUpdate, expected_version: IfMatch, session: SessionDep, principal: Staff, response: Response
) -> TicketPublic:
    """Change a ticket's priority (its deadlines follow), wording or links; needs If-Match with the ETag read."""
    ticket = await records.visible_ticket(session, principal, ticket_id, for_update=True)
    if ticket.version != expected_version:
        raise stale(ticket.version)
    await service.update_ticket(session=session, ticket=ticket, body=body, actor=principal.sub)
    await session.commit()
    set_etag(response, ticket.version)
    return records.public(ticket)


@router.post("/v1/tickets/{ticket_id}/status", summary="Move a ticket to another status", response_model=TicketPublic)
async def change_status(ticket_id: str, body: StatusChange, session: SessionDep, principal: Staff, idempotency: IdempotencyDep) -> Response:
    """Move a ticket to another status (merging is POST .../merge)."""

    async def act() -> TicketPublic:
        ticket = await records.visible_ticket(session, principal, ticket_id, for_update=True)
        return records.public(await service.change_status(session=session, ticket=ticket, target=body.status, actor=principal.sub))

    return await idempotency.execute(session, act, headers=_etag)


@router.post("/v1/tickets/{ticket_id}/notes", summary="Add a note to a ticket", status_code=201, response_model=NotePublic)
async def add_note(
    ticket_id: str, body: NoteCreate, session: SessionDep, principal: StaffOrMember, idempotency: IdempotencyDep
) -> Response:
    """Add a note to an open ticket."""

    async def act() -> NotePublic:
        ticket = await records.visible_ticket(session, principal, ticket_id, for_update=True)
        note = await service.add_note(session=session, ticket=ticket, body=body, actor=principal.sub, by_member=principal.is_member_only)
        return NotePublic.model_validate(note, from_attributes=True)

    return await idempotency.execute(session, act, status_code=201)


@router.get("/v1/tickets/{ticket_id}/notes", summary="List a ticket's notes")
async def list_notes(
    ticket_id: str,
    session: SessionDep,
    principal: Reader,
    cursor: Annotated[Keyset, keyset(AwareDatetime, RecordId)],
    limit: LimitQuery = 200,
) -> Page[NotePublic]:
    """A ticket's notes."""
    ticket = await records.visible_ticket(session, principal, ticket_id)
    notes = await records.notes_of(session, ticket, public_only=principal.is_member_only)
    kept, next_cursor = cursor.page_of(notes, limit, lambda note: (note.created_at, note.id))
    return Page(items=[NotePublic.model_validate(note, from_attributes=True) for note in kept], next_cursor=next_cursor)


@router.post("/v1/tickets/{ticket_id}/calls", summary="Log a call on a ticket", status_code=201, response_model=CallPublic)
async def log_call(ticket_id: str, body: CallCreate, session: SessionDep, principal: Staff, idempotency: IdempotencyDep) -> Response:
    """Record a call made or taken about a ticket."""

    async def act() -> CallPublic:
        ticket = await records.visible_ticket(session, principal, ticket_id, for_update=True)
        agent = await acting_agent(session, principal)
        call = await service.log_call(session=session, ticket=ticket, body=body, actor=principal.sub, agent=agent)
        return CallPublic.model_validate(call, from_attributes=True)

    return await idempotency.execute(session, act, status_code=201)


@router.get("/v1/tickets/{ticket_id}/calls", summary="List a ticket's calls")
async def list_calls(
    ticket_id: str,
    session: SessionDep,
    principal: StaffReader,
    cursor: Annotated[Keyset, keyset(AwareDatetime, RecordId)],
    limit: LimitQuery = 200,
) -> Page[CallPublic]:
    """A ticket's calls."""
    ticket = await records.visible_ticket(session, principal, ticket_id)
    calls, next_cursor = cursor.page_of(await records.calls_of(session, ticket), limit, lambda call: (call.created_at, call.id))
    return Page(items=[CallPublic.model_validate(call, from_attributes=True) for call in calls], next_cursor=next_cursor)


@router.get("/v1/tickets/{ticket_id}/history", summary="Read a ticket's history")
async def history(
    ticket_id: str, session: SessionDep, principal: StaffReader, cursor: Annotated[Keyset, keyset(int)], limit: LimitQuery = 200
) -> Page[HistoryEntry]:
    """Every change of a ticket."""
    ticket = await records.visible_ticket(session, principal, ticket_id)
    entries, next_cursor = cursor.page_of(await records.history_of(session, ticket), limit, lambda entry: (entry.id,))
    return Page(items=[HistoryEntry.model_validate(entry, from_attributes=True) for entry in entries], next_cursor=next_cursor)


@router.post("/v1/tickets/{ticket_id}/assign", summary="Assign a ticket to an agent", response_model=TicketPublic)
async def assign(ticket_id: str, body: AssignBody, session: SessionDep, principal: Staff, idempotency: IdempotencyDep) -> Response:
    """Assign a ticket to an agent working at its station."""

    async def act() -> TicketPublic:
        ticket = await records.visible_ticket(session, principal, ticket_id, for_update=True)
        me = await acting_agent(session, principal)
        if (me is None or me.id != body.agent_id) and not principal.has(Role.team_lead, Role.supervisor, Role.admin):
            raise forbidden("only a team lead or supervisor assigns tickets to someone else")
        agent = await agent_of_stations(session, principal, body.agent_id)
        return records.public(await service.assign(session=session, ticket=ticket, agent=agent, actor=principal.sub))

    return await idempotency.execute(session, act, headers=_etag)


@router.post("/v1/tickets/{ticket_id}/merge", summary="Merge a ticket into another", response_model=TicketPublic)
async def merge(ticket_id: str, body: MergeBody, session: SessionDep, principal: Staff, idempotency: IdempotencyDep) -> Response:
    """Merge a ticket into another open one; the merged ticket closes."""

    async def act() -> TicketPublic:
        ticket = await records.visible_ticket(session, principal, ticket_id, for_update=True)
        into = await records.visible_ticket(session, principal, body.into, for_update=True)
        return records.public(await service.merge(session=session, ticket=ticket, into=into, actor=principal.sub))

    return await idempotency.execute(session, act, headers=_etag)


@router.post(
    "/v1/queue/claim",
    summary="Take the next ticket from the queue",
    response_model=TicketPublic,
    responses={204: {"description": "Nothing to claim"}},
)
async def claim(session: SessionDep, principal: Staff, idempotency: IdempotencyDep) -> Response:
    """Take the next ticket to work on at the agent's stations; 204 when there is none."""

    async def act() -> TicketPublic | None:
        agent = await acting_agent(session, principal)
        if agent is None:
            raise forbidden("you have no agent record: ask a supervisor to add you (POST /v1/agents)")
        stations = principal.station_filter()
        ticket = await claims.claim_next(
            session=session, agent=agent, stations=stations if stations is not None else frozenset({agent.station})
        )
        return records.public(ticket) if ticket else None

    answer = await idempotency.execute(session, act)
    if answer.body == b"null":
        return Response(status_code=204)
    return answer
