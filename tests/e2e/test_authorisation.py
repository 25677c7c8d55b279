"""R8: one authorisation table over every route of the three services x every role x own/foreign
station or member, asked of the three services running as processes.

The services get a NATS server and databases of their own here: every allowed call really acts
(checks guests in, cancels orders, approves requisitions), which must not disturb the journeys.
Records belong to PEK; the callers are each staff role of PEK and of KMG, the member who owns the
records and another member, admin, the service role and nobody (no token).

An allowed caller gets exactly the row's status: a read 200, a PATCH sent with the ETag just read 200,
a creation 201, a step 200. A change that uses up its record (confirm, check in, approve, a complaint
step, a callback attempt) is made on a record of the caller's own in the state the step needs
(fresh_records.py), so no caller's answer depends on who came before. 409 only where the row's point
is the refusal (a replay of bytes that are no event), with its problem type. A listing a foreign
caller or another member reads holds none of PEK's or the owner's records. A test fails if a route is
added to any service without a row here.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import fresh_records as fresh
import httpx
import pytest
from e2e_steps import (
    ADMIN,
    PEK_LOUNGE,
    Airside,
    Json,
    staff,
)
from world import FOREIGN, OWN, WEBHOOK_ALLOW, carrier_token, pek_world, subject, webhook_body

from airside_tools.processes import NatsServer
from airside_tools.testing.harness import ServiceSet, auth, nats_under, services_running

SAME = "same"
RECORD, STATION, ANY = 404, 403, SAME  # how staff of the other station are answered when their role is allowed (ANY: as PEK's)
STAFF = ("concierge", "concierge_lead", "lounge_staff", "agent", "team_lead", "supervisor", "station_manager")
# "carrier": the world's airline (docs/carriers.md), a token scoped to its own designator, no stations.
CALLERS = (
    "nobody", "member", "other_member", *(f"{r}@{OWN}" for r in STAFF), *(f"{r}@{FOREIGN}" for r in STAFF), "admin", "service", "carrier"
)  # fmt: skip
# Routes nobody needs a token for: probes, metrics, the event contract.
ANONYMOUS = {
    "/healthz", "/readyz", "/metrics", "/asyncapi.json", "/schemas/events/{event_type}/v{version}.json", "/problems", "/problems/{slug}"
}  # fmt: skip

EVERYONE = frozenset({"member", *STAFF, "admin", "service", "carrier"})
EVERY_STAFF = frozenset({*STAFF, "admin", "service"})
ADMIN_ONLY = frozenset({"admin"})
# docs/booking.md
MEMBER_DESK = frozenset({"agent", "team_lead", "supervisor", "concierge_lead", "station_manager", "admin"})
ORDER_DESK = frozenset({"agent", "team_lead", "concierge_lead", "station_manager", "admin"})
LEADS = frozenset({"concierge_lead", "station_manager", "admin"})
# docs/lounge.md
DESK = frozenset({"lounge_staff", "station_manager", "admin"})
VISIT_READERS = frozenset({"lounge_staff", "station_manager", "agent", "team_lead", "supervisor", "admin"})
MANAGERS = frozenset({"station_manager", "admin"})
# docs/callcenter.md
CALL_CENTER = frozenset({"agent", "team_lead", "supervisor", "admin"})
TICKET_STAFF = frozenset({"agent", "team_lead", "supervisor", "station_manager", "admin"})
APPROVERS = frozenset({"team_lead", "supervisor", "admin"})
REPORTS = frozenset({"team_lead", "supervisor", "station_manager", "admin"})
# docs/carriers.md
CARRIER_READERS = EVERY_STAFF | {"carrier"}
STATEMENT_READERS = MANAGERS | {"carrier"}
NEW_CONTRACT = {
    "station": FOREIGN, "currency": "CNY", "valid_from": "2026-02-01", "settlement": {"payment_days": 30},
    "assist": [{"product_code": "DEP_ESCORT", "rate_minor": 15000}],
}  # fmt: skip

NEW_MENU_ITEM = {"name": "R8 tea", "category": "soft_drink", "price_minor": 100, "complimentary": True}
NEW_AGENT = {"name": "New Agent", "station": OWN, "role": "agent"}
PUBLIC_NOTE = {"body": "thanks", "visibility": "public"}
SCANNED_PASS = {"boarding_pass": f"M1{'R/EIGHT':<20}EXYZ789 PEKKMGCA 1831 120F002A0012 100"}

Body = Json | list[Json] | Callable[[Json], Any] | None


@dataclass(frozen=True)
class Route:
    service: str
    method: str
    path: str  # as the service's OpenAPI document names it
    allowed: frozenset[str]
    foreign: int | str = RECORD
    body: Body = None
    query: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)  # path parameter -> world key, where they differ
    other_member: int | str = 404  # a member acting on another member's record, where members may act at all (SAME: as the owner)
    if_match: bool = False
    unseen: str | None = None  # a listing: the world's record a foreign caller or another member must not find in it
    status: int = 200  # what every allowed caller gets
    fresh: fresh.Maker | None = None  # makes each allowed caller a record of its own in the state the row needs
    problem: str | None = None  # the problem type of a row whose status is a refusal
    stream: bool = False  # a live feed (docs/feeds.md): an allowed caller's 200 streams on, so only its status is read

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.service, self.method, self.path)

    def leaks_to(self, caller: str, status: int) -> bool:
        """Whether this caller's answer is a listing that must hold none of PEK's or the owner's records."""
        return status == 200 and self.unseen is not None and (caller == "other_member" or caller.endswith(f"@{FOREIGN}"))

    def expected(self, caller: str) -> tuple[int, ...]:
        if caller == "nobody":
            return (401,)
        if caller == "other_member":
            return (self._as_allowed(self.other_member) if "member" in self.allowed else 403,)
        role, _, station = caller.partition("@")
        if role not in self.allowed:
            # Another station's (or, to a carrier, anyone's) record may be not found before the role is looked at:
            # neither answer tells anything.
            return (403, 404) if (station == FOREIGN or role == "carrier") and self.foreign == RECORD else (403,)
        return (self._as_allowed(self.foreign) if station == FOREIGN else self.status,)

    def _as_allowed(self, answer: int | str) -> int:
        return self.status if answer == SAME else int(answer)

    def acts_on_its_own_record(self, caller: str) -> bool:
        return self.fresh is not None and self.expected(caller) == (self.status,) and caller not in ("nobody", "other_member")


