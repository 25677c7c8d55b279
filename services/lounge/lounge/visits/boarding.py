"""Boarding calls, flight changes and the automatic check-out when a guest's flight departs.

`visit.boarding_call_due` goes out once per boarding call time: a replica claims a visit with a
conditional UPDATE (boarding_call_sent_for differs from the current boarding_call_at) in the same
transaction that records the event, so a second replica or a restarted one finds nothing left.
When the time moves, the claim opens again.
"""

from datetime import datetime

from sqlalchemy import Exists, and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from airside import clock
from airside.events import lounge as lounge_events
from airside.events.common import FlightStatus
from airside.messaging.outbox import record
from lounge.flights.models import Flight
from lounge.flights.service import FlightChange
from lounge.lounges.models import Lounge
from lounge.visits import rules, service
from lounge.visits.models import Visit, VisitStatus

BATCH = 100


def _flight_cancelled() -> Exists:
    """A cancelled flight will not board: no boarding call; the guest stays until reception checks them out.
    Should the airline reinstate the flight, the call goes out after all."""
    return exists().where(
        Flight.flight_no == Visit.flight_no,  # type: ignore[arg-type]
        Flight.flight_date == Visit.flight_date,  # type: ignore[arg-type]
        Flight.status == FlightStatus.cancelled.value,  # type: ignore[arg-type]
    )


async def send_due_calls(*, session: AsyncSession, now: datetime) -> int:
    due = (
        await session.execute(
            select(Visit.id, Visit.boarding_call_at)
            .where(
                Visit.status == VisitStatus.checked_in.value,  # type: ignore[arg-type]
                Visit.boarding_call_at <= now,  # type: ignore[operator]
                or_(Visit.boarding_call_sent_for.is_(None), Visit.boarding_call_sent_for != Visit.boarding_call_at),  # type: ignore[union-attr]
                ~_flight_cancelled(),
            )
            .order_by(Visit.boarding_call_at)  # type: ignore[arg-type]
            .limit(BATCH)
        )
    ).all()
    sent = 0
    for visit_id, call_at in due:
        claimed = await session.execute(
            update(Visit)
            .where(
                Visit.id == visit_id,  # type: ignore[arg-type]
                Visit.status == VisitStatus.checked_in.value,  # type: ignore[arg-type]
                Visit.boarding_call_at == call_at,  # type: ignore[arg-type]
                or_(Visit.boarding_call_sent_for.is_(None), Visit.boarding_call_sent_for != call_at),  # type: ignore[union-attr]
                ~_flight_cancelled(),
            )
            .values(boarding_call_sent_for=call_at)
        )
        if not claimed.rowcount:  # type: ignore[attr-defined]
            continue  # another replica called this guest, or the time moved meanwhile
        visit = await session.get(Visit, visit_id, populate_existing=True)
        assert visit is not None
        record(session, lounge_events.visit_boarding_call_due, lounge_events.VisitEvent(visit=service.snapshot(visit)), subject=visit.id)
        sent += 1
    return sent


async def on_flight_change(*, session: AsyncSession, change: FlightChange) -> None:
    """Move the open visits' boarding calls and tell reception; check guests out once the flight departed."""
    flight = change.flight
    visits = list(
        (
            await session.execute(
                select(Visit).where(
                    Visit.flight_no == flight.flight_no,  # type: ignore[arg-type]
                    Visit.flight_date == flight.flight_date,  # type: ignore[arg-type]
                    Visit.status == VisitStatus.checked_in.value,  # type: ignore[arg-type]
                )
            )
        ).scalars()
    )
    for visit in visits:
        lounge = await session.get(Lounge, visit.lounge_id)
        assert lounge is not None
        # The call follows the departure first, also when the news is that the flight left: a delay that
        # arrives late (or was skipped for newer news) leaves the visit as in-order delivery does.
        await move_call(session=session, visit=visit, flight=flight, lounge=lounge, old_departure=change.old_departure)
        if flight.atd is not None or flight.status in ("departed", "arrived"):
            await service.check_out(session=session, visit=visit, payment_method=None, now=clock.now(), automatic=True)


async def move_call(*, session: AsyncSession, visit: Visit, flight: Flight, lounge: Lounge, old_departure: datetime | None) -> None:
    new_call = rules.boarding_call_at(flight, lounge.boarding_call_minutes)
    if new_call is None or new_call == visit.boarding_call_at:
        return
    visit.boarding_call_at = new_call
    visit.version += 1
    await session.flush()
    reference = flight.std or old_departure
    delay = round((flight.departure - reference).total_seconds() / 60) if flight.departure and reference else 0
    record(
        session,
        lounge_events.visit_flight_changed,
        lounge_events.VisitFlightChanged(visit=service.snapshot(visit), new_etd=flight.etd, delay_minutes=delay),
        subject=visit.id,
    )


async def on_lounge_change(*, session: AsyncSession, lounge: Lounge) -> None:
    """boarding_call_minutes changed: each open visit's call is (etd or std) - the new minutes; a moved call goes out again."""
    open_visits = await session.execute(
        select(Visit, Flight)
        .join(Flight, and_(Flight.flight_no == Visit.flight_no, Flight.flight_date == Visit.flight_date))  # type: ignore[arg-type]
        .where(Visit.lounge_id == lounge.id, Visit.status == VisitStatus.checked_in.value)  # type: ignore[arg-type]
    )
    for visit, flight in open_visits.all():
        new_call = rules.boarding_call_at(flight, lounge.boarding_call_minutes)
        if new_call is not None and new_call != visit.boarding_call_at:
            visit.boarding_call_at = new_call
            visit.version += 1
    await session.flush()
