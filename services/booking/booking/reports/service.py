"""The daily service list (当日服务清单统计表) of a station's local day."""

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from airside.events.booking import OrderStatus
from airside.problems import invalid
from booking.concierges.models import Concierge
from booking.concierges.service import local_day
from booking.members.models import Member
from booking.orders.models import Direction, FeesMethod, Order
from booking.stations.models import Station


class ServiceLine(BaseModel):
    order_id: str
    ref: str
    member_id: str
    member_name: str
    card_no: str
    flight_no: str
    flight_date: date
    direction: Direction
    meet_at: str
    meet_at_local: str
    status: OrderStatus
    products: list[str]
    concierge_id: str | None
    concierge_name: str | None
    price_minor: int
    fees_collected_minor: int
    fees_method: FeesMethod | None
    cancellation_fee_minor: int
    no_show_fee_minor: int


class ConciergeFees(BaseModel):
    concierge_id: str | None
    concierge_name: str | None
    method: FeesMethod
    amount_minor: int
    orders: int


DAILY_SERVICES_EXAMPLE = {
    "station": "PEK",
    "date": "2026-12-24",
    "timezone": "Asia/Shanghai",
    "currency": "CNY",
    "orders": [
        {
            "order_id": "3f6c2a8e-9b1d-4e7f-a5c3-2d8b6e4f1a9c",
            "ref": "SO3F6C2A",
            "member_id": "7d2e9c4b-1a6f-4b8e-9c3d-5e7f1a2b4c6d",
            "member_name": "陈静",
            "card_no": "CA0012345678",
            "flight_no": "CA1831",
            "flight_date": "2026-12-24",
            "direction": "departure",
            "meet_at": "2026-12-24T01:30:00Z",
            "meet_at_local": "2026-12-24T09:30:00+08:00",
            "status": "completed",
            "products": ["departure_escort", "lounge"],
            "concierge_id": "c0a8012e-4b5d-4c6e-8f7a-9b0c1d2e3f4a",
            "concierge_name": "王芳",
            "price_minor": 88000,
            "fees_collected_minor": 20000,
            "fees_method": "card",
            "cancellation_fee_minor": 0,
            "no_show_fee_minor": 0,
        }
    ],
    "totals_by_status": {"completed": 1},
    "totals_by_product": {"departure_escort": 1, "lounge": 1},
    "fees_by_concierge": [
        {
            "concierge_id": "c0a8012e-4b5d-4c6e-8f7a-9b0c1d2e3f4a",
            "concierge_name": "王芳",
            "method": "card",
            "amount_minor": 20000,
            "orders": 1,
        }
    ],
    "fees_collected_minor": 20000,
}


class DailyServices(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [DAILY_SERVICES_EXAMPLE]})

    station: str
    date: date
    timezone: str
    currency: str = "CNY"
    orders: list[ServiceLine]
    totals_by_status: dict[str, int]
    totals_by_product: dict[str, int]
    fees_by_concierge: list[ConciergeFees]
    fees_collected_minor: int


@dataclass(frozen=True)
class Report:
    """The daily service list: the summary as the model, the lines as dicts shaped like ServiceLine."""

    summary: DailyServices
    lines: list[dict[str, Any]]

    def json(self) -> bytes:
        body = self.summary.model_dump(mode="json")
        body["orders"] = self.lines
        return orjson.dumps(body)