async def _enrolled_by_the_carrier(airside: Airside, world: Json) -> Json:
    """A passenger the world's airline enrols itself (docs/carriers.md "Partner orders"): tier standard."""
    body = {"name": "Passenger Lin", "phone": world["new_phone"]()}
    member: Json = (await airside.booking.call("POST", "/v1/members", carrier_token(), json=body, expect=201)).json()
    return member


async def carriers_passenger(airside: Airside, world: Json, caller: str) -> Json:
    """The carrier reads a member it enrolled; everyone else the world's."""
    return {"member_id": (await _enrolled_by_the_carrier(airside, world))["id"]} if caller == "carrier" else {}


def partner_order_for_the_carrier(otherwise: fresh.Maker | None = None) -> fresh.Maker:
    """The carrier acts on a partner order it pays, for a passenger it enrolled; everyone else on `otherwise`'s
    record (none: the world's)."""

    async def make(airside: Airside, world: Json, caller: str) -> Json:
        if caller != "carrier":
            return await otherwise(airside, world, caller) if otherwise else {}
        passenger = await _enrolled_by_the_carrier(airside, world)
        order = await airside.booking.book(
            passenger, world["flight"], products=("DEP_ESCORT",), channel="partner", payer={"carrier": world["carrier"]}, by=carrier_token()
        )
        return {"order_id": order["id"]}

    return make


def today_range(world: Json) -> dict[str, str]:
    return {"station": OWN, "from": world["today"], "to": world["today"]}


