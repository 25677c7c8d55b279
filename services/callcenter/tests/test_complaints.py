"""The complaint workflow (投诉处理) and who may approve which compensation."""

import pytest
from cc_support import new_station, open_ticket, outbox

from airside.testing.harness import auth


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
    await client.post(f"{base}/propose", json={"resolution": "Voucher", "compensation_minor": 15000}, headers=agent)
    await client.post(f"{base}/inform", headers=agent)
    done = (await client.post(f"{base}/follow-up", json={"satisfied": True}, headers=agent)).json()
    assert (done["complaint_stage"], done["status"]) == ("closed", "resolved")
    resolved = await outbox(callcenter, "airside.callcenter.complaint.resolved", ticket["id"])
    assert resolved[0]["data"]["compensation_minor"] == 15000


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
