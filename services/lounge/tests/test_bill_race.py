"""A bar sale or a void racing the check-out that settles its bill, across two lounge processes on
one database (PostgreSQL, or one SQLite file): either the sale lands before the bill is settled and
is on it, or it is refused with a 409 and takes nothing. The same against the automatic check-out
when the flight departs."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from lounge_support import PEK, PEK_MANAGER, PEK_STAFF, boarding_pass, flight_known, flight_number, publish_flight

from airside_tools.processes import ServiceProcess
from airside_tools.testing.harness import nats_under, service_process, wait_for

ROUNDS = 12
SALES_PER_ROUND = 4
Json = dict


@pytest.fixture(scope="module")
def processes(databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, ServiceProcess, ServiceProcess]]:
    """Two lounge processes on one database and a NATS server of their own (the in-process lounge of
    the other tests must not take their flight events)."""
    root: Path = tmp_path_factory.mktemp("bill-race")
    with nats_under(root / "nats") as nats:
        database_url = databases.create("lounge")
        first, second = (service_process("lounge", database_url=database_url, nats_url=nats.url, log_dir=root / name) for name in "ab")
        try:
            first.start().wait_ready(60)  # migrates and seeds before the second one starts
            second.start().wait_ready(60)
            yield nats.url, first, second
        finally:
            first.stop()
            second.stop()


@pytest.fixture(scope="module")
async def desks(processes) -> AsyncIterator[tuple[str, httpx.AsyncClient, httpx.AsyncClient]]:
    nats_url, first, second = processes
    async with httpx.AsyncClient(base_url=first.url, timeout=30) as a, httpx.AsyncClient(base_url=second.url, timeout=30) as b:
        current = await a.get(f"/v1/lounges/{PEK}", headers=PEK_MANAGER)
        opened = await a.patch(
            f"/v1/lounges/{PEK}", json={"opens": "00:00", "closes": "00:00"}, headers={**PEK_MANAGER, "If-Match": current.headers["ETag"]}
        )
        assert opened.status_code == 200, opened.text  # the real clock runs here: round the clock
        yield nats_url, a, b


async def a_real_flight(nats_url: str, desk: httpx.AsyncClient) -> tuple[str, date, datetime]:
    number, std = flight_number(), datetime.now(UTC) + timedelta(hours=2)
    flight_date = await publish_flight(nats_url, number, std, destination="CTU")
    await wait_for(lambda: flight_known(desk, f"CA{number}", flight_date), timeout=10, what="the flight copy")
    return number, flight_date, std


async def check_in_all(desk: httpx.AsyncClient, number: str, flight_date: date) -> list[Json]:
    visits = []
    for index in range(ROUNDS):
        raw = boarding_pass(f"RACE/GUEST{'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[index]}", f"CA{number}", flight_date, destination="CTU")
        response = await desk.post(f"/v1/lounges/{PEK}/visits", json={"boarding_pass": raw}, headers=PEK_STAFF)
        assert response.status_code == 201, response.text
        visits.append(response.json())
    return visits


async def sell(desk: httpx.AsyncClient, visit: Json, sku: str) -> httpx.Response:
    return await desk.post(f"/v1/visits/{visit['id']}/sales", json={"lines": [{"sku": sku, "qty": 1}]}, headers=PEK_STAFF)


async def on_hand(desk: httpx.AsyncClient) -> Counter[str]:
    return Counter({row["sku"]: row["on_hand"] for row in (await desk.get(f"/v1/lounges/{PEK}/stock", headers=PEK_STAFF)).json()["items"]})


def assert_refused(responses: list[httpx.Response], accepted: int, problem: str) -> None:
    for response in responses:
        assert response.status_code == accepted or (response.status_code == 409 and response.json()["type"] == f"/problems/{problem}"), (
            response.status_code,
            response.text,
        )


async def assert_bill_holds_its_lines(desk: httpx.AsyncClient, visit: Json) -> Json:
    """A closed bill's stored total is what its live lines add up to: no line came or went after it closed."""
    bill = (await desk.get(f"/v1/visits/{visit['id']}/bill", headers=PEK_STAFF)).json()
    assert bill["status"] in ("settled", "unsettled"), bill
    live = [line for line in bill["lines"] if line["voided_at"] is None]
    assert bill["total_minor"] == sum(line["amount_minor"] for line in live), bill
    return bill


def bar_units(bills: list[Json]) -> Counter[str]:
    units = Counter[str]()
    for line in (line for bill in bills for line in bill["lines"]):
        if line["voided_at"] is None and line["category"] != "entry":
            units[line["sku"]] += line["qty"]
    return units


async def test_sales_and_voids_racing_the_check_out_land_before_it_or_are_refused(desks):
    nats_url, a, b = desks
    number, flight_date, _std = await a_real_flight(nats_url, a)
    before = await on_hand(a)
    visits = await check_in_all(a, number, flight_date)
    bills = []
    for visit in visits:
        first = await sell(b, visit, "NOODLES")
        assert first.status_code == 201, first.text
        noodles = next(line["id"] for line in first.json()["lines"] if line["sku"] == "NOODLES")
        # The check-out on one process, the sales and a void on the other, all at once.
        checkout, void, *sales = await asyncio.gather(
            a.post(f"/v1/visits/{visit['id']}/checkout", json={"payment_method": "card"}, headers=PEK_STAFF),
            b.post(f"/v1/sales/{noodles}/void", json={"reason": "sent back"}, headers=PEK_STAFF),
            *(sell(b, visit, "COLA") for _ in range(SALES_PER_ROUND)),
        )
        assert checkout.status_code == 200, checkout.text
        assert_refused([void], 200, "bill_closed")
        assert_refused(sales, 201, "visit_closed")
        bill = await assert_bill_holds_its_lines(a, visit)
        assert bill["status"] == "settled" and checkout.json()["bill"]["total_minor"] == bill["total_minor"]
        assert sum(line["sku"] == "COLA" for line in bill["lines"]) == sum(sale.status_code == 201 for sale in sales)
        assert any(line["voided_at"] for line in bill["lines"]) is (void.status_code == 200)
        bills.append(bill)
    # Stock: exactly what the bills hold was taken; a refused sale took nothing, a void gave back.
    assert before - await on_hand(a) == bar_units(bills)


async def test_sales_racing_the_automatic_check_out_at_departure_land_before_it_or_are_refused(desks):
    nats_url, a, b = desks
    number, flight_date, std = await a_real_flight(nats_url, a)
    visits = await check_in_all(a, number, flight_date)
    departed = publish_flight(nats_url, number, std, destination="CTU", status="departed", atd=datetime.now(UTC))
    _published, *sales = await asyncio.gather(departed, *(sell(desk, visit, "COLA") for visit in visits for desk in (a, b, b)))
    assert_refused(sales, 201, "visit_closed")

    async def all_checked_out() -> bool:
        states = [(await a.get(f"/v1/visits/{visit['id']}", headers=PEK_STAFF)).json()["status"] for visit in visits]
        return all(state == "checked_out" for state in states)

    await wait_for(all_checked_out, timeout=30, what="the automatic check-out of every guest")
    late = await asyncio.gather(*(sell(b, visit, "COLA") for visit in visits))
    assert {(response.status_code, response.json()["type"]) for response in late} == {(409, "/problems/visit_closed")}
    for visit in visits:
        bill = await assert_bill_holds_its_lines(a, visit)
        assert bill["status"] == "unsettled"  # a walk-in who left with the flight
