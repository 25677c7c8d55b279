from pathlib import Path

from airside.app import ServiceDefinition, create_service_app
from airside.console import console_router
from airside.jobs import periodic
from lounge import models  # noqa: F401 - registers every table
from lounge.config import Settings
from lounge.flights.views import router as flights_router
from lounge.lounge_changes.views import router as lounge_changes_router
from lounge.lounges.views import router as lounges_router
from lounge.members.views import router as members_router
from lounge.menu.views import router as menu_router
from lounge.orders.views import router as orders_router
from lounge.refusals.views import router as refusals_router
from lounge.reports.views import router as reports_router
from lounge.requisitions.views import router as requisitions_router
from lounge.sales.views import router as sales_router
from lounge.seed import seed
from lounge.stock.views import router as stock_router
from lounge.subscriptions import CONSUMERS
from lounge.visits.boarding import send_due_calls
from lounge.visits.feed import occupancy_after
from lounge.visits.feed import router as board_feed_router
from lounge.visits.views import router as visits_router

SERVICE = ServiceDefinition(
    name="lounge",
    title="Airside lounge",
    settings_class=Settings,
    routers=[
        console_router(Path(__file__).resolve().parent / "console"),  # the staff console (docs/console.md)
        lounges_router,
        lounge_changes_router,
        menu_router,
        members_router,
        flights_router,
        visits_router,
        refusals_router,
        board_feed_router,
        orders_router,
        sales_router,
        stock_router,
        requisitions_router,
        reports_router,
    ],
    alembic_dir=Path(__file__).resolve().parent.parent / "alembic",
    consumers=CONSUMERS,
    seed=seed,
    jobs=[periodic("boarding_calls", send_due_calls)],
    feed_enrich=occupancy_after,
)

app = create_service_app(SERVICE)
