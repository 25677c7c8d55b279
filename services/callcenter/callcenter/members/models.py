from pydantic import BaseModel, ConfigDict
from sqlmodel import Field

from airside.copies import MemberCopy
from airside.events.booking import MemberStatus
from airside.events.common import Tier
from callcenter.callbacks.models import CallbackSummary
from callcenter.tickets.models import TicketSummary


class Member(MemberCopy, table=True):
    # The call center finds callers by phone; lounge has no need to keep it.
    phone: str = Field(max_length=32, index=True)


MEMBER_EXAMPLE = {
    "id": "0b7c6f0e-5d1a-4c3e-9a41-2f6d8e1c9b10",
    "card_no": "CA-0001",
    "name": "Li Wei",
    "phone": "+8613800138000",
    "tier": "gold",
    "status": "active",
    "version": 1,
}


class MemberPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [MEMBER_EXAMPLE]})

    id: str
    card_no: str
    name: str
    phone: str
    tier: Tier
    status: MemberStatus
    version: int


class MemberDetail(MemberPublic):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **MEMBER_EXAMPLE,
                    "open_tickets": [
                        {
                            "id": "2a6f9c1d-4e7b-4d2a-9f3c-8b1e0d7a6c5f",
                            "number": "T-20261224-0007",
                            "type": "complaint",
                            "status": "open",
                            "priority": "P2",
                            "station": "PEK",
                            "subject": "Wheelchair not at the gate",
                            "created_at": "2026-12-24T02:00:00Z",
                        }
                    ],
                    "pending_callbacks": [
                        {
                            "id": "e3f4a5b6-c7d8-4e9f-8a1b-2c3d4e5f6a7b",
                            "order_id": "5f0d2c8a-7e3b-4b9e-8c1d-6a2f4e9b3c71",
                            "purpose": "service_followup",
                            "status": "pending",
                            "due_at": "2026-12-24T06:00:00Z",
                        }
                    ],
                }
            ]
        }
    )

    open_tickets: list[TicketSummary]
    pending_callbacks: list[CallbackSummary]
