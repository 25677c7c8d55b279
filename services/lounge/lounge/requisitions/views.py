"""Requisitions: list, read, submit, approve, reject; receiving one's goods is stock's (lounge.stock.views)."""

from fastapi import APIRouter, Response

from airside import clock, conditional
from airside.auth import Principal
from airside.conditional import CONDITIONAL_GET, IfNoneMatch
from airside.db.dependencies import SessionDep
from airside.idempotency import IdempotencyDep
from lounge.access import LoungeDesk, Manager
from lounge.requisitions import service
from lounge.requisitions.models import Reject, Requisition, RequisitionPublic, RequisitionStatus

router = APIRouter(prefix="/v1/requisitions", tags=["requisitions"])


async def _requisition(session: SessionDep, principal: Principal, requisition_id: str) -> Requisition:
    return await service.requisition_to_see(session=session, principal=principal, requisition_id=requisition_id)


@router.get("")
async def list_requisitions(
    session: SessionDep, principal: LoungeDesk, lounge_id: str | None = None, status: RequisitionStatus | None = None
) -> list[RequisitionPublic]:
    """Requisitions visible to the caller."""
    requisitions = await service.list_requisitions(session=session, principal=principal, lounge_id=lounge_id, status=status)
    return [await service.public(session, requisition) for requisition in requisitions]


@router.get("/{requisition_id}", response_model=RequisitionPublic, responses=CONDITIONAL_GET)
async def get_requisition(requisition_id: str, session: SessionDep, principal: LoungeDesk, if_none_match: IfNoneMatch = None) -> Response:
    """One requisition and its lines."""
    requisition = await service.public(session, await _requisition(session, principal, requisition_id))
    return conditional.answer(RequisitionPublic, requisition, if_none_match)


@router.post("/{requisition_id}/submit")
async def submit(requisition_id: str, session: SessionDep, principal: LoungeDesk, idempotency: IdempotencyDep) -> RequisitionPublic:
    """Submit a draft requisition for approval."""
    requisition = await _requisition(session, principal, requisition_id)

    async def act() -> RequisitionPublic:
        return await service.public(session, await service.submit(session=session, requisition=requisition, now=clock.now()))

    return await idempotency.execute(session, act)  # type: ignore[return-value]


@router.post("/{requisition_id}/approve")
async def approve(requisition_id: str, session: SessionDep, principal: Manager, idempotency: IdempotencyDep) -> RequisitionPublic:
    """Approve a submitted requisition."""
    requisition = await _requisition(session, principal, requisition_id)

    async def act() -> RequisitionPublic:
        approved = await service.approve(session=session, requisition=requisition, by=principal.sub, now=clock.now())
        return await service.public(session, approved)

    return await idempotency.execute(session, act)  # type: ignore[return-value]


@router.post("/{requisition_id}/reject")
async def reject(
    requisition_id: str, body: Reject, session: SessionDep, principal: Manager, idempotency: IdempotencyDep
) -> RequisitionPublic:
    """Reject a submitted requisition, with a reason."""
    requisition = await _requisition(session, principal, requisition_id)

    async def act() -> RequisitionPublic:
        rejected = await service.reject(session=session, requisition=requisition, by=principal.sub, reason=body.reason, now=clock.now())
        return await service.public(session, rejected)

    return await idempotency.execute(session, act)  # type: ignore[return-value]
