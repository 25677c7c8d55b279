from fastapi import APIRouter
from sqlalchemy import select

from airside import clock
from airside.auth import Principal
from airside.db import SessionDep
from airside.idempotency import IdempotencyDep
from airside.problems import not_found
from lounge.access import LoungeDesk, Manager
from lounge.lounges.models import Lounge
from lounge.requisitions import service
from lounge.requisitions.models import Reject, Requisition, RequisitionPublic, RequisitionStatus
from lounge.stock.models import QtyLines

router = APIRouter(prefix="/v1/requisitions", tags=["requisitions"])


async def _requisition(session: SessionDep, principal: Principal, requisition_id: str) -> Requisition:
    requisition = await session.get(Requisition, requisition_id)
    if requisition is None or not principal.covers(requisition.station):
        raise not_found("requisition")
    return requisition


@router.get("")
async def list_requisitions(
    session: SessionDep, principal: LoungeDesk, lounge_id: str | None = None, status: RequisitionStatus | None = None
) -> list[RequisitionPublic]:
    query = select(Requisition).order_by(Requisition.created_at.desc(), Requisition.id).limit(200)  # type: ignore[attr-defined]
    if (stations := principal.station_filter()) is not None:
        query = query.where(Requisition.station.in_(stations))  # type: ignore[attr-defined]
    if lounge_id is not None:
        query = query.where(Requisition.lounge_id == lounge_id)
    if status is not None:
        query = query.where(Requisition.status == status.value)
    return [await service.public(session, requisition) for requisition in (await session.execute(query)).scalars()]


@router.get("/{requisition_id}")
async def get_requisition(requisition_id: str, session: SessionDep, principal: LoungeDesk) -> RequisitionPublic:
    return await service.public(session, await _requisition(session, principal, requisition_id))


@router.post("/{requisition_id}/submit")
async def submit(requisition_id: str, session: SessionDep, principal: LoungeDesk, idempotency: IdempotencyDep) -> RequisitionPublic:
    requisition = await _requisition(session, principal, requisition_id)

    async def act() -> RequisitionPublic:
        return await service.public(session, await service.submit(session=session, requisition=requisition, now=clock.now()))

    return await idempotency.execute(session, act)  # type: ignore[return-value]


@router.post("/{requisition_id}/approve")
async def approve(requisition_id: str, session: SessionDep, principal: Manager, idempotency: IdempotencyDep) -> RequisitionPublic:
    requisition = await _requisition(session, principal, requisition_id)

    async def act() -> RequisitionPublic:
        approved = await service.approve(session=session, requisition=requisition, by=principal.sub, now=clock.now())
        return await service.public(session, approved)

    return await idempotency.execute(session, act)  # type: ignore[return-value]


@router.post("/{requisition_id}/reject")
async def reject(
    requisition_id: str, body: Reject, session: SessionDep, principal: Manager, idempotency: IdempotencyDep
) -> RequisitionPublic:
    requisition = await _requisition(session, principal, requisition_id)

    async def act() -> RequisitionPublic:
        rejected = await service.reject(session=session, requisition=requisition, by=principal.sub, reason=body.reason, now=clock.now())
        return await service.public(session, rejected)

    return await idempotency.execute(session, act)  # type: ignore[return-value]


@router.post("/{requisition_id}/receive")
async def receive(
    requisition_id: str, body: QtyLines, session: SessionDep, principal: LoungeDesk, idempotency: IdempotencyDep
) -> RequisitionPublic:
    requisition = await _requisition(session, principal, requisition_id)
    lounge = await session.get(Lounge, requisition.lounge_id)
    assert lounge is not None

    async def act() -> RequisitionPublic:
        received = await service.receive(session=session, requisition=requisition, lounge=lounge, lines=body.lines, now=clock.now())
        return await service.public(session, received)

    return await idempotency.execute(session, act)  # type: ignore[return-value]
