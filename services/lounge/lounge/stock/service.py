"""Stock per lounge: never below zero under concurrency, stock.low once per crossing, counts, deliveries."""

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from airside.events import lounge as lounge_events
from airside.messaging.outbox import record
from airside.problems import conflict, invalid
from lounge.lounges.models import Lounge
from lounge.quantities import QtyLine
from lounge.requisitions import service as requisitions
from lounge.requisitions.models import Requisition
from lounge.stock.models import CountRequest, Delivery, StockCount, StockCountLine, StockItem


async def take(*, session: AsyncSession, lounge: Lounge, sku: str, qty: int) -> None:
    """Take stock with one conditional UPDATE (correct on SQLite and PostgreSQL); 409 out_of_stock otherwise."""
    taken = await session.execute(
        update(StockItem)
        .where(StockItem.lounge_id == lounge.id, StockItem.sku == sku, StockItem.on_hand >= qty)  # type: ignore[arg-type]
        .values(on_hand=StockItem.on_hand - qty)
    )
    if not taken.rowcount:  # type: ignore[attr-defined]
        raise conflict("out_of_stock", f"{sku}: not enough in stock for {qty}", sku=sku)
    await after_change(session=session, lounge=lounge, sku=sku)


async def give_back(*, session: AsyncSession, lounge: Lounge, sku: str, qty: int) -> None:
    await session.execute(
        update(StockItem).where(StockItem.lounge_id == lounge.id, StockItem.sku == sku).values(on_hand=StockItem.on_hand + qty)  # type: ignore[arg-type]
    )
    await after_change(session=session, lounge=lounge, sku=sku)


async def after_change(*, session: AsyncSession, lounge: Lounge, sku: str) -> None:
    """At or below the reorder point: stock.low once per crossing (claimed by a conditional UPDATE of
    the `low` flag) and the SKU onto the lounge's draft requisition. Above it: ready for the next crossing."""
    item = await session.get(StockItem, (lounge.id, sku), populate_existing=True)
    if item is None:
        return
    if item.on_hand > item.reorder_point:
        if item.low:
            await session.execute(update(StockItem).where(StockItem.lounge_id == lounge.id, StockItem.sku == sku).values(low=False))  # type: ignore[arg-type]
        return
    claimed = await session.execute(
        update(StockItem).where(StockItem.lounge_id == lounge.id, StockItem.sku == sku, StockItem.low.is_(False)).values(low=True)  # type: ignore[arg-type, attr-defined]
    )
    if not claimed.rowcount:  # type: ignore[attr-defined]
        return
    record(
        session,
        lounge_events.stock_low,
        lounge_events.StockLow(
            lounge_id=lounge.id,
            station=lounge.station,
            sku=sku,
            on_hand=item.on_hand,
            reorder_point=item.reorder_point,
            reorder_qty=item.reorder_qty,
        ),
        subject=f"{lounge.id}/{sku}",
    )
    await requisitions.add_to_draft(session=session, lounge=lounge, sku=sku, qty=item.reorder_qty)


async def levels(*, session: AsyncSession, lounge_id: str) -> list[StockItem]:
    query = select(StockItem).where(StockItem.lounge_id == lounge_id).order_by(StockItem.sku).execution_options(populate_existing=True)  # type: ignore[arg-type]
    return list((await session.execute(query)).scalars())


async def _item(session: AsyncSession, lounge_id: str, sku: str, field: str) -> StockItem:
    item = await session.get(StockItem, (lounge_id, sku))
    if item is None:
        raise invalid(field, f"{sku} is not stocked at {lounge_id}")
    return item


async def receive(*, session: AsyncSession, lounge: Lounge, lines: list[QtyLine]) -> None:
    """Goods in (a delivery or a requisition's receipt): stock up."""
    for index, line in enumerate(lines):
        await _item(session, lounge.id, line.sku, f"body.lines.{index}.sku")
    for line in sorted(lines, key=lambda line: line.sku):
        await give_back(session=session, lounge=lounge, sku=line.sku, qty=line.qty)


async def receive_requisition(*, session: AsyncSession, requisition: Requisition, lines: list[QtyLine], now: datetime) -> Requisition:
    """A requisition's goods arrived: the requisition records what came, and stock goes up by it."""
    received = await requisitions.receive(session=session, requisition=requisition, lines=lines, now=now)
    lounge = await session.get(Lounge, requisition.lounge_id)
    assert lounge is not None  # a requisition's lounge is never deleted
    await receive(session=session, lounge=lounge, lines=lines)
    return received


async def deliver(*, session: AsyncSession, lounge: Lounge, lines: list[QtyLine], by: str, now: datetime) -> Delivery:
    await receive(session=session, lounge=lounge, lines=lines)
    delivery = Delivery(
        id=str(uuid.uuid4()), lounge_id=lounge.id, received_at=now, received_by=by, lines=[line.model_dump() for line in lines]
    )
    session.add(delivery)
    await session.flush()
    return delivery


async def count(
    *, session: AsyncSession, lounge: Lounge, body: CountRequest, by: str, now: datetime
) -> tuple[StockCount, list[StockCountLine]]:
    """The daily count: expected is what the books say, stock becomes what was counted, variance = counted - expected."""
    skus = [line.sku for line in body.lines]
    if len(set(skus)) != len(skus):
        raise invalid("body.lines", "each sku once per count")
    for index, line in enumerate(body.lines):
        await _item(session, lounge.id, line.sku, f"body.lines.{index}.sku")
    stock_count = StockCount(id=str(uuid.uuid4()), lounge_id=lounge.id, counted_at=now, counted_by=by)
    session.add(stock_count)
    lines = []
    for line in sorted(body.lines, key=lambda line: line.sku):
        # Lock the row (PostgreSQL) so a sale cannot slip between reading expected and setting counted.
        item = (
            await session.execute(
                select(StockItem)
                .where(StockItem.lounge_id == lounge.id, StockItem.sku == line.sku)  # type: ignore[arg-type]
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalar_one()
        expected = item.on_hand
        await session.execute(
            update(StockItem).where(StockItem.lounge_id == lounge.id, StockItem.sku == line.sku).values(on_hand=line.counted)  # type: ignore[arg-type]
        )
        count_line = StockCountLine(
            count_id=stock_count.id, sku=line.sku, expected=expected, counted=line.counted, variance=line.counted - expected
        )
        session.add(count_line)
        lines.append(count_line)
        await after_change(session=session, lounge=lounge, sku=line.sku)
    await session.flush()
    record(
        session,
        lounge_events.stock_adjusted,
        lounge_events.StockAdjusted(
            lounge_id=lounge.id,
            station=lounge.station,
            count_id=stock_count.id,
            lines=[lounge_events.StockCountLine.model_validate(line, from_attributes=True) for line in lines],
        ),
        subject=stock_count.id,
    )
    return stock_count, lines
