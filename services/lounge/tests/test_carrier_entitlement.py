"""Carrier-paid entitlement at the door: contract copies from booking's events, the cabin or frequent-flyer tier a
contract covers, the rate in force at check-in, guests beyond the allowance, complimentary drinks, and refusals
recorded once."""

import itertools
import random
import uuid
from datetime import UTC, date, datetime, timedelta

from lounge_support import (
    BEIJING,
    PEK,
    PEK_MANAGER,
    PEK_STAFF,
    a_flight,
    a_member,
    a_morning,
    boarding_pass,
    publish,
)

from airside.events import carriers as carrier_events
from airside.events import lounge as lounge_events
from airside.events.carriers import ContractTerm, term_in_force, valid_on
from airside_tools.testing.events import acknowledged_everything, published_events
from airside_tools.testing.harness import wait_for

# Two-character designators no other lounge test flies (they fly CA, MU and the like), one per test.
_designators = (f"{first}{second}" for first, second in itertools.product("QXZ", "ABCDEFGHJKLMNPRSTUVWY"))
for _ in range(random.randrange(20)):
    next(_designators)


def a_designator() -> str:
    return next(_designators)


def lounge_term(version: int, effective_from: datetime, *, rate_minor: int = 18000, cabins=("F", "J", "C"), **cover) -> dict:
    return {
        "version": version,
        "effective_from": effective_from,
        "lounge": {"cabins": list(cabins), "rate_minor": rate_minor, "guests_allowed": 1, "complimentary_menu": True, **cover},
    }


async def a_contract(
    client, nats_url: str, carrier: str, *, terms: list[dict], station: str = "PEK", valid_from: date, valid_to: date | None = None,
    version: int = 1, status: str = "active", contract_id: str | None = None,
) -> str:  # fmt: skip
    """booking's contract.upserted on its stream, applied once lounge's consumer acknowledged everything."""
    contract_id = contract_id or f"ctr_{uuid.uuid4().hex[:16]}"
    snapshot = carrier_events.ContractSnapshot(
        id=contract_id,
        carrier=carrier,
        station=station,
        currency="CNY",
        valid_from=valid_from,
        valid_to=valid_to,
        status=status,
        settlement=carrier_events.SettlementTerms(payment_days=30),
        version=version,
        terms=[carrier_events.ContractTerm.model_validate(term) for term in terms],
    )
    await publish(nats_url, carrier_events.contract_upserted, carrier_events.ContractEvent(contract=snapshot), contract_id)
    await wait_for(lambda: acknowledged_everything(nats_url, "AIRSIDE_BOOKING", "lounge-booking"), timeout=10, what="the contract copy")
    return contract_id


async def check_in(client, body: dict, lounge: str = PEK):
    return await client.post(f"/v1/lounges/{lounge}/visits", json=body, headers=PEK_STAFF)


async def refusals(client, lounge: str = PEK) -> list[dict]:
    return (await client.get(f"/v1/lounges/{lounge}/refusals", headers=PEK_MANAGER)).json()["items"]


def local_day(moment: datetime) -> date:
    return moment.astimezone(BEIJING).date()


async def test_a_covered_cabin_checks_in_carrier_paid_with_the_term_in_force_and_guests_beyond_the_allowance_billed(
    client, nats_server, frozen
):
    now = a_morning()
    frozen(now)
    carrier = a_designator()
    flight_no, flight_date = await a_flight(client, nats_server.url, now + timedelta(hours=2), carrier=carrier)
    contract_id = await a_contract(
        client, nats_server.url, carrier, valid_from=local_day(now), terms=[lounge_term(1, now - timedelta(days=3), rate_minor=18000)]
    )

    response = await check_in(client, {"boarding_pass": boarding_pass("ZHAO/LEI", flight_no, flight_date, cabin="J"), "guests": 2})
    assert response.status_code == 201, response.text
    visit = response.json()
    assert (visit["entitlement"], visit["payer"], visit["member_id"], visit["passenger_name"]) == ("carrier", "carrier", None, "ZHAO/LEI")
    assert (visit["carrier"], visit["contract_id"], visit["contract_version"], visit["rate_minor"], visit["currency"], visit["cabin"]) == (
        carrier, contract_id, 1, 18000, "CNY", "J",
    )  # fmt: skip
    assert (visit["guests"], visit["free_guests"], visit["guests_carrier_paid"], visit["guests_billed"]) == (2, 1, 1, 1)
    bill = (await client.get(f"/v1/visits/{visit['id']}/bill", headers=PEK_STAFF)).json()
    assert [(line["sku"], line["qty"]) for line in bill["lines"]] == [("GUEST_FEE", 1)]  # no day pass: the carrier pays the entry

    events = await published_events(
        nats_server.url, lounge_events.visit_checked_in.type, until=lambda seen: any(event.subject == visit["id"] for event in seen)
    )
    (data,) = [event.data["visit"] for event in events if event.subject == visit["id"]]
    assert {key: data[key] for key in ("payer", "carrier", "contract_id", "contract_version", "rate_minor", "currency", "cabin")} == {
        "payer": "carrier", "carrier": carrier, "contract_id": contract_id, "contract_version": 1, "rate_minor": 18000,
        "currency": "CNY", "cabin": "J",
    }  # fmt: skip
    assert (data["guests_carrier_paid"], data["guests_billed"], data["passenger_name"]) == (1, 1, "ZHAO/LEI")


