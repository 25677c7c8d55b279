"""NATS hung or refusing, not only crashed (issue 10, items 20-21; docs/events.md rule 5).

A SIGSTOPped nats-server keeps its TCP connections open: the client notices only after its
pings go stale (~12 s) and every request waits for its timeout meanwhile. /metrics must still
answer at once, from values read in the background whose age shows they are stale, and /readyz
must say `degraded` as soon as pings or publishes fail, while answering 200 (it depends on the
database only).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import nats
import pytest
from conftest import PROBE, probe_settings_on

from airside.messaging.streams import ensure_streams
from airside.platform_routes import platform_router
from airside_tools.processes import NatsServer
from airside_tools.testing.harness import InProcessService, auth, in_process, nats_under, wait_for

# A scrape or a probe that takes longer than this waited on the hung server (its timeouts are 1 s and more).
ANSWERED_AT_ONCE = 1.0
REFRESH_SECONDS = 0.5
# The client itself gives up on a hung server after ~12 s: degraded must show well before.
DEGRADED_WITHIN = 6.0


@pytest.fixture
def own_nats(tmp_path) -> Iterator[NatsServer]:
    """A server of this test's own: it is SIGSTOPped, killed or stripped of its streams."""
    with nats_under(tmp_path / "nats") as server:
        yield server


@pytest.fixture
async def service(own_nats, databases) -> AsyncIterator[InProcessService]:
    settings = await probe_settings_on(databases, own_nats.url, "probe_hung", metrics_refresh_seconds=REFRESH_SECONDS)
    async with in_process(PROBE, settings) as running:
        yield running


async def timed_get(service: InProcessService, path: str, **kwargs) -> tuple[float, object]:
    started = time.monotonic()
    response = await service.client.get(path, **kwargs)
    return time.monotonic() - started, response


def metric_ages(text: str) -> dict[str, float]:
    return {
        source: float(value) for source, value in re.findall(r'airside_metrics_age_seconds\{service="probe",source="(\w+)"\} (\S+)', text)
    }


async def scraped_ages(service: InProcessService) -> dict[str, float]:
    elapsed, response = await timed_get(service, "/metrics")
    assert response.status_code == 200
    assert elapsed < ANSWERED_AT_ONCE, f"/metrics took {elapsed:.1f}s"
    return metric_ages(response.text)


async def test_a_scrape_answers_at_once_while_nats_hangs_and_its_nats_values_show_their_age(service, own_nats):
    fresh = REFRESH_SECONDS + ANSWERED_AT_ONCE + 1  # an interval, a read's timeout, and slack for a busy machine
    await wait_for(lambda: _ages_below(service, fresh), timeout=15, what="both sources read in the background")
    assert 'airside_consumer_pending{consumer="probe-stations",service="probe"}' in (await service.client.get("/metrics")).text

    with own_nats.hung():
        # Every scrape along the way answers at once; the NATS figures grow old while the database's stay fresh.
        ages = await wait_for(lambda: _nats_stale(service, 4 * fresh), timeout=30, what="the NATS figures marked stale")
        assert ages["database"] < fresh, ages
    await wait_for(lambda: _ages_below(service, fresh), timeout=30, what="the NATS figures fresh again after SIGCONT")


async def _ages_below(service: InProcessService, bound: float) -> bool:
    ages = await scraped_ages(service)
    return set(ages) == {"database", "nats"} and max(ages.values()) < bound


async def _nats_stale(service: InProcessService, bound: float) -> dict[str, float] | None:
    ages = await scraped_ages(service)
    return ages if ages["nats"] > bound else None


# Every read-only platform route (its path template: the path asked, and how), none of which may wait on a hung NATS.
READ_ONLY_PLATFORM_ROUTES = {
    "/healthz": ("/healthz", {}),
    "/readyz": ("/readyz", {}),
    "/metrics": ("/metrics", {}),
    "/asyncapi.json": ("/asyncapi.json", {}),
    "/schemas/events/{event_type}/v{version}.json": ("/schemas/events/airside.booking.order.created/v1.json", {}),
    "/v1/ops/dead-letters": ("/v1/ops/dead-letters", {"headers": auth("admin", stations=["*"])}),
}


def test_the_table_covers_every_read_only_platform_route():
    gets = {route.path for route in platform_router.routes if "GET" in getattr(route, "methods", ())}
    assert gets == set(READ_ONLY_PLATFORM_ROUTES)


async def test_no_read_only_platform_route_waits_on_a_hung_nats(service, own_nats):
    with own_nats.hung():
        await wait_for(lambda: _degraded(service), timeout=DEGRADED_WITHIN + 2, what="NATS reported degraded")
        for path, request in READ_ONLY_PLATFORM_ROUTES.values():
            elapsed, response = await timed_get(service, path, **request)
            assert response.status_code == 200, (path, response.text)
            assert elapsed < ANSWERED_AT_ONCE, f"{path} took {elapsed:.1f}s while NATS hung"


async def _degraded(service: InProcessService) -> bool:
    response = await service.client.get("/readyz")
    assert response.status_code == 200, response.text  # readiness depends on the database only
    return response.json()["nats"] == "degraded"


async def _connected(service: InProcessService) -> bool:
    return not await _degraded(service)


async def _gauge_says(service: InProcessService, connected: int) -> None:
    """airside_nats_connected, which the NATS-disconnected alert reads (docs/operations.md), agrees with readiness."""
    text = (await service.client.get("/metrics")).text
    assert f'airside_nats_connected{{service="probe"}} {float(connected)}' in text


async def _delete_streams(url: str) -> None:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        for stream in await js.streams_info():
            await js.delete_stream(stream.config.name)
    finally:
        await nc.close()


async def _declare_streams(url: str) -> None:
    nc = await nats.connect(url)
    try:
        await ensure_streams(nc.jetstream(), replicas=1, max_age_seconds=86400)
    finally:
        await nc.close()


@pytest.mark.parametrize("fault", ["hung", "crashed", "publishes_refused"])
async def test_readiness_reports_nats_degraded_within_seconds_of_any_fault_and_connected_after(service, own_nats, fault):
    """Each way NATS fails the service: the server SIGSTOPped (pings unanswered), killed (connection
    lost), or answering pings while refusing publishes (its streams deleted)."""
    await wait_for(lambda: _connected(service), timeout=15, what="NATS connected before the fault")
    if fault == "hung":
        with own_nats.hung():
            started = time.monotonic()
            await wait_for(lambda: _degraded(service), timeout=30, what="a hung NATS reported degraded")
            noticed = time.monotonic() - started
            await _gauge_says(service, 0)
    elif fault == "crashed":
        own_nats.kill()
        started = time.monotonic()
        await wait_for(lambda: _degraded(service), timeout=30, what="a crashed NATS reported degraded")
        noticed = time.monotonic() - started
        await _gauge_says(service, 0)
        own_nats.start()
    else:
        await _delete_streams(own_nats.url)
        # The relay's next publish is refused (no stream takes the subject) while the server answers pings.
        started = time.monotonic()
        posted = await service.client.post(f"/v1/stations/{uuid.uuid4().hex[:8]}", params={"name": "Refused"})
        assert posted.status_code == 201, posted.text
        await wait_for(lambda: _degraded(service), timeout=30, what="refused publishes reported degraded")
        noticed = time.monotonic() - started
        await _gauge_says(service, 0)
        await _declare_streams(own_nats.url)
    assert noticed < DEGRADED_WITHIN, f"{fault}: degraded reported after {noticed:.1f}s"
    await wait_for(lambda: _connected(service), timeout=60, what=f"NATS connected again after {fault}")
    await _gauge_says(service, 1)
