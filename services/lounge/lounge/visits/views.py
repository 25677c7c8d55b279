from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import AwareDatetime, ConfigDict

from airside import clock, conditional
from airside.conditional import CONDITIONAL_GET, IfNoneMatch
from airside.db.dependencies import SessionDep
from airside.idempotency import IdempotencyDep
from airside.pagination import Keyset, LimitQuery, Page, keyset
from airside.problems import forbidden
from airside.types import RecordId
from lounge.access import LoungeDesk, Staff, VisitReader
from lounge.lounges.service import lounge_to_create_at, lounge_to_see
from lounge.refusals import service as refusals
from lounge.refusals.service import NotEntitled
from lounge.sales import service as sales
from lounge.sales.models import BILL_EXAMPLE, BillPublic, SaleRequest
from lounge.visits import bcbp, service
from lounge.visits.models import (
    VISIT_EXAMPLE,
    BoardingPassScan,
    BoardRow,
    CheckIn,
    Checkout,
    Occupancy,
    ScannedBoardingPass,
    ScannedLeg,
    VisitPublic,
    VisitStatus,
)
from lounge.visits.service import board_position

router = APIRouter(tags=["visits"])


class CheckedOut(VisitPublic):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **VISIT_EXAMPLE,
                    "status": "checked_out",
                    "checked_out_at": "2026-12-24T00:05:00Z",
                    "version": 2,
                    "bill": {**BILL_EXAMPLE, "status": "settled", "payment_method": "card"},
                }
            ]
        }
    )

    bill: BillPublic


@router.post("/v1/lounges/{lounge_id}/visits", summary="Check a guest in at a lounge", status_code=201)
async def check_in(lounge_id: str, body: CheckIn, session: SessionDep, principal: LoungeDesk, idempotency: IdempotencyDep) -> VisitPublic:
    """Check a guest in, by order or boarding pass; refused when the lounge is full, closed or the guest is not entitled."""
    lounge = await lounge_to_create_at(session, principal, lounge_id)

    async def act() -> VisitPublic:
        visit = await service.check_in(session=session, lounge=lounge, body=body, now=clock.now())
        return await service.public(session, visit)

    try:
        return await idempotency.execute(session, act, status_code=201)  # type: ignore[return-value]
    except NotEntitled as refused:  # the check-in rolled back; the refusal and its event commit on their own
        await refusals.record_refusal(session=session, refusal=refused.refusal)
        await session.commit()
        raise


@router.get("/v1/lounges/{lounge_id}/visits", summary="List a lounge's visits")
async def list_visits(
    lounge_id: str,
    session: SessionDep,
    principal: VisitReader,
    cursor: Annotated[Keyset, keyset(AwareDatetime, RecordId)],
    status: VisitStatus | None = None,
    limit: LimitQuery = 200,
) -> Page[VisitPublic]:
    """A lounge's visits, by status."""
    if principal.is_member_only:
        raise forbidden("members see their own visits one by one")
    await lounge_to_see(session, principal, lounge_id)
    rows = await service.list_visits(session=session, lounge_id=lounge_id, status=status, after=cursor.after, limit=limit)
    visits, next_cursor = cursor.page(rows, limit, lambda visit: (visit.checked_in_at, visit.id))
    return Page(items=[await service.public(session, visit) for visit in visits], next_cursor=next_cursor)


@router.get("/v1/visits/{visit_id}", summary="Read a visit", response_model=VisitPublic, responses=CONDITIONAL_GET)
async def get_visit(visit_id: str, session: SessionDep, principal: VisitReader, if_none_match: IfNoneMatch = None) -> Response:
    """The visit with its flight as lounge holds it: the ETag is the body's, so a gate change is a new one."""
    visit = await service.visit_to_see(session=session, principal=principal, visit_id=visit_id)
    return conditional.answer(VisitPublic, await service.public(session, visit), if_none_match)


@router.get("/v1/visits/{visit_id}/bill", summary="Read a visit's bill")
async def get_bill(visit_id: str, session: SessionDep, principal: VisitReader) -> BillPublic:
    """A visit's bill: its sale lines and totals."""
    visit = await service.visit_to_see(session=session, principal=principal, visit_id=visit_id)
    return await sales.bill_public(session, visit.bill_id)


