from collections.abc import AsyncIterator

import pytest

from airside_tools.testing.harness import InProcessService, in_process, settings_for_test
from booking.main import SERVICE


@pytest.fixture(scope="session")
async def booking(nats_server, databases) -> AsyncIterator[InProcessService]:
    """booking in-process with its real lifespan: migrations, seed, outbox relay, consumers."""
    settings = settings_for_test(SERVICE, database_url=databases.create("booking"), nats_url=nats_server.url)
    async with in_process(SERVICE, settings) as service:
        yield service


@pytest.fixture
def client(booking):
    return booking.client
