"""Records of a caller's own for R8's changing routes: each allowed caller acts on a record made for it,
in the state its row needs, so every caller's answer is exact (200 for the confirm of a requested
order, 201 for a check-in, ...) and no caller uses up the record of the next.

Each maker takes the set, PEK's world and the caller, and returns the world keys the row's path and
body read (`order_id`, `visit_id`, ...) pointing at the new record. Everything is made through the
API, as the journeys make it.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from datetime import timedelta

from e2e_steps import ADMIN, Airside, Concierge, Flight, Json, boarding_pass, iso, letters, now, parse, staff
from world import OWN, carrier_paid_line, webhook_body

Maker = Callable[[Airside, Json, str], Awaitable[Json]]

_walk_ins = itertools.count()
# Concierge@PEK acts only on orders assigned to the world's concierge: each of their rows gets a flight of
# its own, hours apart, so the windows never overlap (the concierge is on duty for a day around now).
_OWN_CONCIERGE_HOURS = {"start": 10, "complete": 14}
LEAD = staff("concierge_lead")


def _is_the_assigned_concierge(caller: str) -> bool:
    return caller == f"concierge@{OWN}"


# --- booking ---------------------------------------------------------------------------------------


async def carrier_line(airside: Airside, world: Json, caller: str) -> Json:
    """A line of the world's airline no one disputed yet, on the month's open statement."""
    line = await carrier_paid_line(airside, world["carrier_flight"])
    return {"statement_id": line["statement_id"], "statement_line_id": line["id"]}


async def draft_statement(airside: Airside, world: Json, caller: str) -> Json:
    """The airline's open statement of the month (the world's is issued: a new line opens a supplementary one)."""
    return {"statement_id": (await carrier_paid_line(airside, world["carrier_flight"]))["statement_id"]}


async def issued_statement(airside: Airside, world: Json, caller: str) -> Json:
    """An issued statement with 18000 outstanding."""
    statement_id = (await draft_statement(airside, world, caller))["statement_id"]
    await airside.booking.call("POST", f"/v1/statements/{statement_id}/issue", ADMIN, json={"early": True})
    return {"statement_id": statement_id}


async def _booked(airside: Airside, world: Json, flight: Flight | None = None) -> Json:
    return await airside.booking.book(world["owner"], flight or world["flight"], products=("DEP_ESCORT",))


async def requested_order(airside: Airside, world: Json, caller: str) -> Json:
    return {"order_id": (await _booked(airside, world))["id"]}


async def confirmed_order(airside: Airside, world: Json, caller: str) -> Json:
    order = await _booked(airside, world)
    await airside.booking.confirm(order)
    # Assigned to a concierge of its own: the world's one already holds the world order's window.
    concierge = await airside.on_duty_concierge(now() + timedelta(hours=1), name="礼宾 新任")
    return {"order_id": order["id"], "assigned_concierge_id": concierge.id}


async def _assigned(airside: Airside, world: Json, caller: str, flight: Flight | None = None) -> tuple[Json, Concierge]:
    if _is_the_assigned_concierge(caller):
        concierge = world["assigned_concierge"]
    else:
        concierge = await airside.on_duty_concierge(now() + timedelta(hours=1), name="礼宾 新任")
    order = await _booked(airside, world, flight)
    await airside.booking.confirm(order)
    await airside.booking.assign(order, concierge)
    return order, concierge


def _own_flight(caller: str, row: str) -> Flight | None:
    if not _is_the_assigned_concierge(caller):
        return None
    return Flight.departing(now() + timedelta(hours=_OWN_CONCIERGE_HOURS[row]), destination="CTU")


async def assigned_order(airside: Airside, world: Json, caller: str) -> Json:
    order, _ = await _assigned(airside, world, caller, _own_flight(caller, "start"))
    return {"order_id": order["id"]}


async def order_in_service(airside: Airside, world: Json, caller: str) -> Json:
    order, _ = await _assigned(airside, world, caller, _own_flight(caller, "complete"))
    await airside.booking.act(order, "start", None, LEAD)
    return {"order_id": order["id"]}


async def order_not_shown_up(airside: Airside, world: Json, caller: str) -> Json:
    """Assigned, and its flight moved forward so that the meeting time is an hour gone: a no-show may be recorded."""
    flight = Flight.departing(now() + timedelta(hours=4), destination="CTU")
    order, _ = await _assigned(airside, world, caller, flight)
    body = {"origin": flight.origin, "destination": flight.destination, "std": iso(now() - timedelta(hours=1))}
    await airside.booking.call("PUT", f"/v1/flights/{flight.flight_no}/{flight.flight_date.isoformat()}", ADMIN, json=body)
    moved = await airside.booking.order(order["id"])
    assert moved["status"] == "assigned" and parse(moved["meet_at"]) < now() - timedelta(minutes=30), moved
    return {"order_id": order["id"]}


# --- lounge ----------------------------------------------------------------------------------------


def _walk_in_pass(world: Json) -> str:
    """A boarding pass of a passenger nobody else is, on the flight the lounge admits now."""
    return boarding_pass(f"WALKIN/{letters(next(_walk_ins))}", world["soon"])


async def check_in_of_a_walk_in(airside: Airside, world: Json, caller: str) -> Json:
    return {"check_in_body": {"boarding_pass": _walk_in_pass(world)}}


async def _walk_in(airside: Airside, world: Json) -> Json:
    return (await airside.lounge.check_in(boarding_pass=_walk_in_pass(world))).json()


async def visit_inside(airside: Airside, world: Json, caller: str) -> Json:
    return {"visit_id": (await _walk_in(airside, world))["id"]}


async def sale_line(airside: Airside, world: Json, caller: str) -> Json:
    bill = (await airside.lounge.sell(await _walk_in(airside, world), ("TEA", 1))).json()
    (tea,) = [line for line in bill["lines"] if line["sku"] == "TEA"]  # a walk-in's bill starts with the entry
    return {"line_id": tea["id"]}


async def _draft(airside: Airside, world: Json) -> Json:
    """The lounge's draft requisition: the spare SKU counted above its reorder point, then down to nothing, so
    it crosses the point and goes onto the draft (one is opened when the lounge has none)."""
    sku = world["spare_sku"]
    item = (await airside.lounge.stock())[sku]
    for counted in (item["reorder_point"] + 10, 0):
        await airside.lounge.count_stock(world["lounge_id"], OWN, {sku: counted})
    (draft,) = await airside.lounge.requisitions(status="draft")
    assert sku in {line["sku"] for line in draft["lines"]}, draft
    return draft


async def draft_requisition(airside: Airside, world: Json, caller: str) -> Json:
    return {"requisition_id": (await _draft(airside, world))["id"]}


async def submitted_requisition(airside: Airside, world: Json, caller: str) -> Json:
    draft = await _draft(airside, world)
    await airside.lounge.requisition_step(draft, "submit", staff("lounge_staff"))
    return {"requisition_id": draft["id"], "approved": draft["id"]}


async def approved_requisition(airside: Airside, world: Json, caller: str) -> Json:
    draft = await _draft(airside, world)
    await airside.lounge.requisition_step(draft, "submit", staff("lounge_staff"))
    await airside.lounge.requisition_step(draft, "approve", staff("station_manager"))
    return {"approved": draft["id"]}


# --- callcenter ------------------------------------------------------------------------------------


async def _ticket(airside: Airside, world: Json, **body: str) -> Json:
    fields = {"type": "inquiry", "subject": "Is the lounge open?", "member_id": world["member_id"], **body}
    return await airside.callcenter.open_ticket(**fields)


async def open_ticket(airside: Airside, world: Json, caller: str) -> Json:
    return {"ticket_id": (await _ticket(airside, world))["id"]}


async def duplicate_ticket(airside: Airside, world: Json, caller: str) -> Json:
    return {"duplicate": (await _ticket(airside, world))["id"]}


# A complaint walked to the step before the row's: each step by someone other than the callers of the rows
# (the proposer is never the approver).
COMPLAINT_STEPS = (
    ("investigate", staff("supervisor"), None),
    ("propose", staff("supervisor"), {"resolution": "apology and a voucher", "compensation_minor": 50000}),  # a team lead approves it
    ("approve", ADMIN, None),
    ("inform", staff("supervisor"), None),
)


def complaint_before(step: str) -> Maker:
    names = [name for name, _, _ in COMPLAINT_STEPS]
    done = COMPLAINT_STEPS[: names.index(step)] if step in names else COMPLAINT_STEPS

    async def make(airside: Airside, world: Json, caller: str) -> Json:
        complaint = await _ticket(airside, world, type="complaint", subject="The concierge was late", order_id=world["completed_order"])
        for name, by, body in done:
            await airside.callcenter.complaint_step(complaint, name, by, body)
        return {"complaint": complaint["id"], "rejectable": complaint["id"], "approvable_complaint": complaint["id"]}

    return make


async def due_callback(airside: Airside, world: Json, caller: str) -> Json:
    """The callback the call center schedules when an order of the owner's is completed."""
    concierge = await airside.on_duty_concierge(now() + timedelta(hours=1), name="礼宾 回访")
    order = await airside.order_in_service(world["owner"], world["soon"], concierge, products=("DEP_ESCORT",))
    await airside.booking.complete(order, concierge)
    return {"callback_id": (await airside.the_one_callback(order))["id"]}


async def claimable_ticket(airside: Airside, world: Json, caller: str) -> Json:
    """One ticket more in PEK's queue, so an agent's claim always finds one."""
    await _ticket(airside, world)
    return {}


# --- every service ---------------------------------------------------------------------------------


def webhook_subscription(service: str) -> Maker:
    """A subscription of the caller's own to delete."""

    async def make(airside: Airside, world: Json, caller: str) -> Json:
        response = await getattr(airside, service).call("POST", "/v1/webhooks", ADMIN, json=webhook_body(service), expect=201)
        return {f"webhook_{service}": response.json()["id"]}

    return make