ROUTES = [
    # --- booking ---
    Route("booking", "GET", "/v1/stations", EVERYONE, ANY, other_member=SAME),
    Route("booking", "PUT", "/v1/stations/{code}", ADMIN_ONLY, ANY, {"name": "Chengdu Tianfu", "timezone": "Asia/Shanghai"}),
    Route("booking", "GET", "/v1/products", EVERYONE, ANY, other_member=SAME),
    Route(
        "booking", "PUT", "/v1/products/{code}", ADMIN_ONLY, ANY,
        {"name": "R8 escort", "kind": "escort", "prices": {"standard": 100, "gold": 100, "platinum": 100, "vip": 100}},
        ids={"code": "product"},
    ),
    # A carrier enrols its passengers, at standard only (docs/carriers.md).
    Route(
        "booking", "POST", "/v1/members", MEMBER_DESK | {"carrier"}, ANY,
        lambda w: {"name": "New Member", "phone": w["new_phone"](), "tier": "standard"}, status=201,
    ),
    # Other airline systems (the service role) may look a member up; they change nothing.
    Route("booking", "GET", "/v1/members", MEMBER_DESK | {"service"}, ANY, query={"q": "Owner"}),
    Route("booking", "GET", "/v1/members/{member_id}", MEMBER_DESK | {"member", "service", "carrier"}, ANY, fresh=carriers_passenger),
    Route("booking", "PATCH", "/v1/members/{member_id}", MEMBER_DESK | {"member"}, ANY, {"email": "owner@example.com"}, if_match=True),
    Route("booking", "GET", "/v1/flights/{flight_no}/{flight_date}", EVERYONE, ANY, other_member=SAME),  # the app shows it
    Route("booking", "PUT", "/v1/flights/{flight_no}/{flight_date}", LEADS | {"service"}, STATION, lambda w: w["flight_body"]),
    Route("booking", "POST", "/v1/flights/{flight_no}/{flight_date}/status", LEADS | {"service"}, STATION, {"status": "scheduled"}),
    Route("booking", "POST", "/v1/orders", ORDER_DESK | {"member"}, STATION, lambda w: w["order_body"], other_member=403, status=201),
    # A carrier lists, reads, follows and cancels the partner orders it pays (docs/carriers.md).
    Route(
        "booking", "GET", "/v1/orders", EVERY_STAFF | {"member", "carrier"}, ANY, query={"station": OWN}, other_member=SAME,
        unseen="order_id",
    ),
    Route("booking", "GET", "/v1/orders/{order_id}", EVERY_STAFF | {"member", "carrier"}, fresh=partner_order_for_the_carrier()),
    Route(
        "booking", "GET", "/v1/orders/{order_id}/stream", EVERY_STAFF | {"member", "carrier"}, stream=True,
        fresh=partner_order_for_the_carrier(),
    ),
    Route("booking", "GET", "/v1/stations/{code}/orders/stream", LEADS | {"concierge"}, STATION, ids={"code": "own"}, stream=True),
    Route(
        "booking", "GET", "/v1/orders/{order_id}/history", EVERY_STAFF | {"member", "carrier"}, fresh=partner_order_for_the_carrier()
    ),
    Route("booking", "PATCH", "/v1/orders/{order_id}", ORDER_DESK | {"member"}, body={"notes": "window seat"}, if_match=True),
    Route("booking", "POST", "/v1/orders/{order_id}/confirm", ORDER_DESK, body={"notes": "confirmed"}, fresh=fresh.requested_order),
    Route("booking", "GET", "/v1/orders/{order_id}/candidates", LEADS),
    Route(
        "booking", "POST", "/v1/orders/{order_id}/assign", LEADS, body=lambda w: {"concierge_id": w["assigned_concierge_id"]},
        fresh=fresh.confirmed_order,
    ),
    Route("booking", "POST", "/v1/orders/{order_id}/start", LEADS | {"concierge"}, fresh=fresh.assigned_order),
    Route(
        "booking", "POST", "/v1/orders/{order_id}/no-show", LEADS | {"concierge"}, body={"contact_attempts": 3, "notes": "no answer"},
        fresh=fresh.order_not_shown_up,
    ),
    Route("booking", "POST", "/v1/orders/{order_id}/complete", LEADS | {"concierge"}, fresh=fresh.order_in_service),
    Route(
        "booking", "POST", "/v1/orders/{order_id}/cancel", ORDER_DESK | {"member", "carrier"}, body={"reason": "plans changed"},
        fresh=partner_order_for_the_carrier(fresh.requested_order),
    ),
    Route(
        "booking", "POST", "/v1/concierges", LEADS, STATION, {"name": "礼宾 新", "station": OWN, "phone": "+8613700137001"}, status=201
    ),
    Route("booking", "GET", "/v1/concierges", LEADS, ANY, unseen="concierge_id"),
    Route("booking", "GET", "/v1/concierges/{concierge_id}", LEADS),
    Route(
        "booking", "PUT", "/v1/concierges/{concierge_id}/shifts/{day}", LEADS, body=[{"start": "06:00", "end": "22:00"}],
        ids={"day": "later_day"},
    ),
    Route("booking", "GET", "/v1/concierges/{concierge_id}/schedule", LEADS, query={"date": "{today}"}),
    Route("booking", "GET", "/v1/reports/daily-services", LEADS, RECORD, query={"station": OWN, "date": "{today}"}),
    Route("booking", "POST", "/v1/ops/reannounce", ADMIN_ONLY, ANY),
    Route("booking", "POST", "/v1/carriers", ADMIN_ONLY, ANY, {"designator": "R9", "name": "R9 Air"}, status=201),
    Route("booking", "GET", "/v1/carriers", CARRIER_READERS, ANY),
    Route("booking", "GET", "/v1/carriers/{designator}", CARRIER_READERS, ANY, ids={"designator": "carrier"}),
    Route(
        "booking", "PATCH", "/v1/carriers/{designator}", ADMIN_ONLY, ANY, {"name": "R8 Airways Ltd"}, ids={"designator": "carrier"},
        if_match=True,
    ),
    Route(
        "booking", "POST", "/v1/carriers/{designator}/contracts", ADMIN_ONLY, ANY, NEW_CONTRACT, ids={"designator": "carrier"},
        status=201,
    ),
    Route("booking", "GET", "/v1/carriers/{designator}/contracts", CARRIER_READERS, ANY, ids={"designator": "carrier"}),
    Route("booking", "GET", "/v1/contracts/{contract_id}", CARRIER_READERS, ANY),
    Route(
        "booking", "POST", "/v1/contracts/{contract_id}/terms", ADMIN_ONLY, ANY, {"lounge": {"cabins": ["J"], "rate_minor": 18000}},
        status=201,
    ),
    Route("booking", "GET", "/v1/statements", STATEMENT_READERS, ANY, unseen="statement_id"),
    Route("booking", "GET", "/v1/statements/{statement_id}", STATEMENT_READERS),
    Route("booking", "GET", "/v1/statements/{statement_id}/lines.csv", STATEMENT_READERS),
    Route(
        "booking", "POST", "/v1/statements/{statement_id}/lines/{line_id}/dispute", STATEMENT_READERS, body={"reason": "R8"},
        ids={"line_id": "statement_line_id"}, status=201, fresh=fresh.carrier_line,
    ),
    Route(
        "booking", "POST", "/v1/statements/{statement_id}/credits", MANAGERS,
        body=lambda w: {"line_id": w["disputed_line_id"], "amount_minor": 1, "note": "R8"}, status=201,
    ),
    Route("booking", "POST", "/v1/statements/{statement_id}/issue", MANAGERS, body={"early": True}, fresh=fresh.draft_statement),
    Route(
        "booking", "POST", "/v1/statements/{statement_id}/payments", MANAGERS, body=lambda w: {"amount_minor": 1, "paid_on": w["today"]},
        status=201, fresh=fresh.issued_statement,
    ),
    Route("booking", "POST", "/v1/contracts/{contract_id}/end", ADMIN_ONLY, ANY, {"valid_to": "2030-12-31"}),
    # --- lounge ---
    Route("lounge", "GET", "/v1/lounges", EVERY_STAFF, ANY, unseen="lounge_id"),
    Route("lounge", "GET", "/v1/lounges/{lounge_id}", EVERY_STAFF),
    Route("lounge", "PATCH", "/v1/lounges/{lounge_id}", MANAGERS, body={"capacity": 40}, if_match=True),
    Route("lounge", "GET", "/v1/menu", EVERYONE, ANY, other_member=SAME),
    Route(
        "lounge", "PUT", "/v1/menu/{sku}", ADMIN_ONLY, ANY, NEW_MENU_ITEM
    ),
    Route("lounge", "GET", "/v1/members/{member_id}", EVERY_STAFF, ANY),
    Route("lounge", "GET", "/v1/flights/{flight_no}/{flight_date}", EVERY_STAFF),
    Route(
        "lounge", "POST", "/v1/lounges/{lounge_id}/visits", DESK, STATION, lambda w: w["check_in_body"], status=201,
        fresh=fresh.check_in_of_a_walk_in,
    ),
    Route("lounge", "POST", "/v1/boarding-passes/decode", DESK, ANY, SCANNED_PASS),
    Route("lounge", "GET", "/v1/lounges/{lounge_id}/visits", VISIT_READERS),
    Route("lounge", "GET", "/v1/lounges/{lounge_id}/occupancy", EVERY_STAFF),
    Route("lounge", "GET", "/v1/lounges/{lounge_id}/board", EVERY_STAFF),
    Route("lounge", "GET", "/v1/lounges/{lounge_id}/board/stream", EVERY_STAFF, stream=True),
    Route("lounge", "GET", "/v1/lounges/{lounge_id}/expected-visits", EVERY_STAFF),
    Route("lounge", "GET", "/v1/lounges/{lounge_id}/refusals", DESK),
    Route("lounge", "GET", "/v1/visits/{visit_id}", VISIT_READERS | {"member"}),
    Route("lounge", "GET", "/v1/visits/{visit_id}/bill", VISIT_READERS | {"member"}),
    Route(
        "lounge", "POST", "/v1/visits/{visit_id}/sales", DESK, body={"lines": [{"sku": "TEA", "qty": 1}]}, status=201,
        fresh=fresh.visit_inside,
    ),
    Route("lounge", "POST", "/v1/sales/{line_id}/void", DESK, body={"reason": "rang up twice"}, fresh=fresh.sale_line),
    Route("lounge", "POST", "/v1/visits/{visit_id}/checkout", DESK, body={"payment_method": "card"}, fresh=fresh.visit_inside),
    Route("lounge", "GET", "/v1/lounges/{lounge_id}/stock", DESK),
    Route(
        "lounge", "POST", "/v1/lounges/{lounge_id}/stock-counts", DESK, STATION, body={"lines": [{"sku": "NUTS", "counted": 50}]},
        status=201,
    ),
    Route("lounge", "POST", "/v1/lounges/{lounge_id}/deliveries", DESK, STATION, body={"lines": [{"sku": "NUTS", "qty": 1}]}, status=201),
    Route("lounge", "GET", "/v1/requisitions", DESK, ANY, query={"lounge_id": PEK_LOUNGE}, unseen="requisition_id"),
    Route("lounge", "GET", "/v1/requisitions/{requisition_id}", DESK),
    Route("lounge", "POST", "/v1/requisitions/{requisition_id}/submit", DESK, fresh=fresh.draft_requisition),
    Route(
        "lounge", "POST", "/v1/requisitions/{requisition_id}/reject", MANAGERS, body={"reason": "over budget"},
        fresh=fresh.submitted_requisition,
    ),
    Route(
        "lounge", "POST", "/v1/requisitions/{requisition_id}/approve", MANAGERS, ids={"requisition_id": "approved"},
        fresh=fresh.submitted_requisition,
    ),
    Route(
        "lounge", "POST", "/v1/requisitions/{requisition_id}/receive", DESK, body=lambda w: {"lines": [{"sku": w["spare_sku"], "qty": 1}]},
        ids={"requisition_id": "approved"}, fresh=fresh.approved_requisition,
    ),
    Route("lounge", "GET", "/v1/reports/daily-sales", MANAGERS, RECORD, query={"lounge_id": PEK_LOUNGE, "date": "{today}"}),
    # --- callcenter ---
    Route("callcenter", "POST", "/v1/agents", frozenset({"supervisor", "admin"}), STATION, NEW_AGENT, status=201),
    Route("callcenter", "GET", "/v1/agents", CALL_CENTER | {"service"}, ANY, unseen="agent_id"),
    Route("callcenter", "GET", "/v1/members", CALL_CENTER | {"service"}, ANY, query={"phone": "{member_phone}"}),
    Route("callcenter", "GET", "/v1/members/{member_id}", CALL_CENTER | {"service"}, ANY),
    Route("callcenter", "GET", "/v1/carriers/{designator}", CALL_CENTER, ANY, ids={"designator": "carrier"}),
    Route("callcenter", "GET", "/v1/sla-policies", EVERY_STAFF, ANY),
    Route("callcenter", "GET", "/v1/sla-policies/{priority}", EVERY_STAFF, ANY),
    Route("callcenter", "PUT", "/v1/sla-policies/{priority}", ADMIN_ONLY, ANY, lambda w: w["sla_policy"]),
    Route("callcenter", "GET", "/v1/stations/{code}/calendar", EVERY_STAFF, ids={"code": "own"}),
    Route("callcenter", "PUT", "/v1/stations/{code}/calendar", ADMIN_ONLY, ANY, lambda w: w["calendar"], ids={"code": "own"}),
    Route(
        "callcenter", "POST", "/v1/tickets", TICKET_STAFF | {"member"}, STATION,
        {"type": "inquiry", "channel": "web", "subject": "Wheelchair at the gate?", "station": OWN}, other_member=SAME, status=201,
    ),
    Route("callcenter", "GET", "/v1/tickets", TICKET_STAFF | {"member", "service"}, ANY, other_member=SAME, unseen="ticket_id"),
    Route("callcenter", "GET", "/v1/tickets/{ticket_id}", TICKET_STAFF | {"member", "service"}),
    Route("callcenter", "PATCH", "/v1/tickets/{ticket_id}", TICKET_STAFF, body={"tags": ["r8"]}, if_match=True),
    Route("callcenter", "POST", "/v1/tickets/{ticket_id}/notes", TICKET_STAFF | {"member"}, body=PUBLIC_NOTE, status=201),
    Route("callcenter", "GET", "/v1/tickets/{ticket_id}/notes", TICKET_STAFF | {"member", "service"}),
    Route(
        "callcenter", "POST", "/v1/tickets/{ticket_id}/calls", TICKET_STAFF,
        body={"direction": "inbound", "duration_seconds": 60, "outcome": "reached"}, status=201,
    ),
    Route("callcenter", "GET", "/v1/tickets/{ticket_id}/calls", TICKET_STAFF | {"service"}),
    Route("callcenter", "GET", "/v1/tickets/{ticket_id}/history", TICKET_STAFF | {"service"}),
    Route(
        "callcenter", "POST", "/v1/tickets/{ticket_id}/status", TICKET_STAFF, body={"status": "pending_internal"}, fresh=fresh.open_ticket
    ),
    Route("callcenter", "POST", "/v1/tickets/{ticket_id}/assign", APPROVERS, body=lambda w: {"agent_id": w["agent_id"]}),
    Route(
        "callcenter", "POST", "/v1/tickets/{ticket_id}/merge", TICKET_STAFF, body=lambda w: {"into": w["ticket_id"]},
        ids={"ticket_id": "duplicate"}, fresh=fresh.duplicate_ticket,
    ),
    # The claimed ticket goes to an agent, so admin may not; KMG's queue is empty.
    Route("callcenter", "GET", "/v1/queue/stream", TICKET_STAFF, ANY, stream=True),
    Route("callcenter", "POST", "/v1/queue/claim", TICKET_STAFF - {"admin"}, 204, fresh=fresh.claimable_ticket),
    Route(
        "callcenter", "POST", "/v1/tickets/{ticket_id}/complaint/investigate", CALL_CENTER, ids={"ticket_id": "complaint"},
        fresh=fresh.complaint_before("investigate"),
    ),
    Route(
        "callcenter", "POST", "/v1/tickets/{ticket_id}/complaint/propose", CALL_CENTER,
        body={"resolution": "apology and a voucher", "compensation_minor": 10000}, ids={"ticket_id": "complaint"},
        fresh=fresh.complaint_before("propose"),
    ),
    Route("callcenter", "POST", "/v1/tickets/{ticket_id}/complaint/reject", APPROVERS, body={"reason": "too much"},
        ids={"ticket_id": "rejectable"}, fresh=fresh.complaint_before("approve"),
    ),
    Route(
        "callcenter", "POST", "/v1/tickets/{ticket_id}/complaint/approve", APPROVERS, ids={"ticket_id": "approvable_complaint"},
        fresh=fresh.complaint_before("approve"),
    ),
    Route(
        "callcenter", "POST", "/v1/tickets/{ticket_id}/complaint/inform", CALL_CENTER, ids={"ticket_id": "approvable_complaint"},
        fresh=fresh.complaint_before("inform"),
    ),
    Route(
        "callcenter", "POST", "/v1/tickets/{ticket_id}/complaint/follow-up", CALL_CENTER, body={"satisfied": True},
        ids={"ticket_id": "approvable_complaint"}, fresh=fresh.complaint_before("follow-up"),
    ),
    Route("callcenter", "GET", "/v1/callbacks", CALL_CENTER | {"service"}, ANY, unseen="callback_id"),
    Route("callcenter", "GET", "/v1/callbacks/{callback_id}", CALL_CENTER | {"service"}),
    Route("callcenter", "GET", "/v1/callbacks/{callback_id}/attempts", CALL_CENTER | {"service"}),
    Route(
        "callcenter", "POST", "/v1/callbacks/{callback_id}/attempts", CALL_CENTER, body={"outcome": "no_answer"}, status=201,
        fresh=fresh.due_callback,
    ),
    Route(
        "callcenter", "POST", "/v1/surveys", frozenset({"member"}), ANY, lambda w: {"order_id": w["completed_order"], "csat": 5},
        status=201,
    ),
    Route("callcenter", "GET", "/v1/reports/kpis", REPORTS, RECORD, query={"station": OWN, "from": "{today}", "to": "{today}"}),
    Route("callcenter", "GET", "/v1/reports/callbacks", REPORTS, RECORD, query={"station": OWN, "from": "{today}", "to": "{today}"}),
]  # fmt: skip
# Every service's operations routes: admin only.
for _service in ("booking", "lounge", "callcenter"):
    ROUTES += [
        Route(_service, "GET", "/v1/ops/dead-letters", ADMIN_ONLY, ANY),
        Route(
            _service,
            "POST",
            "/v1/ops/dead-letters/{dead_letter_id}/replay",
            ADMIN_ONLY,
            ANY,
            ids={"dead_letter_id": f"letter_{_service}"},
            status=409,  # the world parks bytes that are no event: replayed, they are refused again
            problem="replay_failed",
        ),
        Route(_service, "POST", "/v1/ops/republish", ADMIN_ONLY, ANY, lambda w: {"since": w["tomorrow"]}),
        Route(
            _service,
            "POST",
            "/v1/ops/outbox/{event_id}/set-aside",
            ADMIN_ONLY,
            ANY,
            ids={"event_id": "order_id"},
            status=404,  # no event has that id: the world's relays publish everything
            problem="not_found",
        ),
    ]
    # Every service's webhook subscriptions (docs/webhooks.md): admin only.
    webhook = {"webhook_id": f"webhook_{_service}"}
    ROUTES += [
        Route(_service, "POST", "/v1/webhooks", ADMIN_ONLY, ANY, webhook_body(_service), status=201),
        Route(_service, "GET", "/v1/webhooks", ADMIN_ONLY, ANY),
        Route(_service, "GET", "/v1/webhooks/{webhook_id}", ADMIN_ONLY, ANY, ids=webhook),
        Route(
            _service, "DELETE", "/v1/webhooks/{webhook_id}", ADMIN_ONLY, ANY, ids=webhook, status=204,
            fresh=fresh.webhook_subscription(_service),
        ),
        Route(_service, "POST", "/v1/webhooks/{webhook_id}/rotate-secret", ADMIN_ONLY, ANY, ids=webhook),
        Route(_service, "POST", "/v1/webhooks/{webhook_id}/enable", ADMIN_ONLY, ANY, ids=webhook),
        Route(_service, "GET", "/v1/webhooks/{webhook_id}/deliveries", ADMIN_ONLY, ANY, ids=webhook),
        Route(
            _service, "POST", "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/replay", ADMIN_ONLY, ANY, ids=webhook,
            status=404, problem="not_found",  # the world's delivery_id is no delivery's
        ),
    ]  # fmt: skip