@router.post("/v1/visits/{visit_id}/checkout", summary="Check a guest out and settle the bill")
async def check_out(
    visit_id: str, session: SessionDep, principal: LoungeDesk, idempotency: IdempotencyDep, body: Checkout | None = None
) -> CheckedOut:
    """Check a guest out and settle the bill with a payment method."""
    visit = await service.visit_to_work_on(session=session, principal=principal, visit_id=visit_id)

    async def act() -> CheckedOut:
        closed = await service.check_out(
            session=session, visit=visit, payment_method=body.payment_method if body else None, now=clock.now()
        )
        return CheckedOut(**(await service.public(session, closed)).model_dump(), bill=await sales.bill_public(session, closed.bill_id))

    return await idempotency.execute(session, act)  # type: ignore[return-value]


@router.post("/v1/visits/{visit_id}/sales", summary="Sell items on a visit's bill", status_code=201)
async def add_sales(
    visit_id: str, body: SaleRequest, session: SessionDep, principal: LoungeDesk, idempotency: IdempotencyDep
) -> BillPublic:
    """Put sales on a visit's open bill; stock is taken at once."""
    visit = await service.visit_to_work_on(session=session, principal=principal, visit_id=visit_id)

    async def act() -> BillPublic:
        return await service.add_sales(session=session, visit=visit, body=body, now=clock.now())

    return await idempotency.execute(session, act, status_code=201)  # type: ignore[return-value]


@router.get("/v1/lounges/{lounge_id}/occupancy", summary="Read a lounge's occupancy")
async def occupancy(lounge_id: str, session: SessionDep, principal: Staff) -> Occupancy:
    """How many guests a lounge holds now, against its capacity."""
    lounge = await lounge_to_see(session, principal, lounge_id)
    return await service.occupancy(session, lounge)


@router.get("/v1/lounges/{lounge_id}/board", summary="Read the reception board", response_model=Page[BoardRow], responses=CONDITIONAL_GET)
async def board(
    lounge_id: str,
    session: SessionDep,
    principal: Staff,
    cursor: Annotated[Keyset, keyset(bool, AwareDatetime, RecordId)],
    limit: LimitQuery = 200,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """The reception screen: open visits with flight, gate and boarding call time, soonest first.

    The screen polls with If-None-Match and gets 304 while the page reads the same: its ETag is the body's hash."""
    rows = await service.board(session=session, lounge=await lounge_to_see(session, principal, lounge_id))
    called, next_cursor = cursor.page_of(rows, limit, board_position)
    return conditional.answer(Page[BoardRow], Page(items=called, next_cursor=next_cursor), if_none_match)


@router.post("/v1/boarding-passes/decode", summary="Read a scanned boarding pass")
async def decode_boarding_pass(body: BoardingPassScan, session: SessionDep, _principal: LoungeDesk) -> ScannedBoardingPass:
    """What the reception tablet scanned, read as check-in reads it, so the desk sees it before checking anyone in."""
    now = clock.now()
    with service.boarding_pass_problems():
        boarding_pass = bcbp.parse(body.boarding_pass)
        legs = [
            ScannedLeg(
                pnr=leg.pnr,
                origin=leg.origin,
                destination=leg.destination,
                carrier=leg.carrier,
                number=leg.number,
                flight_no=leg.flight_no,
                day_of_year=leg.day_of_year,
                flight_date=bcbp.infer_date(leg.day_of_year, await service.local_today(session, leg.origin, now)),
                compartment=leg.compartment,
                seat=leg.seat,
                sequence=leg.check_in_sequence,
                passenger_status=leg.passenger_status,
                frequent_flyer_airline=leg.frequent_flyer_airline,
                frequent_flyer_number=leg.frequent_flyer_number,
            )
            for leg in boarding_pass.legs
        ]
    return ScannedBoardingPass(passenger_name=boarding_pass.passenger_name, electronic_ticket=boarding_pass.electronic_ticket, legs=legs)
