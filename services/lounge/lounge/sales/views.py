"""Voiding a sale line; sales go on a visit's bill through lounge.visits (POST /v1/visits/{id}/sales)."""

from fastapi import APIRouter

from airside import clock
from airside.db.dependencies import SessionDep
from airside.idempotency import IdempotencyDep
from lounge.access import LoungeDesk
from lounge.sales import service
from lounge.sales.models import SaleLinePublic, VoidRequest

router = APIRouter(tags=["sales"])


@router.post("/v1/sales/{line_id}/void", summary="Void a sale line")
async def void_line(
    line_id: str, body: VoidRequest, session: SessionDep, principal: LoungeDesk, idempotency: IdempotencyDep
) -> SaleLinePublic:
    """Void a sale line on an open bill; its stock is put back."""
    line, lounge = await service.line_to_void(session, principal, line_id)

    async def act() -> SaleLinePublic:
        voided = await service.void_line(session=session, line=line, lounge=lounge, reason=body.reason, now=clock.now())
        return SaleLinePublic.model_validate(voided, from_attributes=True)

    return await idempotency.execute(session, act)  # type: ignore[return-value]
