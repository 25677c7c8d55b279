from typing import Annotated

from fastapi import APIRouter

from airside import clock
from airside.db.dependencies import SessionDep
from airside.idempotency import IdempotencyDep
from airside.pagination import Keyset, LimitQuery, Page, keyset
from lounge.access import LoungeDesk
from lounge.lounges.service import lounge_to_create_at, lounge_to_see
from lounge.quantities import QtyLine, QtyLines
from lounge.requisitions import service as requisitions
from lounge.requisitions.models import RequisitionPublic
from lounge.stock import service
from lounge.stock.models import CountLinePublic, CountRequest, DeliveryPublic, StockCountPublic, StockPublic

router = APIRouter(tags=["stock"])


@router.get("/v1/lounges/{lounge_id}/stock", summary="Read a lounge's stock")
async def get_stock(
    lounge_id: str, session: SessionDep, principal: LoungeDesk, cursor: Annotated[Keyset, keyset(str)], limit: LimitQuery = 200
) -> Page[StockPublic]:
    """A lounge's stock levels by SKU."""
    lounge = await lounge_to_see(session, principal, lounge_id)
    levels, next_cursor = cursor.page_of(await service.levels(session=session, lounge_id=lounge.id), limit, lambda item: (item.sku,))
    return Page(items=[StockPublic.model_validate(item, from_attributes=True) for item in levels], next_cursor=next_cursor)


@router.post("/v1/lounges/{lounge_id}/stock-counts", summary="Record a stock count", status_code=201)
async def count_stock(
    lounge_id: str, body: CountRequest, session: SessionDep, principal: LoungeDesk, idempotency: IdempotencyDep
) -> StockCountPublic:
    """Record a stock count: the counted levels replace the book levels."""
    lounge = await lounge_to_create_at(session, principal, lounge_id)

    async def act() -> StockCountPublic:
        stock_count, lines = await service.count(session=session, lounge=lounge, body=body, by=principal.sub, now=clock.now())
        return StockCountPublic(
            id=stock_count.id,
            lounge_id=lounge.id,
            counted_at=stock_count.counted_at,
            lines=[CountLinePublic.model_validate(line, from_attributes=True) for line in lines],
        )

    return await idempotency.execute(session, act, status_code=201)  # type: ignore[return-value]


# Goods in: stock's, like a delivery; the requisition records what came (lounge.requisitions).
@router.post("/v1/requisitions/{requisition_id}/receive", summary="Receive a requisition's goods", tags=["requisitions"])
async def receive_requisition(
    requisition_id: str, body: QtyLines, session: SessionDep, principal: LoungeDesk, idempotency: IdempotencyDep
) -> RequisitionPublic:
    """Receive an approved requisition's goods into the lounge's stock."""
    requisition = await requisitions.requisition_to_see(session=session, principal=principal, requisition_id=requisition_id)

    async def act() -> RequisitionPublic:
        received = await service.receive_requisition(session=session, requisition=requisition, lines=body.lines, now=clock.now())
        return await requisitions.public(session, received)

    return await idempotency.execute(session, act)  # type: ignore[return-value]


@router.post("/v1/lounges/{lounge_id}/deliveries", summary="Receive a delivery", status_code=201)
async def deliver(
    lounge_id: str, body: QtyLines, session: SessionDep, principal: LoungeDesk, idempotency: IdempotencyDep
) -> DeliveryPublic:
    """Receive a delivery of goods into a lounge's stock."""
    lounge = await lounge_to_create_at(session, principal, lounge_id)

    async def act() -> DeliveryPublic:
        delivery = await service.deliver(session=session, lounge=lounge, lines=body.lines, by=principal.sub, now=clock.now())
        levels = await service.levels(session=session, lounge_id=lounge.id)
        delivered = {line.sku for line in body.lines}
        return DeliveryPublic(
            id=delivery.id,
            lounge_id=lounge.id,
            received_at=delivery.received_at,
            lines=[QtyLine.model_validate(line) for line in delivery.lines],
            stock=[StockPublic.model_validate(item, from_attributes=True) for item in levels if item.sku in delivered],
        )

    return await idempotency.execute(session, act, status_code=201)  # type: ignore[return-value]
