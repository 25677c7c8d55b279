"""Routes x roles (docs/booking.md), table-driven: each route, each role, own or foreign station or member.

"ok" means the caller got past authorisation (any answer but 401/403/404, e.g. 200 or a 409 business refusal).
"""

import uuid
from datetime import timedelta

import pytest
from booking_support import iso, local, local_day, new_concierge, new_flight, new_member, new_order, order_body
from carrier_support import carrier_token, new_carrier, new_contract

from airside_tools.testing.harness import auth

OK = "ok"
STAFF_PEK = ["concierge", "concierge_lead", "lounge_staff", "agent", "team_lead", "supervisor", "station_manager"]
CALLERS = [
    "member_own",
    "member_other",
    *[f"{role}@PEK" for role in STAFF_PEK],
    "concierge_lead@KMG",
    "agent@KMG",
    "station_manager@KMG",
    "admin",
    "service",
    "carrier",  # an airline's token (docs/carriers.md): the world's partner order is the one it pays, the passenger its own
    "carrier_other",  # another airline's token: the same records are not its own
]


def expect(ok: set[str], *, foreign: int = 404, default: int = 403, member_other: int | None = None) -> dict[str, object]:
    """Callers in `ok` pass; a staff caller of KMG acting on PEK gets `foreign` when their role would pass; the rest `default`."""
    table: dict[str, object] = {}
    for caller in CALLERS:
        role = caller.split("@")[0]
        if caller in ok:
            table[caller] = OK
        elif caller.endswith("@KMG") and f"{role}@PEK" in ok:
            table[caller] = foreign
        elif caller == "member_other" and "member_own" in ok:
            table[caller] = member_other or foreign
        else:
            table[caller] = default
    return table


DESK = {"agent@PEK", "team_lead@PEK", "concierge_lead@PEK", "station_manager@PEK", "admin"}
LEADS = {"concierge_lead@PEK", "station_manager@PEK", "admin"}
EVERY_STAFF_PEK = {f"{role}@PEK" for role in STAFF_PEK} | {"admin", "service"}
# members have no station: the desk roles of either station enrol, read and change them
MEMBER_ROLES = ("agent", "team_lead", "supervisor", "concierge_lead", "station_manager")
MEMBER_DESK = {caller for caller in CALLERS if caller.split("@")[0] in MEMBER_ROLES} | {"admin"}

MATRIX: dict[str, dict[str, object]] = {
    "read order": expect({"member_own", *EVERY_STAFF_PEK}, default=404),
    "order history": expect({"member_own", *EVERY_STAFF_PEK}, default=404),
    "create order": expect({"member_own", *DESK}, foreign=403, member_other=403),
    "confirm": expect(DESK, member_other=403),
    "cancel": expect({"member_own", *DESK}),
    "change": expect({"member_own", *DESK}),
    "assign": expect(LEADS, member_other=403),
    "candidates": expect(LEADS, member_other=403),
    "start": expect(LEADS, member_other=403),
    "complete": expect(LEADS, member_other=403),
    "no-show": expect(LEADS, member_other=403),
    "create concierge": expect(LEADS, foreign=403, member_other=403),
    "list concierges": expect(LEADS | {"concierge_lead@KMG", "station_manager@KMG"}, member_other=403),
    "put shifts": expect(LEADS, member_other=403),
    "schedule": expect(LEADS, member_other=403),
    "report": expect(LEADS, member_other=403),  # another station's report is not found, like its records
    "upsert flight": expect(LEADS | {"service"}, foreign=403, member_other=403),
    "flight status": expect(LEADS | {"service"}, foreign=403, member_other=403),
    "read products": expect(set(CALLERS)),
    "write product": expect({"admin"}, foreign=403, member_other=403),
    "reannounce": expect({"admin"}, foreign=403, member_other=403),
    # the partner order the world's carrier pays, for the passenger it enrolled (docs/carriers.md "Partner orders")
    "create partner order": expect({"carrier", *DESK}, foreign=403, member_other=403),
    "read partner order": expect({"carrier", *EVERY_STAFF_PEK}, default=404),
    "partner order history": expect({"carrier", *EVERY_STAFF_PEK}, default=404),
    "list orders": expect(set(CALLERS)),  # each caller's own: a carrier's holds only the orders it pays
    "change partner order": expect(DESK),
    "cancel partner order": expect({"carrier", *DESK}),
    "enrol member": expect({"carrier", "carrier_other", *MEMBER_DESK}, member_other=403),
    "search members": expect({*MEMBER_DESK, "service"}, member_other=403),
    "read enrolled member": expect({"carrier", *MEMBER_DESK, "service"}, member_other=403),
    "change enrolled member": expect(MEMBER_DESK, member_other=403),
}
# a member acting on another member's order: it does not exist for them (404) where members may act at all
for route in ("cancel", "change"):
    MATRIX[route]["member_other"] = 404
