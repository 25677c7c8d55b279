from pathlib import Path

from airside.app import ServiceDefinition, create_service_app
from airside.console import console_router
from airside.jobs import periodic
from booking import models  # noqa: F401 - registers every table
from booking.assignments.views import router as assignments_router
from booking.carriers.views import router as carriers_router
from booking.concierges.views import router as concierges_router
from booking.config import Settings
from booking.flight_changes.views import router as flight_changes_router
from booking.flights.views import router as flights_router
from booking.members.views import router as members_router
from booking.ops.views import router as ops_router
from booking.orders.feed import router as order_feeds_router
from booking.orders.lifecycle_views import router as order_lifecycle_router
from booking.orders.overdue import notify_overdue
from booking.orders.views import router as orders_router
from booking.products.views import router as products_router
from booking.reports.views import router as reports_router
from booking.seed import seed
from booking.settlement.service import issue_ended_months
from booking.settlement.views import router as statements_router
from booking.stations.views import router as stations_router
from booking.subscriptions import CONSUMERS

SERVICE = ServiceDefinition(
    name="booking",
    title="Airside booking",
    settings_class=Settings,
    routers=[
        console_router(Path(__file__).resolve().parent / "console"),  # the staff console (docs/console.md)
        stations_router,
        members_router,
        products_router,
        flights_router,
        flight_changes_router,
        orders_router,
        order_lifecycle_router,
        order_feeds_router,
        concierges_router,
        assignments_router,
        reports_router,
        ops_router,
        carriers_router,
        statements_router,
    ],
    consumers=CONSUMERS,
    jobs=[periodic("overdue_confirmations", notify_overdue), periodic("statements_of_ended_months", issue_ended_months)],
    alembic_dir=Path(__file__).resolve().parent.parent / "alembic",
    seed=seed,
)

app = create_service_app(SERVICE)
