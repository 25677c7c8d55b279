"""Check-in and check-out: the rules at the door, capacity under concurrency, and the visit's events."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from airside.auth import Principal
from airside.copies import station_timezone
from airside.events import lounge as lounge_events
from airside.messaging.outbox import record
from airside.problems import conflict, invalid, not_found
from airside.statements import insert_ignoring_duplicates
from lounge.access import may_see_visit
from lounge.carriers import service as carriers
from lounge.carriers.service import LoungeContract
from lounge.flights.models import Flight, normal_flight_no
from lounge.lounges.models import Lounge
from lounge.members.models import Member
from lounge.orders import service as orders
from lounge.orders.models import ExpectedVisit
from lounge.refusals.models import EntryRefusal
from lounge.refusals.service import NotEntitled
from lounge.sales import service as sales
from lounge.sales.models import BillPublic, SaleRequest
from lounge.stations import Station
from lounge.visits import bcbp, rules
from lounge.visits.models import BoardRow, CheckIn, Entitlement, LoungeOccupancy, Occupancy, Visit, VisitFlight, VisitPublic, VisitStatus


@dataclass
class Arrival:
    """Who is at the desk and for which flight, whichever way they were identified."""

    flight_no: str
    flight_date: date
    member: Member | None = None
    order: ExpectedVisit | None = None
    passenger_name: str | None = None
    carrier: str | None = None  # the boarding pass's operating carrier and compartment code
    cabin: str | None = None
    frequent_flyer_airline: str | None = None  # the leg's frequent-flyer items, and the tier the desk read
    frequent_flyer_number: str | None = None
    frequent_flyer_tier: str | None = None


async def local_today(session: AsyncSession, station: str, now: datetime) -> date:
    return now.astimezone(ZoneInfo(await station_timezone(session, Station, station))).date()


@contextmanager
def boarding_pass_problems() -> Iterator[None]:
    """A boarding pass that does not parse is a 422 naming the item at fault."""
    try:
        yield
    except bcbp.BcbpError as error:
        raise invalid("body.boarding_pass", str(error), "boarding_pass") from error


async def _member(session: AsyncSession, member_id: str) -> Member:
    member = await session.get(Member, member_id)
    if member is None:
        raise not_found("member")
    return member


async def _identify(session: AsyncSession, lounge: Lounge, body: CheckIn, now: datetime) -> Arrival:
    if body.order_id is not None:
        order = await session.get(ExpectedVisit, body.order_id)
        if order is None or not order.expected:
            raise conflict("not_entitled", f"no lounge visit is expected for order {body.order_id}")
        if order.station != lounge.station:
            raise conflict("not_entitled", f"order {order.order_ref} is for station {order.station}, not {lounge.station}")
        member = await session.get(Member, order.member_id)
        return Arrival(order.flight_no, order.flight_date, member=member, order=order)
    if body.flight is not None:
        assert body.member_id is not None
        member = await _member(session, body.member_id)
        flight_no = normal_flight_no(body.flight.carrier, body.flight.number)
        order = await orders.expected_for(session=session, member_id=member.id, flight_no=flight_no, flight_date=body.flight.flight_date)
        return Arrival(flight_no, body.flight.flight_date, member=member, order=order)
    assert body.boarding_pass is not None
    with boarding_pass_problems():
        boarding_pass = bcbp.parse(body.boarding_pass)
        leg = boarding_pass.leg_from(lounge.station)
        if leg is None:
            raise conflict("not_entitled", f"no leg of this boarding pass departs from {lounge.station}")
        flight_date = bcbp.infer_date(leg.day_of_year, await local_today(session, lounge.station, now))
    arrival = Arrival(
        leg.flight_no,
        flight_date,
        passenger_name=boarding_pass.passenger_name,
        carrier=leg.carrier,
        cabin=leg.compartment,
        frequent_flyer_airline=leg.frequent_flyer_airline,
        frequent_flyer_number=leg.frequent_flyer_number,
        frequent_flyer_tier=body.frequent_flyer_tier,
    )
    if body.member_id is not None:
        arrival.member = await _member(session, body.member_id)
    else:
        arrival.member = await _member_by_name(session, boarding_pass.passenger_name, leg.flight_no, flight_date)
    if arrival.member is not None:
        arrival.order = await orders.expected_for(
            session=session, member_id=arrival.member.id, flight_no=leg.flight_no, flight_date=flight_date
        )
    return arrival


async def _member_by_name(session: AsyncSession, name: str, flight_no: str, flight_date: date) -> Member | None:
    """The member with an order on this flight whose name is on the pass, when exactly one is."""
    matches = set()
    for order in await orders.expected_on_flight(session=session, flight_no=flight_no, flight_date=flight_date):
        member = await session.get(Member, order.member_id)
        if member is not None and rules.names_match(name, member.name):
            matches.add(member.id)
    return await session.get(Member, matches.pop()) if len(matches) == 1 else None


async def check_in(*, session: AsyncSession, lounge: Lounge, body: CheckIn, now: datetime) -> Visit:
    timezone = await station_timezone(session, Station, lounge.station)
    if not rules.is_open(lounge.opens, lounge.closes, now, timezone):
        raise conflict("closed", f"{lounge.name} is open {lounge.opens:%H:%M}-{lounge.closes:%H:%M} local time")
    arrival = await _identify(session, lounge, body, now)
    flight = await session.get(Flight, (arrival.flight_no, arrival.flight_date))
    if flight is None:
        raise conflict("unknown_flight", f"{arrival.flight_no} on {arrival.flight_date} is not a flight lounge knows")
    if (refusal := rules.departure_refusal(flight, lounge.station, now)) is not None:
        raise conflict("not_entitled", refusal)
    member, order = arrival.member, arrival.order
    tier = member.tier if member is not None else None
    contract = await _carrier_contract(session, lounge, arrival, now) if order is None else None
    by_cabin = contract is not None and contract.covers_cabin(arrival.cabin)
    tier_covered = None if contract is None or by_cabin else contract.frequent_flyer_tier_covered(**_frequent_flyer(arrival))
    carrier_pays = by_cabin or tier_covered is not None
    if contract is not None and not carrier_pays and member is None:
        raise _refusal(lounge, arrival, contract, now)
    entitlement = rules.entitlement_for(has_order=order is not None, carrier_pays=carrier_pays, tier=tier)
    free = rules.free_guests(
        entitlement=entitlement,
        tier=tier,
        order_passengers=order.passengers if order else 1,
        carrier_allowance=contract.cover.guests_allowed if contract is not None else 0,
    )
    guests = body.guests if body.guests is not None else (order.passengers - 1 if order else 0)
    who = f"member:{member.id}" if member is not None else f"name:{arrival.passenger_name}"
    open_key = f"{who}|{flight.flight_no}|{flight.flight_date.isoformat()}"
    if (await session.execute(select(Visit.id).where(Visit.open_key == open_key))).first() is not None:
        raise conflict("already_checked_in", f"already checked in for {flight.flight_no}")
    await _take_places(session, lounge, 1 + guests)
    visit = Visit(
        id=str(uuid.uuid4()),
        lounge_id=lounge.id,
        station=lounge.station,
        member_id=member.id if member else None,
        order_id=order.order_id if order else None,
        passenger_name=arrival.passenger_name or (member.name if member else None),
        flight_no=flight.flight_no,
        flight_date=flight.flight_date,
        guests=guests,
        free_guests=min(free, guests),
        entitlement=entitlement.value,
        status=VisitStatus.checked_in.value,
        checked_in_at=now,
        boarding_call_at=rules.boarding_call_at(flight, lounge.boarding_call_minutes),
        open_key=open_key,
        bill_id=str(uuid.uuid4()),
        payer=rules.payer_of(entitlement, is_member=member is not None).value,
        **(
            _carrier_terms(arrival, contract, guests=guests, free=free, tier_covered=tier_covered)
            if carrier_pays and contract is not None
            else {}
        ),
    )
    session.add(visit)
    try:
        await session.flush()
    except IntegrityError as error:  # a concurrent check-in of the same member and flight won
        raise conflict("already_checked_in", f"already checked in for {flight.flight_no}") from error
    charges = rules.entry_charges(lounge, entitlement=entitlement, guests=guests, free=free)
    await sales.open_bill(session=session, visit=visit, charges=charges, now=now)
    record(session, lounge_events.visit_checked_in, lounge_events.VisitEvent(visit=snapshot(visit)), subject=visit.id)
    return visit


async def _carrier_contract(session: AsyncSession, lounge: Lounge, arrival: Arrival, now: datetime) -> LoungeContract | None:
    """The lounge contract of the boarding pass's carrier at this station, valid on today's local day."""
    if arrival.carrier is None:
        return None
    today = await local_today(session, lounge.station, now)
    return await carriers.lounge_contract_at(session=session, carrier=arrival.carrier, station=lounge.station, day=today, now=now)


def _frequent_flyer(arrival: Arrival) -> dict[str, str | None]:
    return {"airline": arrival.frequent_flyer_airline, "number": arrival.frequent_flyer_number, "tier": arrival.frequent_flyer_tier}


def _carrier_terms(arrival: Arrival, held: LoungeContract, *, guests: int, free: int, tier_covered: str | None) -> dict[str, object]:
    """What a carrier-paid visit keeps of the contract in force at check-in: later terms never change it. The
    carrier pays for guests up to its allowance; a member's tier may let more in free; the rest are billed.
    Entered on a frequent-flyer tier rather than the cabin: the term's tier and the pass's number, for the carrier to check."""
    carrier_paid = min(held.cover.guests_allowed, guests)
    return {
        "frequent_flyer_tier": tier_covered,
        "frequent_flyer_number": arrival.frequent_flyer_number if tier_covered is not None else None,
        "carrier": arrival.carrier,
        "contract_id": held.contract.id,
        "contract_version": held.term.version,
        "rate_minor": held.cover.rate_minor,
        "currency": held.contract.currency,
        "cabin": arrival.cabin,
        "guests_carrier_paid": carrier_paid,
        "guests_billed": guests - min(free, guests),
        "complimentary_menu": held.cover.complimentary_menu,
    }


def _refusal(lounge: Lounge, arrival: Arrival, held: LoungeContract, now: datetime) -> NotEntitled:
    """A carrier's passenger its contract does not cover, with no membership: turned away, and recorded so."""
    cabin = arrival.cabin or "none"
    refusal = EntryRefusal(
        lounge_id=lounge.id,
        station=lounge.station,
        carrier=held.contract.carrier,
        contract_id=held.contract.id,
        flight_no=arrival.flight_no,
        flight_date=arrival.flight_date,
        cabin=arrival.cabin,
        passenger_name=arrival.passenger_name or "",
        refused_at=now,
    )
    carrier = held.contract.carrier
    detail = f"{carrier}'s contract at {lounge.station} does not cover cabin {cabin}"
    if (tier := arrival.frequent_flyer_tier) is not None:
        if held.carries_own_number(airline=arrival.frequent_flyer_airline, number=arrival.frequent_flyer_number):
            detail += f" nor frequent-flyer tier {tier}"
        else:  # the tier alone proves nothing: the pass must carry the carrier's own programme number
            detail += f"; tier {tier} was stated, but the boarding pass carries no {carrier} frequent-flyer number"
    return NotEntitled(refusal, f"{detail}, and no membership was found")


