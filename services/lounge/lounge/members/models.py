from pydantic import BaseModel, ConfigDict

from airside.copies import MemberCopy
from airside.events.booking import MemberStatus
from airside.events.common import Tier


class Member(MemberCopy, table=True):
    pass


class Entitlement(BaseModel):
    """What reception may offer this member today without an order."""

    free_entry: bool
    guest_allowance: int


class MemberPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0b7c6f0e-5d1a-4c3e-9a41-2f6d8e1c9b10",
                    "card_no": "CA-0001",
                    "name": "Li Wei",
                    "tier": "gold",
                    "status": "active",
                    "version": 1,
                    "entitlement": {"free_entry": True, "guest_allowance": 1},
                }
            ]
        }
    )

    id: str
    card_no: str
    name: str
    tier: Tier
    status: MemberStatus
    version: int
    entitlement: Entitlement
