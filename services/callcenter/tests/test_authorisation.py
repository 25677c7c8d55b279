"""Routes by roles exactly as docs/callcenter.md's table: staff only at their stations (a foreign record
404, creating elsewhere 403), members their own tickets only."""

import random
import string
import uuid

import pytest
from cc_support import DAY, local, new_station

from airside_tools.testing.harness import auth
from callcenter.callbacks.models import Callback
from callcenter.carriers.models import Carrier

ROLES = [
    "member",
    "other_member",
    "concierge",
    "concierge_lead",
    "lounge_staff",
    "agent",
    "team_lead",
    "supervisor",
    "station_manager",
    "admin",
    "service",
]
TICKET_STAFF = {"agent", "team_lead", "supervisor", "station_manager", "admin"}
CALL_CENTER = {"agent", "team_lead", "supervisor", "admin"}
REPORTS = {"team_lead", "supervisor", "station_manager", "admin"}

# (name, method, path, body, roles allowed). Paths name the world's records in braces.
ROUTES = [
    ("create agent", "POST", "/v1/agents", {"name": "N", "station": "{station}", "role": "agent"}, {"supervisor", "admin"}),
    ("list agents", "GET", "/v1/agents", None, CALL_CENTER | {"service"}),
    ("member copy", "GET", "/v1/members/{member_id}", None, CALL_CENTER | {"service"}),
    ("carrier copy", "GET", "/v1/carriers/{carrier}", None, CALL_CENTER),
    (
        "create ticket",
        "POST",
        "/v1/tickets",
        {"type": "inquiry", "channel": "app", "subject": "s", "station": "{station}"},
        TICKET_STAFF | {"member", "other_member"},
    ),
    ("read ticket", "GET", "/v1/tickets/{ticket}", None, TICKET_STAFF | {"member", "service"}),
    ("list tickets", "GET", "/v1/tickets", None, TICKET_STAFF | {"member", "other_member", "service"}),
    ("public note", "POST", "/v1/tickets/{ticket}/notes", {"body": "hello", "visibility": "public"}, TICKET_STAFF | {"member"}),
    ("log call", "POST", "/v1/tickets/{ticket}/calls", {"direction": "inbound", "duration_seconds": 5, "outcome": "reached"}, TICKET_STAFF),
    ("status", "POST", "/v1/tickets/{ticket}/status", {"status": "pending_internal"}, TICKET_STAFF),
    ("history", "GET", "/v1/tickets/{ticket}/history", None, TICKET_STAFF | {"service"}),
    ("claim", "POST", "/v1/queue/claim", None, TICKET_STAFF),
    ("merge", "POST", "/v1/tickets/{duplicate}/merge", {"into": "{ticket}"}, TICKET_STAFF),
    ("assign to someone else", "POST", "/v1/tickets/{ticket}/assign", {"agent_id": "{agent_id}"}, {"team_lead", "supervisor", "admin"}),
    (
        "complaint propose",
        "POST",
        "/v1/tickets/{complaint}/complaint/propose",
        {"resolution": "r", "compensation_minor": 50000},
        CALL_CENTER,
    ),
    ("complaint approve", "POST", "/v1/tickets/{awaiting}/complaint/approve", None, {"team_lead", "supervisor", "admin"}),
    ("complaint inform", "POST", "/v1/tickets/{complaint}/complaint/inform", None, CALL_CENTER),
    ("callbacks", "GET", "/v1/callbacks", None, CALL_CENTER | {"service"}),
    ("attempt", "POST", "/v1/callbacks/{callback}/attempts", {"outcome": "no_answer"}, CALL_CENTER),
    ("survey", "POST", "/v1/surveys", {"order_id": "{order}", "csat": 5}, {"member", "other_member"}),
    ("change SLA policy", "PUT", "/v1/sla-policies/P4", {"first_response_minutes": 480, "resolution_minutes": 4320}, {"admin"}),
    ("change calendar", "PUT", "/v1/stations/{station}/calendar", {"opens": "09:00", "closes": "22:00", "holidays": []}, {"admin"}),
    ("KPIs", "GET", "/v1/reports/kpis?from=2030-03-05&to=2030-03-05", None, REPORTS),
    ("callback report", "GET", "/v1/reports/callbacks?from=2030-03-05&to=2030-03-05", None, REPORTS),
]
# Routes acting on an existing record of one station: staff of another station get 404.
SCOPED = {
    "read ticket",
    "public note",
    "log call",
    "status",
    "history",
    "merge",
    "assign to someone else",
    "complaint propose",
    "complaint approve",
    "complaint inform",
    "attempt",
}