# ... and the partner order (its passenger is not theirs), the carrier's passenger likewise
for route in ("change partner order", "cancel partner order", "read enrolled member", "change enrolled member"):
    MATRIX[route]["member_own"] = MATRIX[route]["member_other"] = 404
# a carrier may cancel the orders it pays: a member's, or another carrier's, does not exist for it
MATRIX["cancel"]["carrier"] = MATRIX["cancel"]["carrier_other"] = 404
for route in ("read partner order", "partner order history", "cancel partner order", "read enrolled member"):
    MATRIX[route]["carrier_other"] = 404
# the order's flight is PEK→KMG: KMG's leads may enter its status (the PEK→CTU upsert above stays 403)
for caller in ("concierge_lead@KMG", "station_manager@KMG"):
    MATRIX["flight status"][caller] = OK
# the desk's KMG staff cannot create at PEK (403)
for caller in ("agent@KMG", "concierge_lead@KMG", "station_manager@KMG"):
    MATRIX["create order"][caller] = 403


@pytest.fixture(scope="module")
async def world(booking):
    client = booking.client
    member, other = await new_member(client), await new_member(client)
    day = local_day(20)
    order = await new_order(client, member=member, std=local(day, 15))
    concierge = await new_concierge(client, shifts=[(day, "06:00", "22:00")])
    flight = order["flight"]
    carrier, carrier_other = await new_carrier(client), await new_carrier(client)
    await new_contract(client, carrier)
    await new_contract(client, carrier_other)
    enrolled = await client.post("/v1/members", json={"name": "张伟", "phone": "+8613600136000"}, headers=carrier_token(carrier))
    assert enrolled.status_code == 201, enrolled.text
    passenger = enrolled.json()
    partner = await new_order(
        client,
        member=passenger,
        std=local(day, 18),
        headers=carrier_token(carrier),
        items=[{"product": "DEP_ESCORT"}],
        channel="partner",
        payer={"carrier": carrier},
    )
    return {
        "client": client,
        "member": member,
        "other": other,
        "order": order,
        "concierge": concierge,
        "flight": flight,
        "day": day,
        "carrier": carrier,
        "carrier_other": carrier_other,
        "passenger": passenger,
        "partner_order": partner,
    }


def headers_for(caller: str, world) -> dict[str, str]:
    if caller == "member_own":
        return auth("member", member_id=world["member"]["id"])
    if caller == "member_other":
        return auth("member", member_id=world["other"]["id"])
    if caller in ("carrier", "carrier_other"):
        return carrier_token(world[caller])
    if caller in ("admin", "service"):
        return auth(caller, stations=["*"] if caller == "admin" else [])
    role, station = caller.split("@")
    return auth(role, stations=[station], sub=f"{role}-{uuid.uuid4().hex[:6]}")


