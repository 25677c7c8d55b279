"""POST /v1/orders on PostgreSQL in two round trips: one read and one write statement.

The Session path (service.create_order) runs about ten statements through SQLAlchemy's async ORM
at ~0.4 ms of CPU each, plus BEGIN and COMMIT (bench/PROFILE.md). This path applies the same rules
(rules.py) to the same models and writes the same rows — the order, its history line, the
`order.created` outbox row and the idempotency record — in ONE statement (data-modifying CTEs,
atomic on its own, so no BEGIN/COMMIT round trips). It takes only the common case: station,
member, products and flight all known and the flight needing nothing filled in. Anything else
returns None before writing, and the Session path answers (and raises the same problems).
"""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncEngine

from airside import clock
from airside.auth import Principal
from airside.db import driver_connection, row_instance
from airside.events import booking as events
from airside.events.common import Person
from airside.idempotency import Idempotency, LeanIdempotency, encode
from airside.messaging.outbox import outbox_row, wake_relays
from airside.problems import conflict, not_found
from airside.versioning import etag
from booking.flights.models import Flight
from booking.orders import records, rules
from booking.orders.access import ensure_worker
from booking.orders.models import CompleteBody, Order, OrderCreate
from booking.orders.transitions import Status, require_transition
from booking.products.models import Product

READ = """
SELECT s.timezone, m.tier::text AS member_tier, f.*,
       (SELECT json_agg(p) FROM product p WHERE p.code = ANY($3::text[])) AS chosen_products
FROM (SELECT 1) AS one
LEFT JOIN station s ON s.code = $1
LEFT JOIN member m ON m.id = $2
LEFT JOIN flight f ON f.flight_no = $4 AND f.flight_date = $5
"""
FLIGHT_COLUMNS = [column.name for column in Flight.__table__.columns]  # type: ignore[attr-defined]
ORDER_COLUMNS = [column.name for column in Order.__table__.columns]  # type: ignore[attr-defined]
JSON_COLUMNS = {"items", "passengers"}
_N = len(ORDER_COLUMNS)
# Typed placeholders: INSERT … SELECT does not infer parameter types from the target columns.
WRITE = f"""
WITH o AS (
    INSERT INTO service_order ({", ".join(ORDER_COLUMNS)}) VALUES ({", ".join(f"${i + 1}" for i in range(_N))})
    ON CONFLICT (ref) DO NOTHING RETURNING id
), h AS (
    INSERT INTO service_order_history (order_id, version, action, status, actor, at, details)
    SELECT o.id, 1, 'created', ${_N + 1}::varchar, ${_N + 2}::varchar, ${_N + 3}::timestamptz, ${_N + 4}::json FROM o
), e AS (
    INSERT INTO outbox_event (event_id, subject, envelope, created_at, next_attempt_at, attempts)
    SELECT ${_N + 5}::varchar, ${_N + 6}::varchar, ${_N + 7}::text, ${_N + 8}::timestamptz, ${_N + 8}::timestamptz, 0 FROM o
){{idempotency}}
SELECT count(*) FROM o
"""
_M = _N + 8
IDEMPOTENCY_CTE = f""", i AS (
    {LeanIdempotency.insert_from("o", _M + 1)}
)"""
WRITE_PLAIN = WRITE.replace("{idempotency}", "")
WRITE_KEYED = WRITE.replace("{idempotency}", IDEMPOTENCY_CTE)


def _order_values(order: Order) -> list[Any]:
    return [orjson.dumps(getattr(order, name)).decode() if name in JSON_COLUMNS else getattr(order, name) for name in ORDER_COLUMNS]


async def create_order(*, engine: AsyncEngine, body: OrderCreate, principal: Principal, idempotency: Idempotency) -> JSONResponse | None:
    codes = [item.product for item in body.items]
    ref = body.flight
    async with driver_connection(engine) as conn:
        if (replay := await LeanIdempotency.stored(idempotency, conn)) is not None:
            return replay
        row = await conn.fetchrow(READ, body.station, body.member_id, codes, ref.flight_no, ref.flight_date)
        found = row["chosen_products"] or []  # SQLAlchemy's json codec on this connection decodes it
        products = {product["code"]: row_instance(Product, product) for product in found}
        unfilled = (ref.std is not None and row["std"] is None) or (ref.sta is not None and row["sta"] is None)
        other_route = (row["origin"], row["destination"]) != (ref.origin, ref.destination)
        if row["timezone"] is None or row["member_tier"] is None or row["flight_no"] is None or unfilled or other_route:
            return None  # unknown reference, another route, a flight to create or fill in: the Session path
        if len(set(codes)) != len(codes) or any(code not in products for code in codes):
            return None
        chosen = [products[code] for code in codes]
        flight = row_instance(Flight, {name: row[name] for name in FLIGHT_COLUMNS})
        tier = row["member_tier"]
        rules.check_products(chosen, passengers=body.passengers, tier=tier)
        rules.check_station(body.station, body.direction, body.flight)
        meet_at = rules.meet_at_for(body.direction, flight, body.meet_at)
        late = rules.check_lead(meet_at=meet_at, chosen=chosen, member_booking=principal.is_member_only)
        pricing = rules.price(chosen, tier=tier, late=late)
        order_times = rules.order_times(meet_at, records.zone(row["timezone"]), chosen)
        while True:
            values = rules.new_order_values(
                body, flight=flight, chosen=chosen, pricing=pricing, order_times=order_times, created_by=principal.sub
            )
            order = row_instance(Order, {"ref": rules.random_ref(body.station), **values})
            snapshot = records.snapshot_of(order, flight, None)
            event, _envelope = outbox_row(events.order_created, events.OrderEvent(order=snapshot), subject=order.id)
            public = records.public_of(order, snapshot)
            response, headers = encode(public), {"ETag": etag(order.version)}
            history = records.history_values(order, actor=principal.sub, details={"late_fee_minor": pricing.late_fee_minor})
            values = [*_order_values(order), *history, event.event_id, event.subject, event.envelope, event.created_at]
            statement = WRITE_PLAIN
            if idempotency.key is not None:
                statement = WRITE_KEYED
                values += LeanIdempotency.values(idempotency, 201, response, headers)
            try:
                inserted = await conn.fetchval(statement, *values)
            except asyncpg.UniqueViolationError:
                # A racing twin with the same Idempotency-Key committed first: answer what it answered.
                if (replay := await LeanIdempotency.stored(idempotency, conn)) is not None:
                    return replay
                raise
            if inserted:
                break  # else the random ref was taken (one in a billion): draw again
    wake_relays()
    return JSONResponse(response, status_code=201, headers=headers)