async def daily_services(*, session: AsyncSession, station: str, day: date) -> Report:
    found = await session.get(Station, station)
    if found is None:
        raise invalid("query.station", f"unknown station {station}")
    zone = ZoneInfo(found.timezone)
    start, end = local_day(day, zone)
    # Plain columns, not ORM entities: a station-day has thousands of orders, and loading three
    # mapped objects per row (identity map, instance state) cost more than the query itself.
    rows = (
        await session.execute(
            select(
                Order.id,
                Order.ref,
                Order.member_id,
                Member.name,
                Member.card_no,
                Order.flight_no,
                Order.flight_date,
                Order.direction,
                Order.meet_at,
                Order.status,
                Order.items,
                Order.concierge_id,
                Concierge.name,
                Order.price_minor,
                Order.fees_collected_minor,
                Order.fees_method,
                Order.cancellation_fee_minor,
                Order.no_show_fee_minor,
            )
            .join(Member, Member.id == Order.member_id)  # type: ignore[arg-type]
            .outerjoin(Concierge, Concierge.id == Order.concierge_id)  # type: ignore[arg-type]
            .where(Order.station == station, Order.meet_at >= start, Order.meet_at < end)  # type: ignore[arg-type, operator]
            .order_by(Order.meet_at, Order.id)  # type: ignore[arg-type]
        )
    ).all()
    lines: list[dict[str, Any]] = []
    fees: dict[tuple[str | None, str], list[int]] = defaultdict(lambda: [0, 0])
    names: dict[str | None, str | None] = {}
    status_totals: Counter[str] = Counter()
    product_totals: Counter[str] = Counter()
    collected_total = 0
    for (
        order_id, ref, member_id, member_name, card_no, flight_no, flight_date, direction, meet_at, status, items, concierge_id,
        concierge_name, price_minor, collected, method, cancellation_fee, no_show_fee,
    ) in rows:  # fmt: skip
        products = [item["product"] for item in items]
        # Plain dicts in ServiceLine's field order: thousands of models cost more than the query.
        lines.append(
            dict(
                order_id=order_id,
                ref=ref,
                member_id=member_id,
                member_name=member_name,
                card_no=card_no,
                flight_no=flight_no,
                flight_date=flight_date,
                direction=direction,
                meet_at=meet_at.isoformat(),
                meet_at_local=meet_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                status=status,
                products=products,
                concierge_id=concierge_id,
                concierge_name=concierge_name,
                price_minor=price_minor,
                fees_collected_minor=collected or 0,
                fees_method=method,
                cancellation_fee_minor=cancellation_fee or 0,
                no_show_fee_minor=no_show_fee or 0,
            )
        )
        status_totals[status] += 1
        product_totals.update(products)
        collected_total += collected or 0
        if collected and method:
            bucket = fees[(concierge_id, method)]
            bucket[0] += collected
            bucket[1] += 1
            names[concierge_id] = concierge_name
    summary = DailyServices(
        station=station,
        date=day,
        timezone=found.timezone,
        orders=[],
        totals_by_status=dict(status_totals),
        totals_by_product=dict(product_totals),
        fees_by_concierge=[
            ConciergeFees(concierge_id=concierge_id, concierge_name=names[concierge_id], method=method, amount_minor=amount, orders=count)
            for (concierge_id, method), (amount, count) in sorted(fees.items(), key=lambda item: (str(item[0][0]), item[0][1]))
        ],
        fees_collected_minor=collected_total,
    )
    return Report(summary=summary, lines=lines)


CSV_COLUMNS = [
    "ref",
    "member_name",
    "card_no",
    "flight_no",
    "flight_date",
    "direction",
    "meet_at_local",
    "status",
    "products",
    "concierge_name",
    "price_minor",
    "fees_collected_minor",
    "fees_method",
    "cancellation_fee_minor",
    "no_show_fee_minor",
]


def csv_rows(report: Report) -> Iterator[list[Any]]:
    """One row per order, then the totals and the cash hand-over per concierge, each under its own header."""
    yield CSV_COLUMNS
    for line in report.lines:
        row = {**line, "products": "+".join(line["products"])}
        yield [row[column] for column in CSV_COLUMNS]
    yield []
    yield ["total", "key", "count"]
    summary = report.summary
    for status, count in sorted(summary.totals_by_status.items()):
        yield ["status", status, count]
    for product, count in sorted(summary.totals_by_product.items()):
        yield ["product", product, count]
    yield []
    yield ["concierge_name", "method", "amount_minor", "orders"]
    for fees in summary.fees_by_concierge:
        yield [fees.concierge_name, fees.method, fees.amount_minor, fees.orders]