@pytest.fixture(scope="module")
async def world(callcenter):
    client = callcenter.client
    station = await new_station(callcenter)
    member_id = str(uuid.uuid4())
    staff = auth("supervisor", stations=[station])
    subs = {role: f"authz-{role}-{station}" for role in ROLES}
    for role in ("agent", "team_lead", "supervisor", "station_manager", "admin"):
        body = {"name": role, "station": station, "role": "agent", "subject": subs[role]}
        assert (await client.post("/v1/agents", json=body, headers=staff)).status_code == 201
    someone = (await client.post("/v1/agents", json={"name": "Someone", "station": station, "role": "agent"}, headers=staff)).json()

    async def ticket(**extra) -> str:
        body = {"type": "inquiry", "channel": "phone", "subject": "s", "station": station, "member_id": member_id, **extra}
        return (await client.post("/v1/tickets", json=body, headers=staff)).json()["id"]

    awaiting = await ticket(type="complaint")
    await client.post(f"/v1/tickets/{awaiting}/complaint/propose", json={"resolution": "r", "compensation_minor": 30000}, headers=staff)
    async with callcenter.runtime.db.session() as session:
        callback = Callback(
            order_id=str(uuid.uuid4()),
            station=station,
            purpose="service_followup",
            due_at=local(DAY, 10),
            due_by=local(DAY, 12),
            occurred_at=local(DAY, 9),
        )
        session.add(callback)
        carrier = "".join(random.choices(string.ascii_uppercase, k=2))
        if await session.get(Carrier, carrier) is None:
            session.add(Carrier(designator=carrier, name="Authz Air", version=1))
        await session.commit()
    return {
        "station": station,
        "member_id": member_id,
        "subs": subs,
        "ticket": await ticket(),
        "duplicate": await ticket(),
        "complaint": await ticket(type="complaint"),
        "awaiting": awaiting,
        "agent_id": someone["id"],
        "callback": callback.id,
        "order": str(uuid.uuid4()),
        "carrier": carrier,
    }


def headers_for(role: str, world: dict, stations: list[str]) -> dict[str, str]:
    if role == "member":
        return auth("member", member_id=world["member_id"], stations=[])
    if role == "other_member":
        return auth("member", member_id=str(uuid.uuid4()), stations=[])
    return auth(role, stations=stations, sub=world["subs"][role])


def fill(value, world):
    if isinstance(value, str):
        return value.format(**world) if "{" in value else value
    if isinstance(value, dict):
        return {key: fill(item, world) for key, item in value.items()}
    return value


async def call(client, route, world, headers):
    _name, method, path, body, _allowed = route
    return await client.request(method, fill(path, world), json=fill(body, world), headers=headers)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ROUTES, ids=[route[0] for route in ROUTES])
async def test_route_by_role_at_own_station(client, world, route, role):
    answer = await call(client, route, world, headers_for(role, world, [world["station"]]))
    if role in route[4]:
        assert answer.status_code not in (401, 403), answer.text
        if not (route[0] == "survey" or (route[0] == "member copy")):
            assert answer.status_code != 404, answer.text
    elif (route[0] == "read ticket" and role == "other_member") or (route[0] == "public note" and role == "other_member"):
        assert answer.status_code == 404
    else:
        assert answer.status_code == 403, answer.text


@pytest.mark.parametrize(
    "route", [route for route in ROUTES if route[0] in SCOPED], ids=[route[0] for route in ROUTES if route[0] in SCOPED]
)
async def test_foreign_records_are_not_found_for_staff_of_another_station(client, world, route):
    role = sorted(route[4] - {"admin"})[0]
    answer = await call(client, route, world, headers_for(role, world, ["KMG"]))
    assert answer.status_code == 404, answer.text


@pytest.mark.parametrize("role", ["agent", "station_manager"])
async def test_creating_at_a_station_not_in_the_token_is_forbidden(client, world, role):
    body = {"type": "inquiry", "channel": "phone", "subject": "s", "station": world["station"]}
    assert (await client.post("/v1/tickets", json=body, headers=auth(role, stations=["KMG"]))).status_code == 403
    agent = {"name": "N", "station": world["station"], "role": "agent"}
    assert (await client.post("/v1/agents", json=agent, headers=auth("supervisor", stations=["KMG"]))).status_code == 403


async def test_members_open_tickets_only_for_themselves_on_app_or_web(client, world):
    member = headers_for("member", world, [])
    body = {"type": "inquiry", "channel": "phone", "subject": "s", "station": world["station"]}
    assert (await client.post("/v1/tickets", json=body, headers=member)).status_code == 403
    assert (await client.post("/v1/tickets", json={**body, "channel": "web", "member_id": "not-me"}, headers=member)).status_code == 403
    mine = await client.post("/v1/tickets", json={**body, "channel": "web"}, headers=member)
    assert mine.status_code == 201 and mine.json()["member_id"] == world["member_id"]
    others = (await client.get("/v1/tickets", headers=headers_for("other_member", world, []))).json()["items"]
    assert all(ticket["member_id"] != world["member_id"] for ticket in others)
    assert (await client.get(f"/v1/tickets/{world['ticket']}/history", headers=member)).status_code == 403
