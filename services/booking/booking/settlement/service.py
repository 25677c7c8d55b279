"""Statements: the open draft of a carrier, station and month, its lines, disputes, credits, issue and
payments (docs/carriers.md "Statements"). Lines are written once; an issued statement never changes."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from airside import clock
from airside.db.columns import utcnow
from airside.db.database import Database
from airside.events import carriers as events
from airside.messaging.outbox import record
from airside.problems import conflict, invalid, not_found
from booking.carriers.models import Contract
from booking.settlement.models import (
    CREDIT_SERVICE,
    CreditIn,
    LineDispute,
    Payment,
    PaymentIn,
    Refusal,
    Statement,
    StatementLine,
    StatementStatus,
)
from booking.stations.models import Station

DEFAULT_PAYMENT_DAYS = 30
CSV_BATCH = 2000  # lines per read while a CSV streams: memory stays flat whatever the month holds
# A month's draft is issued by the job a day after the station's month ended, so the events of its last
# evening have arrived; what still comes later goes on a supplementary statement (docs/carriers.md).
AUTO_ISSUE_AFTER = timedelta(days=1)
JOB_ACTOR = "airside/settlement"


CSV_COLUMNS = (
    "line_id",
    "day",
    "service",
    "passenger_name",
    "flight_no",
    "flight_date",
    "cabin",
    "reference",
    "quantity",
    "rate_minor",
    "amount_minor",
    "currency",
    "contract_id",
    "contract_version",
    "credit_for",
    "disputed",
    "dispute_reason",
    "note",
)


LINE_TABLE = StatementLine.__table__  # type: ignore[attr-defined]
# What the CSV reads of a line: plain columns, no ORM instance per line (a month holds 100,000 of them).
CSV_LINE_COLUMNS = tuple(
    LINE_TABLE.c[name]
    for name in (
        "id", "day", "service", "passenger_name", "flight_no", "flight_date", "cabin", "reference", "quantity", "rate_minor",
        "amount_minor", "contract_id", "contract_version", "credit_for", "note",
    )
)  # fmt: skip


def csv_row(line: Any, currency: str) -> list[Any]:
    """One line (a row of CSV_LINE_COLUMNS and its dispute_reason) as the CSV export writes it (every cell
    through airside.csv_export)."""
    return [
        line.id,
        line.day.isoformat(),
        line.service,
        line.passenger_name,
        line.flight_no,
        line.flight_date.isoformat() if line.flight_date else None,
        line.cabin,
        line.reference,
        line.quantity,
        line.rate_minor,
        line.amount_minor,
        currency,
        line.contract_id,
        line.contract_version,
        line.credit_for,
        line.dispute_reason is not None,
        line.dispute_reason,
        line.note,
    ]


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def next_month_start(month: str) -> date:
    year, number = (int(part) for part in month.split("-"))
    return date(year + number // 12, number % 12 + 1, 1)


async def station_zone(session: AsyncSession, station: str) -> ZoneInfo:
    found = await session.get(Station, station)
    return ZoneInfo(found.timezone if found else "UTC")


def statement_number(statement: Statement) -> str:
    """PEK-CA-2026-12; a supplementary statement of the same month adds its sequence: PEK-CA-2026-12-2."""
    number = f"{statement.station}-{statement.carrier}-{statement.month}"
    return number if statement.sequence == 1 else f"{number}-{statement.sequence}"


# --- the open draft and its lines ----------------------------------------------------------------


async def open_draft(
    *, session: AsyncSession, carrier: str, station: str, month: str, currency: str, contract_id: str | None = None
) -> Statement:
    """The month's draft, or a new one when there is none or the month's last statement was issued
    (locked, so an issue running at the same time is waited for and then seen)."""
    query = (
        select(Statement)
        .where(Statement.carrier == carrier, Statement.station == station, Statement.month == month)
        .order_by(Statement.sequence.desc())  # type: ignore[attr-defined]
        .limit(1)
        .with_for_update()
    )
    latest = (await session.execute(query)).scalars().first()
    if latest is not None and latest.status == StatementStatus.draft:
        return latest
    contract = await session.get(Contract, contract_id) if contract_id else None
    statement = Statement(
        carrier=carrier,
        station=station,
        month=month,
        sequence=1 if latest is None else latest.sequence + 1,
        currency=currency,
        payment_days=contract.payment_days if contract else DEFAULT_PAYMENT_DAYS,
    )
    session.add(statement)
    await session.flush()
    return statement


async def line_exists(session: AsyncSession, source: str) -> bool:
    return bool(await session.scalar(select(func.count()).select_from(StatementLine).where(StatementLine.source == source)))


@dataclass(frozen=True)
class Billed:
    """What one line bills: a carrier-paid visit or one item of a partner order."""

    source: str
    carrier: str
    station: str
    currency: str
    at: datetime  # the instant whose station-local day dates the line
    service: str
    rate_minor: int
    quantity: int = 1
    passenger_name: str | None = None
    flight_no: str | None = None
    flight_date: date | None = None
    cabin: str | None = None
    reference: str | None = None
    contract_id: str | None = None
    contract_version: int | None = None


async def add_line(*, session: AsyncSession, billed: Billed) -> StatementLine | None:
    """The line on its month's draft, once: None when its source was billed already (a replay, a later event)."""
    if await line_exists(session, billed.source):
        return None
    day = billed.at.astimezone(await station_zone(session, billed.station)).date()
    statement = await open_draft(
        session=session,
        carrier=billed.carrier,
        station=billed.station,
        month=month_of(day),
        currency=billed.currency,
        contract_id=billed.contract_id,
    )
    line = StatementLine(
        source=billed.source,
        statement_id=statement.id,
        service=billed.service,
        day=day,
        passenger_name=billed.passenger_name,
        flight_no=billed.flight_no,
        flight_date=billed.flight_date,
        cabin=billed.cabin,
        reference=billed.reference,
        quantity=billed.quantity,
        rate_minor=billed.rate_minor,
        amount_minor=billed.rate_minor * billed.quantity,
        contract_id=billed.contract_id,
        contract_version=billed.contract_version,
    )
    session.add(line)
    await session.flush()
    return line


