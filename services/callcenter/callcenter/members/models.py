from enum import StrEnum

from pydantic import BaseModel
from sqlmodel import Field

from airside.copies import MemberCopy
from airside.events.common import Tier
from callcenter.callbacks.models import CallbackSummary
from callcenter.tickets.models import TicketSummary


class MemberStatus(StrEnum):
    """As booking's member events carry it (one value today); the copy stores the string."""

    active = "active"


class Member(MemberCopy, table=True):
    # The call center finds callers by phone; lounge has no need to keep it.
    phone: str = Field(max_length=32, index=True)


class MemberPublic(BaseModel):
    id: str
    card_no: str
    name: str
    phone: str
    tier: Tier
    status: MemberStatus
    version: int


class MemberDetail(MemberPublic):
    open_tickets: list[TicketSummary]
    pending_callbacks: list[CallbackSummary]
