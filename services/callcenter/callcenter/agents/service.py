from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from airside.auth import Principal
from airside.problems import conflict, not_found
from callcenter.agents.models import Agent, AgentCreate


async def create_agent(*, session: AsyncSession, body: AgentCreate) -> Agent:
    agent = Agent(name=body.name, station=body.station, role=body.role.value, team=body.team, subject="")
    agent.subject = body.subject or agent.id
    if await session.scalar(select(func.count()).where(Agent.subject == agent.subject)):
        raise conflict("subject_taken", f"subject {agent.subject} is another agent's")
    session.add(agent)
    try:
        await session.flush()
    except IntegrityError as exc:  # a racing request took the subject
        raise conflict("subject_taken", f"subject {agent.subject} is another agent's") from exc
    return agent


async def list_agents(*, session: AsyncSession, stations: frozenset[str] | None, station: str | None) -> list[Agent]:
    query = select(Agent).order_by(Agent.station, Agent.name, Agent.id)
    if stations is not None:
        query = query.where(Agent.station.in_(sorted(stations)))  # type: ignore[attr-defined]
    if station is not None:
        query = query.where(Agent.station == station)
    return list((await session.execute(query)).scalars().all())


async def acting_agent(session: AsyncSession, principal: Principal) -> Agent | None:
    """A caller acts as the agent whose subject is the token's sub."""
    return (await session.execute(select(Agent).where(Agent.subject == principal.sub))).scalars().first()


async def agent_of_stations(session: AsyncSession, principal: Principal, agent_id: str) -> Agent:
    """An agent of the caller's stations; any other is not found."""
    agent = await session.get(Agent, agent_id)
    if agent is None or not principal.covers(agent.station):
        raise not_found("agent")
    return agent
