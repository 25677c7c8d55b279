"""A running service keeps what its startup built out of the garbage collector's full passes.

Without it, a full collection walked every module, route and model of the process, and at a million
tickets those pauses were the ticket list's tail (bench/PROFILE.md, "P4, ticket list and claim").
"""

import gc

from airside_tools.testing.harness import in_process, settings_for_test
from callcenter.main import SERVICE


async def test_startup_objects_are_frozen_once_the_service_has_started(callcenter, nats_server):
    settings = settings_for_test(SERVICE, database_url=callcenter.runtime.settings.database_url, nats_url=nats_server.url)
    async with in_process(SERVICE, settings) as second:
        response = await second.client.get("/readyz")
        assert response.status_code == 200
        assert gc.get_freeze_count() > 0
