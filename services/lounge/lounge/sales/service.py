"""Bills and sale lines: entry charges at the door, bar sales taking stock all or nothing, voids, settlement."""

import uuid
from collections import Counter
from datetime import datetime
from typing import Protocol

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from airside.auth import Principal
from airside.events import lounge as lounge_events
from airside.messaging.outbox import record
from airside.problems import conflict, invalid, not_found
from lounge.lounges.models import Lounge
from lounge.menu.models import MenuItem
from lounge.sales.models import ENTRY_CATEGORY, Bill, BillPublic, BillStatus, Charge, SaleLine, SaleLinePublic, SaleRequest
from lounge.stock import service as stock


class BilledVisit(Protocol):
    """What a bill needs of its visit; lounge.visits, which opens and closes bills, passes its Visit."""

    id: str
    bill_id: str
    lounge_id: str


async def open_bill(*, session: AsyncSession, visit: BilledVisit, charges: list[Charge], now: datetime) -> Bill:
    bill = Bill(id=visit.bill_id, visit_id=visit.id, lounge_id=visit.lounge_id, status=BillStatus.open.value, opened_at=now)
    session.add(bill)
    for charge in charges:
        session.add(
            SaleLine(
                id=str(uuid.uuid4()),
                bill_id=bill.id,
                visit_id=visit.id,
                lounge_id=visit.lounge_id,
                sku=charge.sku,
                name=charge.name,
                category=ENTRY_CATEGORY,
                qty=charge.qty,
                unit_price_minor=charge.unit_price_minor,
                amount_minor=charge.qty * charge.unit_price_minor,
                sold_at=now,
            )
        )
    await session.flush()
    return bill


async def live_lines(session: AsyncSession, bill_id: str) -> list[SaleLine]:
    query = select(SaleLine).where(SaleLine.bill_id == bill_id, SaleLine.voided_at.is_(None)).order_by(SaleLine.sold_at, SaleLine.id)  # type: ignore[union-attr, arg-type]
    return list((await session.execute(query)).scalars())


async def amount_due(*, session: AsyncSession, bill_id: str) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(SaleLine.amount_minor), 0)).where(SaleLine.bill_id == bill_id, SaleLine.voided_at.is_(None))  # type: ignore[union-attr]
    )
    return int(total or 0)


async def hold_open_bill(session: AsyncSession, bill_id: str, problem: str, detail: str) -> None:
    """Claim the bill while it is open, as the transaction's first write: a conditional UPDATE, which
    PostgreSQL holds as a row lock until commit and SQLite as its single writer. A sale, a void and the
    check-out that settles the bill so run one after another, and the later one sees the bill as the
    earlier one left it: reading its status without the write could be stale by commit time."""
    held = await session.execute(
        update(Bill).where(Bill.id == bill_id, Bill.status == BillStatus.open.value).values(status=BillStatus.open.value)  # type: ignore[arg-type]
    )
    if not held.rowcount:  # type: ignore[attr-defined]
        raise conflict(problem, detail)


async def add_sales(
    *, session: AsyncSession, visit: BilledVisit, lounge: Lounge, body: SaleRequest, complimentary_free: bool, now: datetime
) -> BillPublic:
    """Price every line and take its stock; one line short of stock and nothing of the request is taken
    (the caller's transaction rolls back on the refusal). `complimentary_free`: the guest is not charged
    for complimentary items."""
    await hold_open_bill(session, visit.bill_id, "visit_closed", "sales go on the bill of a guest still in the lounge")
    items: dict[str, MenuItem] = {}
    for index, line in enumerate(body.lines):
        item = await session.get(MenuItem, line.sku)
        if item is None:
            raise invalid(f"body.lines.{index}.sku", f"{line.sku} is not on the menu")
        items[line.sku] = item
    wanted = Counter[str]()
    for line in body.lines:
        wanted[line.sku] += line.qty
    for sku in sorted(wanted):  # one lock order for every request: no deadlock between two sales
        await stock.take(session=session, lounge=lounge, sku=sku, qty=wanted[sku])
    for line in body.lines:
        item = items[line.sku]
        complimentary = complimentary_free and item.complimentary
        session.add(
            SaleLine(
                id=str(uuid.uuid4()),
                bill_id=visit.bill_id,
                visit_id=visit.id,
                lounge_id=visit.lounge_id,
                sku=item.sku,
                name=item.name,
                category=item.category,
                qty=line.qty,
                unit_price_minor=item.price_minor,
                amount_minor=0 if complimentary else line.qty * item.price_minor,
                complimentary=complimentary,
                sold_at=now,
            )
        )
    await session.flush()
    return await bill_public(session, visit.bill_id)


