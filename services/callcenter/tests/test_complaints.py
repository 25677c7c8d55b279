"""The complaint workflow (投诉处理) and who may approve which compensation."""

import pytest
from cc_support import new_station, open_ticket, outbox
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airside_tools.testing.harness import auth


async def complaint(client, station: str, **overrides) -> dict:
    return await open_ticket(client, auth("agent", stations=[station]), station, type="complaint", subject="Lounge too noisy", **overrides)


async def test_journey_a_lounge_complaint_routed_approved_informed_and_closed_when_satisfied(client, callcenter):
    station = await new_station(callcenter)
    agent, lead = auth("agent", stations=[station]), auth("team_lead", stations=[station])
    ticket = await complaint(client, station, visit_id="v-" + station)
    assert ticket["priority"] == "P2"
    routed = await outbox(callcenter, "airside.callcenter.complaint.routed", ticket["id"])
    assert routed[0]["data"] == {"ticket_id": ticket["id"], "station": station, "service": "lounge", "visit_id": "v-" + station}
    listed = (await client.get("/v1/tickets", params={"type": "complaint", "station": station}, headers=agent)).json()["items"]
    assert [t["id"] for t in listed] == [ticket["id"]]
    base = f"/v1/tickets/{ticket['id']}/complaint"
    assert (await client.post(f"{base}/inform", headers=agent)).status_code == 409  # nothing approved yet
    assert (await client.post(f"{base}/investigate", headers=agent)).json()["complaint_stage"] == "investigating"
    proposed = (
        await client.post(f"{base}/propose", json={"resolution": "Refund lounge fee", "compensation_minor": 30000}, headers=agent)
    ).json()
    assert (proposed["complaint_stage"], proposed["approver_role"], proposed["status"]) == ("awaiting_approval", "team_lead", "open")
    requested = await outbox(callcenter, "airside.callcenter.complaint.approval_requested", ticket["id"])
    assert requested[0]["data"]["compensation_minor"] == 30000 and requested[0]["data"]["approver_role"] == "team_lead"
    assert (await client.post(f"/v1/tickets/{ticket['id']}/status", json={"status": "resolved"}, headers=agent)).status_code == 409
    assert (await client.post(f"{base}/approve", headers=lead)).json()["complaint_stage"] == "approved"
    assert (await client.post(f"{base}/inform", headers=agent)).json()["complaint_stage"] == "customer_informed"
    unhappy = (await client.post(f"{base}/follow-up", json={"satisfied": False, "notes": "wants more"}, headers=agent)).json()
    assert unhappy["complaint_stage"] == "investigating" and unhappy["status"] == "open"
    # 150 CNY more on top of the 300 approved: 450 in all, so a team lead decides again.
    more = (await client.post(f"{base}/propose", json={"resolution": "Voucher", "compensation_minor": 15000}, headers=agent)).json()
    assert (more["complaint_stage"], more["compensation_minor"], more["compensation_pending_minor"]) == ("awaiting_approval", 45000, 15000)
    assert (await client.post(f"{base}/approve", headers=lead)).json()["compensation_pending_minor"] is None
    await client.post(f"{base}/inform", headers=agent)
    done = (await client.post(f"{base}/follow-up", json={"satisfied": True}, headers=agent)).json()
    assert (done["complaint_stage"], done["status"]) == ("closed", "resolved")
    resolved = await outbox(callcenter, "airside.callcenter.complaint.resolved", ticket["id"])
    assert resolved[0]["data"]["compensation_minor"] == 45000


async def test_a_complaint_against_an_order_routes_to_booking_and_a_bare_one_does_not_route(client, callcenter):
    station = await new_station(callcenter)
    ordered = await complaint(client, station, order_id="o-" + station)
    bare = await complaint(client, station)
    assert (await outbox(callcenter, "airside.callcenter.complaint.routed", ordered["id"]))[0]["data"]["service"] == "booking"
    assert await outbox(callcenter, "airside.callcenter.complaint.routed", bare["id"]) == []
    other = await open_ticket(client, auth("agent", stations=[station]), station)
    answer = await client.post(
        f"/v1/tickets/{other['id']}/complaint/propose",
        json={"resolution": "x", "compensation_minor": 1},
        headers=auth("agent", stations=[station]),
    )
    assert answer.status_code == 409


# (amount, role) → approve answer; 20000 needs no approval at all.
LIMITS = [
    (20001, "agent", 403),
    (20001, "team_lead", 200),
    (20001, "supervisor", 200),
    (100000, "agent", 403),
    (100000, "team_lead", 200),
    (100000, "supervisor", 200),
    (100001, "agent", 403),
    (100001, "team_lead", 403),
    (100001, "supervisor", 200),
    (100001, "admin", 200),
]


