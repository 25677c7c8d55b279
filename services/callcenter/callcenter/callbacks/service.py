"""Callbacks (回访): scheduled from order events only, called inside calling hours, with outcomes.

One callback per order and purpose (a unique key plus a check), however often the event arrives.
A reached call or the member's own survey with CSAT ≤ 2 opens a complaint linked to the order.
"""

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from airside import clock
from airside.auth import Principal
from airside.copies import station_timezone
from airside.db.rows import row_instance
from airside.events import booking as booking_events
from airside.events import callcenter as cc_events
from airside.messaging.outbox import record
from airside.problems import conflict, invalid, not_found
from airside.statements import insert_ignoring_duplicates
from airside.versioning import bump_version
from callcenter.agents.models import Agent
from callcenter.business_time import next_calling_window, within_calling_hours
from callcenter.callbacks.models import (
    MAX_ATTEMPTS,
    AttemptCreate,
    Callback,
    CallbackAttempt,
    CallbackStatus,
    CsatScore,
    Outcome,
    Purpose,
    SurveyCreate,
    SurveyPublic,
)
from callcenter.copies import OrderCopy
from callcenter.stations import Station
from callcenter.tickets import service as tickets
from callcenter.tickets.models import Channel, TicketCreate, TicketOrigin, TicketType

DUE_WITHIN = {Purpose.service_followup: timedelta(hours=72), Purpose.no_show: timedelta(hours=24)}
COMPLAINT_CSAT_AT_MOST = 2


async def search_callbacks(
    *,
    session: AsyncSession,
    stations: frozenset[str] | None,
    filters: dict[str, str | None],
    due_before: datetime | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Callback]:
    """GET /v1/callbacks: the caller's stations, exact filters, keyset by (due_at, id) soonest first, one row past the page."""
    query = select(Callback).order_by(Callback.due_at, Callback.id).limit(limit + 1)  # type: ignore[arg-type]
    if stations is not None:
        query = query.where(Callback.station.in_(sorted(stations)))  # type: ignore[attr-defined]
    for name, value in filters.items():
        if value is not None:
            query = query.where(getattr(Callback, name) == value)
    if due_before is not None:
        query = query.where(Callback.due_at < due_before)  # type: ignore[operator]
    if after is not None:
        last, last_id = after
        query = query.where(or_(Callback.due_at > last, and_(Callback.due_at == last, Callback.id > last_id)))  # type: ignore[operator]
    return list((await session.execute(query)).scalars().all())


async def visible_callback(session: AsyncSession, principal: Principal, callback_id: str) -> Callback:
    callback = await session.get(Callback, callback_id)
    if callback is None:
        raise not_found("callback")
    principal.require_station_to_see(callback.station, "callback")
    return callback


async def attempts_of(session: AsyncSession, callback: Callback) -> list[CallbackAttempt]:
    query = select(CallbackAttempt).where(CallbackAttempt.callback_id == callback.id).order_by(CallbackAttempt.at)  # type: ignore[arg-type]
    return list((await session.execute(query)).scalars())


def snapshot(callback: Callback) -> cc_events.CallbackSnapshot:
    return cc_events.CallbackSnapshot.model_validate(callback, from_attributes=True)


async def schedule_from_order(
    *, session: AsyncSession, order: booking_events.OrderSnapshot, purpose: Purpose, occurred_at: datetime
) -> Callback | None:
    """The callback for this order and purpose, unless it exists already (a repeated or re-sent event)."""
    timezone = await station_timezone(session, Station, order.station)
    callback = row_instance(
        Callback,
        dict(
            order_id=order.id,
            order_ref=order.ref,
            member_id=order.member_id,
            station=order.station,
            purpose=purpose.value,
            # Never disturb a customer at rest: the first call waits for the calling window.
            due_at=within_calling_hours(occurred_at, timezone),
            due_by=occurred_at + DUE_WITHIN[purpose],
            occurred_at=occurred_at,
            products=[item.product for item in order.items],
            concierge_id=order.concierge.id if order.concierge else None,
            concierge_name=order.concierge.name if order.concierge else None,
            created_at=clock.now(),
        ),
    )
    # One statement decides: a racing replica's twin, or an earlier event of the same purpose, inserts nothing.
    values = {column.name: getattr(callback, column.name) for column in Callback.__table__.columns}  # type: ignore[attr-defined]
    if not await insert_ignoring_duplicates(session, Callback, values, index_elements=["order_id", "purpose"]):
        return None
    record(session, cc_events.callback_scheduled, cc_events.CallbackEvent(callback=snapshot(callback)), subject=callback.id)
    return callback


async def _claim(session: AsyncSession, callback: Callback) -> None:
    """Compare-and-set on the version read, before anything is written: of two racing writes of one
    callback (two agents' attempts, an attempt and the member's survey) the later gets a 409, never a
    lost update. Once it passed, the row is this transaction's until commit (PostgreSQL's row lock,
    SQLite's one writer)."""
    if not await bump_version(session, Callback, callback.id, callback.version, {}):
        raise conflict("callback_changed", "the callback changed meanwhile (another attempt was recorded): read it again and retry")


def _completed(session: AsyncSession, callback: Callback, outcome: str, csat: int | None) -> None:
    completed = cc_events.CallbackCompleted(callback=snapshot(callback), outcome=outcome, csat=csat)
    record(session, cc_events.callback_completed, completed, subject=callback.id)


