"""P13: a carrier-month's settlement statement with 100,000 visits (issue 15; the specification calls this
phase P10, an id the live feeds took here first, docs/targets.md).

The lines are loaded as the statement consumer writes them (one per carrier-paid visit, COPY), then the
running booking process is asked, over HTTP, what a station manager asks: the draft (its totals summed from
the lines now, and the first page of lines), its issue (the totals and line count frozen, numbered, the event
in the same transaction) and the issued statement. "Built" is the draft's read plus the issue. Last its CSV
is streamed whole while booking's RSS is sampled: the lines are read in batches, so the growth stays flat
whatever the month holds (docs/carriers.md "Statements").
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx

from airside_tools.processes import ServiceProcess
from bench import datagen, stack
from bench.report import Row
from bench.targets import bearer

SHANGHAI = ZoneInfo("Asia/Shanghai")
VISITS = 100_000
CARRIER = "B7"
LINE_COLUMNS = [
    "source", "statement_id", "service", "day", "passenger_name", "flight_no", "flight_date", "cabin", "reference",
    "quantity", "rate_minor", "amount_minor", "contract_id", "contract_version", "note", "created_at",
]  # fmt: skip
BUILT_TARGET_MS = 2000
RSS_TARGET_MB = 50


async def load_month(url: str, *, visits: int = VISITS) -> str:
    """A draft statement of this local month at PEK holding `visits` carrier-paid visits at two rates (a rate change
    mid-month), some with a guest; returns its id."""
    rng = random.Random(13)
    now = datetime.now(UTC)
    local = now.astimezone(SHANGHAI)
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    seconds = max(int((local - month_start).total_seconds()), 3600)
    statement_id, contract_id = "stm_" + secrets.token_hex(8), "ctr_" + secrets.token_hex(8)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "INSERT INTO carrier (designator, name, version, created_at, updated_at) VALUES ($1, 'Bench Air', 1, $2, $2)", CARRIER, now
        )
        await conn.execute(
            "INSERT INTO settlement_statement (id, carrier, station, month, sequence, currency, status, payment_days, paid_minor,"
            " version, created_at, updated_at) VALUES ($1, $2, 'PEK', $3, 1, 'CNY', 'draft', 30, 0, 1, $4, $4)",
            statement_id,
            CARRIER,
            f"{local.year:04d}-{local.month:02d}",
            now,
        )
        rows = []
        for index in range(visits):
            checked_in = month_start + timedelta(seconds=rng.randrange(seconds))
            version, rate = (1, 18000) if index < visits // 2 else (2, 20000)
            quantity = 2 if rng.random() < 0.1 else 1
            number = rng.randrange(1, 9999)
            rows.append(
                (
                    f"visit:bench-{index}", statement_id, "LOUNGE", checked_in.date(), f"PAX/{index:06d}", f"{CARRIER}{number}",
                    checked_in.date(), rng.choice("FJC"), f"bench-visit-{index:06d}", quantity, rate, rate * quantity,
                    contract_id, version, None, now,
                )
            )  # fmt: skip
        await conn.copy_records_to_table("settlement_line", records=rows, columns=LINE_COLUMNS)
        await datagen.settle(conn, "settlement_line")
    finally:
        await conn.close()
    return statement_id


async def _timed(client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = await client.request(method, url, **kwargs)
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return elapsed, response


async def p13(booking: ServiceProcess, url: str, *, visits: int = VISITS, runs: int = 5) -> dict[str, Any]:
    statement_id = await load_month(url, visits=visits)
    headers = bearer(["station_manager"], sub="bench-manager")
    base = f"{booking.url}/v1/statements/{statement_id}"
    async with httpx.AsyncClient(timeout=120) as client:
        await _timed(client, "GET", base, headers=headers)  # warms the caches
        draft_reads = sorted([(await _timed(client, "GET", base, headers=headers))[0] for _ in range(runs)])
        issue_ms, issued = await _timed(client, "POST", f"{base}/issue", headers=headers, json={"early": True})
        issued_read_ms, _ = await _timed(client, "GET", base, headers=headers)
        body = issued.json()

        pid = booking.process.pid  # type: ignore[union-attr]
        await asyncio.sleep(1)
        rss_before = stack.rss_mb(pid)
        lines = size = 0
        started = time.perf_counter()
        with stack.RssSampler({"booking": pid}) as sampler:
            async with client.stream("GET", f"{base}/lines.csv", headers=headers) as response:
                response.raise_for_status()
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    lines += chunk.count(b"\n")
        csv_seconds = time.perf_counter() - started
    median_draft = draft_reads[len(draft_reads) // 2]
    return {
        "visits": visits,
        "line_count": body["line_count"],
        "total_minor": body["total_minor"],
        "draft_read_ms": {"p50": median_draft, "max": draft_reads[-1]},
        "issue_ms": issue_ms,
        "issued_read_ms": issued_read_ms,
        "built_ms": median_draft + issue_ms,
        "csv_rows": lines - 1,
        "csv_mb": size / 1e6,
        "csv_seconds": csv_seconds,
        "rss_before_mb": rss_before,
        "rss_peak_mb": sampler.peak["booking"],
        "rss_growth_mb": sampler.peak["booking"] - rss_before,
    }


def rows(p13: dict[str, Any]) -> list[Row]:
    whole = p13["line_count"] == p13["visits"] and p13["csv_rows"] == p13["visits"]
    built = p13["built_ms"]
    what = f"statement of a carrier-month, {p13['visits']:,} visits: draft read (p50) + issue"
    growth = p13["rss_growth_mb"]
    csv_what = f"booking RSS growth streaming its CSV ({p13['csv_mb']:.0f} MB, {p13['csv_rows']:,} rows in {p13['csv_seconds']:.1f} s)"
    return [
        Row("P13", what, built, "ms", target=f"< {BUILT_TARGET_MS} ms", ok=whole and built < BUILT_TARGET_MS),
        Row("P13i", "same, the issued statement's read (info)", p13["issued_read_ms"], "ms"),
        Row("P13", csv_what, growth, "MB", target=f"< {RSS_TARGET_MB} MB", ok=whole and growth < RSS_TARGET_MB),
    ]
