from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime

import pytest

from airside import clock
from airside_tools.testing.harness import InProcessService, auth, in_process, settings_for_test
from lounge.main import SERVICE

MANAGER_EVERYWHERE = auth("station_manager", stations=["PEK", "KMG"])


@pytest.fixture(scope="session")
async def lounge(nats_server, databases) -> AsyncIterator[InProcessService]:
    """lounge in-process with its real lifespan: migrations, seed, outbox relay, consumers."""
    settings = settings_for_test(SERVICE, database_url=databases.create("lounge"), nats_url=nats_server.url)
    async with in_process(SERVICE, settings) as service:
        yield service


@pytest.fixture
def client(lounge):
    return lounge.client


@pytest.fixture
def frozen(monkeypatch) -> Iterator[Callable[[datetime], None]]:
    """Freeze lounge's clock; call the fixture's value to move it."""

    def set_to(at: datetime) -> None:
        monkeypatch.setattr(clock, "override", at)

    yield set_to


@pytest.fixture(autouse=True)
async def empty_lounges(request) -> AsyncIterator[None]:
    """Every test starts and ends with empty lounges, so occupancy never leaks between tests."""
    if "lounge" not in request.fixturenames:
        yield
        return
    client = request.getfixturevalue("lounge").client
    yield
    for lounge_id in ("PEK-T3-VIP", "KMG-VIP"):
        visits = (await client.get(f"/v1/lounges/{lounge_id}/visits", params={"status": "checked_in"}, headers=MANAGER_EVERYWHERE)).json()[
            "items"
        ]
        for visit in visits:
            await client.post(f"/v1/visits/{visit['id']}/checkout", json={"payment_method": "card"}, headers=MANAGER_EVERYWHERE)
