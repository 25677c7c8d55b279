"""Bulk data for the scale targets, written with asyncpg COPY into the services' migrated schemas.

1,000,000 tickets (P4) in callcenter's tables, a station-day of 5,000 orders (P5) and orders in
service to complete (P2) in booking's, a 100,000-event outbox backlog (P3). Secondary indexes are
dropped for the load and rebuilt after it, exactly as the migration defined them: one sorted
build is far cheaper than a million index insertions.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

SHANGHAI = ZoneInfo("Asia/Shanghai")
SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"]
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "艳", "杰", "小明", "建国"]
LATIN = ["Smith", "Chen", "Garcia", "Müller", "Tanaka", "Novak", "Rossi", "Dubois", "Kim", "Okafor"]
FIRST = ["Anna", "John", "Wei", "Maria", "Li", "Peter", "Yuki", "Omar", "Sara", "Ivan"]
# Ticket wording: Chinese and Latin phrases of different frequency, so `q` meets common and rare terms.
TOPICS = [
    ("行李箱损坏", "Damaged suitcase"), ("航班延误", "Flight delay"), ("贵宾室服务", "Lounge service"),
    ("轮椅协助", "Wheelchair assistance"), ("退款申请", "Refund request"), ("改签咨询", "Rebooking question"),
    ("接机未到", "Meet and greet no-show"), ("遗失物品", "Lost property"), ("服务态度", "Staff attitude"),
    ("安检通道", "Security lane"), ("登机口变更", "Gate change"), ("会员积分", "Membership points"),
]  # fmt: skip
# Full-width commas written as \uff0c: Chinese punctuation, not a typo for ",".
DETAILS = [
    "旅客反映在{where}等候时间过长\uff0c希望尽快回复。", "The passenger waited at {where} for a long time and asks for a call back.",
    "客人表示{where}的工作人员非常热情\uff0c特此表扬。", "Member reports the escort at {where} was late by twenty minutes.",
    "需要在{where}安排轮椅和专人陪同。", "Asked whether the lounge near {where} serves vegetarian meals.",
    "行李在{where}被发现有划痕\uff0c要求赔偿。", "Passport left at {where}, please contact the member urgently.",
]  # fmt: skip
PLACES = ["T3航站楼", "T2航站楼", "C区登机口", "E区贵宾室", "到达大厅", "security checkpoint", "gate E21", "baggage hall", "VIP lounge 3"]


@dataclass
class BookingData:
    members: list[tuple[str, str]] = field(default_factory=list)  # (id, tier)
    flights: list[tuple[str, date, str, str]] = field(default_factory=list)  # (flight_no, date, origin, destination)
    concierges: list[tuple[str, str]] = field(default_factory=list)  # (id, name)


def local_day(*, days_ahead: int) -> date:
    """A PEK local date some days ahead: orders there are never overdue nor late."""
    return (datetime.now(UTC) + timedelta(days=days_ahead)).astimezone(SHANGHAI).date()


def person(rng: random.Random) -> str:
    if rng.random() < 0.6:
        return rng.choice(SURNAMES) + rng.choice(GIVEN)
    return f"{rng.choice(FIRST)} {rng.choice(LATIN)}"


async def load_booking_reference(url: str, *, members: int = 2000, flights: int = 60, concierges: int = 40) -> BookingData:
    """Members, flights three days ahead (so orders are never late) and concierges at PEK."""
    rng = random.Random(7)
    data = BookingData()
    now = datetime.now(UTC)
    tiers = ["standard", "gold", "platinum", "vip"]
    member_rows = []
    for index in range(members):
        member_id, tier = str(uuid.uuid4()), tiers[index % 4]
        data.members.append((member_id, tier))
        member_rows.append((member_id, person(rng), tier, f"BENCH-{index:07d}", f"+86139{index:08d}", None, "active", 1, now, now))
    day = (now + timedelta(days=3)).astimezone(SHANGHAI).date()
    flight_rows = []
    for index in range(flights):
        std = datetime.combine(day, datetime.min.time(), SHANGHAI).astimezone(UTC) + timedelta(hours=7, minutes=15 * index)
        destination = ["SHA", "CAN", "KMG", "CTU", "HKG", "NRT"][index % 6]
        flight_rows.append((f"CA{1000 + index}", day, "CA", str(1000 + index), "PEK", destination, std, std + timedelta(hours=3),
                            None, None, None, None, "scheduled", None, now))  # fmt: skip
        data.flights.append((f"CA{1000 + index}", day, "PEK", destination))
    concierge_rows = []
    for index in range(concierges):
        concierge_id = str(uuid.uuid4())
        name = person(rng)
        data.concierges.append((concierge_id, name))
        concierge_rows.append((name, "PEK", f"+86137{index:08d}", concierge_id, f"bench-concierge-{index}", 0, now))
    conn = await asyncpg.connect(url)
    try:
        await conn.copy_records_to_table(
            "member",
            records=member_rows,
            columns=["id", "name", "tier", "card_no", "phone", "email", "status", "version", "created_at", "updated_at"],
        )
        await conn.copy_records_to_table(
            "flight",
            records=flight_rows,
            columns=["flight_no", "flight_date", "carrier", "number", "origin", "destination", "std", "sta",
                     "etd", "eta", "atd", "ata", "status", "gate", "updated_at"],
        )  # fmt: skip
        await conn.copy_records_to_table(
            "concierge", records=concierge_rows, columns=["name", "station", "phone", "id", "subject", "assignment_seq", "created_at"]
        )
    finally:
        await conn.close()
    return data


ORDER_COLUMNS = [
    "id", "ref", "version", "member_id", "station", "status", "direction", "channel", "flight_no", "flight_date", "items",
    "passengers", "meet_at", "meet_at_given", "staff_report_at", "confirm_by", "service_end_at", "service_minutes",
    "concierge_id", "currency", "price_minor", "late_fee_minor", "cancellation_fee_minor", "no_show_fee_minor",
    "fees_collected_minor", "fees_method", "created_by", "created_at", "updated_at",
]  # fmt: skip


def _order_row(rng: random.Random, data: BookingData, meet_at: datetime, status: str, serial: int) -> tuple[Any, ...]:
    member_id, _tier = rng.choice(data.members)
    flight_no, flight_date, _origin, _destination = rng.choice(data.flights)
    products = rng.choice([["DEP_ESCORT"], ["DEP_ESCORT", "LOUNGE"], ["VIP_CHANNEL"], ["DEP_ESCORT", "VIP_CHANNEL"]])
    staffed = status in ("assigned", "in_service", "completed", "no_show")
    concierge = rng.choice(data.concierges)[0] if staffed else None
    collected = rng.choice([None, 5_000, 12_000]) if status == "completed" else None
    now = datetime.now(UTC)
    return (
        str(uuid.uuid4()), f"PEK-B{serial:05d}"[:12], 1, member_id, "PEK", status, "departure", "call_center", flight_no, flight_date,
        json.dumps([{"product": product} for product in products]), json.dumps([{"name": person(rng), "ssr": []}]),
        meet_at, True, meet_at - timedelta(minutes=15), meet_at - timedelta(hours=2), meet_at + timedelta(minutes=90), 90,
        concierge, "CNY", 58_000, 0, 29_000 if status == "cancelled" else None, 58_000 if status == "no_show" else None,
        collected, rng.choice(["cash", "card"]) if collected else None, "bench", now, now,
    )  # fmt: skip


async def load_station_day(url: str, data: BookingData, *, day: date, orders: int = 5000) -> None:
    """P5: `orders` orders at PEK whose meet_at falls on the local `day`, in every status."""
    rng = random.Random(11)
    start = datetime.combine(day, datetime.min.time(), SHANGHAI).astimezone(UTC)
    statuses = ["requested", "confirmed", "assigned", "in_service", "completed", "completed", "cancelled", "no_show"]
    rows = [
        _order_row(rng, data, start + timedelta(seconds=rng.randrange(5 * 3600, 23 * 3600)), rng.choice(statuses), index)
        for index in range(orders)
    ]
    await _copy_orders(url, rows)


async def _copy_orders(url: str, rows: list[tuple[Any, ...]]) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.copy_records_to_table("service_order", records=rows, columns=ORDER_COLUMNS)
        await settle(conn, "service_order")
    finally:
        await conn.close()


async def load_orders_in_service(url: str, data: BookingData, *, orders: int, serial: int = 0) -> list[str]:
    """P2: orders a concierge is serving now, ready for POST /complete (`serial` keeps refs unique)."""
    rng = random.Random(13 + serial)
    meet_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    rows = [_order_row(rng, data, meet_at, "in_service", 10_000 * (1 + serial % 9) + index) for index in range(orders)]
    await _copy_orders(url, rows)
    return [row[0] for row in rows]


async def load_outbox_backlog(url: str, *, events: int, envelope_bytes: int) -> None:
    """P3: unpublished outbox rows, as the writer would have left them while NATS was away."""
    now = datetime.now(UTC)
    filler = "x" * max(envelope_bytes - 200, 0)
    rows = []
    for index in range(events):
        event_id = str(uuid.uuid4())
        envelope = json.dumps(
            {"specversion": "1.0", "id": event_id, "source": "airside/bench", "type": "airside.booking.bench.backlog",
             "time": now.isoformat(), "data": {"n": index, "filler": filler}}
        )  # fmt: skip
        rows.append((event_id, "airside.booking.bench.backlog", envelope, now, now, None, 0))
    conn = await asyncpg.connect(url)
    try:
        await conn.copy_records_to_table(
            "outbox_event",
            records=rows,
            columns=["event_id", "subject", "envelope", "created_at", "next_attempt_at", "published_at", "attempts"],
        )
        await settle(conn, "outbox_event")
    finally:
        await conn.close()


TICKET_COLUMNS = [
    "id", "number", "type", "channel", "status", "priority", "station", "subject", "description", "member_id", "tags",
    "assignee", "created_by", "first_response_due", "resolution_due", "next_due", "first_responded_at", "resolved_at",
    "closed_at", "sla_anchor_at", "first_response_elapsed", "resolution_elapsed", "sla_fired", "escalation_level",
    "contacts", "created_at", "updated_at", "version",
]  # fmt: skip
STATUS_WEIGHTS = {"new": 10, "open": 10, "pending_customer": 5, "pending_internal": 5, "resolved": 20, "closed": 48, "merged": 2}
PRIORITY_WEIGHTS = {"P1": 5, "P2": 20, "P3": 60, "P4": 15}
TYPES = ["inquiry", "booking_request", "change_request", "complaint", "suggestion", "lost_and_found", "outbound"]
CHANNELS = ["phone", "email", "chat", "sms", "web", "app", "walk_in", "system"]


def _sql_array(values: list[str]) -> str:
    return "(ARRAY[" + ", ".join("'" + value.replace("'", "''") + "'" for value in values) + "])"


def _ticket_insert(first: int, last: int, total: int) -> str:
    """INSERT … SELECT over generate_series: PostgreSQL makes the rows itself, far faster than Python.

    Weighted status and priority, a year of creation times, Chinese, Latin and mixed wording. Only
    the last three days hold resolved tickets: older ones would have auto-closed (after 72 hours).
    """
    zh, en = _sql_array([zh for zh, _ in TOPICS]), _sql_array([en for _, en in TOPICS])
    details = _sql_array([detail.replace("{where}", "%s") for detail in DETAILS])
    places, names = (
        _sql_array(PLACES),
        _sql_array([f"{a}{b}" for a in SURNAMES for b in GIVEN[:4]] + [f"{a} {b}" for a in FIRST for b in LATIN[:4]]),
    )
    status = " ".join(f"WHEN r.s < {bound} THEN '{name}'" for name, bound in _cumulative(STATUS_WEIGHTS))
    priority = " ".join(f"WHEN r.p < {bound} THEN '{name}'" for name, bound in _cumulative(PRIORITY_WEIGHTS))
    return f"""
    INSERT INTO ticket ({", ".join(TICKET_COLUMNS)})
    SELECT gen_random_uuid()::text, 'CC-' || lpad(g::text, 7, '0'), {_sql_array(TYPES)}[1 + floor(r.t * {len(TYPES)})::int],
           {_sql_array(CHANNELS)}[1 + floor(r.c * {len(CHANNELS)})::int], x.status, x.priority,
           CASE WHEN r.st < 0.6 THEN 'PEK' ELSE 'KMG' END,
           CASE WHEN r.w < 0.3 THEN {zh}[r.topic] || ' ' || {en}[r.topic] WHEN r.w < 0.65 THEN {zh}[r.topic] ELSE {en}[r.topic] END
             || ' CA' || (100 + floor(r.n * 9900)::int),
           format({details}[1 + floor(r.d1 * {len(DETAILS)})::int], {places}[1 + floor(r.d2 * {len(PLACES)})::int])
             || CASE WHEN r.d3 < 0.5 THEN ' ' || format({details}[1 + floor(r.d3 * 2 * {len(DETAILS)})::int],
                                                        {places}[1 + floor(r.d1 * {len(PLACES)})::int]) ELSE '' END
             || ' ' || {names}[1 + floor(r.n * 80)::int] || ' ' || (100000 + floor(r.d1 * 899999)::int),
           NULL, '[]',
           CASE WHEN x.status = 'new' OR (x.status = 'open' AND r.a < 0.5) THEN NULL
                ELSE ($1::text[])[1 + floor(r.a * array_length($1::text[], 1))::int] END,
           'bench', x.created + interval '2 hours', x.created + interval '1 day',
           CASE WHEN x.status IN ('new', 'open', 'pending_customer', 'pending_internal') THEN x.created + interval '2 hours' END,
           CASE WHEN x.status <> 'new' THEN x.created + interval '20 minutes' END,
           CASE WHEN x.status IN ('resolved', 'closed') THEN x.created + interval '5 hours' END,
           CASE WHEN x.status = 'closed' THEN x.created + interval '3 days' END,
           x.created, 0, 0, 0, 0, 1, x.created, x.created, 1
    FROM generate_series({first}, {last}) AS g
    CROSS JOIN LATERAL (SELECT random() * 100 AS s, random() * 100 AS p, random() AS t, random() AS c, random() AS st,
                               random() AS w, 1 + floor(random() * {len(TOPICS)})::int AS topic, random() AS n,
                               random() AS d1, random() AS d2, random() AS d3, random() AS a, g AS k) AS r
    CROSS JOIN LATERAL (SELECT CASE WHEN (CASE {status} END) = 'resolved' AND g::float8 / {total} < {1 - 3 / 365}
                                    THEN 'closed' ELSE CASE {status} END END AS status,
                               CASE {priority} END AS priority,
                               now() - interval '365 days' + (g::float8 / {total}) * interval '365 days' AS created) AS x
    """


def _cumulative(weights: dict[str, int]) -> list[tuple[str, float]]:
    total, running, out = sum(weights.values()), 0, []
    for name, weight in weights.items():
        running += weight
        out.append((name, 100.0 * running / total))
    return out


async def load_tickets(url: str, *, tickets: int, agents: list[str]) -> dict[str, float]:
    """P4: `tickets` tickets over a year at two stations; returns load and index seconds.

    Both cores work: two connections generate half the rows each, then rebuild half the indexes each.
    """
    conns = [await asyncpg.connect(url) for _ in range(2)]
    timings: dict[str, float] = {}
    try:
        rows = await conns[0].fetch(
            """SELECT i.indexname, i.indexdef FROM pg_indexes i
               WHERE i.tablename = 'ticket' AND i.schemaname = 'public'
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"""
        )
        for row in rows:
            await conns[0].execute(f'DROP INDEX "{row["indexname"]}"')
        started = time.perf_counter()
        half = tickets // 2
        await asyncio.gather(
            conns[0].execute(_ticket_insert(1, half, tickets), agents),
            conns[1].execute(_ticket_insert(half + 1, tickets, tickets), agents),
        )
        timings["insert_seconds"] = time.perf_counter() - started
        started = time.perf_counter()
        # The two trigram indexes are the slow ones: one per connection, the rest shared out after them.
        ordered = sorted(rows, key=lambda row: "gin" not in row["indexdef"])
        queues = [ordered[0::2], ordered[1::2]]

        async def build(conn: asyncpg.Connection, defs: list[Any]) -> None:
            await conn.execute("SET maintenance_work_mem = '256MB'")
            for row in defs:
                await conn.execute(row["indexdef"])

        await asyncio.gather(*(build(conn, defs) for conn, defs in zip(conns, queues, strict=True)))
        await settle(conns[0], "ticket")
        timings["index_seconds"] = time.perf_counter() - started
    finally:
        for conn in conns:
            await conn.close()
    return timings


async def load_agents(url: str, *, count: int, station: str = "PEK") -> list[tuple[str, str]]:
    """Agents (id, subject) the claim tokens act as."""
    now = datetime.now(UTC)
    agents = [(str(uuid.uuid4()), f"bench-agent-{index}") for index in range(count)]
    conn = await asyncpg.connect(url)
    try:
        await conn.copy_records_to_table(
            "agent",
            records=[
                (agent_id, f"Agent {index}", station, "agent", None, subject, True, now) for index, (agent_id, subject) in enumerate(agents)
            ],
            columns=["id", "name", "station", "role", "team", "subject", "active", "created_at"],
        )
    finally:
        await conn.close()
    return agents


async def settle(conn: asyncpg.Connection, table: str) -> None:
    """What a DBA does after a bulk load, so the measurement that follows does not pay for it:
    vacuum and analyze the table (else autovacuum's pass runs during the measurement and takes a
    core), then a checkpoint (else one writes the load's dirty pages in the middle of it)."""
    await conn.execute(f"VACUUM ANALYZE {table}")
    try:
        await conn.execute("CHECKPOINT")
    except asyncpg.InsufficientPrivilegeError:
        pass  # not a superuser: the bench still runs, with that noise