async def test_drinks_are_complimentary_only_when_the_term_says_so(client, nats_server, frozen):
    now = a_morning()
    frozen(now)
    generous, strict = a_designator(), a_designator()
    bills = {}
    for carrier, complimentary in ((generous, True), (strict, False)):
        flight_no, flight_date = await a_flight(client, nats_server.url, now + timedelta(hours=2), carrier=carrier)
        terms = [lounge_term(1, now - timedelta(days=1), complimentary_menu=complimentary)]
        await a_contract(client, nats_server.url, carrier, valid_from=local_day(now), terms=terms)
        visit = (await check_in(client, {"boarding_pass": boarding_pass("QIAN/YU", flight_no, flight_date, cabin="F")})).json()
        sold = await client.post(
            f"/v1/visits/{visit['id']}/sales", json={"lines": [{"sku": "COFFEE", "qty": 2}, {"sku": "WINE", "qty": 1}]}, headers=PEK_STAFF
        )
        assert sold.status_code == 201, sold.text
        bills[carrier] = {line["sku"]: (line["amount_minor"], line["complimentary"]) for line in sold.json()["lines"]}
    assert bills[generous] == {"COFFEE": (0, True), "WINE": (8800, False)}  # the menu's complimentary items, as for a member
    assert bills[strict] == {"COFFEE": (6400, False), "WINE": (8800, False)}


async def test_an_uncovered_cabin_without_membership_is_refused_once_recorded_and_published(client, nats_server, frozen):
    now = a_morning()
    frozen(now)
    carrier = a_designator()
    flight_no, flight_date = await a_flight(client, nats_server.url, now + timedelta(hours=2), carrier=carrier)
    terms = [lounge_term(1, now - timedelta(days=1))]
    contract_id = await a_contract(client, nats_server.url, carrier, valid_from=local_day(now), terms=terms)
    body = {"boarding_pass": boarding_pass("SUN/LI", flight_no, flight_date, cabin="Y")}

    for _scan in range(2):  # the desk scans again: still refused, still one refusal
        refused = await check_in(client, body)
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["type"] == "/problems/not_entitled" and "cabin Y" in refused.json()["detail"]
    occupancy = (await client.get(f"/v1/lounges/{PEK}/occupancy", headers=PEK_STAFF)).json()
    assert occupancy["occupied"] == 0  # the refusal took no place

    mine = [row for row in await refusals(client) if row["flight_no"] == flight_no]
    assert [(row["carrier"], row["contract_id"], row["cabin"], row["passenger_name"], row["reason"]) for row in mine] == [
        (carrier, contract_id, "Y", "SUN/LI", "not_entitled")
    ]
    assert (mine[0]["flight_date"], datetime.fromisoformat(mine[0]["refused_at"])) == (flight_date.isoformat(), now)

    # A check-in after both refusals: once its event is on the stream, every event committed before it is too.
    later = await check_in(client, {"boarding_pass": boarding_pass("SUN/LI", flight_no, flight_date, cabin="C")})
    assert later.status_code == 201, later.text
    seen = await published_events(
        nats_server.url, "airside.lounge.>", until=lambda events: any(event.subject == later.json()["id"] for event in events)
    )
    published = [event.data for event in seen if event.type == lounge_events.entry_refused.type and event.data["flight_no"] == flight_no]
    assert len(published) == 1 and published[0] | {"refused_at": None} == {**mine[0], "refused_at": None}