async def call(route: str, world, headers: dict[str, str]):
    client, order, concierge, flight, day = world["client"], world["order"], world["concierge"], world["flight"], world["day"]
    orders = f"/v1/orders/{order['id']}"
    flight_url = f"/v1/flights/{flight['flight_no']}/{flight['flight_date']}"
    if route == "read order":
        return await client.get(orders, headers=headers)
    if route == "order history":
        return await client.get(f"{orders}/history", headers=headers)
    if route == "create order":
        body = order_body(world["member"]["id"], new_flight(local(day, 16)), channel="app")
        return await client.post("/v1/orders", json=body, headers=headers)
    if route in ("confirm", "start", "complete"):
        return await client.post(f"{orders}/{route}", headers=headers)
    if route == "cancel":
        return await client.post(f"{orders}/cancel", json={"reason": "matrix"}, headers=headers)
    if route == "no-show":
        return await client.post(f"{orders}/no-show", json={"contact_attempts": 1, "notes": "n"}, headers=headers)
    if route == "change":
        return await client.patch(orders, json={"notes": "matrix"}, headers={**headers, "If-Match": '"1"'})
    if route == "assign":
        return await client.post(f"{orders}/assign", json={"concierge_id": concierge["id"]}, headers=headers)
    if route == "candidates":
        return await client.get(f"{orders}/candidates", headers=headers)
    if route == "create concierge":
        return await client.post("/v1/concierges", json={"name": "Matrix", "station": "PEK", "phone": "+8613700137000"}, headers=headers)
    if route == "list concierges":
        return await client.get("/v1/concierges", headers=headers)
    if route == "put shifts":
        return await client.put(
            f"/v1/concierges/{concierge['id']}/shifts/{day}", json=[{"start": "06:00", "end": "22:00"}], headers=headers
        )
    if route == "schedule":
        return await client.get(f"/v1/concierges/{concierge['id']}/schedule", params={"date": str(day)}, headers=headers)
    if route == "report":
        return await client.get("/v1/reports/daily-services", params={"station": "PEK", "date": str(day)}, headers=headers)
    if route == "upsert flight":
        body = {"origin": "PEK", "destination": "CTU", "std": iso(local(day, 9)), "sta": iso(local(day, 9) + timedelta(hours=3))}
        return await client.put(f"/v1/flights/MX{uuid.uuid4().int % 9000 + 1}/{day}", json=body, headers=headers)
    if route == "flight status":
        return await client.post(f"{flight_url}/status", json={"status": "scheduled"}, headers=headers)
    if route == "read products":
        return await client.get("/v1/products", headers=headers)
    if route == "write product":
        prices = {"standard": 1, "gold": 1, "platinum": 1, "vip": 1}
        return await client.put("/v1/products/MATRIX_TEST", json={"name": "m", "kind": "escort", "prices": prices}, headers=headers)
    if route == "reannounce":
        return await client.post("/v1/ops/reannounce", headers=headers)
    return await partner_call(route, world, headers)


async def partner_call(route: str, world, headers: dict[str, str]):
    """The carrier's rows: its partner order and its passenger."""
    client, day, passenger = world["client"], world["day"], world["passenger"]
    partner = f"/v1/orders/{world['partner_order']['id']}"
    member = f"/v1/members/{passenger['id']}"
    if route == "create partner order":
        body = order_body(
            passenger["id"],
            new_flight(local(day, 17)),
            items=[{"product": "DEP_ESCORT"}],
            channel="partner",
            payer={"carrier": world["carrier"]},
        )
        return await client.post("/v1/orders", json=body, headers=headers)
    if route == "read partner order":
        return await client.get(partner, headers=headers)
    if route == "partner order history":
        return await client.get(f"{partner}/history", headers=headers)
    if route == "list orders":
        return await client.get("/v1/orders", headers=headers)
    if route == "change partner order":
        return await client.patch(partner, json={"notes": "matrix"}, headers={**headers, "If-Match": '"1"'})
    if route == "cancel partner order":
        return await client.post(f"{partner}/cancel", json={"reason": "matrix"}, headers=headers)
    if route == "enrol member":
        return await client.post("/v1/members", json={"name": "Matrix", "phone": "+8613500135000", "tier": "standard"}, headers=headers)
    if route == "search members":
        return await client.get("/v1/members", params={"q": "张伟"}, headers=headers)
    if route == "read enrolled member":
        return await client.get(member, headers=headers)
    if route == "change enrolled member":
        return await client.patch(member, json={"email": "zhang.wei@example.com"}, headers={**headers, "If-Match": '"1"'})
    raise AssertionError(route)


CASES = [(route, caller, expected) for route, table in MATRIX.items() for caller, expected in table.items()]


@pytest.mark.parametrize(("route", "caller", "expected"), CASES, ids=[f"{route}-{caller}" for route, caller, _ in CASES])
async def test_route_by_role(world, route, caller, expected):
    response = await call(route, world, headers_for(caller, world))
    if expected == OK:
        assert response.status_code not in (401, 403, 404), (response.status_code, response.text)
    else:
        assert response.status_code == expected, (response.status_code, response.text)


async def test_no_token_is_401_everywhere(client):
    for method, url in [("GET", "/v1/orders"), ("POST", "/v1/orders"), ("GET", "/v1/products"), ("GET", "/v1/concierges")]:
        assert (await client.request(method, url)).status_code == 401


async def test_a_member_books_only_through_app_or_web(client):
    member = await new_member(client)
    body = order_body(member["id"], new_flight(local(local_day(), 15)), channel="call_center")
    assert (await client.post("/v1/orders", json=body, headers=auth("member", member_id=member["id"]))).status_code == 403
    assert (
        await client.post("/v1/orders", json={**body, "channel": "web"}, headers=auth("member", member_id=member["id"]))
    ).status_code == 201
