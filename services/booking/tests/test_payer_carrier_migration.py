"""Migration 0008 fills service_order.payer_carrier from the payer of the orders written before it, so a
carrier reads and lists its older partner orders too (docs/carriers.md "Partner orders")."""

import uuid
from datetime import UTC, date, datetime

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, Table, select

from airside.db.database import Database
from airside.db.upgrade import migrate
from booking.main import SERVICE


def upgrade(connection, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(SERVICE.alembic_dir))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def order_row(payer: dict | None) -> dict:
    """An order as the schema at 0007 has it."""
    at = datetime(2030, 3, 5, 2, 0, tzinfo=UTC)
    order_id = str(uuid.uuid4())
    return dict(
        id=order_id, ref=f"PEK-{order_id[:6].upper()}", version=1, member_id=str(uuid.uuid4()), station="PEK", status="requested",
        direction="departure", channel="partner" if payer else "app", flight_no="CA1501", flight_date=date(2030, 3, 5),
        items=[{"product": "DEP_ESCORT"}], passengers=[{"name": "Li Wei", "ssr": []}], meet_at=at, meet_at_given=False,
        staff_report_at=at, confirm_by=at, service_end_at=at, service_minutes=90, currency="CNY", price_minor=15000,
        late_fee_minor=0, payer=payer, created_by="agent", created_at=at, updated_at=at,
    )  # fmt: skip


async def test_the_orders_before_0008_get_their_payers_carrier(databases):
    db = Database(databases.create("booking_payer_carrier_migration"))
    partner = order_row({"carrier": "CA", "contract_id": "ctr_6f3b2a9d1c7e4f08", "contract_version": 1, "rates": []})
    members = order_row(None)
    try:
        async with db.engine.connect() as conn:
            await conn.run_sync(upgrade, "0007")
            orders = await conn.run_sync(lambda sync: Table("service_order", MetaData(), autoload_with=sync))
            await conn.execute(orders.insert(), [partner, members])
            await conn.commit()
        await migrate(db, SERVICE.alembic_dir)
        async with db.engine.connect() as conn:
            orders = await conn.run_sync(lambda sync: Table("service_order", MetaData(), autoload_with=sync))
            found = dict((await conn.execute(select(orders.c.id, orders.c.payer_carrier))).all())
        assert found == {partner["id"]: "CA", members["id"]: None}
    finally:
        await db.dispose()
