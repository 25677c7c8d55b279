"""Check-in at the door: by order, by member and flight, by boarding pass; every refusal its own 409."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from lounge_support import (
    BEIJING,
    PEK,
    PEK_STAFF,
    a_flight,
    a_member,
    a_morning,
    boarding_pass,
    expected_visit,
    order_snapshot,
    publish_order,
)

from airside_tools.testing.events import published_events
from airside_tools.testing.harness import wait_for


def _letters(index: int) -> str:
    return "".join(chr(ord("A") + int(digit)) for digit in f"{index:03d}")


def by_member(member_id: str, flight_no: str, flight_date, **extra) -> dict:
    return {"member_id": member_id, "flight": {"carrier": flight_no[:2], "number": flight_no[2:], "flight_date": str(flight_date)}, **extra}


async def check_in(client, body: dict, lounge: str = PEK, headers: dict = PEK_STAFF):
    return await client.post(f"/v1/lounges/{lounge}/visits", json=body, headers=headers)


async def bill_of(client, visit: dict) -> dict:
    return (await client.get(f"/v1/visits/{visit['id']}/bill", headers=PEK_STAFF)).json()


def charges(bill: dict) -> dict[str, int]:
    return {line["sku"]: line["qty"] for line in bill["lines"]}


async def an_order(client, nats_url, member_id, flight_no, flight_date, std, passengers=1) -> str:
    order_id = str(uuid.uuid4())
    snapshot = order_snapshot(
        order_id=order_id, member_id=member_id, flight_no=flight_no, flight_date=flight_date, std=std, passengers=passengers
    )
    await publish_order(nats_url, snapshot)
    await wait_for(lambda: expected_visit(client, order_id), timeout=5, what="the expected visit")
    return order_id


async def test_check_in_by_order_brings_the_orders_passengers_free(client, nats_server, frozen):
    now = a_morning()
    frozen(now)
    std = now + timedelta(hours=2)
    flight_no, flight_date = await a_flight(client, nats_server.url, std, gate="E12")
    member_id = await a_member(client, nats_server.url, tier="standard")
    order_id = await an_order(client, nats_server.url, member_id, flight_no, flight_date, std, passengers=3)

    response = await check_in(client, {"order_id": order_id})
    assert response.status_code == 201, response.text
    visit = response.json()
    assert (visit["status"], visit["entitlement"], visit["guests"], visit["order_id"], visit["member_id"]) == (
        "checked_in", "order", 2, order_id, member_id,
    )  # fmt: skip
    assert visit["flight"]["flight_no"] == flight_no and visit["flight"]["gate"] == "E12"
    assert datetime.fromisoformat(visit["boarding_call_at"]) == std - timedelta(minutes=40)
    assert charges(await bill_of(client, visit)) == {}
    events = await published_events(
        nats_server.url, "airside.lounge.visit.checked_in", until=lambda seen: any(event.subject == visit["id"] for event in seen)
    )
    data = next(event.data for event in events if event.subject == visit["id"])["visit"]
    assert (data["order_id"], data["station"], data["flight_no"], data["entitlement"]) == (order_id, "PEK", flight_no, "order")


@pytest.mark.parametrize(
    ("tier", "with_order", "passengers", "guests", "entitlement", "expected_charges"),
    [
        ("standard", False, 1, 0, "paid", {"DAY_PASS": 1}),
        ("standard", False, 1, 1, "paid", {"DAY_PASS": 1, "GUEST_FEE": 1}),
        ("gold", False, 1, 0, "tier", {}),
        ("gold", False, 1, 1, "tier", {}),
        ("gold", False, 1, 2, "tier", {"GUEST_FEE": 1}),
        ("platinum", False, 1, 2, "tier", {}),
        ("platinum", False, 1, 3, "tier", {"GUEST_FEE": 1}),
        ("vip", False, 1, 3, "tier", {}),
        ("vip", False, 1, 5, "tier", {"GUEST_FEE": 2}),
        ("standard", True, 1, 1, "order", {"GUEST_FEE": 1}),
        ("standard", True, 2, 1, "order", {}),
        ("gold", True, 2, 2, "order", {}),  # one fellow passenger plus the gold allowance
        ("gold", True, 2, 3, "order", {"GUEST_FEE": 1}),
    ],
)
async def test_entitlement_and_guest_fees(client, nats_server, frozen, tier, with_order, passengers, guests, entitlement, expected_charges):
    now = a_morning()
    frozen(now)
    std = now + timedelta(hours=1)
    flight_no, flight_date = await a_flight(client, nats_server.url, std)
    member_id = await a_member(client, nats_server.url, tier=tier)
    if with_order:
        await an_order(client, nats_server.url, member_id, flight_no, flight_date, std, passengers=passengers)
    response = await check_in(client, by_member(member_id, flight_no, flight_date, guests=guests))
    assert response.status_code == 201, response.text
    visit = response.json()
    assert visit["entitlement"] == entitlement and visit["guests"] == guests
    bill = await bill_of(client, visit)
    assert charges(bill) == expected_charges
    assert bill["total_minor"] == expected_charges.get("DAY_PASS", 0) * 30000 + expected_charges.get("GUEST_FEE", 0) * 20000


async def test_a_boarding_pass_matches_the_one_member_with_an_order_of_that_name(client, nats_server, frozen):
    now = a_morning()
    frozen(now)
    std = now + timedelta(hours=2)
    flight_no, flight_date = await a_flight(client, nats_server.url, std)
    member_id = await a_member(client, nats_server.url, tier="standard", name="Zhang San")
    order_id = await an_order(client, nats_server.url, member_id, flight_no, flight_date, std)
    response = await check_in(client, {"boarding_pass": boarding_pass("ZHANG/SAN", flight_no, flight_date)})
    assert response.status_code == 201, response.text
    visit = response.json()
    assert (visit["member_id"], visit["order_id"], visit["entitlement"]) == (member_id, order_id, "order")

    walk_in = await check_in(client, {"boarding_pass": boarding_pass("WANG/WU", flight_no, flight_date, seat="003C")})
    assert walk_in.status_code == 201
    assert (walk_in.json()["member_id"], walk_in.json()["entitlement"], walk_in.json()["passenger_name"]) == (None, "paid", "WANG/WU")
    assert charges(await bill_of(client, walk_in.json())) == {"DAY_PASS": 1}
    again = await check_in(client, {"boarding_pass": boarding_pass("WANG/WU", flight_no, flight_date, seat="003C")})
    assert again.status_code == 409 and again.json()["type"] == "/problems/already_checked_in"


async def test_a_boarding_pass_with_member_id_and_a_multi_leg_pass_takes_the_leg_from_here(client, nats_server, frozen):
    now = a_morning()
    frozen(now)
    std = now + timedelta(hours=2)
    flight_no, flight_date = await a_flight(client, nats_server.url, std)
    member_id = await a_member(client, nats_server.url, tier="platinum", name="Someone Else")
    first_leg = boarding_pass("LI/NA", "MU5100", flight_date, origin="SHA", destination="PEK")
    second_leg = boarding_pass("LI/NA", flight_no, flight_date)[23:]
    raw = "M2" + first_leg[2:] + second_leg
    response = await check_in(client, {"boarding_pass": raw, "member_id": member_id})
    assert response.status_code == 201, response.text
    assert (response.json()["flight"]["flight_no"], response.json()["entitlement"]) == (flight_no, "tier")


async def test_a_malformed_boarding_pass_is_422_naming_the_field(client, frozen):
    frozen(a_morning())
    response = await check_in(client, {"boarding_pass": "M1LI/WEI              EXYZ789 PEKKMGCA 1831 999F002A0012 100"})
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == "body.boarding_pass" and error["message"].startswith("date of flight")
    short = await check_in(client, {"boarding_pass": "M1LI/WEI              EXYZ789 PEKKMGCA 1831 120F002A00"})
    assert short.status_code == 422 and short.json()["errors"][0]["message"].startswith("check-in sequence")


async def test_the_year_of_a_boarding_pass_is_inferred_at_new_year(client, nats_server, frozen):
    # 23:30 on 31 December is after closing; the lounge opens again at 06:00 on 1 January.
    now = datetime(2031, 1, 1, 6, 30, tzinfo=BEIJING).astimezone(UTC)
    frozen(now)
    std = now + timedelta(hours=1)
    flight_no, flight_date = await a_flight(client, nats_server.url, std)
    assert flight_date.isoformat() == "2031-01-01"
    response = await check_in(client, {"boarding_pass": boarding_pass("CHEN/YI", flight_no, flight_date)})
    assert response.status_code == 201, response.text
    assert response.json()["flight"]["flight_date"] == "2031-01-01"


@pytest.mark.parametrize(
    "body", [{}, {"order_id": "x", "boarding_pass": "M1"}, {"flight": {"carrier": "CA", "number": "1", "flight_date": "2031-01-01"}}]
)
async def test_a_check_in_names_one_way_in(client, body):
    response = await check_in(client, body)
    assert response.status_code == 422


async def test_refusals_each_have_their_own_problem_type(client, nats_server, frozen):
    now = a_morning()
    frozen(now)
    member_id = await a_member(client, nats_server.url, tier="gold")
    soon, soon_date = await a_flight(client, nats_server.url, now + timedelta(hours=1))
    later, later_date = await a_flight(client, nats_server.url, now + timedelta(hours=4))
    elsewhere, elsewhere_date = await a_flight(client, nats_server.url, now + timedelta(hours=1), origin="KMG", destination="PEK")
    gone, gone_date = await a_flight(
        client, nats_server.url, now + timedelta(minutes=30), status="departed", atd=now - timedelta(minutes=1)
    )
    cancelled, cancelled_date = await a_flight(client, nats_server.url, now + timedelta(hours=1), status="cancelled")

    async def problem(body: dict) -> str:
        response = await check_in(client, body)
        assert response.status_code in (404, 409), response.text
        return response.json()["type"].removeprefix("/problems/")

    assert await problem(by_member(member_id, "CA9", soon_date)) == "unknown_flight"
    assert await problem(by_member(member_id, later, later_date)) == "not_entitled"
    assert await problem(by_member(member_id, elsewhere, elsewhere_date)) == "not_entitled"
    assert await problem(by_member(member_id, gone, gone_date)) == "not_entitled"
    assert await problem(by_member(member_id, cancelled, cancelled_date)) == "not_entitled"
    assert await problem({"order_id": str(uuid.uuid4())}) == "not_entitled"
    assert await problem(by_member(str(uuid.uuid4()), soon, soon_date)) == "not_found"
    assert (await check_in(client, by_member(member_id, soon, soon_date))).status_code == 201
    assert await problem(by_member(member_id, soon, soon_date, guests=1)) == "already_checked_in"
    frozen(datetime.combine(now.astimezone(BEIJING).date(), datetime.min.time(), BEIJING).replace(hour=23, minute=5))
    assert await problem(by_member(member_id, soon, soon_date)) == "closed"
    frozen(datetime.combine(now.astimezone(BEIJING).date(), datetime.min.time(), BEIJING).replace(hour=5, minute=59))
    assert await problem(by_member(member_id, soon, soon_date)) == "closed"


async def test_a_retried_check_in_with_the_same_key_checks_in_once(client, nats_server, frozen):
    now = a_morning()
    frozen(now)
    flight_no, flight_date = await a_flight(client, nats_server.url, now + timedelta(hours=1))
    member_id = await a_member(client, nats_server.url, tier="gold")
    headers = {**PEK_STAFF, "Idempotency-Key": str(uuid.uuid4())}
    first = await check_in(client, by_member(member_id, flight_no, flight_date), headers=headers)
    second = await check_in(client, by_member(member_id, flight_no, flight_date), headers=headers)
    assert first.status_code == second.status_code == 201 and first.json()["id"] == second.json()["id"]
    occupancy = (await client.get(f"/v1/lounges/{PEK}/occupancy", headers=PEK_STAFF)).json()
    assert occupancy == {"capacity": 40, "occupied": 1, "available": 39}


async def test_200_concurrent_check_ins_never_pass_capacity(client, nats_server, frozen):
    now = a_morning()
    frozen(now)
    flight_no, flight_date = await a_flight(client, nats_server.url, now + timedelta(hours=2))
    passes = [boarding_pass(f"GUEST/{_letters(index)}", flight_no, flight_date) for index in range(200)]
    responses = await asyncio.gather(*(check_in(client, {"boarding_pass": raw}) for raw in passes))
    statuses = [response.status_code for response in responses]
    assert statuses.count(201) == 40, {status: statuses.count(status) for status in set(statuses)}
    assert all(response.json()["type"] == "/problems/lounge_full" for response in responses if response.status_code != 201)
    occupancy = (await client.get(f"/v1/lounges/{PEK}/occupancy", headers=PEK_STAFF)).json()
    assert occupancy == {"capacity": 40, "occupied": 40, "available": 0}
    open_visits = (await client.get(f"/v1/lounges/{PEK}/visits", params={"status": "checked_in"}, headers=PEK_STAFF)).json()["items"]
    assert sum(1 + visit["guests"] for visit in open_visits) == 40


async def test_guests_count_against_capacity(client, nats_server, frozen):
    now = a_morning()
    frozen(now)
    flight_no, flight_date = await a_flight(client, nats_server.url, now + timedelta(hours=2))
    first = await check_in(client, {"boarding_pass": boarding_pass("BIG/PARTY", flight_no, flight_date), "guests": 20})
    assert first.status_code == 201
    second = await check_in(client, {"boarding_pass": boarding_pass("OTHER/PARTY", flight_no, flight_date), "guests": 19})
    assert second.status_code == 409 and second.json()["type"] == "/problems/lounge_full"
    third = await check_in(client, {"boarding_pass": boarding_pass("OTHER/PARTY", flight_no, flight_date), "guests": 18})
    assert third.status_code == 201
    checkout = await client.post(f"/v1/visits/{first.json()['id']}/checkout", json={"payment_method": "cash"}, headers=PEK_STAFF)
    assert checkout.status_code == 200
    occupancy = (await client.get(f"/v1/lounges/{PEK}/occupancy", headers=PEK_STAFF)).json()
    assert occupancy["occupied"] == 19