def headers_for(caller: str, route: Route, world: Json) -> dict[str, str]:
    if caller == "nobody":
        headers: dict[str, str] = {}
    elif caller in ("member", "other_member"):
        headers = auth("member", member_id=world["member_id" if caller == "member" else "other_member_id"], stations=[])
    elif caller == "admin":
        headers = ADMIN
    elif caller == "service":
        headers = auth("service", stations=["*"], sub="r8-service")
    elif caller == "carrier":
        headers = carrier_token(world["carrier"])
    else:
        role, _, station = caller.partition("@")
        headers = staff(role, station, sub=subject(role, station))
    return headers


def fill(text: str, world: Json) -> str:
    return re.sub(r"{(\w+)}", lambda match: str(world[match.group(1)]), text)


async def ask(http: httpx.AsyncClient, urls: dict[str, str], route: Route, caller: str, world: Json) -> httpx.Response:
    """The caller's request on the row's record (`world` holds the caller's own where the row makes one)."""
    path = re.sub(r"{(\w+)}", lambda match: str(world[route.ids.get(match.group(1), match.group(1))]), route.path)
    body = route.body(world) if callable(route.body) else route.body
    query = {name: fill(value, world) for name, value in route.query.items()}
    headers = headers_for(caller, route, world)
    if route.if_match:  # the ETag as it is now, so an allowed caller's change is not refused as stale
        current = await http.get(urls[route.service] + path, headers=ADMIN)
        headers["If-Match"] = current.headers["ETag"]
    if route.stream:
        async with http.stream(route.method, urls[route.service] + path, params=query, headers=headers) as response:
            if response.status_code != 200:
                await response.aread()
        return response
    return await http.request(route.method, urls[route.service] + path, json=body, params=query, headers=headers)


