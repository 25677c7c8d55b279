"""A station's records in each service, made the way the journeys make them: the world R8's
authorisation table and R7's fuzzing act on.

Records belong to PEK. Staff of both stations have call-center agent records, and the concierge the
order is assigned to is `subject("concierge", "PEK")`, so a test's staff tokens act as real people.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta

from e2e_steps import (
    ADMIN,
    PEK_LOUNGE,
    Airside,
    Concierge,
    Flight,
    Json,
    boarding_pass,
    contract_copied,
    eventually,
    iso,
    letters,
    local_date,
    member_token,
    now,
    publish_raw,
    staff,
)

from airside_tools.testing.harness import auth

OWN, FOREIGN = "PEK", "KMG"
# A partner's webhook endpoint for the world's subscriptions: nothing listens on port 9, so the few deliveries
# attempted fail at once. The services holding the world allow it (WEBHOOK_ALLOW, passed to services_running).
WEBHOOK_URL = "https://127.0.0.1:9/r8"
WEBHOOK_ALLOW = {"AIRSIDE_WEBHOOK_ALLOW_HOSTS": "127.0.0.1"}
# An event of each service the world makes rarely, so its subscriptions are owed few deliveries.
WEBHOOK_FILTERS = {
    "booking": "airside.booking.station.upserted",
    "lounge": "airside.lounge.stock.low",
    "callcenter": "airside.callcenter.csat.recorded",
}


def webhook_body(service: str) -> Json:
    return {"url": WEBHOOK_URL, "event_types": [WEBHOOK_FILTERS[service]], "description": "R8"}


# The world's airline (docs/carriers.md): its lounge contract at PEK covers business class; "carrier" is a caller.
CARRIER = "R8"
CARRIER_LOUNGE = {"cabins": ["J", "C"], "rate_minor": 18000, "guests_allowed": 0, "complimentary_menu": True}
_carrier_passengers = itertools.count()


def carrier_token(designator: str = CARRIER) -> dict[str, str]:
    return auth("carrier", stations=[], carrier=designator, sub=f"r8-carrier-{designator.lower()}")


async def carrier_paid_line(airside: Airside, flight: Flight) -> Json:
    """A business-class passenger of the world's airline in and out of PEK's lounge on the contract, and the
    line booking's statement holds for the visit (its statement_id says which)."""
    name = f"R{letters(next(_carrier_passengers))}/PAX"
    visit = (await airside.lounge.check_in(boarding_pass=boarding_pass(name, flight, cabin="J"))).json()
    await airside.lounge.check_out(visit)

    async def billed() -> Json | None:
        listed = (await airside.booking.call("GET", "/v1/statements", ADMIN, params={"carrier": CARRIER})).json()["items"]
        for summary in listed:
            statement = (await airside.booking.call("GET", f"/v1/statements/{summary['id']}", ADMIN, params={"limit": 1000})).json()
            for line in statement["lines"]:
                if line["reference"] == visit["id"]:
                    return line
        return None

    line: Json = await eventually(billed, f"the statement line of visit {visit['id']}")
    return line


async def carrier_world(airside: Airside) -> Json:
    """The world's airline, its contract at PEK (copied by the lounge), a flight of it in the lounge, an issued
    statement with two lines, one of them disputed by the carrier, and the month's supplementary draft."""
    await airside.booking.call("POST", "/v1/carriers", ADMIN, json={"designator": CARRIER, "name": "R8 Airways"}, expect=201)
    body = {
        "station": OWN,
        "currency": "CNY",
        "valid_from": local_date(now()).replace(day=1).isoformat(),
        "settlement": {"frequency": "monthly", "payment_days": 30},
        "lounge": CARRIER_LOUNGE,
        "assist": [{"product_code": "DEP_ESCORT", "rate_minor": 15000}],
    }
    contract = (await airside.booking.call("POST", f"/v1/carriers/{CARRIER}/contracts", ADMIN, json=body, expect=201)).json()
    await contract_copied(airside, contract["id"], version=contract["version"])
    flight = Flight.departing(now() + timedelta(hours=2), carrier=CARRIER, destination="CTU")
    await airside.airline.publish(flight)
    await airside.flight_in_lounge(flight)
    for passenger in ("ECONOMY/ONE", "ECONOMY/TWO"):  # refused (not covered): the lounge's list of refusals has a second page
        await airside.lounge.check_in(boarding_pass=boarding_pass(passenger, flight, cabin="Y"), expect=409)
    disputed, kept = [await carrier_paid_line(airside, flight) for _ in range(2)]
    statement_id = disputed["statement_id"]
    dispute = f"/v1/statements/{statement_id}/lines/{disputed['id']}/dispute"
    await airside.booking.call("POST", dispute, carrier_token(), json={"reason": "R8: not ours"}, expect=201)
    await airside.booking.call("POST", f"/v1/statements/{statement_id}/issue", ADMIN, json={"early": True})
    # Second pages for the lists: a later line opens the month's supplementary statement, a past contract at
    # KMG, another carrier.
    await carrier_paid_line(airside, flight)
    past = {**body, "station": FOREIGN, "valid_from": "2026-01-01", "valid_to": "2026-01-31"}
    await airside.booking.call("POST", f"/v1/carriers/{CARRIER}/contracts", ADMIN, json=past, expect=201)
    await airside.booking.call("POST", "/v1/carriers", ADMIN, json={"designator": "R7", "name": "R7 Air"}, expect=201)
    return {
        "carrier": CARRIER,
        "contract_id": contract["id"],
        "carrier_flight": flight,
        "statement_id": statement_id,
        "statement_line_id": kept["id"],
        "disputed_line_id": disputed["id"],
    }


