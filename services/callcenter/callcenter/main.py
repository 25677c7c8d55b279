from pathlib import Path

from airside.app import ServiceDefinition, create_service_app
from airside.console import console_router
from airside.jobs import periodic
from callcenter import models  # noqa: F401 - registers every table
from callcenter.agents.views import router as agents_router
from callcenter.callbacks.views import router as callbacks_router
from callcenter.carriers.views import router as carriers_router
from callcenter.complaints.views import router as complaints_router
from callcenter.config import Settings
from callcenter.members.views import router as members_router
from callcenter.reports.views import router as reports_router
from callcenter.seed import seed
from callcenter.sla.views import router as sla_router
from callcenter.subscriptions import CONSUMERS
from callcenter.tickets.feed import router as queue_feed_router
from callcenter.tickets.feed import sla_due_times
from callcenter.tickets.timers import run_timers
from callcenter.tickets.views import router as tickets_router

SERVICE = ServiceDefinition(
    name="callcenter",
    title="Airside call center",
    settings_class=Settings,
    # The staff console's page at /console/ (docs/console.md).
    routers=[
        console_router(Path(__file__).resolve().parent / "console"),
        agents_router,
        members_router,
        carriers_router,
        sla_router,
        tickets_router,
        queue_feed_router,
        complaints_router,
        callbacks_router,
        reports_router,
    ],
    alembic_dir=Path(__file__).resolve().parent.parent / "alembic",
    consumers=CONSUMERS,
    seed=seed,
    jobs=[periodic("sla_timers", run_timers)],
    feed_enrich=sla_due_times,
)

app = create_service_app(SERVICE)