async def add_refusal(*, session: AsyncSession, refusal: Refusal) -> None:
    if await session.get(Refusal, refusal.id) is None:
        session.add(refusal)


# --- reads ------------------------------------------------------------------------------------


async def get_statement(*, session: AsyncSession, statement_id: str, for_update: bool = False) -> Statement:
    statement = await session.get(Statement, statement_id, with_for_update=for_update)
    if statement is None:
        raise not_found("statement")
    return statement


async def list_statements(
    *,
    session: AsyncSession,
    carrier: str | None,
    station: str | None,
    month: str | None,
    stations: frozenset[str] | None,
    after: tuple[str, str] | None,
    limit: int,
) -> list[Statement]:
    query = select(Statement).order_by(Statement.month, Statement.id).limit(limit + 1)  # type: ignore[arg-type]
    if carrier is not None:
        query = query.where(Statement.carrier == carrier)
    if station is not None:
        query = query.where(Statement.station == station)
    if month is not None:
        query = query.where(Statement.month == month)
    if stations is not None:
        query = query.where(Statement.station.in_(stations))  # type: ignore[attr-defined]
    if after is not None:
        query = query.where(tuple_(Statement.month, Statement.id) > tuple_(*after))
    return list((await session.execute(query)).scalars().all())


async def totals(*, session: AsyncSession, statement: Statement) -> tuple[list[events.ServiceTotal], int]:
    """Per service, and the line count: frozen at issue, else summed from the lines now, in one statement so
    the two agree while lines keep arriving."""
    if statement.totals is not None:
        return [events.ServiceTotal.model_validate(total) for total in statement.totals], statement.line_count or 0
    query = (
        select(StatementLine.service, func.count(), func.sum(StatementLine.quantity), func.sum(StatementLine.amount_minor))
        .where(StatementLine.statement_id == statement.id)
        .group_by(StatementLine.service)
        .order_by(StatementLine.service)
    )
    found = (await session.execute(query)).all()
    per_service = [
        events.ServiceTotal(service=service, quantity=int(quantity), amount_minor=int(amount)) for service, _, quantity, amount in found
    ]
    return per_service, sum(int(count) for _, count, _, _ in found)


def total_of(per_service: list[events.ServiceTotal]) -> int:
    return sum(total.amount_minor for total in per_service)


def _lines_query(statement_id: str, after: int | None, limit: int) -> Any:
    query = (
        select(StatementLine, LineDispute.reason)
        .outerjoin(LineDispute, LineDispute.line_id == StatementLine.id)  # type: ignore[arg-type]
        .where(StatementLine.statement_id == statement_id)
        .order_by(StatementLine.id)  # type: ignore[arg-type]
        .limit(limit)
    )
    return query if after is None else query.where(StatementLine.id > after)  # type: ignore[operator]