@pytest.mark.parametrize(("amount", "role", "expected"), LIMITS)
@pytest.mark.parametrize("decision", ["approve", "reject"])
async def test_approval_limits(client, callcenter, amount, role, expected, decision):
    station = await new_station(callcenter)
    ticket = await complaint(client, station)
    base = f"/v1/tickets/{ticket['id']}/complaint"
    proposed = await client.post(
        f"{base}/propose", json={"resolution": "Refund", "compensation_minor": amount}, headers=auth("agent", stations=[station])
    )
    assert proposed.json()["complaint_stage"] == "awaiting_approval"
    body = {"reason": "too much"} if decision == "reject" else None
    answer = await client.post(f"{base}/{decision}", json=body, headers=auth(role, stations=[station]))
    assert answer.status_code == expected, answer.text
    if expected == 200:
        assert answer.json()["complaint_stage"] == ("approved" if decision == "approve" else "investigating")


@pytest.mark.parametrize("role", ["agent", "team_lead", "supervisor"])
async def test_up_to_20000_needs_no_approval_whoever_proposes(client, callcenter, role):
    station = await new_station(callcenter)
    ticket = await complaint(client, station)
    base = f"/v1/tickets/{ticket['id']}/complaint"
    answer = await client.post(
        f"{base}/propose", json={"resolution": "Voucher", "compensation_minor": 20000}, headers=auth(role, stations=[station])
    )
    assert (answer.json()["complaint_stage"], answer.json()["approver_role"]) == ("approved", None)
    assert (await client.post(f"{base}/approve", headers=auth("supervisor", stations=[station]))).status_code == 409
    assert await outbox(callcenter, "airside.callcenter.complaint.approval_requested", ticket["id"]) == []


