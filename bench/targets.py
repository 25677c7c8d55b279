"""P1, P4 and P5: HTTP targets against the running services, load from bench.loadgen."""

from __future__ import annotations

import itertools
import time
from datetime import date
from typing import Any
from urllib.parse import quote

import httpx

from airside.auth import issue_token
from airside_tools.processes import ServiceProcess
from bench import datagen, stack

OPEN_CONNECTIONS = 64


def bearer(roles: list[str], *, sub: str, stations: tuple[str, ...] = ("PEK",)) -> dict[str, str]:
    token = issue_token(stack.BENCH_SIGNER, roles=roles, stations=stations, sub=sub, ttl_seconds=3 * 3600)
    return {"Authorization": f"Bearer {token}"}


def order_requests(data: datagen.BookingData, count: int = 600) -> list[dict[str, Any]]:
    """POST /v1/orders as an agent books them by phone: members, flights and products in rotation."""
    headers = bearer(["agent"], sub="bench-agent")
    items = [[{"product": "DEP_ESCORT"}], [{"product": "DEP_ESCORT"}, {"product": "LOUNGE"}], [{"product": "ARR_MEET"}]]
    requests = []
    for index in range(count):
        member_id, _tier = data.members[index % len(data.members)]
        flight_no, flight_date, origin, destination = data.flights[index % len(data.flights)]
        chosen = items[index % 2]
        body = {
            "member_id": member_id,
            "station": "PEK",
            "direction": "departure",
            "flight": {"carrier": flight_no[:2], "number": flight_no[2:], "flight_date": flight_date.isoformat(),
                       "origin": origin, "destination": destination},
            "items": chosen,
            "passengers": [{"name": "王小明"}, {"name": "Li Wei", "ssr": []}][: 1 + index % 2],
            "meeting_point": "T3 door 5",
            "channel": "call_center",
        }  # fmt: skip
        requests.append({"method": "POST", "path": "/v1/orders", "headers": headers, "body": body})
    return requests


async def p1(booking: ServiceProcess, data: datagen.BookingData, *, c2_rate: float, seconds: float) -> dict[str, Any]:
    """Throughput at full speed (closed model, like C2), then p99 at half of C2 offered (open model)."""
    requests = order_requests(data)
    stack.pin(booking.process.pid, stack.SERVER_CPU)  # type: ignore[union-attr]
    try:
        closed = await stack.load(
            {"mode": "closed", "port": booking.port, "connections": 32, "duration": seconds, "warmup": 1.0, "requests": requests}
        )
        offered = 0.5 * c2_rate
        opened = await stack.load(
            {"mode": "open", "port": booking.port, "connections": OPEN_CONNECTIONS, "rate": offered, "duration": seconds,
             "warmup": 2.0, "requests": requests}
        )  # fmt: skip
    finally:
        stack.pin(booking.process.pid, None)  # type: ignore[union-attr]
    return {"closed": closed, "open": opened}


async def p4(
    callcenter: ServiceProcess, *, agents: list[tuple[str, str]], seconds: float, rates: tuple[float, float, float]
) -> dict[str, Any]:
    """Filtered list, claim and text search over the million tickets, each at a constant rate."""
    list_rate, claim_rate, search_rate = rates
    reader = bearer(["agent"], sub=agents[0][1])
    filters = list(itertools.product(datagen.STATUS_WEIGHTS, datagen.PRIORITY_WEIGHTS))
    lists = [
        {"path": f"/v1/tickets?status={status}&station=PEK&priority={priority}&limit=50", "headers": reader} for status, priority in filters
    ]
    claims = [{"method": "POST", "path": "/v1/queue/claim", "headers": bearer(["agent"], sub=subject)} for _id, subject in agents]
    # Common phrases (the newest page is found at once) and rare ones, where the trigram index must work.
    terms = ["航班延误", "行李箱损坏", "贵宾室", "T3航站楼", "wheelchair", "Refund request", "gate E21", "Passport",
             "李芳", "CA6597", "Müller", "3001", "無此內容", "nothing like this"]  # fmt: skip
    searches = [{"path": f"/v1/tickets?q={quote(term)}&limit=50", "headers": reader} for term in terms]
    base = {"mode": "open", "port": callcenter.port, "connections": OPEN_CONNECTIONS, "duration": seconds, "warmup": 1.0}
    stack.pin(callcenter.process.pid, stack.SERVER_CPU)  # type: ignore[union-attr]
    try:
        listed = await stack.load({**base, "rate": list_rate, "requests": lists})
        claimed = await stack.load({**base, "rate": claim_rate, "requests": claims})
        searched = await stack.load({**base, "rate": search_rate, "requests": searches})
    finally:
        stack.pin(callcenter.process.pid, None)  # type: ignore[union-attr]
    return {"list": listed, "claim": claimed, "search": searched, "terms": terms}


async def p5(booking: ServiceProcess, *, day: date, runs: int = 10) -> dict[str, Any]:
    """The daily service list of a station-day with 5,000 orders, asked for one after another."""
    headers = bearer(["concierge_lead"], sub="bench-lead")
    url = f"{booking.url}/v1/reports/daily-services"
    timings: list[float] = []
    sizes: list[int] = []
    async with httpx.AsyncClient(timeout=60) as client:
        for attempt in range(runs + 1):
            started = time.perf_counter()
            response = await client.get(url, params={"station": "PEK", "date": day.isoformat()}, headers=headers)
            elapsed = time.perf_counter() - started
            response.raise_for_status()
            if attempt:  # the first one warms the caches
                timings.append(elapsed * 1000)
                sizes.append(len(response.json()["orders"]))
    ordered = sorted(timings)
    return {
        "runs": runs,
        "orders": sizes[0],
        "p50_ms": ordered[len(ordered) // 2],
        "p90_ms": ordered[int(0.9 * (len(ordered) - 1))],
        "max_ms": ordered[-1],
    }