async def line_to_void(session: AsyncSession, principal: Principal, line_id: str) -> tuple[SaleLine, Lounge]:
    """A sale line at one of the caller's stations, with its lounge; any other is not found."""
    line = await session.get(SaleLine, line_id)
    lounge = await session.get(Lounge, line.lounge_id) if line is not None else None
    if line is None or lounge is None or not principal.covers(lounge.station):
        raise not_found("sale line")
    return line, lounge


async def void_line(*, session: AsyncSession, line: SaleLine, lounge: Lounge, reason: str, now: datetime) -> SaleLine:
    await hold_open_bill(session, line.bill_id, "bill_closed", "only lines of an open bill can be voided")
    voided = await session.execute(
        update(SaleLine).where(SaleLine.id == line.id, SaleLine.voided_at.is_(None)).values(voided_at=now, void_reason=reason)  # type: ignore[union-attr, arg-type]
    )
    if not voided.rowcount:  # type: ignore[attr-defined]
        raise conflict("already_voided", "this sale line is already voided")
    await session.refresh(line)
    if line.category != ENTRY_CATEGORY:
        await stock.give_back(session=session, lounge=lounge, sku=line.sku, qty=line.qty)
    record(
        session,
        lounge_events.sale_voided,
        lounge_events.SaleVoided(visit_id=line.visit_id, line=event_line(line), reason=reason),
        subject=line.visit_id,
    )
    return line


async def close_bill(*, session: AsyncSession, visit: BilledVisit, payment_method: str | None, settle: bool, now: datetime) -> Bill:
    bill = await session.get(Bill, visit.bill_id)
    if bill is None:
        raise not_found("bill")
    lines = await live_lines(session, bill.id)
    bill.total_minor = sum(line.amount_minor for line in lines)
    bill.complimentary_minor = sum(line.qty * line.unit_price_minor for line in lines if line.complimentary)
    bill.status = (BillStatus.settled if settle else BillStatus.unsettled).value
    bill.payment_method = payment_method
    bill.closed_at = now
    await session.flush()
    return bill


async def record_completed(*, session: AsyncSession, visit: BilledVisit, bill: Bill, snapshot: lounge_events.VisitSnapshot) -> None:
    """sale.completed per settled bill that has anything on it."""
    lines = await live_lines(session, bill.id)
    if bill.status != BillStatus.settled or not lines:
        return
    record(
        session,
        lounge_events.sale_completed,
        lounge_events.SaleCompleted(
            visit=snapshot,
            bill_id=bill.id,
            lines=[event_line(line) for line in lines],
            total_minor=bill.total_minor,
            complimentary_minor=bill.complimentary_minor,
            payment_method=bill.payment_method,
        ),
        subject=visit.id,
    )


def event_line(line: SaleLine) -> lounge_events.SaleLine:
    return lounge_events.SaleLine(line_id=line.id, **line.model_dump(include=lounge_events.SOLD_ITEM_FIELDS))


async def bill_public(session: AsyncSession, bill_id: str) -> BillPublic:
    bill = await session.get(Bill, bill_id, populate_existing=True)
    if bill is None:
        raise not_found("bill")
    query = select(SaleLine).where(SaleLine.bill_id == bill_id).order_by(SaleLine.sold_at, SaleLine.id)  # type: ignore[arg-type]
    lines = list((await session.execute(query)).scalars())
    live = [line for line in lines if line.voided_at is None]
    open_bill = bill.status == BillStatus.open
    return BillPublic(
        id=bill.id,
        visit_id=bill.visit_id,
        lounge_id=bill.lounge_id,
        status=BillStatus(bill.status),
        payment_method=bill.payment_method,  # type: ignore[arg-type]
        lines=[SaleLinePublic.model_validate(line, from_attributes=True) for line in lines],
        total_minor=sum(line.amount_minor for line in live) if open_bill else bill.total_minor,
        complimentary_minor=sum(line.qty * line.unit_price_minor for line in live if line.complimentary)
        if open_bill
        else bill.complimentary_minor,
    )
