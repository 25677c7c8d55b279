"""Racing writes of one callback: every attempt that is answered 201 is counted, the others get a 409,
and the 3-attempt limit holds; on two sessions (two database connections) of the real database."""

import asyncio

import pytest
from cc_support import DAY, frozen, local, new_agent, new_station, order_snapshot
from sqlalchemy import func, select

from airside.problems import Problem
from callcenter.callbacks import service
from callcenter.callbacks.models import MAX_ATTEMPTS, AttemptCreate, Callback, CallbackAttempt, Purpose, SurveyCreate
from callcenter.orders.order_copy import keep_copy


async def scheduled_callback(callcenter, station: str, *, member_id: str | None = None) -> Callback:
    order = order_snapshot(station, member_id=member_id, status="completed", version=5)
    async with callcenter.runtime.db.session() as session:
        await keep_copy(session, order)  # as the order's events leave it: the survey checks whose order it is
        callback = await service.schedule_from_order(
            session=session, order=order, purpose=Purpose.service_followup, occurred_at=local(DAY, 10)
        )
        await session.commit()
    assert callback is not None
    return callback


async def stored(callcenter, callback_id: str) -> tuple[Callback, int]:
    """The callback as committed, and how many attempt rows it has."""
    async with callcenter.runtime.db.session() as session:
        callback = await session.get(Callback, callback_id)
        rows = await session.scalar(select(func.count()).select_from(CallbackAttempt).where(CallbackAttempt.callback_id == callback_id))
    assert callback is not None
    return callback, rows or 0


NO_ANSWER = AttemptCreate(outcome="no_answer")


async def test_of_two_attempts_read_together_the_later_write_is_refused_not_lost(callcenter):
    station = await new_station(callcenter)
    callback = await scheduled_callback(callcenter, station)
    db = callcenter.runtime.db
    with frozen(local(DAY, 11)):
        async with db.session() as first, db.session() as second:
            # Both agents read the callback at version 1 before either writes: the lost-update interleaving.
            seen_first, seen_second = await first.get(Callback, callback.id), await second.get(Callback, callback.id)
            await service.record_attempt(session=first, callback=seen_first, body=NO_ANSWER, actor="agent-1", agent=None)
            await first.commit()
            with pytest.raises(Problem) as refused:
                await service.record_attempt(session=second, callback=seen_second, body=NO_ANSWER, actor="agent-2", agent=None)
            await second.rollback()
    assert (refused.value.status, refused.value.slug) == (409, "callback_changed")
    after, attempts = await stored(callcenter, callback.id)
    assert (after.attempts, attempts, after.version) == (1, 1, 2)


async def test_an_attempt_and_the_members_survey_read_together_do_not_both_complete_it(callcenter):
    station = await new_station(callcenter)
    callback = await scheduled_callback(callcenter, station)
    db = callcenter.runtime.db
    with frozen(local(DAY, 11)):
        async with db.session() as call, db.session() as survey:
            # The survey's session holds the callback as read at version 1 (its own query then finds that copy).
            seen_by_call, _seen_by_survey = await call.get(Callback, callback.id), await survey.get(Callback, callback.id)
            await service.record_attempt(session=call, callback=seen_by_call, body=NO_ANSWER, actor="agent-1", agent=None)
            await call.commit()
            with pytest.raises(Problem) as refused:
                answer = SurveyCreate(order_id=callback.order_id, csat=5)
                await service.submit_survey(session=survey, member_id=callback.member_id, body=answer)
            await survey.rollback()
    assert (refused.value.status, refused.value.slug) == (409, "callback_changed")
    after, attempts = await stored(callcenter, callback.id)
    assert (after.status, after.attempts, attempts) == ("pending", 1, 1)


async def test_concurrent_http_attempts_are_each_counted_or_refused_up_to_the_limit(client, callcenter):
    station = await new_station(callcenter)
    _agent, headers = await new_agent(client, station)
    callback = await scheduled_callback(callcenter, station)
    url = f"/v1/callbacks/{callback.id}/attempts"
    answers = []
    with frozen(local(DAY, 11)):
        for _round in range(2 * MAX_ATTEMPTS):
            answers += await asyncio.gather(*(client.post(url, json={"outcome": "no_answer"}, headers=headers) for _ in range(3)))
    statuses = [answer.status_code for answer in answers]
    assert set(statuses) <= {201, 409}, [answer.text for answer in answers if answer.status_code not in (201, 409)]
    after, attempts = await stored(callcenter, callback.id)
    assert (after.status, after.attempts, attempts, statuses.count(201)) == ("failed", MAX_ATTEMPTS, MAX_ATTEMPTS, MAX_ATTEMPTS)
    assert {answer.json()["type"] for answer in answers if answer.status_code == 409} <= {
        "/problems/callback_changed",
        "/problems/callback_done",
    }
