"""Creating an order (docs/booking.md "Orders"): one read of everything it names, then one write plan."""

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from airside.auth import Principal
from airside.db.database import Database
from airside.db.rows import row_instance
from airside.events import booking as events
from airside.idempotency import LOOKUP, Idempotency, encode
from airside.messaging.outbox import OUTBOX, outbox_values, wake_relays
from airside.problems import invalid
from airside.statements import Duplicate, Runner, WritePlan, apply
from airside.versioning import etag
from booking.carriers import pricing
from booking.flights import service as flights
from booking.flights.models import Flight
from booking.orders import rules, saving, snapshots, statements
from booking.orders.models import FlightRef, Order, OrderCreate
from booking.products.models import Product


async def create_order(*, db: Database, body: OrderCreate, principal: Principal, idempotency: Idempotency) -> JSONResponse:
    """Check the order against one read of everything it names, then write it, its history line, its
    event and the answer as one plan: two round trips. Only a flight booking lacks (or lacks a time of)
    takes a Session, so that flights.ensure_flight writes it in the order's transaction."""
    ref = body.flight
    async with Runner.open(db) as run:
        rows = await run.rows(
            statements.booking_context(len(body.items)),
            {
                "station": body.station,
                "member_id": body.member_id,
                "flight_no": ref.flight_no,
                "flight_date": ref.flight_date,
                **{f"product_{index}": item.product for index, item in enumerate(body.items)},
                **idempotency.params(),
            },
        )
        found = rows[0]
        if (replay := idempotency.replay_of(found)) is not None:
            return replay
        if found["station_timezone"] is None:
            raise invalid("body.station", f"unknown station {body.station}")
        tier = found["member_tier"]
        if tier is None:
            raise invalid("body.member_id", "no such member")
        known = {
            row["product_code"]: row_instance(Product, statements.prefixed(row, "product_", statements.PRODUCT_COLUMNS))
            for row in rows
            if row["product_code"] is not None
        }
        chosen = rules.chosen_products(body.items, known)
        rules.check_products(chosen, passengers=body.passengers, tier=tier)
        rules.check_payer(body.channel, body.payer)
        rules.check_station(body.station, body.direction, ref)
        partner_terms = None
        if body.payer is not None:
            partner_terms = await run.rows(pricing.PARTNER_TERMS, pricing.params(body.payer.carrier, body.station))
        flight = None
        if found["flight_flight_no"] is not None:
            flight = row_instance(Flight, statements.prefixed(found, "flight_", statements.FLIGHT_COLUMNS))
        rules.check_flight(flight, ref, body.direction)
        new = NewOrder(
            body=body, principal=principal, chosen=chosen, tier=tier, zone=ZoneInfo(found["station_timezone"]), partner_terms=partner_terms
        )
        answer = None
        flight_known = flight is not None and not rules.flight_to_write(flight, ref)
        if flight_known:
            answer = await new.write(run, flight, idempotency)  # type: ignore[arg-type]
            if answer is None:
                answer = idempotency.replay_of(await run.first(LOOKUP, idempotency.params()))
    if not flight_known:
        # After the read's connection went back: a request holding one connection while it waits for a
        # second would, with as many such requests as the pool holds, wait out the pool's timeout.
        async with db.session() as session:
            flight = await flight_for(session=session, ref=ref, direction=body.direction)
            answer = await new.write(await Runner.of_session(session), flight, idempotency)
            if answer is not None:
                await session.commit()
            else:
                await session.rollback()
                answer = await idempotency.stored(session)
    if answer is None:
        raise RuntimeError("a unique key refused the order, and no answer is stored for it")
    wake_relays()
    return answer


@dataclass(frozen=True)
class NewOrder:
    """An order checked against what it names, written once its flight is known."""

    body: OrderCreate
    principal: Principal
    chosen: list[Product]
    tier: str
    zone: ZoneInfo
    partner_terms: list[dict[str, Any]] | None = None  # the paying carrier's contract terms here (carriers.pricing)

    async def write(self, run: Runner, flight: Flight, idempotency: Idempotency) -> JSONResponse | None:
        """The answer, or None when a racing request with the same Idempotency-Key wrote first (nothing written)."""
        body, principal = self.body, self.principal
        meet_at = rules.meet_at_for(body.direction, flight, body.meet_at)
        late = rules.check_lead(meet_at=meet_at, chosen=self.chosen, member_booking=principal.is_member_only)
        partner = None
        if body.payer is not None:
            partner = pricing.rates_in_force(self.partner_terms or [], carrier=body.payer.carrier, at=meet_at, zone=self.zone)
        priced = rules.price(self.chosen, tier=self.tier, late=late, partner=partner)
        order_times = rules.order_times(meet_at, self.zone, self.chosen)
        values = rules.new_order_values(
            body, flight=flight, chosen=self.chosen, pricing=priced, order_times=order_times, created_by=principal.sub, partner=partner
        )
        while True:
            order = row_instance(Order, {"ref": rules.random_ref(body.station), **values})
            snapshot = snapshots.snapshot_of(order, flight, None)
            event, _envelope = outbox_values(events.order_created, events.OrderEvent(order=snapshot), subject=order.id)
            answer, headers = encode(snapshots.public_of(order, snapshot)), {"ETag": etag(order.version)}
            plan = WritePlan(statements.NEW_ORDER, {name: getattr(order, name) for name in statements.ORDER_COLUMNS})
            plan.add(
                statements.HISTORY,
                saving.history_row(order, action="created", actor=principal.sub, details={"late_fee_minor": priced.late_fee_minor}),
            )
            plan.add(OUTBOX, event)
            idempotency.add_record(plan, 201, answer, headers)
            try:
                if await apply(run, plan):
                    return JSONResponse(answer, status_code=201, headers=headers)
            except Duplicate:
                return None
            # else the random ref was taken: draw again


async def flight_for(*, session: AsyncSession, ref: FlightRef, direction: str) -> Flight:
    """The flight an order names (when created, or changed to another flight), created or filled in from
    the order when booking lacks it, in the order's transaction."""
    rules.check_flight(await session.get(Flight, (ref.flight_no, ref.flight_date)), ref, direction)
    return await flights.ensure_flight(
        session=session,
        flight_no=ref.flight_no,
        flight_date=ref.flight_date,
        origin=ref.origin,
        destination=ref.destination,
        std=ref.std,
        sta=ref.sta,
    )
