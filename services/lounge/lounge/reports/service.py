"""The daily sales list of a lounge (当日销售清单), bucketed by the lounge's local day."""

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from airside.copies import station_timezone
from airside.events.lounge import SOLD_ITEM_FIELDS, SoldItem
from lounge.lounges.models import Lounge
from lounge.sales.models import Bill, BillStatus, LineCategory, PaymentMethod, SaleLine
from lounge.stations import Station


class ReportLine(SoldItem):
    line_id: str
    bill_id: str
    visit_id: str
    sold_at: datetime
    category: LineCategory
    bill_status: BillStatus
    payment_method: PaymentMethod | None


class UnsettledBill(BaseModel):
    bill_id: str
    visit_id: str
    total_minor: int
    closed_at: datetime | None


class Totals(BaseModel):
    total_minor: int
    complimentary_minor: int
    by_category: dict[str, int]
    by_payment_method: dict[str, int]


DAILY_SALES_EXAMPLE = {
    "lounge_id": "pek-t3-first",
    "date": "2026-12-24",
    "timezone": "Asia/Shanghai",
    "lines": [
        {
            "line_id": "1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b",
            "bill_id": "4c7e9a1b-2d3f-4b5c-8e6a-1f0d9c8b7a6e",
            "visit_id": "8e2b5d7f-3a1c-4f6e-9d8b-7c5a3e1f2b4d",
            "sold_at": "2026-12-24T02:10:00Z",
            "sku": "COFFEE",
            "name": "Americano",
            "category": "hot_drink",
            "qty": 2,
            "unit_price_minor": 2800,
            "amount_minor": 5600,
            "complimentary": False,
            "bill_status": "settled",
            "payment_method": "card",
        }
    ],
    "totals": {"total_minor": 5600, "complimentary_minor": 0, "by_category": {"hot_drink": 5600}, "by_payment_method": {"card": 5600}},
    "unsettled_bills": [],
}


class DailySales(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [DAILY_SALES_EXAMPLE]})

    lounge_id: str
    date: date
    timezone: str
    lines: list[ReportLine]
    totals: Totals
    unsettled_bills: list[UnsettledBill]


async def daily_sales(*, session: AsyncSession, lounge: Lounge, day: date) -> DailySales:
    timezone = await station_timezone(session, Station, lounge.station)
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    rows = (
        await session.execute(
            select(SaleLine, Bill)
            .join(Bill, Bill.id == SaleLine.bill_id)  # type: ignore[arg-type]
            .where(SaleLine.lounge_id == lounge.id, SaleLine.voided_at.is_(None), SaleLine.sold_at >= start, SaleLine.sold_at < end)  # type: ignore[union-attr, arg-type, operator]
            .order_by(SaleLine.sold_at, SaleLine.id)  # type: ignore[arg-type]
        )
    ).all()
    lines = []
    by_category: dict[str, int] = defaultdict(int)
    by_method: dict[str, int] = defaultdict(int)
    for line, bill in rows:
        method_key = bill.payment_method or bill.status  # open / unsettled bills show as such
        lines.append(
            ReportLine(
                line_id=line.id,
                bill_id=bill.id,
                visit_id=line.visit_id,
                sold_at=line.sold_at,
                bill_status=bill.status,
                payment_method=bill.payment_method,
                **line.model_dump(include=SOLD_ITEM_FIELDS),
            )
        )
        by_category[line.category] += line.amount_minor
        if line.amount_minor:
            by_method[method_key] += line.amount_minor
    unsettled = (
        await session.execute(
            select(Bill)
            .where(Bill.lounge_id == lounge.id, Bill.status == BillStatus.unsettled.value, Bill.closed_at >= start, Bill.closed_at < end)  # type: ignore[arg-type, operator]
            .order_by(Bill.closed_at, Bill.id)  # type: ignore[arg-type]
        )
    ).scalars()
    return DailySales(
        lounge_id=lounge.id,
        date=day,
        timezone=timezone,
        lines=lines,
        totals=Totals(
            total_minor=sum(line.amount_minor for line in lines),
            complimentary_minor=sum(line.qty * line.unit_price_minor for line in lines if line.complimentary),
            by_category=dict(by_category),
            by_payment_method=dict(by_method),
        ),
        unsettled_bills=[
            UnsettledBill(bill_id=bill.id, visit_id=bill.visit_id, total_minor=bill.total_minor, closed_at=bill.closed_at)
            for bill in unsettled
        ],
    )


CSV_COLUMNS = list(ReportLine.model_fields)


def csv_rows(report: DailySales) -> Iterator[list[Any]]:
    yield CSV_COLUMNS
    for line in report.lines:
        values = line.model_dump(mode="json")
        yield [values[column] for column in CSV_COLUMNS]
