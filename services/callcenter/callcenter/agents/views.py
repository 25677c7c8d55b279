from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from airside.auth import Principal, Role, require
from airside.db.dependencies import SessionDep
from airside.idempotency import IdempotencyDep
from airside.pagination import Keyset, LimitQuery, Page, keyset
from callcenter.agents import service
from callcenter.agents.models import AgentCreate, AgentPublic

router = APIRouter(prefix="/v1/agents", tags=["agents"])

Supervisor = Annotated[Principal, Depends(require(Role.supervisor))]
CallCenter = Annotated[Principal, Depends(require(Role.agent, Role.team_lead, Role.supervisor, Role.service))]


def public(agent: object) -> AgentPublic:
    return AgentPublic.model_validate(agent, from_attributes=True)


@router.post("", summary="Add an agent", status_code=201, response_model=AgentPublic)
async def create_agent(body: AgentCreate, session: SessionDep, principal: Supervisor, idempotency: IdempotencyDep) -> Response:
    """Add a call-centre agent for a token subject at a station."""
    principal.require_station_to_create(body.station)

    async def act() -> AgentPublic:
        return public(await service.create_agent(session=session, body=body))

    return await idempotency.execute(session, act, status_code=201)


@router.get("", summary="List agents")
async def list_agents(
    session: SessionDep,
    principal: CallCenter,
    cursor: Annotated[Keyset, keyset(str, str, str)],
    station: Annotated[str | None, Query(pattern="^[A-Z]{3}$")] = None,
    limit: LimitQuery = 200,
) -> Page[AgentPublic]:
    """The agents visible to the caller."""
    agents = await service.list_agents(session=session, stations=principal.station_filter(), station=station)
    kept, next_cursor = cursor.page_of(agents, limit, lambda agent: (agent.station, agent.name, agent.id))
    return Page(items=[public(agent) for agent in kept], next_cursor=next_cursor)
