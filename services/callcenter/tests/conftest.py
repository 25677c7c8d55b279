from collections.abc import AsyncIterator

import pytest

from airside_tools.testing.harness import InProcessService, in_process, settings_for_test
from callcenter.main import SERVICE


@pytest.fixture(scope="session")
async def callcenter(nats_server, databases) -> AsyncIterator[InProcessService]:
    """callcenter in-process with its real lifespan: migrations, seed, outbox relay, consumers."""
    settings = settings_for_test(SERVICE, database_url=databases.create("callcenter"), nats_url=nats_server.url)
    async with in_process(SERVICE, settings) as service:
        yield service


@pytest.fixture
def client(callcenter):
    return callcenter.client