async def propose(client, base: str, amount: int, headers: dict) -> dict:
    response = await client.post(f"{base}/propose", json={"resolution": "Voucher", "compensation_minor": amount}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def reopen(client, base: str, headers: dict) -> None:
    """An approved compensation told to a member who is not satisfied: the complaint is investigated again."""
    assert (await client.post(f"{base}/inform", headers=headers)).status_code == 200
    unhappy = await client.post(f"{base}/follow-up", json={"satisfied": False, "notes": "wants more"}, headers=headers)
    assert unhappy.json()["complaint_stage"] == "investigating"


# Each role that may propose, with an amount its role could otherwise approve; an agent approves nothing at all.
OWN_PROPOSALS = [
    ("agent", 30000, "/problems/forbidden"),
    ("team_lead", 30000, "/problems/own_proposal"),
    ("supervisor", 150000, "/problems/own_proposal"),
    ("admin", 150000, "/problems/own_proposal"),
]


@pytest.mark.parametrize(("role", "amount", "problem"), OWN_PROPOSALS)
async def test_nobody_approves_their_own_proposal(client, callcenter, role, amount, problem):
    station = await new_station(callcenter)
    ticket = await complaint(client, station)
    base = f"/v1/tickets/{ticket['id']}/complaint"
    proposer = auth(role, stations=[station], sub=f"{role}-{station}")
    assert (await propose(client, base, amount, proposer))["complaint_stage"] == "awaiting_approval"
    own = await client.post(f"{base}/approve", headers=proposer)
    assert own.status_code == 403 and own.json()["type"] == problem, own.text
    assert (await client.get(f"/v1/tickets/{ticket['id']}", headers=proposer)).json()["complaint_stage"] == "awaiting_approval"
    colleague = auth("team_lead" if role == "agent" else role, stations=[station])
    assert (await client.post(f"{base}/approve", headers=colleague)).json()["complaint_stage"] == "approved"


async def test_a_proposer_may_withdraw_their_own_proposal_by_rejecting_it(client, callcenter):
    station = await new_station(callcenter)
    ticket = await complaint(client, station)
    base = f"/v1/tickets/{ticket['id']}/complaint"
    lead = auth("team_lead", stations=[station], sub=f"lead-{station}")
    await propose(client, base, 30000, lead)
    withdrawn = (await client.post(f"{base}/reject", json={"reason": "wrong amount"}, headers=lead)).json()
    assert (withdrawn["complaint_stage"], withdrawn["compensation_minor"], withdrawn["compensation_pending_minor"]) == (
        "investigating",
        0,
        None,
    )


async def test_two_proposals_of_150_cny_need_a_team_lead_for_the_second(client, callcenter):
    station = await new_station(callcenter)
    ticket = await complaint(client, station)
    base = f"/v1/tickets/{ticket['id']}/complaint"
    agent = auth("agent", stations=[station])
    first = await propose(client, base, 15000, agent)
    assert (first["complaint_stage"], first["compensation_minor"]) == ("approved", 15000)  # 150 CNY in all: no approval
    await reopen(client, base, agent)
    second = await propose(client, base, 15000, agent)
    assert (second["complaint_stage"], second["approver_role"], second["compensation_minor"]) == ("awaiting_approval", "team_lead", 30000)
    requested = await outbox(callcenter, "airside.callcenter.complaint.approval_requested", ticket["id"])
    assert [(e["data"]["compensation_minor"], e["data"]["complaint_total_minor"]) for e in requested] == [(15000, 30000)]
    assert (await client.post(f"{base}/approve", headers=agent)).status_code == 403
    assert (await client.post(f"{base}/approve", headers=auth("team_lead", stations=[station]))).json()["compensation_minor"] == 30000


async def test_a_total_over_1000_cny_needs_a_supervisor_and_a_rejection_takes_its_part_off(client, callcenter):
    station = await new_station(callcenter)
    ticket = await complaint(client, station)
    base = f"/v1/tickets/{ticket['id']}/complaint"
    agent, lead, supervisor = (auth(role, stations=[station]) for role in ("agent", "team_lead", "supervisor"))
    await propose(client, base, 90000, agent)
    assert (await client.post(f"{base}/approve", headers=lead)).status_code == 200  # 900 CNY: a team lead's
    await reopen(client, base, agent)
    more = await propose(client, base, 20000, agent)  # 200 CNY alone needs nobody; 1,100 in all a supervisor
    assert (more["approver_role"], more["compensation_minor"]) == ("supervisor", 110000)
    assert (await client.post(f"{base}/approve", headers=lead)).status_code == 403
    rejected = (await client.post(f"{base}/reject", json={"reason": "enough"}, headers=supervisor)).json()
    assert (rejected["complaint_stage"], rejected["compensation_minor"], rejected["compensation_pending_minor"]) == (
        "investigating",
        90000,
        None,
    )
    again = await propose(client, base, 10000, agent)  # 1,000 CNY in all: a team lead's again
    assert (again["approver_role"], again["compensation_minor"]) == ("team_lead", 100000)
    assert (await client.post(f"{base}/approve", headers=lead)).json()["complaint_stage"] == "approved"


# Model-based: any sequence of proposals and decisions by these people keeps the rules (spec, "Complaint workflow").
PEOPLE = {"agent": "agent", "lead": "team_lead", "other_lead": "team_lead", "supervisor": "supervisor"}
LIMIT = {"agent": -1, "team_lead": 100_000, "supervisor": 10**12}  # what each role may approve in all
steps = st.lists(
    st.one_of(
        st.tuples(st.just("propose"), st.sampled_from(sorted(PEOPLE)), st.sampled_from([5_000, 15_000, 20_000, 30_000, 90_000])),
        st.tuples(st.sampled_from(["approve", "reject"]), st.sampled_from(sorted(PEOPLE)), st.just(0)),
        st.tuples(st.just("reopen"), st.just("agent"), st.just(0)),
    ),
    max_size=10,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps)
async def test_any_sequence_of_proposals_keeps_the_limits_on_the_total_and_nobody_approves_their_own(client, callcenter, steps):
    station = await new_station(callcenter)
    headers = {person: auth(role, stations=[station], sub=f"{person}-{station}") for person, role in PEOPLE.items()}
    ticket = await complaint(client, station)
    base = f"/v1/tickets/{ticket['id']}/complaint"
    stage, approved, pending, proposer = "registered", 0, 0, None
    for action, person, amount in steps:
        role = PEOPLE[person]
        if action == "propose":
            answer = await client.post(f"{base}/propose", json={"resolution": "r", "compensation_minor": amount}, headers=headers[person])
            if stage not in ("registered", "investigating"):
                assert answer.status_code == 409
                continue
            if approved + amount <= 20_000:
                stage, approved = "approved", approved + amount
            else:
                stage, pending, proposer = "awaiting_approval", amount, person
        elif action in ("approve", "reject"):
            body = {"reason": "no"} if action == "reject" else None
            answer = await client.post(f"{base}/{action}", json=body, headers=headers[person])
            if stage != "awaiting_approval" and role != "agent":
                assert answer.status_code == 409
                continue
            allowed = LIMIT[role] >= approved + pending and (action == "reject" or person != proposer)
            if stage != "awaiting_approval" or not allowed:
                assert answer.status_code == 403, answer.text
                continue
            if action == "approve":
                stage, approved, pending, proposer = "approved", approved + pending, 0, None
            else:
                stage, pending, proposer = "investigating", 0, None
        else:
            if stage != "approved":
                continue
            await reopen(client, base, headers["agent"])
            stage = "investigating"
            answer = await client.get(f"/v1/tickets/{ticket['id']}", headers=headers["agent"])
        assert answer.status_code == 200, answer.text
        now = answer.json()
        assert (now["complaint_stage"], now["compensation_minor"], now["compensation_pending_minor"]) == (
            stage,
            approved + pending,
            pending or None,
        )
