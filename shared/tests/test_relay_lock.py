"""The relay's leadership survives a server that ends sessions idle in a transaction: its lock connection
never leaves one open. A PostgreSQL server of the test's own, its database set the way some operators set
theirs (`idle_in_transaction_session_timeout`), never the shared server."""

import asyncio
import dataclasses
import uuid

import asyncpg
import nats
from conftest import PROBE
from sqlmodel import SQLModel

from airside.db.database import Database
from airside_tools.testing.harness import in_process, nats_under, settings_for_test, wait_for

LOCK_PROBE = dataclasses.replace(PROBE, name="probe-lock")

LOCK_HOLDER = """
SELECT a.pid, a.state, a.query_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND a.datname = $1
"""


async def test_the_relay_keeps_its_lock_through_an_idle_in_transaction_timeout(own_postgres, tmp_path):
    database = "relay_lock"
    url = own_postgres.create_database(database)
    with nats_under(tmp_path) as nats_server:
        admin = await asyncpg.connect(own_postgres.admin_url)
        try:
            await admin.execute(f"ALTER DATABASE {database} SET idle_in_transaction_session_timeout = '1s'")
            settings = settings_for_test(LOCK_PROBE, database_url=url, nats_url=nats_server.url, migrate_on_start=False)
            db = Database(settings.database_url)
            async with db.engine.begin() as conn:
                await conn.run_sync(SQLModel.metadata.create_all)
            await db.dispose()
            async with in_process(LOCK_PROBE, settings) as probe:
                relay = probe.runtime.relay
                await wait_for(lambda: asyncio.sleep(0, relay.is_leader), timeout=10, what="the relay leading")
                holder = await wait_for(lambda: admin.fetchrow(LOCK_HOLDER, database), timeout=10, what="the advisory lock held")
                checks: set[object] = set()

                async def checked_three_times() -> bool:
                    """The same session holds the lock through three of the leader's checks, never inside a transaction."""
                    now = await admin.fetchrow(LOCK_HOLDER, database)
                    assert now is not None and now["pid"] == holder["pid"], f"the lock moved: {holder} -> {now}"
                    # 'active' while a check runs (a sample may land on it); never a transaction left open
                    assert now["state"] in ("idle", "active"), f"the lock connection is {now['state']!r}"
                    checks.add(now["query_start"])
                    return len(checks) >= 3

                await wait_for(checked_three_times, timeout=20, what="three lock checks by one session", interval=0.1)
                assert relay.is_leader
                # ... and it still publishes as the leader.
                code = uuid.uuid4().hex[:8]
                event_id = (await probe.client.post(f"/v1/stations/{code}", params={"name": "Led"})).json()["event_id"]

                async def published() -> bool:
                    return (await probe.client.get("/readyz")).json()["outbox"]["pending"] == 0

                await wait_for(published, timeout=10, what="the event published by the leader")
                nc = await nats.connect(nats_server.url)
                try:
                    message = await nc.jetstream().get_last_msg("AIRSIDE_BOOKING", "airside.booking.station.upserted")
                finally:
                    await nc.close()
                assert message.headers["Nats-Msg-Id"] == event_id
        finally:
            await admin.close()
