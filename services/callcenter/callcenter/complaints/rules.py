"""The complaint workflow (投诉处理) as pure rules: the moves between stages and who approves which amount.

The limits apply to a complaint's total compensation, what was approved on it before plus the
proposal at hand, so that repeated small proposals cannot add up past a limit unapproved. Nobody
approves their own proposal, whatever their role: 403 `/problems/own_proposal`. Rejecting it,
which withdraws it and grants nothing, stays open to its proposer.
"""

from airside.auth import Principal, Role
from airside.problems import Problem, conflict
from callcenter.tickets.transitions import Stage

# Compensation in minor units (fen): up to 200 CNY needs no approval, up to 1,000 CNY a team lead.
NO_APPROVAL_UP_TO = 20_000
TEAM_LEAD_UP_TO = 100_000

# Which stage each workflow action may start from.
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


def approver_role(total_minor: int) -> Role | None:
    """Who must approve a complaint's total compensation: nobody, a team lead (or above) or a supervisor."""
    if total_minor <= NO_APPROVAL_UP_TO:
        return None
    if total_minor <= TEAM_LEAD_UP_TO:
        return Role.team_lead
    return Role.supervisor


def may_approve(principal: Principal, total_minor: int) -> bool:
    needed = approver_role(total_minor)
    if needed is None or principal.has(Role.admin, Role.supervisor):
        return True
    return needed == Role.team_lead and principal.has(Role.team_lead)


def require_not_own_proposal(principal: Principal, proposed_by: str | None) -> None:
    if proposed_by is not None and proposed_by == principal.sub:
        raise Problem(
            403, "own_proposal", "nobody approves their own proposal: another team lead or supervisor decides", title="Own proposal"
        )
