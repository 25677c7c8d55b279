"""Callback routes (agents) and the member's own survey."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import AwareDatetime

from airside import conditional
from airside.auth import Principal, Role, require
from airside.conditional import CONDITIONAL_GET, IfNoneMatch
from airside.db.dependencies import SessionDep
from airside.idempotency import IdempotencyDep
from airside.pagination import Keyset, LimitQuery, Page, keyset
from airside.problems import forbidden
from airside.types import IsoDateTime, RecordId
from callcenter.agents.service import acting_agent
from callcenter.callbacks import service
from callcenter.callbacks.models import (
    AttemptCreate,
    AttemptPublic,
    Callback,
    CallbackPublic,
    CallbackStatus,
    SurveyCreate,
    SurveyPublic,
)

router = APIRouter(tags=["callbacks"])

Agents = Annotated[Principal, Depends(require(Role.agent, Role.team_lead, Role.supervisor))]
Readers = Annotated[Principal, Depends(require(Role.agent, Role.team_lead, Role.supervisor, Role.service))]
Member = Annotated[Principal, Depends(require(Role.member))]


def public(callback: Callback) -> CallbackPublic:
    return CallbackPublic.model_validate(callback, from_attributes=True)


@router.get("/v1/callbacks", summary="List callbacks")
async def list_callbacks(
    session: SessionDep,
    principal: Readers,
    cursor: Annotated[Keyset, keyset(AwareDatetime, RecordId)],
    status: CallbackStatus | None = None,
    due_before: IsoDateTime | None = None,
    station: Annotated[str | None, Query(pattern="^[A-Z]{3}$")] = None,
    order_id: Annotated[str | None, Query(max_length=36)] = None,
    limit: LimitQuery = 50,
) -> Page[CallbackPublic]:
    """Callbacks due, by status and station."""
    filters = {"status": status.value if status else None, "station": station, "order_id": order_id}
    rows = await service.search_callbacks(
        session=session, stations=principal.station_filter(), filters=filters, due_before=due_before, after=cursor.after, limit=limit
    )
    kept, next_cursor = cursor.page(rows, limit, lambda callback: (callback.due_at, callback.id))
    return Page(items=[public(callback) for callback in kept], next_cursor=next_cursor)


@router.get("/v1/callbacks/{callback_id}", summary="Read a callback", response_model=CallbackPublic, responses=CONDITIONAL_GET)
async def get_callback(callback_id: str, session: SessionDep, principal: Readers, if_none_match: IfNoneMatch = None) -> Response:
    """One callback."""
    return conditional.answer(CallbackPublic, public(await service.visible_callback(session, principal, callback_id)), if_none_match)


@router.get("/v1/callbacks/{callback_id}/attempts", summary="List a callback's attempts")
async def list_attempts(
    callback_id: str,
    session: SessionDep,
    principal: Readers,
    cursor: Annotated[Keyset, keyset(AwareDatetime, RecordId)],
    limit: LimitQuery = 200,
) -> Page[AttemptPublic]:
    """A callback's attempts."""
    callback = await service.visible_callback(session, principal, callback_id)
    attempts, next_cursor = cursor.page_of(await service.attempts_of(session, callback), limit, lambda attempt: (attempt.at, attempt.id))
    return Page(items=[AttemptPublic.model_validate(attempt, from_attributes=True) for attempt in attempts], next_cursor=next_cursor)


@router.post("/v1/callbacks/{callback_id}/attempts", summary="Record a callback attempt", status_code=201, response_model=CallbackPublic)
async def record_attempt(
    callback_id: str, body: AttemptCreate, session: SessionDep, principal: Agents, idempotency: IdempotencyDep
) -> Response:
    """Record a call attempt: reached (with a score), no answer, or rescheduled."""

    async def act() -> CallbackPublic:
        callback = await service.visible_callback(session, principal, callback_id)
        agent = await acting_agent(session, principal)
        return public(await service.record_attempt(session=session, callback=callback, body=body, actor=principal.sub, agent=agent))

    return await idempotency.execute(session, act, status_code=201)


@router.post("/v1/surveys", summary="Submit a service survey", status_code=201, response_model=SurveyPublic)
async def submit_survey(body: SurveyCreate, session: SessionDep, principal: Member, idempotency: IdempotencyDep) -> Response:
    """A member's answer to the survey after a service."""

    async def act() -> SurveyPublic:
        if principal.member_id is None:  # the member's own voice: nobody answers for them, admin neither
            raise forbidden("only the member who was served answers the survey")
        return await service.submit_survey(session=session, member_id=principal.member_id, body=body)

    return await idempotency.execute(session, act, status_code=201)
