from enum import StrEnum

from pydantic import BaseModel

from airside.copies import MemberCopy
from airside.events.common import Tier


class MemberStatus(StrEnum):
    """As booking's member events carry it (one value today); the copy stores the string."""

    active = "active"


class Member(MemberCopy, table=True):
    pass


class Entitlement(BaseModel):
    """What reception may offer this member today without an order."""

    free_entry: bool
    guest_allowance: int


class MemberPublic(BaseModel):
    id: str
    card_no: str
    name: str
    tier: Tier
    status: MemberStatus
    version: int
    entitlement: Entitlement
