"""A manager changes a lounge, and its guests' boarding calls follow: the flow that owns both steps.

The lounge record (lounge.lounges) knows nothing of visits; the visits' side of a change is
lounge.visits.boarding. This module changes the one and then moves the other.
"""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from airside.versioning import bump_version, stale
from lounge.lounges.models import Lounge
from lounge.visits import boarding


async def change_lounge(*, session: AsyncSession, lounge: Lounge, values: dict[str, Any], expected_version: int) -> Lounge:
    """Apply the change at the version the caller read (412 otherwise); a new boarding_call_minutes moves the open visits' calls."""
    if lounge.version != expected_version or not await bump_version(session, Lounge, lounge.id, expected_version, values):
        raise stale(lounge.version)
    if "boarding_call_minutes" in values:
        await session.refresh(lounge)
        await boarding.on_lounge_change(session=session, lounge=lounge)
    return lounge
