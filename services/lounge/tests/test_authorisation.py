"""Routes by roles exactly as the table at the end of docs/lounge.md, and station scoping."""

from datetime import timedelta

import pytest
from lounge_support import PEK, a_flight, a_member, a_morning

from airside.auth import STAFF_ROLES, Role
from airside_tools.testing.harness import auth

STAFF = set(STAFF_ROLES)
DESK = {Role.lounge_staff, Role.station_manager, Role.admin}
VISIT_READERS = {Role.lounge_staff, Role.station_manager, Role.agent, Role.team_lead, Role.supervisor, Role.admin}
MANAGERS = {Role.station_manager, Role.admin}

# (method, path, json body, roles allowed). Bodies are invalid or ids unknown, so an allowed call
# is refused after authorisation (404/409/422/428) and changes nothing.
ROUTES = [
    ("GET", "/v1/lounges", None, STAFF),
    ("GET", f"/v1/lounges/{PEK}", None, STAFF),
    ("PATCH", f"/v1/lounges/{PEK}", {"capacity": 40}, MANAGERS),
    ("GET", "/v1/menu", None, set(Role)),
    ("PUT", "/v1/menu/NEWSKU", {"name": ""}, {Role.admin}),
    ("GET", f"/v1/lounges/{PEK}/occupancy", None, STAFF),
    ("GET", f"/v1/lounges/{PEK}/board", None, STAFF),
    ("GET", f"/v1/lounges/{PEK}/expected-visits", None, STAFF),
    ("GET", f"/v1/lounges/{PEK}/refusals", None, DESK),
    ("GET", "/v1/flights/CA1/2031-01-01", None, STAFF),
    ("GET", "/v1/members/nobody", None, STAFF),
    ("POST", f"/v1/lounges/{PEK}/visits", {}, DESK),
    ("POST", "/v1/boarding-passes/decode", {}, DESK),
    ("POST", "/v1/visits/nope/checkout", {}, DESK),
    ("POST", "/v1/visits/nope/sales", {}, DESK),
    ("POST", "/v1/sales/nope/void", {}, DESK),
    ("GET", f"/v1/lounges/{PEK}/visits", None, VISIT_READERS),
    ("GET", "/v1/visits/nope", None, VISIT_READERS | {Role.member}),
    ("GET", f"/v1/lounges/{PEK}/stock", None, DESK),
    ("POST", f"/v1/lounges/{PEK}/stock-counts", {}, DESK),
    ("POST", f"/v1/lounges/{PEK}/deliveries", {}, DESK),
    ("GET", "/v1/requisitions", None, DESK),
    ("GET", "/v1/requisitions/nope", None, DESK),
    ("POST", "/v1/requisitions/nope/submit", None, DESK),
    ("POST", "/v1/requisitions/nope/receive", {}, DESK),
    ("POST", "/v1/requisitions/nope/approve", None, MANAGERS),
    ("POST", "/v1/requisitions/nope/reject", {}, MANAGERS),
    ("GET", f"/v1/reports/daily-sales?lounge_id={PEK}&date=2031-01-01", None, MANAGERS),
]


def headers_for(role: Role, stations=("PEK",)) -> dict[str, str]:
    return auth(
        role.value, stations=stations, member_id="member-x" if role == Role.member else None, carrier="CA" if role == Role.carrier else None
    )


@pytest.mark.parametrize(("method", "path", "body", "allowed"), ROUTES, ids=[f"{m} {p}" for m, p, _, _ in ROUTES])
async def test_each_route_admits_exactly_its_roles(client, method, path, body, allowed):
    for role in Role:
        response = await client.request(method, path, json=body, headers=headers_for(role))
        if role in allowed:
            assert response.status_code not in (401, 403), (role, response.status_code, response.text)
        else:
            assert response.status_code == 403, (role, response.status_code, response.text)
    assert (await client.request(method, path, json=body)).status_code == 401


async def test_staff_of_another_station_get_404_for_records_and_403_for_creating_there(client, nats_server, frozen):
    now = a_morning()
    frozen(now)
    flight_no, flight_date = await a_flight(client, nats_server.url, now + timedelta(hours=1))
    member_id = await a_member(client, nats_server.url, tier="gold")
    body = {"member_id": member_id, "flight": {"carrier": "CA", "number": flight_no[2:], "flight_date": str(flight_date)}}
    kmg_staff, kmg_manager = headers_for(Role.lounge_staff, ("KMG",)), headers_for(Role.station_manager, ("KMG",))
    assert (await client.post(f"/v1/lounges/{PEK}/visits", json=body, headers=kmg_staff)).status_code == 403
    visit = (await client.post(f"/v1/lounges/{PEK}/visits", json=body, headers=headers_for(Role.lounge_staff))).json()
    count = {"lines": [{"sku": "PANDA", "counted": 5}]}
    assert (await client.post(f"/v1/lounges/{PEK}/stock-counts", json=count, headers=kmg_staff)).status_code == 403
    assert (await client.post(f"/v1/lounges/{PEK}/stock-counts", json=count, headers=headers_for(Role.lounge_staff))).status_code == 201
    (draft,) = (
        await client.get("/v1/requisitions", params={"lounge_id": PEK, "status": "draft"}, headers=headers_for(Role.lounge_staff))
    ).json()["items"]
    assert (await client.get("/v1/requisitions", params={"lounge_id": PEK}, headers=kmg_staff)).json()["items"] == []

    for method, path, json in [
        ("GET", f"/v1/visits/{visit['id']}", None),
        ("GET", f"/v1/visits/{visit['id']}/bill", None),
        ("POST", f"/v1/visits/{visit['id']}/sales", {"lines": [{"sku": "TEA", "qty": 1}]}),
        ("POST", f"/v1/visits/{visit['id']}/checkout", {"payment_method": "card"}),
        ("GET", f"/v1/lounges/{PEK}/occupancy", None),
        ("GET", f"/v1/lounges/{PEK}/board", None),
        ("GET", f"/v1/lounges/{PEK}/stock", None),
        ("GET", f"/v1/lounges/{PEK}/visits", None),
        ("GET", f"/v1/requisitions/{draft['id']}", None),
        ("POST", f"/v1/requisitions/{draft['id']}/submit", None),
        ("GET", f"/v1/reports/daily-sales?lounge_id={PEK}&date=2031-01-01", None),
    ]:
        response = await client.request(method, path, json=json, headers=kmg_manager)
        assert response.status_code == 404, (path, response.status_code)
    assert (await client.get(f"/v1/visits/{visit['id']}", headers=headers_for(Role.agent))).status_code == 200


async def test_a_member_reads_their_own_visit_only(client, nats_server, frozen):
    now = a_morning()
    frozen(now)
    flight_no, flight_date = await a_flight(client, nats_server.url, now + timedelta(hours=1))
    member_id = await a_member(client, nats_server.url, tier="platinum")
    body = {"member_id": member_id, "flight": {"carrier": "CA", "number": flight_no[2:], "flight_date": str(flight_date)}}
    visit = (await client.post(f"/v1/lounges/{PEK}/visits", json=body, headers=headers_for(Role.lounge_staff))).json()
    own = await client.get(f"/v1/visits/{visit['id']}", headers=auth("member", member_id=member_id))
    assert own.status_code == 200 and own.json()["member_id"] == member_id
    assert (await client.get(f"/v1/visits/{visit['id']}/bill", headers=auth("member", member_id=member_id))).status_code == 200
    assert (await client.get(f"/v1/visits/{visit['id']}", headers=auth("member", member_id="someone-else"))).status_code == 404