def subject(role: str, station: str) -> str:
    """The token subject of the world's staff member with this role at this station."""
    return f"r8-{role}-{station.lower()}"


async def pek_world(airside: Airside) -> Json:
    """PEK's records in each service: members, orders, a visit with a bill, requisitions, agents,
    tickets and complaints at each step, a callback and a parked event in each service."""
    phones = iter(f"+86138{n:08d}" for n in range(10**6, 10**7))
    owner = await airside.member_known_everywhere("Owner Gao", tier="gold")
    other = await airside.member_known_everywhere("Other Hu", tier="gold")
    await airside.lounge.open_all_day()

    # booking: an order for the matrix to act on, and one completed for a callback and a survey
    flight = Flight.departing(now() + timedelta(hours=6), destination="CTU")  # members book 3 h ahead
    soon = Flight.departing(now() + timedelta(hours=2, minutes=30), destination="CTU")  # the lounge admits 3 h before departure
    for departing in (flight, soon):
        await airside.airline.publish(departing)
        await airside.flight_in_lounge(departing)
    concierge = await airside.booking.new_concierge("礼宾 矩阵")
    # The matrix's concierge of PEK is the one the order is assigned to: start, no-show and complete are theirs.
    body = {"name": "礼宾 本人", "station": OWN, "phone": "+8613700137002", "subject": subject("concierge", OWN)}
    created = (await airside.booking.call("POST", "/v1/concierges", staff("concierge_lead"), json=body, expect=201)).json()
    assigned = Concierge(created["id"], created["name"], OWN, staff("concierge", OWN, sub=subject("concierge", OWN)))
    for on_duty in (concierge, assigned):
        await airside.booking.on_duty_around(on_duty, now() + timedelta(hours=1))
    order = await airside.booking.book(owner, flight, channel="app", by=member_token(owner))
    await airside.booking.confirm(order)
    await airside.booking.assign(order, assigned)
    done = await airside.order_in_service(owner, soon, concierge, products=("DEP_ESCORT",))
    await airside.booking.complete(done, concierge)
    callback = await airside.the_one_callback(done)
    # A second callback, so the list of callbacks has a second page (a real next_cursor) too.
    another = await airside.on_duty_concierge(now() + timedelta(hours=1), name="礼宾 第二")
    again = await airside.order_in_service(owner, soon, another, products=("DEP_ESCORT",))
    await airside.booking.complete(again, another)
    await airside.the_one_callback(again)

    # lounge: the owner inside with a bill, and the bar sold down to a draft requisition
    check_in = {"member_id": owner["id"], "flight": soon.ref()}
    visit = (await airside.lounge.check_in(**check_in)).json()
    bill = (await airside.lounge.sell(visit, ("TEA", 1), ("WINE", 1))).json()
    panda = (await airside.lounge.stock())["PANDA"]
    await airside.lounge.sell(visit, ("PANDA", panda["on_hand"] - panda["reorder_point"]))
    (draft,) = await eventually(lambda: airside.lounge.requisitions(status="draft"), "a draft requisition")
    manager = staff("station_manager")
    await airside.lounge.requisition_step(draft, "submit", manager)
    await airside.lounge.requisition_step(draft, "approve", manager)
    stock = await airside.lounge.stock()
    sku = next(sku for sku, row in sorted(stock.items()) if sku not in ("PANDA", "TEA", "WINE") and row["on_hand"] > row["reorder_point"])
    to_sell = stock[sku]["on_hand"] - stock[sku]["reorder_point"]
    for chunk in range(0, to_sell, 100):  # another SKU low: a new draft (at most 100 a line)
        await airside.lounge.sell(visit, (sku, min(100, to_sell - chunk)))
    (second,) = await eventually(lambda: airside.lounge.requisitions(status="draft"), "a second draft requisition")
    spare_sku = next(other for other in sorted(stock) if other not in ("PANDA", "TEA", "WINE", "NUTS", sku))  # nobody sells it

    # callcenter: agents for every call-center caller, tickets and complaints at each step the matrix needs
    supervisor = staff("supervisor")
    for station in (OWN, FOREIGN):
        for role in ("agent", "team_lead", "supervisor", "station_manager"):
            body = {"name": f"{role} {station}", "station": station, "role": "agent", "subject": subject(role, station)}
            await airside.callcenter.call("POST", "/v1/agents", staff("supervisor", station), json=body, expect=201)
    colleague, _ = await airside.callcenter.new_agent(OWN)
    ticket_body = {"type": "inquiry", "subject": "Where do I meet the concierge?", "member_id": owner["id"]}
    ticket = await airside.callcenter.open_ticket(**ticket_body)
    duplicate = await airside.callcenter.open_ticket(**ticket_body)
    complaint_body = {"type": "complaint", "subject": "The concierge was late", "member_id": owner["id"], "order_id": done["id"]}
    complaints = [await airside.callcenter.open_ticket(**complaint_body) for _ in range(3)]
    for awaiting in complaints[1:]:
        await airside.callcenter.complaint_step(awaiting, "investigate", supervisor)
        await airside.callcenter.complaint_step(awaiting, "propose", supervisor, {"resolution": "voucher", "compensation_minor": 10000})
    policy = (await airside.callcenter.call("GET", "/v1/sla-policies/P4", ADMIN)).json()
    calendar = (await airside.callcenter.call("GET", f"/v1/stations/{OWN}/calendar", ADMIN)).json()

    # each service: parked events for the replay route, two at least so their list has a second page
    for _ in range(2):
        await publish_raw(airside.nats_url, "airside.flight.status", b"not an event", f"r8-poison-{uuid.uuid4()}")
        await publish_raw(airside.nats_url, "airside.booking.member.registered", b"not an event", f"r8-poison-{uuid.uuid4()}")
    letters = {}
    for name in ("booking", "lounge", "callcenter"):
        service = getattr(airside, name)

        async def two_parked(service=service) -> list[Json]:
            parked = await service.dead_letters(status="parked")
            return parked if len(parked) >= 2 else []

        letters[f"letter_{name}"] = (await eventually(two_parked, f"two parked events in {name}"))[0]["id"]

    # each service: two webhook subscriptions, so their list has a second page; the fuzzing names only the first
    webhooks = {}
    for name in ("booking", "lounge", "callcenter"):
        service = getattr(airside, name)
        for key in (f"webhook_{name}", f"kept_webhook_{name}"):
            webhooks[key] = (await service.call("POST", "/v1/webhooks", ADMIN, json=webhook_body(name), expect=201)).json()["id"]

    carriers = await carrier_world(airside)
    today = local_date(now())
    return {
        "own": OWN,
        "code": "CTU",
        "product": "R8_ESCORT",
        "sku": "R8TEA",
        "priority": "P4",
        "today": today.isoformat(),
        "later_day": (today + timedelta(days=30)).isoformat(),
        "tomorrow": iso(now() + timedelta(days=1)),
        "new_phone": lambda: next(phones),
        "owner": owner,
        "member_id": owner["id"],
        "member_phone": owner["phone"],
        "other_member_id": other["id"],
        "flight": flight,
        "soon": soon,
        "assigned_concierge": assigned,
        "flight_no": flight.flight_no,
        "flight_date": flight.flight_date.isoformat(),
        "flight_body": {"origin": flight.origin, "destination": flight.destination, "std": iso(flight.std)},
        "order_body": {
            "member_id": owner["id"], "station": OWN, "direction": "departure", "flight": flight.ref(),
            "items": [{"product": "DEP_ESCORT"}], "passengers": [{"name": owner["name"]}], "channel": "app",
        },
        "order_id": order["id"],
        "completed_order": done["id"],
        "concierge_id": concierge.id,
        "assigned_concierge_id": assigned.id,
        "lounge_id": PEK_LOUNGE,
        "check_in_body": check_in,
        "visit_id": visit["id"],
        "line_id": bill["lines"][0]["id"],
        "requisition_id": second["id"],
        "spare_sku": spare_sku,
        "approved": draft["id"],  # what approve and receive ask a refused caller about (the allowed get their own)
        "agent_id": colleague["id"],
        "ticket_id": ticket["id"],
        "duplicate": duplicate["id"],
        "complaint": complaints[0]["id"],
        "rejectable": complaints[1]["id"],
        "approvable_complaint": complaints[2]["id"],
        "callback_id": callback["id"],
        "sla_policy": {"first_response_minutes": policy["first_response_minutes"], "resolution_minutes": policy["resolution_minutes"]},
        "calendar": {"opens": calendar["opens"], "closes": calendar["closes"], "holidays": calendar["holidays"]},
        **letters,
        **webhooks,
        "delivery_id": 2**31 - 1,  # no delivery has it: its replay answers 404
        **carriers,
    }  # fmt: skip