# --- POST /v1/orders/{id}/complete ---------------------------------------------------------------

ORDER_READ = f"""
SELECT {", ".join(f"o.{name}" for name in ORDER_COLUMNS)},
       {", ".join(f"f.{name} AS flight_{name}" for name in FLIGHT_COLUMNS)},
       c.name AS concierge_name, c.subject AS concierge_subject
FROM service_order o
LEFT JOIN flight f ON f.flight_no = o.flight_no AND f.flight_date = o.flight_date
LEFT JOIN concierge c ON c.id = o.concierge_id
WHERE o.id = $1
"""  # read with the order: its flight and concierge, for the snapshot and the worker check
COMPLETE = """
WITH u AS (
    UPDATE service_order SET status = $3, fees_collected_minor = $4, fees_method = $5, version = version + 1, updated_at = $6
    WHERE id = $1 AND version = $2 RETURNING id
), h AS (
    INSERT INTO service_order_history (order_id, version, action, status, actor, at, details)
    SELECT u.id, $2::int + 1, 'completed', $3::varchar, $7::varchar, $8::timestamptz, $9::json FROM u
), e AS (
    INSERT INTO outbox_event (event_id, subject, envelope, created_at, next_attempt_at, attempts)
    SELECT $10::varchar, $11::varchar, $12::text, $13::timestamptz, $13::timestamptz, 0 FROM u
){idempotency}
SELECT count(*) FROM u
"""
COMPLETE_IDEMPOTENCY = f""", i AS (
    {LeanIdempotency.insert_from("u", 14)}
)"""


async def complete_order(
    *, engine: AsyncEngine, order_id: str, body: CompleteBody, principal: Principal, idempotency: Idempotency
) -> JSONResponse:
    """actions.complete in two round trips, with the same checks, rows, event and answer."""
    async with driver_connection(engine) as conn:
        row = await conn.fetchrow(ORDER_READ, order_id)
        if row is None:
            raise not_found("order")
        order = row_instance(Order, {name: row[name] for name in ORDER_COLUMNS})
        ensure_worker(principal, order, row["concierge_subject"])  # who may act comes before a replay, as in the view
        if (replay := await LeanIdempotency.stored(idempotency, conn)) is not None:
            return replay
        require_transition("complete", order.status)
        collected = body.fees_collected
        now = clock.now()
        done = row_instance(Order, {
            **{name: row[name] for name in ORDER_COLUMNS},
            "status": Status.completed.value, "version": order.version + 1, "updated_at": now,
            **({"fees_collected_minor": collected.amount_minor, "fees_method": collected.method} if collected else {}),
        })  # fmt: skip
        flight = row_instance(Flight, {name: row[f"flight_{name}"] for name in FLIGHT_COLUMNS}) if row["flight_flight_no"] else None
        concierge = Person(id=order.concierge_id, name=row["concierge_name"] or "") if order.concierge_id else None
        snapshot = records.snapshot_of(done, flight, concierge)
        payload = events.OrderCompleted(
            order=snapshot, fees_collected=events.FeesCollected(**collected.model_dump()) if collected else None
        )
        event, _envelope = outbox_row(events.order_completed, payload, subject=order.id)
        response, headers = encode(records.public_of(done, snapshot)), {"ETag": etag(done.version)}
        status, actor, at, details = records.history_values(done, actor=principal.sub)
        values = [order.id, order.version, status, done.fees_collected_minor, done.fees_method, now, actor, at, details,
                  event.event_id, event.subject, event.envelope, event.created_at]  # fmt: skip
        statement = COMPLETE.replace("{idempotency}", "")
        if idempotency.key is not None:
            statement = COMPLETE.replace("{idempotency}", COMPLETE_IDEMPOTENCY)
            values += LeanIdempotency.values(idempotency, 200, response, headers)
        try:
            changed = await conn.fetchval(statement, *values)
        except asyncpg.UniqueViolationError:
            if (replay := await LeanIdempotency.stored(idempotency, conn)) is not None:
                return replay
            raise
        if not changed:
            raise conflict("concurrent_change", "the order changed while this request ran; read it again and retry")
    wake_relays()
    return JSONResponse(response, headers=headers)