async def _take_places(session: AsyncSession, lounge: Lounge, places: int) -> None:
    """Raise the occupancy counter only while it stays within capacity: one conditional UPDATE, which
    PostgreSQL serialises on the counter row and SQLite on its single writer. A lounge's first
    check-ins create the counter: concurrent ones insert it once, the others find it there."""
    await insert_ignoring_duplicates(session, LoungeOccupancy, {"lounge_id": lounge.id, "occupied": 0})
    taken = await session.execute(
        update(LoungeOccupancy)
        .where(LoungeOccupancy.lounge_id == lounge.id, LoungeOccupancy.occupied + places <= lounge.capacity)  # type: ignore[arg-type]
        .values(occupied=LoungeOccupancy.occupied + places)
    )
    if not taken.rowcount:  # type: ignore[attr-defined]
        raise conflict("lounge_full", f"{lounge.name} has no room for {places} more (capacity {lounge.capacity})")


async def _free_places(session: AsyncSession, lounge_id: str, places: int) -> None:
    await session.execute(
        update(LoungeOccupancy)
        .where(LoungeOccupancy.lounge_id == lounge_id, LoungeOccupancy.occupied >= places)  # type: ignore[arg-type]
        .values(occupied=LoungeOccupancy.occupied - places)
    )


async def occupied(session: AsyncSession, lounge_id: str) -> int:
    row = await session.get(LoungeOccupancy, lounge_id, populate_existing=True)
    return row.occupied if row is not None else 0


