"""Builders for the carrier and settlement tests: a carrier of its own per test, its contract at PEK, and
lounge's carrier-paid visit and refusal events as lounge publishes them."""

import uuid
from datetime import date, datetime

import nats
from booking_support import ADMIN, act, assigned_order, iso, local, local_day, new_flight, new_member, order_body

from airside.events import lounge as lounge_events
from airside.messaging.envelope import EventDefinition
from airside_tools.testing import carriers
from airside_tools.testing.harness import auth, wait_for

PEK_MANAGER = auth("station_manager", stations=["PEK"])
KMG_MANAGER = auth("station_manager", stations=["KMG"])


def carrier_token(designator: str) -> dict[str, str]:
    return auth("carrier", stations=[], carrier=designator, sub=f"carrier-{designator}")


async def new_carrier(client) -> str:
    """A carrier of this test's own."""
    return await carriers.new_carrier(client, ADMIN)


def contract_body(**overrides) -> dict:
    return {
        "station": "PEK",
        "currency": "CNY",
        "valid_from": "2026-01-01",
        "settlement": {"frequency": "monthly", "payment_days": 30},
        "lounge": {"cabins": ["J", "C", "D"], "rate_minor": 18000, "guests_allowed": 1, "complimentary_menu": True},
        "assist": [{"product_code": "DEP_ESCORT", "rate_minor": 15000}],
        **overrides,
    }


async def new_contract(client, designator: str, **overrides) -> dict:
    response = await client.post(f"/v1/carriers/{designator}/contracts", json=contract_body(**overrides), headers=ADMIN)
    assert response.status_code == 201, response.text
    return response.json()


def partner_body(member_id: str, designator: str, **overrides) -> dict:
    """A meet-and-assist order the carrier pays, on a flight of its own."""
    flight = new_flight(local(local_day(), 15))
    flight["carrier"] = designator
    return order_body(
        member_id, flight, **{"items": [{"product": "DEP_ESCORT"}], "channel": "partner", "payer": {"carrier": designator}, **overrides}
    )


async def completed_partner_order(client, designator: str, *, passenger: str = "王芳") -> tuple[dict, dict]:
    """A meet-and-assist order the carrier pays (at its contract's DEP_ESCORT rate), served and completed; and
    the statement summary once booking's own consumer has put the order's line on the carrier's month."""
    member = await new_member(client)
    flight = new_flight(local(local_day(), 15))
    flight["carrier"] = designator
    order, _concierge = await assigned_order(
        client,
        member=member,
        flight=flight,
        items=[{"product": "DEP_ESCORT"}],
        passengers=[{"name": passenger}],
        channel="partner",
        payer={"carrier": designator},
    )
    assert (await act(client, order, "start")).status_code == 200
    assert (await act(client, order, "complete")).status_code == 200

    async def statement():
        found = (await client.get("/v1/statements", params={"carrier": designator}, headers=PEK_MANAGER)).json()["items"]
        if not found:
            return None
        lines = (await client.get(f"/v1/statements/{found[0]['id']}", headers=PEK_MANAGER)).json()["lines"]
        return found[0] if any(line["reference"] == order["ref"] for line in lines) else None

    return order, await wait_for(statement, timeout=10, what="the partner order's line")


async def publish(nats_url: str, definition: EventDefinition, payload, subject: str) -> None:
    event = definition.build(payload, subject=subject, source="airside/lounge")
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().publish(definition.subject, event.to_json(), headers={"Nats-Msg-Id": event.id})
    finally:
        await nc.close()


def carrier_visit(
    contract: dict, at: datetime, *, rate_minor: int = 18000, version: int = 1, guests_paid: int = 0, visit_id: str | None = None
) -> lounge_events.VisitSnapshot:
    return lounge_events.VisitSnapshot(
        id=visit_id or str(uuid.uuid4()),
        version=1,
        lounge_id="PEK-T3-F",
        station=contract["station"],
        flight_no=f"{contract['carrier']}1501",
        flight_date=at.date(),
        guests=guests_paid,
        entitlement="carrier",
        status="checked_in",
        checked_in_at=at,
        passenger_name="ZHANG/WEI",
        payer="carrier",
        carrier=contract["carrier"],
        contract_id=contract["id"],
        contract_version=version,
        rate_minor=rate_minor,
        currency=contract["currency"],
        cabin="J",
        guests_carrier_paid=guests_paid,
        guests_billed=0,
    )


async def publish_visit(
    nats_url: str, visit: lounge_events.VisitSnapshot, definition: EventDefinition = lounge_events.visit_checked_in
) -> None:
    await publish(nats_url, definition, lounge_events.VisitEvent(visit=visit), visit.id)


async def publish_refusal(nats_url: str, contract: dict, at: datetime, name: str = "LI/NA") -> str:
    refusal = lounge_events.EntryRefused(
        id=str(uuid.uuid4()),
        lounge_id="PEK-T3-F",
        station=contract["station"],
        carrier=contract["carrier"],
        contract_id=contract["id"],
        flight_no=f"{contract['carrier']}1501",
        flight_date=at.date(),
        cabin="Y",
        passenger_name=name,
        reason="not_entitled",
        refused_at=at,
    )
    await publish(nats_url, lounge_events.entry_refused, refusal, refusal.id)
    return refusal.id


def month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


__all__ = ["iso"]
