"""Complaint workflow routes under /v1/tickets/{id}/complaint/…"""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import ConfigDict
from sqlmodel import Field, SQLModel

from airside.auth import Principal, Role, require
from airside.db.dependencies import SessionDep
from airside.idempotency import IdempotencyDep
from callcenter.complaints import service
from callcenter.tickets import records
from callcenter.tickets.models import Ticket, TicketPublic

router = APIRouter(prefix="/v1/tickets/{ticket_id}/complaint", tags=["complaints"])

Handler = Annotated[Principal, Depends(require(Role.agent, Role.team_lead, Role.supervisor))]
Approver = Annotated[Principal, Depends(require(Role.team_lead, Role.supervisor))]


class Proposal(SQLModel):
    model_config = ConfigDict(  # type: ignore[assignment]  # SQLModel's config is pydantic's
        json_schema_extra={"examples": [{"resolution": "Apologise and refund the escort fee", "compensation_minor": 30000}]}
    )

    resolution: str = Field(min_length=1, max_length=2000)
    compensation_minor: int = Field(ge=0, le=100_000_000, description="CNY fen")


class Rejection(SQLModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "The refund should cover the lounge access too"}]})  # type: ignore[assignment]  # SQLModel's config is pydantic's

    reason: str = Field(min_length=1, max_length=2000)


class FollowUp(SQLModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"satisfied": True, "notes": "Member accepted the refund"}]})  # type: ignore[assignment]  # SQLModel's config is pydantic's

    satisfied: bool
    notes: str | None = Field(default=None, max_length=2000)


async def _run(
    session: SessionDep, principal: Principal, idempotency: IdempotencyDep, ticket_id: str, step: Callable[[Ticket], Awaitable[Ticket]]
) -> Response:
    async def act() -> TicketPublic:
        ticket = await records.visible_ticket(session, principal, ticket_id, for_update=True)
        return records.public(await step(ticket))

    return await idempotency.execute(session, act)


@router.post("/investigate", summary="Start investigating a complaint", response_model=TicketPublic)
async def investigate(ticket_id: str, session: SessionDep, principal: Handler, idempotency: IdempotencyDep) -> Response:
    """Start investigating a complaint."""
    return await _run(
        session, principal, idempotency, ticket_id, lambda t: service.investigate(session=session, ticket=t, actor=principal.sub)
    )


@router.post("/propose", summary="Propose a complaint resolution", response_model=TicketPublic)
async def propose(ticket_id: str, body: Proposal, session: SessionDep, principal: Handler, idempotency: IdempotencyDep) -> Response:
    """Propose a resolution (and any compensation) for a complaint."""
    return await _run(
        session,
        principal,
        idempotency,
        ticket_id,
        lambda t: service.propose(
            session=session, ticket=t, resolution=body.resolution, compensation_minor=body.compensation_minor, actor=principal.sub
        ),
    )


@router.post("/approve", summary="Approve a complaint resolution", response_model=TicketPublic)
async def approve(ticket_id: str, session: SessionDep, principal: Approver, idempotency: IdempotencyDep) -> Response:
    """Approve a proposed resolution; compensation above a limit needs a supervisor."""
    return await _run(session, principal, idempotency, ticket_id, lambda t: service.approve(session=session, ticket=t, principal=principal))


@router.post("/reject", summary="Reject a complaint resolution", response_model=TicketPublic)
async def reject(ticket_id: str, body: Rejection, session: SessionDep, principal: Approver, idempotency: IdempotencyDep) -> Response:
    """Reject a proposed resolution, with a reason."""
    return await _run(
        session,
        principal,
        idempotency,
        ticket_id,
        lambda t: service.reject(session=session, ticket=t, principal=principal, reason=body.reason),
    )


@router.post("/inform", summary="Record that the member was informed", response_model=TicketPublic)
async def inform(ticket_id: str, session: SessionDep, principal: Handler, idempotency: IdempotencyDep) -> Response:
    """Record that the member was told the resolution."""
    return await _run(session, principal, idempotency, ticket_id, lambda t: service.inform(session=session, ticket=t, actor=principal.sub))


@router.post("/follow-up", summary="Record the member's follow-up answer", response_model=TicketPublic)
async def follow_up(ticket_id: str, body: FollowUp, session: SessionDep, principal: Handler, idempotency: IdempotencyDep) -> Response:
    """Record the member's answer on follow-up: satisfied closes the complaint."""
    return await _run(
        session,
        principal,
        idempotency,
        ticket_id,
        lambda t: service.follow_up(session=session, ticket=t, satisfied=body.satisfied, notes=body.notes, actor=principal.sub),
    )
