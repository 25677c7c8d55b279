"""R6 across processes: a second replica of each service runs on the same database as the first
(PostgreSQL, or the same SQLite file), and the concurrent requests are split between the two.

Capacity, stock, concierge assignments and the ticket queue must hold under that, not only inside
one event loop.
"""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from e2e_steps import (
    KMG_LOUNGE,
    Airside,
    Flight,
    Json,
    boarding_pass,
    eventually,
    gather_limited,
    letters,
    local,
    local_date,
    now,
    problem_type,
)

from airside_tools.processes import NatsServer
from airside_tools.testing.harness import ServiceSet, service_process

NAMES = ("booking", "lounge", "callcenter")


@pytest.fixture(scope="module")
async def replica(
    services: ServiceSet, e2e_nats: NatsServer, http: httpx.AsyncClient, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Airside]:
    """A second process of each service on the first one's database and the same NATS."""
    log_dir = tmp_path_factory.mktemp("e2e-replicas")
    processes = {
        name: service_process(name, database_url=services[name].env[f"{name.upper()}_DATABASE_URL"], nats_url=e2e_nats.url, log_dir=log_dir)
        for name in NAMES
    }

    def start() -> None:
        for process in processes.values():
            process.start()
        for process in processes.values():
            process.wait_ready(60)

    try:
        await asyncio.to_thread(start)
        yield Airside.connect(http, {name: process.url for name, process in processes.items()}, e2e_nats.url)
    finally:
        for process in processes.values():
            await asyncio.to_thread(process.stop)


def walk_in_passes(flight: Flight, count: int, first: int = 0) -> list[str]:
    """Boarding passes of distinct passengers (no member): paid walk-ins, one place each."""
    return [boarding_pass(f"GUEST/{letters(first + index)}", flight) for index in range(count)]


async def kunming_flight(airside: Airside) -> Flight:
    await airside.lounge.open_all_day(KMG_LOUNGE, "KMG")
    flight = Flight.departing(now() + timedelta(hours=2), origin="KMG", destination="PEK", carrier="CZ")
    await airside.airline.publish(flight)
    await airside.flight_in_lounge(flight)
    return flight


async def check_out_everyone(airside: Airside, replica: Airside) -> None:
    visits = await airside.lounge.visits(KMG_LOUNGE, "KMG", status="checked_in")
    desks = (airside.lounge, replica.lounge)
    await gather_limited(desks[index % 2].check_out(visit, "card") for index, visit in enumerate(visits))
    assert (await airside.lounge.occupancy(KMG_LOUNGE, "KMG"))["occupied"] == 0


async def test_200_concurrent_check_ins_over_two_lounge_replicas_leave_exactly_40_guests(airside: Airside, replica: Airside):
    await airside.lounge.change_lounge(KMG_LOUNGE, "KMG", capacity=40)
    flight = await kunming_flight(airside)
    assert (await airside.lounge.occupancy(KMG_LOUNGE, "KMG"))["occupied"] == 0
    desks = (airside.lounge, replica.lounge)
    answers = await asyncio.gather(
        *(
            desks[index % 2].check_in(KMG_LOUNGE, "KMG", boarding_pass=scanned, expect=(201, 409))
            for index, scanned in enumerate(walk_in_passes(flight, 200))
        )
    )
    assert Counter(answer.status_code for answer in answers) == {201: 40, 409: 160}
    assert {problem_type(answer) for answer in answers if answer.status_code == 409} == {"lounge_full"}
    for desk in desks:
        assert await desk.occupancy(KMG_LOUNGE, "KMG") == {"capacity": 40, "occupied": 40, "available": 0}
    inside = await airside.lounge.visits(KMG_LOUNGE, "KMG", status="checked_in")
    assert len(inside) == 40 == len({visit["id"] for visit in inside})
    await check_out_everyone(airside, replica)


async def test_concurrent_sales_over_two_lounge_replicas_never_take_stock_below_zero(airside: Airside, replica: Airside):
    flight = await kunming_flight(airside)
    desks = (airside.lounge, replica.lounge)
    visits = [
        (await airside.lounge.check_in(KMG_LOUNGE, "KMG", boarding_pass=scanned)).json() for scanned in walk_in_passes(flight, 10, 500)
    ]
    await airside.lounge.count_stock(KMG_LOUNGE, "KMG", {"WHISKY": 15, "NUTS": 100})

    # 40 rounds of "a whisky and some nuts" for 15 whiskies: all or nothing per request.
    answers = await asyncio.gather(
        *(desks[index % 2].sell(visits[index % 10], ("WHISKY", 1), ("NUTS", 1), expect=(201, 409)) for index in range(40))
    )
    assert Counter(answer.status_code for answer in answers) == {201: 15, 409: 25}
    assert {(problem_type(a), a.json()["sku"]) for a in answers if a.status_code == 409} == {("out_of_stock", "WHISKY")}
    stock = await replica.lounge.stock(KMG_LOUNGE, "KMG")
    assert (stock["WHISKY"]["on_hand"], stock["NUTS"]["on_hand"]) == (0, 85)  # no nuts taken by a refused request
    bills = await gather_limited(airside.lounge.bill(visit["id"], "KMG") for visit in visits)
    sold = Counter(line["sku"] for bill in bills for line in bill["lines"] if line["voided_at"] is None)
    assert (sold["WHISKY"], sold["NUTS"]) == (15, 15)
    await check_out_everyone(airside, replica)


