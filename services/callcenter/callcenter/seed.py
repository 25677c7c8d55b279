"""Reference data the call center starts with; inserted once, never overwriting ops' changes."""

from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.sla.models import Priority, SlaPolicy
from callcenter.stations import Station

STATIONS = {"PEK": ("Beijing Capital", "Asia/Shanghai"), "KMG": ("Kunming Changshui", "Asia/Shanghai")}

# Business minutes (callcenter.md): first response, resolution.
SLA_POLICIES = {Priority.P1: (15, 240), Priority.P2: (30, 480), Priority.P3: (120, 1440), Priority.P4: (480, 4320)}


async def seed(session: AsyncSession) -> None:
    for code, (name, timezone) in STATIONS.items():
        if await session.get(Station, code) is None:
            session.add(Station(code=code, name=name, timezone=timezone))
    for priority, (first_response, resolution) in SLA_POLICIES.items():
        if await session.get(SlaPolicy, priority) is None:
            session.add(SlaPolicy(priority=priority, first_response_minutes=first_response, resolution_minutes=resolution))