# --- the services and the world they hold -----------------------------------------------------------


@pytest.fixture(scope="module")
def matrix_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    with nats_under(tmp_path_factory.mktemp("r8-nats")) as server:
        yield server


@pytest.fixture(scope="module")
def matrix_services(matrix_nats: NatsServer, databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceSet]:
    with services_running(databases, matrix_nats.url, tmp_path_factory.mktemp("r8-logs"), **WEBHOOK_ALLOW) as service_set:
        yield service_set


@pytest.fixture(scope="module")
def urls(matrix_services: ServiceSet) -> dict[str, str]:
    return {name: matrix_services[name].url for name in ("booking", "lounge", "callcenter")}


@pytest.fixture(scope="module")
def matrix(http: httpx.AsyncClient, urls: dict[str, str], matrix_nats: NatsServer) -> Airside:
    return Airside.connect(http, urls, matrix_nats.url)


@pytest.fixture(scope="module")
async def world(matrix: Airside) -> AsyncIterator[Json]:
    """PEK's records in each service, each made the way the journeys make them."""
    yield await pek_world(matrix)


# --- the table ------------------------------------------------------------------------------------


async def test_the_table_has_a_row_for_every_route_of_the_three_services(http: httpx.AsyncClient, urls: dict[str, str]):
    served = set()
    for service, url in urls.items():
        document = (await http.get(f"{url}/openapi.json")).json()
        served |= {(service, method.upper(), path) for path, operations in document["paths"].items() for method in operations}
    rows = [route.key for route in ROUTES]
    assert len(rows) == len(set(rows)), "a route has two rows"
    assert {key for key in served if key[2] not in ANONYMOUS} == set(rows)


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r.service} {r.method} {r.path}" for r in ROUTES])
async def test_each_route_answers_each_caller_as_the_table_says(
    http: httpx.AsyncClient, urls: dict[str, str], matrix: Airside, world: Json, route: Route
):
    wrong = {}
    for caller in CALLERS:
        own = {**world, **await route.fresh(matrix, world, caller)} if route.fresh and route.acts_on_its_own_record(caller) else world
        response = await ask(http, urls, route, caller, own)
        status = response.status_code
        if status not in route.expected(caller):
            wrong[caller] = f"{status}, the table says {' or '.join(map(str, route.expected(caller)))}: {response.text[:300]}"
        elif route.problem and status == route.status and not response.json()["type"].endswith(f"/{route.problem}"):
            wrong[caller] = f"{response.json()['type']}, the table says {route.problem}"
        elif route.leaks_to(caller, status) and str(world[str(route.unseen)]) in response.text:
            wrong[caller] = f"found PEK's {route.unseen} in the listing"
    assert not wrong, wrong