async def lines_page(*, session: AsyncSession, statement_id: str, after: int | None, limit: int) -> list[tuple[StatementLine, str | None]]:
    """`limit` lines after the line id `after`, each with its dispute's reason (None: not disputed)."""
    return [(line, reason) for line, reason in (await session.execute(_lines_query(statement_id, after, limit))).all()]


async def stream_lines(*, db: Database, statement_id: str) -> AsyncIterator[list[Any]]:
    """Every line of a statement in batches (rows of CSV_LINE_COLUMNS with their dispute_reason), each read in a
    short session of its own: the connection is not held while a slow reader takes the bytes, and no more than
    a batch is ever in memory."""
    after: int | None = None
    while True:
        query = (
            select(*CSV_LINE_COLUMNS, LineDispute.reason.label("dispute_reason"))  # type: ignore[attr-defined]
            .outerjoin(LineDispute, LineDispute.line_id == LINE_TABLE.c.id)  # type: ignore[arg-type]
            .where(LINE_TABLE.c.statement_id == statement_id)
            .order_by(LINE_TABLE.c.id)
            .limit(CSV_BATCH)
        )
        if after is not None:
            query = query.where(LINE_TABLE.c.id > after)
        async with db.session() as session:
            batch = list((await session.execute(query)).all())
        if not batch:
            return
        yield batch
        after = batch[-1].id
        if len(batch) < CSV_BATCH:
            return


async def refusals(*, session: AsyncSession, statement: Statement) -> list[Refusal]:
    query = (
        select(Refusal)
        .where(Refusal.carrier == statement.carrier, Refusal.station == statement.station, Refusal.month == statement.month)
        .order_by(Refusal.refused_at, Refusal.id)  # type: ignore[arg-type]
    )
    return list((await session.execute(query)).scalars().all())


# --- disputes, credits, issue, payments --------------------------------------------------------


async def _line_of(session: AsyncSession, statement: Statement, line_id: int) -> StatementLine:
    line = await session.get(StatementLine, line_id)
    if line is None or line.statement_id != statement.id:
        raise not_found("line")
    return line


async def dispute(*, session: AsyncSession, statement: Statement, line_id: int, reason: str, actor: str) -> tuple[StatementLine, str]:
    """A flag beside the line; the line stays as billed until a credit answers it."""
    line = await _line_of(session, statement, line_id)
    if line.service == CREDIT_SERVICE:
        raise invalid("line_id", "a credit line cannot be disputed")
    if await session.get(LineDispute, line_id) is not None:
        raise conflict("already_disputed", f"line {line_id} is disputed already")
    session.add(LineDispute(line_id=line_id, statement_id=statement.id, reason=reason, disputed_by=actor))
    await session.flush()
    return line, reason


async def credit(*, session: AsyncSession, statement: Statement, body: CreditIn, actor: str) -> StatementLine:
    """A negative line against a disputed line, at most what the line billed less its earlier credits. On a
    draft it goes on the statement itself; once issued, on the month's next (supplementary) statement."""
    line = await _line_of(session, statement, body.line_id)
    dispute_row = await session.get(LineDispute, body.line_id)
    if dispute_row is None:
        raise conflict("not_disputed", f"line {body.line_id} is not disputed; a credit answers a dispute")
    credited = -int(
        await session.scalar(select(func.coalesce(func.sum(StatementLine.amount_minor), 0)).where(StatementLine.credit_for == line.id)) or 0
    )
    if body.amount_minor > line.amount_minor - credited:
        raise conflict(
            "credit_exceeds_line",
            f"line {line.id} billed {line.amount_minor} and was credited {credited}; at most {line.amount_minor - credited} is left",
        )
    target = statement
    if statement.status != StatementStatus.draft:
        target = await open_draft(
            session=session, carrier=statement.carrier, station=statement.station, month=statement.month, currency=statement.currency
        )
    count = int(await session.scalar(select(func.count()).select_from(StatementLine).where(StatementLine.credit_for == line.id)) or 0)
    credit_line = StatementLine(
        source=f"credit:{line.id}:{count + 1}",
        statement_id=target.id,
        service=CREDIT_SERVICE,
        day=(await _today(session, statement.station)),
        passenger_name=line.passenger_name,
        flight_no=line.flight_no,
        flight_date=line.flight_date,
        cabin=line.cabin,
        reference=line.reference,
        quantity=1,
        rate_minor=-body.amount_minor,
        amount_minor=-body.amount_minor,
        contract_id=line.contract_id,
        contract_version=line.contract_version,
        credit_for=line.id,
        note=body.note,
    )
    session.add(credit_line)
    await session.flush()
    return credit_line


