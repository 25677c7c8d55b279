"""The complaint workflow (投诉处理) as pure rules: stages, moves and who approves which amount."""

from enum import StrEnum

from airside.auth import Principal, Role
from airside.problems import conflict

# Compensation in minor units (fen): up to 200 CNY needs no approval, up to 1,000 CNY a team lead.
NO_APPROVAL_UP_TO = 20_000
TEAM_LEAD_UP_TO = 100_000


class Stage(StrEnum):
    registered = "registered"
    investigating = "investigating"
    resolution_proposed = "resolution_proposed"
    awaiting_approval = "awaiting_approval"
    approved = "approved"
    customer_informed = "customer_informed"
    follow_up = "follow_up"
    closed = "closed"


ALLOWED_FROM: dict[str, frozenset[Stage]] = {
    "investigate": frozenset({Stage.registered}),
    "propose": frozenset({Stage.registered, Stage.investigating}),
    "approve": frozenset({Stage.awaiting_approval}),
    "reject": frozenset({Stage.awaiting_approval}),
    "inform": frozenset({Stage.approved}),
    "follow-up": frozenset({Stage.customer_informed, Stage.follow_up}),
}


def require_stage(action: str, current: str | None) -> None:
    if current is None:
        raise conflict("not_a_complaint", "only complaint tickets have a complaint workflow")
    if Stage(current) not in ALLOWED_FROM[action]:
        raise conflict("illegal_transition", f"a complaint at stage {current} cannot {action.replace('-', ' ')}", complaint_stage=current)


def approver_role(compensation_minor: int) -> Role | None:
    """Who must approve this amount: nobody, a team lead (or above) or a supervisor."""
    if compensation_minor <= NO_APPROVAL_UP_TO:
        return None
    if compensation_minor <= TEAM_LEAD_UP_TO:
        return Role.team_lead
    return Role.supervisor


def may_approve(principal: Principal, compensation_minor: int) -> bool:
    needed = approver_role(compensation_minor)
    if needed is None or principal.has(Role.admin, Role.supervisor):
        return True
    return needed == Role.team_lead and principal.has(Role.team_lead)