async def test_a_frequent_flyer_of_the_carrier_on_a_covered_tier_enters_carrier_paid_whatever_the_cabin(client, nats_server, frozen):
    now = a_morning()
    frozen(now)
    carrier = a_designator()
    flight_no, flight_date = await a_flight(client, nats_server.url, now + timedelta(hours=2), carrier=carrier)
    terms = [lounge_term(1, now - timedelta(days=1), cabins=("F",), ff_tiers=["Platinum", "Gold"], rate_minor=15000)]
    contract_id = await a_contract(client, nats_server.url, carrier, valid_from=local_day(now), terms=terms)
    economy = boarding_pass("HU/JING", flight_no, flight_date, cabin="Y", frequent_flyer=(carrier, "8800123456"))

    response = await check_in(client, {"boarding_pass": economy, "frequent_flyer_tier": "  platinum "})  # as the desk types it
    assert response.status_code == 201, response.text
    visit = response.json()
    assert (visit["entitlement"], visit["payer"], visit["contract_id"], visit["rate_minor"], visit["cabin"]) == (
        "carrier", "carrier", contract_id, 15000, "Y",
    )  # fmt: skip
    assert (visit["frequent_flyer_tier"], visit["frequent_flyer_number"]) == ("Platinum", "8800123456")  # the contract's spelling
    bill = (await client.get(f"/v1/visits/{visit['id']}/bill", headers=PEK_STAFF)).json()
    assert bill["lines"] == []  # no day pass: the carrier pays the entry
    events = await published_events(
        nats_server.url, lounge_events.visit_checked_in.type, until=lambda seen: any(event.subject == visit["id"] for event in seen)
    )
    (data,) = [event.data["visit"] for event in events if event.subject == visit["id"]]
    assert (data["payer"], data["rate_minor"], data["frequent_flyer_tier"], data["frequent_flyer_number"]) == (
        "carrier", 15000, "Platinum", "8800123456",
    )  # fmt: skip

    # The cabin entitles on its own: such a visit names no tier, though the desk stated one.
    first = boarding_pass("HU/MIN", flight_no, flight_date, cabin="F", frequent_flyer=(carrier, "8800999999"))
    by_cabin = (await check_in(client, {"boarding_pass": first, "frequent_flyer_tier": "Gold"})).json()
    assert (by_cabin["entitlement"], by_cabin["frequent_flyer_tier"], by_cabin["frequent_flyer_number"]) == ("carrier", None, None)


async def test_a_tier_without_the_carriers_own_number_or_outside_the_term_is_refused_and_recorded(client, nats_server, frozen):
    now = a_morning()
    frozen(now)
    carrier, partner = a_designator(), a_designator()
    flight_no, flight_date = await a_flight(client, nats_server.url, now + timedelta(hours=2), carrier=carrier)
    terms = [lounge_term(1, now - timedelta(days=1), cabins=("J",), ff_tiers=["Platinum"])]
    contract_id = await a_contract(client, nats_server.url, carrier, valid_from=local_day(now), terms=terms)
    cases = {  # passenger: (the pass's frequent-flyer items, the tier stated, what the refusal says)
        "LOW/TIER": ((carrier, "111222333"), "Gold", "nor frequent-flyer tier Gold"),
        "PARTNER/CARD": ((partner, "444555666"), "Platinum", f"carries no {carrier} frequent-flyer number"),
        "NO/NUMBER": (None, "Platinum", f"carries no {carrier} frequent-flyer number"),
        "NO/TIER": ((carrier, "777888999"), None, "does not cover cabin Y, and no membership was found"),
    }
    for name, (frequent_flyer, tier, said) in cases.items():
        body = {"boarding_pass": boarding_pass(name, flight_no, flight_date, cabin="Y", frequent_flyer=frequent_flyer)}
        if tier is not None:
            body["frequent_flyer_tier"] = tier
        refused = await check_in(client, body)
        assert refused.status_code == 409, (name, refused.text)
        assert refused.json()["type"] == "/problems/not_entitled" and said in refused.json()["detail"], (name, refused.json())
    occupancy = (await client.get(f"/v1/lounges/{PEK}/occupancy", headers=PEK_STAFF)).json()
    assert occupancy["occupied"] == 0
    mine = [row for row in await refusals(client) if row["flight_no"] == flight_no]
    assert sorted((row["passenger_name"], row["carrier"], row["contract_id"], row["cabin"], row["reason"]) for row in mine) == sorted(
        (name, carrier, contract_id, "Y", "not_entitled") for name in cases
    )