async def occupancy(session: AsyncSession, lounge: Lounge) -> Occupancy:
    """How many guests the lounge holds now, against its capacity (the occupancy route and the board's feed)."""
    held = await occupied(session, lounge.id)
    return Occupancy(capacity=lounge.capacity, occupied=held, available=max(lounge.capacity - held, 0))


async def occupancy_of(session: AsyncSession, lounge_id: str) -> Occupancy | None:
    lounge = await session.get(Lounge, lounge_id)
    return None if lounge is None else await occupancy(session, lounge)


async def check_out(*, session: AsyncSession, visit: Visit, payment_method: str | None, now: datetime, automatic: bool = False) -> Visit:
    """Settle the bill and free the places. When the flight leaves without the guest having paid,
    a member's balance goes to their account and a walk-in's bill stays unsettled."""
    # The bill first: a sale or void in flight on another connection commits before the total is read.
    await sales.hold_open_bill(session, visit.bill_id, "already_checked_out", "this visit is already checked out")
    due = await sales.amount_due(session=session, bill_id=visit.bill_id)
    if payment_method == "member_account" and visit.member_id is None:
        raise invalid("body.payment_method", "a walk-in has no member account")
    if due and payment_method is None:
        if not automatic:
            raise invalid("body.payment_method", f"{due} is to pay: choose cash, card or member_account", "missing")
        payment_method = "member_account" if visit.member_id else None
    closed = await session.execute(
        update(Visit)
        .where(Visit.id == visit.id, Visit.status == VisitStatus.checked_in.value)  # type: ignore[arg-type]
        .values(status=VisitStatus.checked_out.value, checked_out_at=now, open_key=None, version=Visit.version + 1)
    )
    if not closed.rowcount:  # type: ignore[attr-defined]
        raise conflict("already_checked_out", "this visit is already checked out")
    await session.refresh(visit)
    await _free_places(session, visit.lounge_id, 1 + visit.guests)
    bill = await sales.close_bill(
        session=session, visit=visit, payment_method=payment_method if due else None, settle=not due or payment_method is not None, now=now
    )
    record(session, lounge_events.visit_checked_out, lounge_events.VisitEvent(visit=snapshot(visit)), subject=visit.id)
    await sales.record_completed(session=session, visit=visit, bill=bill, snapshot=snapshot(visit))
    return visit