async def record_csat(
    *,
    session: AsyncSession,
    order_id: str,
    member_id: str | None,
    station: str,
    csat: int,
    comment: str | None,
    source: str,
    callback_id: str | None,
    agent_id: str | None,
) -> str | None:
    """Store the score, announce it, and open a complaint for a low one; returns the complaint's id."""
    now = clock.now()
    session.add(
        CsatScore(
            order_id=order_id,
            member_id=member_id,
            station=station,
            csat=csat,
            comment=comment,
            source=source,
            callback_id=callback_id,
            agent_id=agent_id,
            recorded_at=now,
        )
    )
    recorded = cc_events.CsatRecorded(
        order_id=order_id, member_id=member_id, station=station, csat=csat, comment=comment, callback_id=callback_id, source=source
    )
    try:
        await session.flush()
    except IntegrityError as exc:  # a racing twin recorded this order's score first
        raise conflict("survey_answered" if source == "survey" else "csat_recorded", "this order's score was recorded already") from exc
    record(session, cc_events.csat_recorded, recorded, subject=order_id)
    if csat > COMPLAINT_CSAT_AT_MOST:
        return None
    key = f"csat:{order_id}"
    if (existing := await tickets.find_by_origin(session, key)) is not None:
        return existing.id
    order = await session.get(OrderCopy, order_id)
    body = TicketCreate(
        type=TicketType.complaint,
        channel=Channel.system,
        subject=f"Satisfaction {csat}/5 on order {order.ref if order else order_id}",
        description=comment or "",
        station=station,
        member_id=member_id,
        order_id=order_id,
    )
    ticket = await tickets.create_ticket(
        session=session, body=body, actor="system", origin=TicketOrigin.csat, origin_key=key, check_station=False
    )
    return ticket.id


async def record_attempt(*, session: AsyncSession, callback: Callback, body: AttemptCreate, actor: str, agent: Agent | None) -> Callback:
    if callback.status != CallbackStatus.pending:
        raise conflict("callback_done", f"the callback is {callback.status}")
    if body.csat is not None and body.outcome != Outcome.reached:
        raise invalid("body.csat", "a score is given only on a reached call")
    if body.outcome == Outcome.rescheduled and body.call_back_at is None:
        raise invalid("body.call_back_at", "a rescheduled call needs call_back_at")
    await _claim(session, callback)
    now = clock.now()
    timezone = await station_timezone(session, Station, callback.station)
    session.add(
        CallbackAttempt(
            callback_id=callback.id,
            outcome=body.outcome.value,
            csat=body.csat,
            comment=body.comment,
            agent_id=agent.id if agent else None,
            made_by=actor,
            at=now,
        )
    )
    callback.attempts += 1
    if body.outcome in (Outcome.reached, Outcome.declined):
        callback.status, callback.outcome, callback.csat = CallbackStatus.completed.value, body.outcome.value, body.csat
        callback.completed_at, callback.completed_by = now, agent.id if agent else actor[:36]
        _completed(session, callback, body.outcome.value, body.csat)
        if body.csat is not None:
            callback.complaint_ticket_id = await record_csat(
                session=session,
                order_id=callback.order_id,
                member_id=callback.member_id,
                station=callback.station,
                csat=body.csat,
                comment=body.comment,
                source="call",
                callback_id=callback.id,
                agent_id=agent.id if agent else None,
            )
    elif body.outcome == Outcome.wrong_number or (body.outcome == Outcome.no_answer and callback.attempts >= MAX_ATTEMPTS):
        callback.status, callback.outcome, callback.completed_at = CallbackStatus.failed.value, body.outcome.value, now
        _completed(session, callback, body.outcome.value, None)
    else:
        assert body.outcome in (Outcome.no_answer, Outcome.rescheduled)
        # No answer: try again in the next calling window; rescheduled: when asked, inside calling hours.
        callback.due_at = (
            next_calling_window(now, timezone) if body.outcome == Outcome.no_answer else within_calling_hours(body.call_back_at, timezone)
        )  # type: ignore[arg-type]
        record(session, cc_events.callback_scheduled, cc_events.CallbackEvent(callback=snapshot(callback)), subject=callback.id)
    return callback


async def submit_survey(*, session: AsyncSession, member_id: str, body: SurveyCreate) -> SurveyPublic:
    order = await session.get(OrderCopy, body.order_id)
    if order is None or order.member_id != member_id:
        raise not_found("order")
    answered = await session.scalar(select(CsatScore.id).where(CsatScore.order_id == order.id, CsatScore.source == "survey"))
    if answered is not None:
        raise conflict("survey_answered", "this order's survey was answered already")
    now = clock.now()
    callback = (
        (
            await session.execute(
                select(Callback).where(
                    Callback.order_id == order.id,
                    Callback.purpose == Purpose.service_followup.value,
                    Callback.status == CallbackStatus.pending.value,
                )
            )
        )
        .scalars()
        .first()
    )
    if callback is not None:
        await _claim(session, callback)
        # The member answered themself: the follow-up is done, as if the call had reached them.
        callback.status, callback.outcome, callback.csat = CallbackStatus.completed.value, Outcome.reached.value, body.csat
        callback.completed_at, callback.completed_by = now, "survey"
        _completed(session, callback, Outcome.reached.value, body.csat)
    complaint_id = await record_csat(
        session=session,
        order_id=order.id,
        member_id=member_id,
        station=order.station,
        csat=body.csat,
        comment=body.comment,
        source="survey",
        callback_id=callback.id if callback else None,
        agent_id=None,
    )
    if callback is not None:
        callback.complaint_ticket_id = complaint_id
    return SurveyPublic(
        order_id=order.id,
        csat=body.csat,
        comment=body.comment,
        callback_id=callback.id if callback else None,
        complaint_ticket_id=complaint_id,
        recorded_at=now,
    )
