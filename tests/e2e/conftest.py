"""One Airside for the whole end-to-end suite: the three services as uvicorn processes, a nats-server of
the suite's own (the fault tests SIGKILL it), and real databases (PostgreSQL when
AIRSIDE_TEST_POSTGRES_URL is set, else SQLite files).

The set is started once and shared: every journey makes its own members, flights and orders, so
the tests do not depend on each other's data or order. Tests that kill a process start it again.
The services deliver webhooks to one partner receiver of the suite's own (HTTPS, a trustme CA they trust).
"""

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from e2e_steps import Airside

from airside_tools.processes import NatsServer
from airside_tools.testing.harness import ServiceSet, fast_webhooks, nats_under, services_running
from airside_tools.webhook_receiver import Certificates, ReceiverProcess


@pytest.fixture(scope="session")
def e2e_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    with nats_under(tmp_path_factory.mktemp("e2e-nats")) as server:
        yield server


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return Certificates.create(tmp_path_factory.mktemp("e2e-tls"))


@pytest.fixture(scope="session")
def receiver(certificates: Certificates, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReceiverProcess]:
    """A partner's webhook endpoint; a test that kills it starts it again on the same port."""
    process = ReceiverProcess(certificates, tmp_path_factory.mktemp("e2e-receiver"))
    process.start().wait_ready()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="session")
def services(e2e_nats: NatsServer, databases, certificates: Certificates, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceSet]:
    logs = tmp_path_factory.mktemp("e2e-logs")
    with services_running(databases, e2e_nats.url, logs, **fast_webhooks(certificates.ca_file)) as service_set:
        yield service_set


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    # Idle connections are dropped before uvicorn's 5 s keep-alive closes them under our feet.
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=50, keepalive_expiry=2)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        yield client


@pytest.fixture(scope="session")
def airside(services: ServiceSet, e2e_nats: NatsServer, http: httpx.AsyncClient) -> Airside:
    urls = {name: services[name].url for name in ("booking", "lounge", "callcenter")}
    return Airside.connect(http, urls, e2e_nats.url)
