"""Statements over HTTP (docs/carriers.md "Statements"): station managers of the station and admin read and act;
a carrier token reads its own statements and disputes their lines."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.responses import StreamingResponse

from airside import conditional
from airside.auth import CARRIER_PATTERN, Principal, Role, require
from airside.conditional import CONDITIONAL_GET, IfNoneMatch
from airside.csv_export import csv_text
from airside.db.dependencies import DatabaseDep, SessionDep
from airside.pagination import Keyset, LimitQuery, Page, keyset
from airside.problems import not_found
from airside.types import StationCode
from booking.settlement import service
from booking.settlement.models import (
    MONTH_PATTERN,
    CreditIn,
    DisputeIn,
    IssueIn,
    LinePublic,
    PaymentIn,
    RefusalPublic,
    Statement,
    StatementLine,
    StatementPublic,
    StatementSummary,
)

router = APIRouter(prefix="/v1/statements", tags=["settlement"])

StatementId = Annotated[str, Path(pattern=r"^stm_[0-9a-f]{16}$", description="e.g. stm_2b8e4c1a9f3d7e60")]
Reader = Annotated[Principal, Depends(require(Role.station_manager, Role.carrier))]
Manager = Annotated[Principal, Depends(require(Role.station_manager))]


def ensure_visible(principal: Principal, statement: Statement) -> None:
    """A carrier sees its own statements, a manager those of their stations (else 404: existence does not leak)."""
    if Role.carrier in principal.roles and principal.is_carrier(statement.carrier):
        return
    if principal.has(Role.station_manager, Role.admin) and principal.covers(statement.station):
        return
    raise not_found("statement")


def ensure_manager(principal: Principal, statement: Statement) -> None:
    if not (principal.has(Role.station_manager, Role.admin) and principal.covers(statement.station)):
        raise not_found("statement")


async def _visible(session: SessionDep, principal: Principal, statement_id: str, *, for_update: bool = False) -> Statement:
    statement = await service.get_statement(session=session, statement_id=statement_id, for_update=for_update)
    ensure_visible(principal, statement)
    return statement


def line_public(line: StatementLine, dispute_reason: str | None) -> LinePublic:
    assert line.id is not None
    return LinePublic(
        id=line.id,
        statement_id=line.statement_id,
        service=line.service,
        day=line.day,
        passenger_name=line.passenger_name,
        flight_no=line.flight_no,
        flight_date=line.flight_date,
        cabin=line.cabin,
        reference=line.reference,
        quantity=line.quantity,
        rate_minor=line.rate_minor,
        amount_minor=line.amount_minor,
        contract_id=line.contract_id,
        contract_version=line.contract_version,
        credit_for=line.credit_for,
        note=line.note,
        disputed=dispute_reason is not None,
        dispute_reason=dispute_reason,
    )


async def _summary(session: SessionDep, statement: Statement) -> StatementSummary:
    total = (
        statement.total_minor
        if statement.total_minor is not None
        else service.total_of((await service.totals(session=session, statement=statement))[0])
    )
    return StatementSummary.model_validate({**statement.model_dump(), "total_minor": total})


async def _public(session: SessionDep, statement: Statement, *, after: int | None = None, limit: int = 200) -> StatementPublic:
    per_service, line_count = await service.totals(session=session, statement=statement)
    page = await service.lines_page(session=session, statement_id=statement.id, after=after, limit=limit + 1)
    next_cursor = str(page[limit - 1][0].id) if len(page) > limit else None
    return StatementPublic.model_validate(
        {
            **statement.model_dump(),
            "total_minor": service.total_of(per_service),
            "totals": per_service,
            "line_count": line_count,
            "lines": [line_public(line, reason) for line, reason in page[:limit]],
            "lines_next_cursor": next_cursor,
            "refusals": [
                RefusalPublic.model_validate(refusal, from_attributes=True)
                for refusal in await service.refusals(session=session, statement=statement)
            ],
        }
    )


@router.get("", summary="List statements")
async def list_statements(
    session: SessionDep,
    principal: Reader,
    cursor: Annotated[Keyset, keyset(str, str)],
    carrier: Annotated[str | None, Query(pattern=CARRIER_PATTERN)] = None,
    station: StationCode | None = None,
    month: Annotated[str | None, Query(pattern=MONTH_PATTERN, description="The station's local month, YYYY-MM")] = None,
    limit: LimitQuery = 50,
) -> Page[StatementSummary]:
    """Statements by month: a manager's stations, a carrier token's own, admin every one."""
    stations = None if principal.has(Role.admin) else (principal.station_filter() if principal.has(Role.station_manager) else None)
    if not principal.has(Role.admin, Role.station_manager):
        carrier = principal.carrier  # a carrier token lists its own, whatever it asked
    found = await service.list_statements(
        session=session,
        carrier=carrier,
        station=station,
        month=month,
        stations=stations,
        after=cursor.after,
        limit=limit,  # type: ignore[arg-type]
    )
    kept, next_cursor = cursor.page(found, limit, lambda statement: (statement.month, statement.id))
    return Page(items=[await _summary(session, statement) for statement in kept], next_cursor=next_cursor)


@router.get("/{statement_id}", summary="Read a statement", response_model=StatementPublic, responses=CONDITIONAL_GET)
async def get_statement(
    statement_id: StatementId,
    session: SessionDep,
    principal: Reader,
    lines_cursor: Annotated[str | None, Query(pattern=r"^[0-9]{1,18}$", description="lines_next_cursor of the previous read")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Lines per page")] = 200,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """A statement with its totals per service, a page of its lines (disputes flagged) and the month's refusals; its
    ETag is the page's content (a draft changes as lines arrive)."""
    statement = await _visible(session, principal, statement_id)
    public = await _public(session, statement, after=int(lines_cursor) if lines_cursor else None, limit=limit)
    return conditional.answer(StatementPublic, public, if_none_match)


