"""Requisitions: list, read, submit, approve, reject; receiving one's goods is stock's (lounge.stock.views)."""

from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import AwareDatetime

from airside import clock, conditional
from airside.auth import Principal
from airside.conditional import CONDITIONAL_GET, IfNoneMatch
from airside.db.dependencies import SessionDep
from airside.idempotency import IdempotencyDep
from airside.pagination import Keyset, LimitQuery, Page, keyset
from airside.types import RecordId
from lounge.access import LoungeDesk, Manager
from lounge.requisitions import service
from lounge.requisitions.models import Reject, Requisition, RequisitionPublic, RequisitionStatus

router = APIRouter(prefix="/v1/requisitions", tags=["requisitions"])


async def _requisition(session: SessionDep, principal: Principal, requisition_id: str) -> Requisition:
    return await service.requisition_to_see(session=session, principal=principal, requisition_id=requisition_id)


@router.get("", summary="List requisitions")
async def list_requisitions(
    session: SessionDep,
    principal: LoungeDesk,
    cursor: Annotated[Keyset, keyset(AwareDatetime, RecordId)],
    lounge_id: str | None = None,
    status: RequisitionStatus | None = None,
    limit: LimitQuery = 50,
) -> Page[RequisitionPublic]:
    """Requisitions visible to the caller."""
    rows = await service.list_requisitions(
        session=session, principal=principal, lounge_id=lounge_id, status=status, after=cursor.after, limit=limit
    )
    requisitions, next_cursor = cursor.page(rows, limit, lambda requisition: (requisition.created_at, requisition.id))
    return Page(items=[await service.public(session, requisition) for requisition in requisitions], next_cursor=next_cursor)


@router.get("/{requisition_id}", summary="Read a requisition", response_model=RequisitionPublic, responses=CONDITIONAL_GET)
async def get_requisition(requisition_id: str, session: SessionDep, principal: LoungeDesk, if_none_match: IfNoneMatch = None) -> Response:
    """One requisition and its lines."""
    requisition = await service.public(session, await _requisition(session, principal, requisition_id))
    return conditional.answer(RequisitionPublic, requisition, if_none_match)


@router.post("/{requisition_id}/submit", summary="Submit a requisition")
async def submit(requisition_id: str, session: SessionDep, principal: LoungeDesk, idempotency: IdempotencyDep) -> RequisitionPublic:
    """Submit a draft requisition for approval."""
    requisition = await _requisition(session, principal, requisition_id)

    async def act() -> RequisitionPublic:
        return await service.public(session, await service.submit(session=session, requisition=requisition, now=clock.now()))

    return await idempotency.execute(session, act)  # type: ignore[return-value]


@router.post("/{requisition_id}/approve", summary="Approve a requisition")
async def approve(requisition_id: str, session: SessionDep, principal: Manager, idempotency: IdempotencyDep) -> RequisitionPublic:
    """Approve a submitted requisition."""
    requisition = await _requisition(session, principal, requisition_id)

    async def act() -> RequisitionPublic:
        approved = await service.approve(session=session, requisition=requisition, by=principal.sub, now=clock.now())
        return await service.public(session, approved)

    return await idempotency.execute(session, act)  # type: ignore[return-value]


@router.post("/{requisition_id}/reject", summary="Reject a requisition")
async def reject(
    requisition_id: str, body: Reject, session: SessionDep, principal: Manager, idempotency: IdempotencyDep
) -> RequisitionPublic:
    """Reject a submitted requisition, with a reason."""
    requisition = await _requisition(session, principal, requisition_id)

    async def act() -> RequisitionPublic:
        rejected = await service.reject(session=session, requisition=requisition, by=principal.sub, reason=body.reason, now=clock.now())
        return await service.public(session, rejected)

    return await idempotency.execute(session, act)  # type: ignore[return-value]
