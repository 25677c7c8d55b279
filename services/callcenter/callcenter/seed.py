"""Reference data the call center starts with; inserted once, never overwriting ops' changes."""

from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.sla.models import SLA_POLICIES, SlaPolicy
from callcenter.stations import Station

STATIONS = {"PEK": ("Beijing Capital", "Asia/Shanghai"), "KMG": ("Kunming Changshui", "Asia/Shanghai")}


async def seed(session: AsyncSession) -> None:
    for code, (name, timezone) in STATIONS.items():
        if await session.get(Station, code) is None:
            session.add(Station(code=code, name=name, timezone=timezone))
    for priority, (first_response, resolution) in SLA_POLICIES.items():
        if await session.get(SlaPolicy, priority) is None:
            session.add(SlaPolicy(priority=priority, first_response_minutes=first_response, resolution_minutes=resolution))
