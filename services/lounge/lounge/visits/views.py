from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from airside import clock
from airside.db import SessionDep
from airside.idempotency import IdempotencyDep
from airside.problems import forbidden, not_found
from lounge.access import LoungeDesk, Staff, VisitReader, lounge_to_create_at, lounge_to_see, may_see_visit
from lounge.flights.models import Flight
from lounge.lounges.models import Lounge
from lounge.members.models import Member
from lounge.sales import service as sales
from lounge.sales.models import BillPublic
from lounge.visits import bcbp, service
from lounge.visits.models import (
    BoardingPassScan,
    BoardRow,
    CheckIn,
    Checkout,
    Occupancy,
    ScannedBoardingPass,
    ScannedLeg,
    Visit,
    VisitPublic,
    VisitStatus,
)

router = APIRouter(tags=["visits"])


class CheckedOut(VisitPublic):
    bill: BillPublic


@router.post("/v1/lounges/{lounge_id}/visits", status_code=201)
async def check_in(lounge_id: str, body: CheckIn, session: SessionDep, principal: LoungeDesk, idempotency: IdempotencyDep) -> VisitPublic:
    lounge = await lounge_to_create_at(session, principal, lounge_id)

    async def act() -> VisitPublic:
        visit = await service.check_in(session=session, lounge=lounge, body=body, now=clock.now())
        return await service.public(session, visit)

    return await idempotency.execute(session, act, status_code=201)  # type: ignore[return-value]


@router.get("/v1/lounges/{lounge_id}/visits")
async def list_visits(
    lounge_id: str,
    session: SessionDep,
    principal: VisitReader,
    status: VisitStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[VisitPublic]:
    if principal.is_member_only:
        raise forbidden("members see their own visits one by one")
    await lounge_to_see(session, principal, lounge_id)
    query = select(Visit).where(Visit.lounge_id == lounge_id).order_by(Visit.checked_in_at.desc(), Visit.id).limit(limit)  # type: ignore[attr-defined]
    if status is not None:
        query = query.where(Visit.status == status.value)
    return [await service.public(session, visit) for visit in (await session.execute(query)).scalars()]


async def _visit_to_see(session: SessionDep, principal: VisitReader, visit_id: str) -> Visit:
    visit = await session.get(Visit, visit_id)
    if visit is None or not may_see_visit(principal, visit.station, visit.member_id):
        raise not_found("visit")
    return visit


@router.get("/v1/visits/{visit_id}")
async def get_visit(visit_id: str, session: SessionDep, principal: VisitReader) -> VisitPublic:
    return await service.public(session, await _visit_to_see(session, principal, visit_id))


@router.get("/v1/visits/{visit_id}/bill")
async def get_bill(visit_id: str, session: SessionDep, principal: VisitReader) -> BillPublic:
    visit = await _visit_to_see(session, principal, visit_id)
    return await sales.bill_public(session, visit.bill_id)


@router.post("/v1/visits/{visit_id}/checkout")
async def check_out(
    visit_id: str, session: SessionDep, principal: LoungeDesk, idempotency: IdempotencyDep, body: Checkout | None = None
) -> CheckedOut:
    visit = await session.get(Visit, visit_id)
    if visit is None or not principal.covers(visit.station):
        raise not_found("visit")

    async def act() -> CheckedOut:
        closed = await service.check_out(
            session=session, visit=visit, payment_method=body.payment_method if body else None, now=clock.now()
        )
        return CheckedOut(**(await service.public(session, closed)).model_dump(), bill=await sales.bill_public(session, closed.bill_id))

    return await idempotency.execute(session, act)  # type: ignore[return-value]


@router.get("/v1/lounges/{lounge_id}/occupancy")
async def occupancy(lounge_id: str, session: SessionDep, principal: Staff) -> Occupancy:
    lounge = await lounge_to_see(session, principal, lounge_id)
    occupied = await service.occupied(session, lounge.id)
    return Occupancy(capacity=lounge.capacity, occupied=occupied, available=max(lounge.capacity - occupied, 0))


@router.get("/v1/lounges/{lounge_id}/board")
async def board(lounge_id: str, session: SessionDep, principal: Staff) -> list[BoardRow]:
    """The reception screen: open visits with flight, gate and boarding call time, soonest first."""
    lounge: Lounge = await lounge_to_see(session, principal, lounge_id)
    query = select(Visit).where(Visit.lounge_id == lounge.id, Visit.status == VisitStatus.checked_in.value)  # type: ignore[arg-type]
    rows = []
    for visit in (await session.execute(query)).scalars():
        flight = await session.get(Flight, (visit.flight_no, visit.flight_date))
        member = await session.get(Member, visit.member_id) if visit.member_id else None
        rows.append(
            BoardRow(
                visit_id=visit.id,
                member_id=visit.member_id,
                name=member.name if member else visit.passenger_name,
                guests=visit.guests,
                flight=service.flight_view(visit, flight),
                boarding_call_at=visit.boarding_call_at,
                boarding_call_sent=visit.boarding_call_sent_for is not None and visit.boarding_call_sent_for == visit.boarding_call_at,
            )
        )
    far_future = "9999"
    return sorted(rows, key=lambda row: (row.boarding_call_at.isoformat() if row.boarding_call_at else far_future, row.visit_id))


@router.post("/v1/boarding-passes/decode")
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
            )
            for leg in boarding_pass.legs
        ]
    return ScannedBoardingPass(passenger_name=boarding_pass.passenger_name, electronic_ticket=boarding_pass.electronic_ticket, legs=legs)