async def _today(session: AsyncSession, station: str) -> date:
    return clock.now().astimezone(await station_zone(session, station)).date()


async def month_ended(session: AsyncSession, statement: Statement, *, grace: timedelta = timedelta(0)) -> bool:
    """Whether the station's local month of the statement is over (by `grace` at least)."""
    zone = await station_zone(session, statement.station)
    end = datetime.combine(next_month_start(statement.month), datetime.min.time(), tzinfo=zone)
    return clock.now() >= end + grace


async def issue(*, session: AsyncSession, statement: Statement, early: bool, actor: str) -> Statement:
    """Number and freeze the draft: its totals and line count are written once, and the event tells the others."""
    if statement.status != StatementStatus.draft:
        raise conflict("statement_issued", f"statement {statement.number} is {statement.status} already")
    if not early and not await month_ended(session, statement):
        raise conflict(
            "month_not_ended",
            f"{statement.station}'s month {statement.month} has not ended; send early: true to issue it now "
            "(what arrives later goes on a supplementary statement)",
        )
    per_service, count = await totals(session=session, statement=statement)
    now = clock.now()
    zone = await station_zone(session, statement.station)
    statement.number = statement_number(statement)
    statement.totals = [total.model_dump() for total in per_service]
    statement.total_minor = total_of(per_service)
    statement.line_count = count
    statement.status = StatementStatus.issued.value
    statement.issued_at, statement.issued_by = now, actor
    statement.due_on = now.astimezone(zone).date() + timedelta(days=statement.payment_days)
    if statement.total_minor <= 0:  # nothing to pay: credited in full
        statement.status, statement.settled_at = StatementStatus.settled.value, now
    statement.version += 1
    statement.updated_at = utcnow()
    await session.flush()
    issued = events.StatementIssued(
        id=statement.id,
        number=statement.number,
        carrier=statement.carrier,
        station=statement.station,
        month=statement.month,
        currency=statement.currency,
        total_minor=statement.total_minor,
        totals=per_service,
        lines=statement.line_count,
        issued_at=now,
        due_on=statement.due_on,
    )
    record(session, events.statement_issued, issued, subject=statement.id)
    return statement


async def pay(*, session: AsyncSession, statement: Statement, body: PaymentIn, actor: str) -> Statement:
    """A payment against an issued statement; paid in full, it is settled."""
    if statement.status == StatementStatus.draft:
        raise conflict("not_issued", "a draft is not paid; issue it first")
    if statement.status == StatementStatus.settled:
        raise conflict("statement_settled", f"statement {statement.number} is settled")
    outstanding = (statement.total_minor or 0) - statement.paid_minor
    if body.amount_minor > outstanding:
        raise conflict("overpaid", f"{outstanding} is outstanding on {statement.number}; a payment of {body.amount_minor} is more")
    session.add(
        Payment(
            statement_id=statement.id, amount_minor=body.amount_minor, reference=body.reference, paid_on=body.paid_on, recorded_by=actor
        )
    )
    statement.paid_minor += body.amount_minor
    if statement.paid_minor >= (statement.total_minor or 0):
        statement.status, statement.settled_at = StatementStatus.settled.value, clock.now()
    statement.version += 1
    statement.updated_at = utcnow()
    await session.flush()
    return statement


async def issue_ended_months(*, session: AsyncSession, now: datetime) -> None:
    """The job: every draft whose station month ended a day ago is issued (docs/carriers.md "Month end")."""
    del now  # month_ended reads the same clock
    drafts = (await session.execute(select(Statement).where(Statement.status == StatementStatus.draft.value))).scalars().all()
    for draft in drafts:
        if await month_ended(session, draft, grace=AUTO_ISSUE_AFTER):
            locked = await get_statement(session=session, statement_id=draft.id, for_update=True)
            if locked.status == StatementStatus.draft:
                await issue(session=session, statement=locked, early=False, actor=JOB_ACTOR)
