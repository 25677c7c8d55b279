"""Purchase requisitions: one draft per lounge filled by stock.low, then submitted → approved → received
(or submitted → rejected). Each transition is a conditional UPDATE on the status, so racing callers
cannot both move it."""

import uuid
from datetime import datetime

from sqlalchemy import select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from airside.auth import Principal
from airside.db.columns import utcnow
from airside.events import lounge as lounge_events
from airside.messaging.outbox import record
from airside.problems import conflict, invalid, not_found
from airside.statements import insert_ignoring_duplicates
from lounge.lounges.models import Lounge
from lounge.quantities import QtyLine
from lounge.requisitions.models import Requisition, RequisitionLine, RequisitionLinePublic, RequisitionPublic, RequisitionStatus

Status = RequisitionStatus


async def add_to_draft(*, session: AsyncSession, lounge: Lounge, sku: str, qty: int) -> Requisition:
    """The SKU onto the lounge's open draft (opened when there is none); a SKU already there stays as it is."""
    await insert_ignoring_duplicates(
        session,
        Requisition,
        {
            "id": str(uuid.uuid4()),
            "lounge_id": lounge.id,
            "station": lounge.station,
            "status": Status.draft.value,
            "draft_key": lounge.id,
            "created_at": utcnow(),
            "version": 1,
        },
    )
    draft = (await session.execute(select(Requisition).where(Requisition.draft_key == lounge.id))).scalar_one()
    await insert_ignoring_duplicates(session, RequisitionLine, {"requisition_id": draft.id, "sku": sku, "qty": qty, "received_qty": 0})
    return draft


async def requisition_to_see(*, session: AsyncSession, principal: Principal, requisition_id: str) -> Requisition:
    """A requisition of the caller's stations; another station's is not found."""
    requisition = await session.get(Requisition, requisition_id)
    if requisition is None or not principal.covers(requisition.station):
        raise not_found("requisition")
    return requisition


async def list_requisitions(
    *,
    session: AsyncSession,
    principal: Principal,
    lounge_id: str | None,
    status: RequisitionStatus | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Requisition]:
    """The caller's stations', by lounge and status when given, newest first; keyset after `after`, one row past the page."""
    query = select(Requisition).order_by(Requisition.created_at.desc(), Requisition.id.desc()).limit(limit + 1)  # type: ignore[attr-defined]
    if after is not None:
        query = query.where(tuple_(Requisition.created_at, Requisition.id) < tuple_(*after))
    if (stations := principal.station_filter()) is not None:
        query = query.where(Requisition.station.in_(stations))  # type: ignore[attr-defined]
    if lounge_id is not None:
        query = query.where(Requisition.lounge_id == lounge_id)
    if status is not None:
        query = query.where(Requisition.status == status.value)
    return list((await session.execute(query)).scalars())


async def lines_of(session: AsyncSession, requisition_id: str) -> list[RequisitionLine]:
    query = select(RequisitionLine).where(RequisitionLine.requisition_id == requisition_id).order_by(RequisitionLine.sku)  # type: ignore[arg-type]
    return list((await session.execute(query.execution_options(populate_existing=True))).scalars())


async def public(session: AsyncSession, requisition: Requisition) -> RequisitionPublic:
    lines = await lines_of(session, requisition.id)
    return RequisitionPublic(
        **requisition.model_dump(exclude={"draft_key"}),
        lines=[RequisitionLinePublic.model_validate(line, from_attributes=True) for line in lines],
    )


async def snapshot(session: AsyncSession, requisition: Requisition) -> lounge_events.RequisitionSnapshot:
    lines = await lines_of(session, requisition.id)
    return lounge_events.RequisitionSnapshot(
        id=requisition.id,
        lounge_id=requisition.lounge_id,
        station=requisition.station,
        status=requisition.status,
        lines=[lounge_events.RequisitionLine(sku=line.sku, qty=line.qty) for line in lines],
    )


async def _move(session: AsyncSession, requisition: Requisition, frm: Status, to: Status, **values: object) -> None:
    moved = await session.execute(
        update(Requisition)
        .where(Requisition.id == requisition.id, Requisition.status == frm.value)  # type: ignore[arg-type]
        .values(status=to.value, version=Requisition.version + 1, **values)
    )
    if not moved.rowcount:  # type: ignore[attr-defined]
        raise conflict("illegal_transition", f"a {requisition.status} requisition cannot become {to.value}")
    await session.refresh(requisition)


async def submit(*, session: AsyncSession, requisition: Requisition, now: datetime) -> Requisition:
    if requisition.status == Status.draft and not await lines_of(session, requisition.id):
        raise conflict("empty_requisition", "a requisition needs at least one line to be submitted")
    # Clearing draft_key lets the next stock.low open a fresh draft.
    await _move(session, requisition, Status.draft, Status.submitted, submitted_at=now, draft_key=None)
    record(
        session,
        lounge_events.requisition_submitted,
        lounge_events.RequisitionEvent(requisition=await snapshot(session, requisition)),
        subject=requisition.id,
    )
    return requisition


async def approve(*, session: AsyncSession, requisition: Requisition, by: str, now: datetime) -> Requisition:
    await _move(session, requisition, Status.submitted, Status.approved, decided_at=now, decided_by=by)
    record(
        session,
        lounge_events.requisition_approved,
        lounge_events.RequisitionEvent(requisition=await snapshot(session, requisition)),
        subject=requisition.id,
    )
    return requisition


async def reject(*, session: AsyncSession, requisition: Requisition, by: str, reason: str, now: datetime) -> Requisition:
    await _move(session, requisition, Status.submitted, Status.rejected, decided_at=now, decided_by=by, reason=reason)
    return requisition


async def receive(*, session: AsyncSession, requisition: Requisition, lines: list[QtyLine], now: datetime) -> Requisition:
    """The goods arrived: what was actually received (which may differ from what was asked) is recorded on the
    requisition; stock goes up by it in lounge.stock.receive_requisition, which calls this."""
    await _move(session, requisition, Status.approved, Status.received, received_at=now)
    ordered = {line.sku: line for line in await lines_of(session, requisition.id)}
    for index, line in enumerate(lines):
        if line.sku not in ordered:
            raise invalid(f"body.lines.{index}.sku", f"{line.sku} is not on this requisition")
        ordered[line.sku].received_qty += line.qty
    record(
        session,
        lounge_events.requisition_received,
        lounge_events.RequisitionEvent(requisition=await snapshot(session, requisition)),
        subject=requisition.id,
    )
    return requisition