@router.get(
    "/{statement_id}/lines.csv",
    summary="Export a statement's lines as CSV",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "Every line, streamed"}},
)
async def lines_csv(statement_id: StatementId, session: SessionDep, db: DatabaseDep, principal: Reader) -> StreamingResponse:
    """Every line of the statement as CSV, streamed in batches: the whole month is never in memory."""
    statement = await _visible(session, principal, statement_id)
    await session.close()  # the stream reads in short sessions of its own
    currency = statement.currency

    async def rows() -> AsyncIterator[str]:
        yield csv_text([service.CSV_COLUMNS])
        async for batch in service.stream_lines(db=db, statement_id=statement.id):
            yield csv_text(service.csv_row(line, currency) for line in batch)

    filename = f"{statement.number or statement.id}.csv"
    return StreamingResponse(
        rows(), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@router.post("/{statement_id}/lines/{line_id}/dispute", summary="Dispute a line", status_code=201)
async def dispute_line(
    statement_id: StatementId, line_id: Annotated[int, Path(ge=1)], body: DisputeIn, session: SessionDep, principal: Reader
) -> LinePublic:
    """Flag a line as disputed (the carrier, or a manager on its behalf); the line stays as billed until a credit answers it."""
    statement = await _visible(session, principal, statement_id, for_update=True)
    line, reason = await service.dispute(session=session, statement=statement, line_id=line_id, reason=body.reason, actor=principal.sub)
    public = line_public(line, reason)
    await session.commit()
    return public


@router.post("/{statement_id}/credits", summary="Credit a disputed line", status_code=201)
async def credit_line(statement_id: StatementId, body: CreditIn, session: SessionDep, principal: Manager) -> LinePublic:
    """A negative line against a disputed one; on an issued statement it goes on the month's supplementary statement."""
    statement = await _visible(session, principal, statement_id, for_update=True)
    ensure_manager(principal, statement)
    line = await service.credit(session=session, statement=statement, body=body, actor=principal.sub)
    public = line_public(line, None)
    await session.commit()
    return public


@router.post("/{statement_id}/issue", summary="Issue a statement")
async def issue_statement(
    statement_id: StatementId, session: SessionDep, principal: Manager, body: IssueIn | None = None
) -> StatementPublic:
    """Number and freeze the draft once the station's month has ended (or before it, with early: true)."""
    statement = await _visible(session, principal, statement_id, for_update=True)
    ensure_manager(principal, statement)
    await service.issue(session=session, statement=statement, early=bool(body and body.early), actor=principal.sub)
    public = await _public(session, statement)
    await session.commit()
    return public


@router.post("/{statement_id}/payments", summary="Record a payment", status_code=201)
async def record_payment(statement_id: StatementId, body: PaymentIn, session: SessionDep, principal: Manager) -> StatementSummary:
    """A payment against an issued statement; paid in full, the statement is settled."""
    statement = await _visible(session, principal, statement_id, for_update=True)
    ensure_manager(principal, statement)
    await service.pay(session=session, statement=statement, body=body, actor=principal.sub)
    summary = await _summary(session, statement)
    await session.commit()
    return summary
