from fastapi import APIRouter

from airside import clock
from airside.db import SessionDep
from airside.idempotency import IdempotencyDep
from airside.problems import not_found
from lounge.access import LoungeDesk
from lounge.lounges.models import Lounge
from lounge.sales import service
from lounge.sales.models import BillPublic, SaleLine, SaleLinePublic, SaleRequest, VoidRequest
from lounge.visits.models import Visit

router = APIRouter(tags=["sales"])


@router.post("/v1/visits/{visit_id}/sales", status_code=201)
async def add_sales(
    visit_id: str, body: SaleRequest, session: SessionDep, principal: LoungeDesk, idempotency: IdempotencyDep
) -> BillPublic:
    visit = await session.get(Visit, visit_id)
    if visit is None or not principal.covers(visit.station):
        raise not_found("visit")
    lounge = await session.get(Lounge, visit.lounge_id)
    assert lounge is not None

    async def act() -> BillPublic:
        return await service.add_sales(session=session, visit=visit, lounge=lounge, body=body, now=clock.now())

    return await idempotency.execute(session, act, status_code=201)  # type: ignore[return-value]


@router.post("/v1/sales/{line_id}/void")
async def void_line(
    line_id: str, body: VoidRequest, session: SessionDep, principal: LoungeDesk, idempotency: IdempotencyDep
) -> SaleLinePublic:
    line = await session.get(SaleLine, line_id)
    lounge = await session.get(Lounge, line.lounge_id) if line is not None else None
    if line is None or lounge is None or not principal.covers(lounge.station):
        raise not_found("sale line")

    async def act() -> SaleLinePublic:
        voided = await service.void_line(session=session, line=line, lounge=lounge, reason=body.reason, now=clock.now())
        return SaleLinePublic.model_validate(voided, from_attributes=True)

    return await idempotency.execute(session, act)  # type: ignore[return-value]