async def add_sales(*, session: AsyncSession, visit: Visit, body: SaleRequest, now: datetime) -> BillPublic:
    """Bar sales on the guest's bill, taking the lounge's stock."""
    lounge = await session.get(Lounge, visit.lounge_id)
    assert lounge is not None
    free = rules.complimentary_items_free(Entitlement(visit.entitlement), complimentary_menu=visit.complimentary_menu)
    return await sales.add_sales(session=session, visit=visit, lounge=lounge, body=body, complimentary_free=free, now=now)


def snapshot(visit: Visit) -> lounge_events.VisitSnapshot:
    return lounge_events.VisitSnapshot.model_validate(visit, from_attributes=True)


async def public(session: AsyncSession, visit: Visit) -> VisitPublic:
    flight = await session.get(Flight, (visit.flight_no, visit.flight_date))
    return VisitPublic(
        **visit.model_dump(exclude={"flight_no", "flight_date", "boarding_call_sent_for", "open_key"}),
        flight=flight_view(visit, flight),
    )


def flight_view(visit: Visit, flight: Flight | None) -> VisitFlight:
    if flight is None:
        return VisitFlight(flight_no=visit.flight_no, flight_date=visit.flight_date)
    return VisitFlight.model_validate(flight, from_attributes=True)


async def visit_to_see(*, session: AsyncSession, principal: Principal, visit_id: str) -> Visit:
    """A visit the caller may read (staff of its station, or the member it is for); any other is not found."""
    visit = await session.get(Visit, visit_id)
    if visit is None or not may_see_visit(principal, visit.station, visit.member_id):
        raise not_found("visit")
    return visit


async def visit_to_work_on(*, session: AsyncSession, principal: Principal, visit_id: str) -> Visit:
    """A visit of the caller's stations, for the desk to change; any other is not found."""
    visit = await session.get(Visit, visit_id)
    if visit is None or not principal.covers(visit.station):
        raise not_found("visit")
    return visit


async def list_visits(
    *, session: AsyncSession, lounge_id: str, status: VisitStatus | None, after: tuple[datetime, str] | None, limit: int
) -> list[Visit]:
    """The lounge's visits, newest check-in first; keyset after `after`, one row past the page."""
    query = select(Visit).where(Visit.lounge_id == lounge_id).order_by(Visit.checked_in_at.desc(), Visit.id.desc()).limit(limit + 1)  # type: ignore[attr-defined]
    if after is not None:
        query = query.where(tuple_(Visit.checked_in_at, Visit.id) < tuple_(*after))
    if status is not None:
        query = query.where(Visit.status == status.value)
    return list((await session.execute(query)).scalars())


NO_CALL = datetime.max.replace(tzinfo=UTC)  # where a visit without a boarding call sits on the board


async def board(*, session: AsyncSession, lounge: Lounge) -> list[BoardRow]:
    """The reception screen: open visits with flight, gate and boarding call time, soonest call first."""
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
                flight=flight_view(visit, flight),
                boarding_call_at=visit.boarding_call_at,
                boarding_call_sent=visit.boarding_call_sent_for is not None and visit.boarding_call_sent_for == visit.boarding_call_at,
            )
        )
    return sorted(rows, key=board_position)


def board_position(row: BoardRow) -> tuple[bool, datetime, str]:
    """Soonest boarding call first, the visits without one last: the board's order and its cursor."""
    return (row.boarding_call_at is None, row.boarding_call_at or NO_CALL, row.visit_id)