async def test_two_booking_replicas_assigning_one_concierge_at_once_give_one_409(airside: Airside, replica: Airside):
    day = local_date(now()) + timedelta(days=70)
    member = await airside.booking.register_member("Race Member")
    rounds = []
    for index in range(6):
        concierge = await airside.booking.new_concierge(f"礼宾 R{index}")
        await airside.booking.put_shifts(concierge, day, [("00:00", "23:59")])
        meet_at = local(day, 8 + 2 * index, 0)
        pair = [
            await airside.booking.confirm(
                await airside.booking.book(member, Flight.departing(meet_at + timedelta(hours=2), carrier="HU"), meet_at=meet_at)
            )
            for _ in range(2)
        ]
        rounds.append((concierge, pair))

    # For each concierge, her two overlapping orders are assigned at the same moment through different replicas.
    answers = await asyncio.gather(
        *(
            desk.assign(order, concierge, expect=(200, 409))
            for concierge, pair in rounds
            for desk, order in zip((airside.booking, replica.booking), pair, strict=True)
        )
    )
    for index, (concierge, _pair) in enumerate(rounds):
        first, second = answers[2 * index], answers[2 * index + 1]
        assert sorted((first.status_code, second.status_code)) == [200, 409], (first.text, second.text)
        refused = first if first.status_code == 409 else second
        assert problem_type(refused) == "concierge_unavailable"
        schedule = await replica.booking.schedule(concierge, day)
        assert len(schedule["assignments"]) == 1


async def claim_rush(airside: Airside, replica: Airside, station: str, name: str, tickets: int, agents: int) -> tuple[list[Json], list]:
    """`tickets` waiting at a station of their own; `agents` agents claim at once, split over the two replicas."""
    await airside.booking.put_station(station, name)
    for center in (airside.callcenter, replica.callcenter):
        await eventually(lambda center=center: center.knows_station(station), f"the call center knowing {station}")
    opener = (await airside.callcenter.new_agent(station))[1]
    queued = await gather_limited(
        airside.callcenter.open_ticket(opener, type="inquiry", subject=f"Question {index}", station=station) for index in range(tickets)
    )
    claimants = await gather_limited(airside.callcenter.new_agent(station) for _ in range(agents))
    centers = (airside.callcenter, replica.callcenter)
    claims = await asyncio.gather(*(centers[index % 2].claim(headers) for index, (_record, headers) in enumerate(claimants)))
    return queued, [(ticket, record) for ticket, (record, _headers) in zip(claims, claimants, strict=True)]


async def test_two_callcenter_replicas_never_hand_one_ticket_to_two_agents(airside: Airside, replica: Airside):
    queued, claims = await claim_rush(airside, replica, "TSN", "Tianjin Binhai", tickets=20, agents=30)
    claimed = [(ticket, record) for ticket, record in claims if ticket is not None]
    assert claimed, "nobody got a ticket"
    assert len({ticket["id"] for ticket, _record in claimed}) == len(claimed)  # never one ticket twice
    assert all(ticket["assignee"] == record["id"] for ticket, record in claimed)
    held = await gather_limited(replica.callcenter.ticket(ticket["id"], "TSN") for ticket in queued)
    owners = {ticket["id"]: record["id"] for ticket, record in claimed}
    assert {ticket["id"]: ticket["assignee"] for ticket in held} == {ticket["id"]: owners.get(ticket["id"]) for ticket in queued}


async def test_a_claim_rush_over_two_callcenter_replicas_sends_nobody_away_while_a_ticket_waits(airside: Airside, replica: Airside):
    """docs/callcenter.md: the claim answers 204 only "when there is none"."""
    queued, claims = await claim_rush(airside, replica, "SJW", "Shijiazhuang Zhengding", tickets=20, agents=30)
    claimed = [ticket for ticket, _record in claims if ticket is not None]
    waiting = [ticket["id"] for ticket in await airside.callcenter.tickets(at="SJW", station="SJW") if ticket["assignee"] is None]
    assert (len(claimed), waiting) == (len(queued), []), (
        f"{len(claims) - len(claimed)} agents were answered 204 while {len(waiting)} of the {len(queued)} tickets were still unassigned"
    )