async def test_a_tier_is_free_text_of_1_to_30_characters_stated_with_a_boarding_pass_only(client, nats_server, frozen):
    now = a_morning()
    frozen(now)
    flight_no, flight_date = await a_flight(client, nats_server.url, now + timedelta(hours=2))
    scanned = boarding_pass("FANG/YI", flight_no, flight_date)
    for body in (
        {"boarding_pass": scanned, "frequent_flyer_tier": "   "},
        {"boarding_pass": scanned, "frequent_flyer_tier": "P" * 31},
        {"order_id": str(uuid.uuid4()), "frequent_flyer_tier": "Platinum"},
    ):
        response = await check_in(client, body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "frequent_flyer_tier" in response.text, response.text


async def test_members_keep_their_entitlement_and_carriers_without_a_contract_here_today_stay_paid_walk_ins(client, nats_server, frozen):
    now = a_morning()
    frozen(now)
    today = local_day(now)
    contracted, ended, elsewhere, lapsed = a_designator(), a_designator(), a_designator(), a_designator()
    term = [lounge_term(1, now - timedelta(days=30))]
    await a_contract(client, nats_server.url, contracted, valid_from=today, terms=term)
    await a_contract(client, nats_server.url, ended, valid_from=today - timedelta(days=20), terms=term, status="ended")
    await a_contract(client, nats_server.url, elsewhere, valid_from=today, terms=term, station="KMG")
    await a_contract(client, nats_server.url, lapsed, valid_from=today - timedelta(days=20), valid_to=today - timedelta(days=1), terms=term)
    member_id = await a_member(client, nats_server.url, tier="gold", name="Gold Member")

    flight_no, flight_date = await a_flight(client, nats_server.url, now + timedelta(hours=2), carrier=contracted)
    member = await check_in(client, {"boarding_pass": boarding_pass("MEMBER/GOLD", flight_no, flight_date), "member_id": member_id})
    assert member.status_code == 201, member.text
    assert (member.json()["entitlement"], member.json()["payer"], member.json()["carrier"]) == ("tier", "member", None)

    for carrier in (ended, elsewhere, lapsed):
        flight_no, flight_date = await a_flight(client, nats_server.url, now + timedelta(hours=2), carrier=carrier)
        walk_in = await check_in(client, {"boarding_pass": boarding_pass("WALK/IN", flight_no, flight_date, cabin="J")})
        assert walk_in.status_code == 201, (carrier, walk_in.text)
        assert (walk_in.json()["entitlement"], walk_in.json()["payer"], walk_in.json()["contract_id"]) == ("paid", "guest", None)


async def test_a_member_in_a_covered_cabin_enters_on_the_carrier_and_keeps_the_tiers_free_guests(client, nats_server, frozen):
    now = a_morning()
    frozen(now)
    carrier = a_designator()
    flight_no, flight_date = await a_flight(client, nats_server.url, now + timedelta(hours=2), carrier=carrier)
    await a_contract(client, nats_server.url, carrier, valid_from=local_day(now), terms=[lounge_term(1, now - timedelta(days=1))])
    member_id = await a_member(client, nats_server.url, tier="platinum", name="Plat Member")  # 2 free guests; the contract allows 1
    body = {"boarding_pass": boarding_pass("MEMBER/PLAT", flight_no, flight_date, cabin="C"), "member_id": member_id, "guests": 3}
    response = await check_in(client, body)
    assert response.status_code == 201, response.text
    visit = response.json()
    assert (visit["entitlement"], visit["payer"], visit["member_id"]) == ("carrier", "carrier", member_id)
    assert (visit["free_guests"], visit["guests_carrier_paid"], visit["guests_billed"]) == (2, 1, 1)
    bill = (await client.get(f"/v1/visits/{visit['id']}/bill", headers=PEK_STAFF)).json()
    assert [(line["sku"], line["qty"]) for line in bill["lines"]] == [("GUEST_FEE", 1)]


async def test_a_rate_change_bills_each_visit_at_the_term_in_force_at_its_check_in(client, nats_server, frozen):
    now = a_morning()
    change = now + timedelta(hours=1)
    carrier = a_designator()
    frozen(now)
    flight_no, flight_date = await a_flight(client, nats_server.url, now + timedelta(hours=3), carrier=carrier)
    first_terms = [lounge_term(1, now - timedelta(days=10), rate_minor=18000)]
    contract_id = await a_contract(client, nats_server.url, carrier, valid_from=local_day(now), terms=first_terms)
    before = (await check_in(client, {"boarding_pass": boarding_pass("EARLY/ONE", flight_no, flight_date, cabin="J")})).json()

    # booking adds a term from `change` on (version 2 of the contract); a stale version 1 arrives again after it
    both_terms = [*first_terms, lounge_term(2, change, rate_minor=20000)]
    await a_contract(client, nats_server.url, carrier, valid_from=local_day(now), terms=both_terms, version=2, contract_id=contract_id)
    await a_contract(client, nats_server.url, carrier, valid_from=local_day(now), terms=first_terms, version=1, contract_id=contract_id)
    still_before = (await check_in(client, {"boarding_pass": boarding_pass("EARLY/TWO", flight_no, flight_date, cabin="J")})).json()
    frozen(change + timedelta(minutes=5))
    after = (await check_in(client, {"boarding_pass": boarding_pass("LATE/ONE", flight_no, flight_date, cabin="J")})).json()

    assert [(visit["contract_version"], visit["rate_minor"]) for visit in (before, still_before, after)] == [
        (1, 18000), (1, 18000), (2, 20000),
    ]  # fmt: skip
    held = (await client.get(f"/v1/visits/{before['id']}", headers=PEK_STAFF)).json()
    assert (held["contract_version"], held["rate_minor"]) == (1, 18000)  # a later term never rewrites a visit


async def test_a_contract_copy_keeps_the_newest_version(client, nats_server, frozen):
    now = a_morning()
    frozen(now)
    carrier = a_designator()
    flight_no, flight_date = await a_flight(client, nats_server.url, now + timedelta(hours=2), carrier=carrier)
    contract_id = f"ctr_{uuid.uuid4().hex[:16]}"
    economy_too = [lounge_term(1, now - timedelta(days=5), cabins=("J", "Y"))]
    await a_contract(client, nats_server.url, carrier, valid_from=local_day(now), terms=economy_too, version=3, contract_id=contract_id)
    business_only = [lounge_term(1, now - timedelta(days=5), cabins=("J",))]
    await a_contract(client, nats_server.url, carrier, valid_from=local_day(now), terms=business_only, version=2, contract_id=contract_id)
    economy = await check_in(client, {"boarding_pass": boarding_pass("YANG/MEI", flight_no, flight_date, cabin="Y")})
    assert economy.status_code == 201, economy.text
    assert economy.json()["entitlement"] == "carrier"


def test_the_term_in_force_is_the_latest_started_and_a_contract_covers_its_local_days_inclusive():  # the shared rules
    start = datetime(2032, 3, 1, 16, tzinfo=UTC)
    terms = [ContractTerm.model_validate(lounge_term(version, start + timedelta(days=10 * (version - 1)))) for version in (1, 2, 3)]
    assert term_in_force(terms, start - timedelta(seconds=1)) is None
    assert term_in_force(terms, start).version == 1  # type: ignore[union-attr]
    assert term_in_force(terms, start + timedelta(days=10, seconds=-1)).version == 1  # type: ignore[union-attr]
    assert term_in_force(terms, start + timedelta(days=10)).version == 2  # type: ignore[union-attr]
    assert term_in_force(terms, start + timedelta(days=400)).version == 3  # type: ignore[union-attr]
    first, last = date(2032, 3, 1), date(2032, 3, 31)
    assert valid_on(status="active", valid_from=first, valid_to=last, day=first)
    assert valid_on(status="active", valid_from=first, valid_to=last, day=last)
    assert not valid_on(status="active", valid_from=first, valid_to=last, day=last + timedelta(days=1))
    assert not valid_on(status="active", valid_from=first, valid_to=None, day=first - timedelta(days=1))
    assert valid_on(status="active", valid_from=first, valid_to=None, day=date(2040, 1, 1))
    assert not valid_on(status="ended", valid_from=first, valid_to=None, day=first)
