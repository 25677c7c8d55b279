"""NATS security as deployed (docs/nats-security.md): a real nats-server runs deploy/nats/nats.conf with the
users and permissions it includes (deploy/nats/auth.conf, linked, not copied); only its store directory is moved
under the test's (nats-server refuses a second store_dir from the command line), and where it listens is moved
by the harness's flags, which override the file's.

Anonymous clients are refused; each identity is held to its own subjects, streams and durables; the three
services, started as processes with their own users, run a booking through to the lounge and the call center.
"""

from __future__ import annotations

import asyncio
import json
import re
import ssl
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import trustme
from nats.aio.client import Client as NATS
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import ConsumerConfig

from airside.events import flights as flight_events
from airside.settings import AirsideSettings, SettingsError
from airside_tools.processes import NatsServer, ServiceProcess, wait_until
from airside_tools.testing.feeds import FeedReader
from airside_tools.testing.harness import auth, relay_process, service_process, wait_for

ROOT = Path(__file__).resolve().parents[1]
DEPLOYED = ROOT / "deploy" / "nats"
SERVICES = ("booking", "lounge", "callcenter")
PASSWORDS = {user: f"{user}-test-password-{uuid.uuid4().hex}" for user in (*SERVICES, "airline")}
AGENT = auth("agent", stations=["PEK"])
LOUNGE_STAFF = auth("lounge_staff", stations=["PEK"])
SUPERVISOR = auth("supervisor", stations=["PEK"])
PEK_LOUNGE = "PEK-T3-VIP"
SHANGHAI = ZoneInfo("Asia/Shanghai")


class DeployedNats(NatsServer):
    """The deployed single node's configuration, its store under `store_dir`; the harness's flags set where it listens."""

    def __init__(self, root: Path, *, added: str = "") -> None:
        super().__init__(root / "store", log_file=root / "nats.log")
        root.mkdir(parents=True, exist_ok=True)
        self.config = root / "nats.conf"
        deployed = (DEPLOYED / "nats.conf").read_text()
        assert deployed.count("store_dir: /data/jetstream") == 1 and "include ./auth.conf" in deployed
        self.config.write_text(deployed.replace("store_dir: /data/jetstream", f'store_dir: "{self.store_dir}"') + added)
        (root / "auth.conf").symlink_to(DEPLOYED / "auth.conf")

    def command(self) -> list[str]:
        command = super().command()
        at = command.index("-sd")
        return [*command[:at], *command[at + 2 :], "-c", str(self.config)]


def credentials(user: str) -> dict[str, str]:
    return {"AIRSIDE_NATS_USER": user, "AIRSIDE_NATS_PASSWORD": PASSWORDS[user]}


@contextmanager
def deployed_nats(root: Path, *, passwords: dict[str, str] = PASSWORDS, added: str = "") -> Iterator[NatsServer]:
    """The deployed single node under `root`, each user's password (by user name) in its environment."""
    with pytest.MonkeyPatch.context() as patch:
        for user, password in passwords.items():
            patch.setenv(f"{user.upper()}_NATS_PASSWORD", password)
        running = DeployedNats(root, added=added).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    with deployed_nats(tmp_path_factory.mktemp("secured-nats")) as running:
        yield running


@pytest.fixture(scope="module")
def services(server: NatsServer, databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ServiceProcess]]:
    """The three services with their own NATS users; on PostgreSQL booking's outbox goes out through its
    relay process, which connects as booking too."""
    logs = tmp_path_factory.mktemp("secured-logs")
    external = databases.kind == "postgresql"
    started: dict[str, ServiceProcess] = {}
    try:
        for name in SERVICES:
            env = credentials(name) | ({"AIRSIDE_RELAY": "external"} if external and name == "booking" else {})
            process = service_process(
                name, database_url=databases.create(f"secured_{name}"), nats_url=server.url, log_dir=logs, extra_env=env
            )
            started[name] = process.start()
        if external:
            database_url = started["booking"].env["BOOKING_DATABASE_URL"]
            relay = relay_process("booking", database_url=database_url, nats_url=server.url, log_dir=logs, extra_env=credentials("booking"))
            started["booking-relay"] = relay.start()
        for process in started.values():
            process.wait_ready(60)
        yield started
    finally:
        for process in started.values():
            process.stop()


class Connection:
    """A client of one identity that remembers the errors the server sent it (permission violations arrive so)."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.nc = NATS()

    async def _error(self, exc: Exception) -> None:
        self.errors.append(str(exc))

    async def connect(self, url: str, user: str | None = None, password: str | None = None) -> Connection:
        await self.nc.connect(
            url, user=user, password=password, error_cb=self._error, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=2
        )
        return self

    def errors_lowered(self) -> str:
        return "\n".join(error.lower() for error in self.errors)

    async def violated(self, subject: str) -> bool:
        await self.nc.flush()
        # nats-py reports the server's -ERR lower-cased.
        return f'permissions violation for publish to "{subject.lower()}"' in self.errors_lowered()


@pytest.fixture
async def as_user(server: NatsServer) -> AsyncIterator:
    opened: list[Connection] = []

    async def connect(user: str) -> Connection:
        connection = await Connection().connect(server.url, user, PASSWORDS[user])
        opened.append(connection)
        return connection

    yield connect
    for connection in opened:
        await connection.nc.close()


async def messages_on(connection: Connection, stream: str, subject: str) -> int:
    info = await connection.nc.jetstream(timeout=2).stream_info(stream, subjects_filter=subject)
    return (info.state.subjects or {}).get(subject, 0)


async def test_anonymous_and_wrong_passwords_are_refused(server):
    for user, password in ((None, None), ("airline", "not-the-password"), ("nobody", "nothing")):
        connection = Connection()
        with pytest.raises(NatsError, match="Authorization Violation"):
            await connection.connect(server.url, user, password)


async def test_the_airline_cannot_publish_a_booking_event(services, as_user):
    airline, booking = await as_user("airline"), await as_user("booking")
    subject = "airside.booking.order.completed"
    before = await messages_on(booking, "AIRSIDE_BOOKING", subject)
    with pytest.raises(NatsTimeout):
        await airline.nc.jetstream(timeout=1).publish(subject, b'{"forged": true}')
    assert await airline.violated(subject)
    assert await messages_on(booking, "AIRSIDE_BOOKING", subject) == before


async def test_a_service_cannot_publish_another_services_event(services, as_user):
    booking = await as_user("booking")
    subject = "airside.lounge.visit.checked_in"
    with pytest.raises(NatsTimeout):
        await booking.nc.jetstream(timeout=1).publish(subject, b'{"forged": true}')
    assert await booking.violated(subject)
    assert await messages_on(booking, "AIRSIDE_LOUNGE", subject) == 0


async def test_a_service_may_not_touch_another_services_consumers_or_delete_streams(services, as_user):
    lounge = await as_user("lounge")
    js = lounge.nc.jetstream(timeout=1)
    with pytest.raises(NatsTimeout):
        await js.consumer_info("AIRSIDE_BOOKING", "callcenter-booking")
    with pytest.raises(NatsTimeout):
        await js.delete_stream("AIRSIDE_LOUNGE")
    assert await lounge.violated("$JS.API.CONSUMER.INFO.AIRSIDE_BOOKING.callcenter-booking")
    assert await lounge.violated("$JS.API.STREAM.DELETE.AIRSIDE_LOUNGE")
    assert (await js.consumer_info("AIRSIDE_BOOKING", "lounge-booking")).name == "lounge-booking"  # its own, answered


async def test_the_airline_reads_through_its_own_durable_only(services, as_user):
    airline = await as_user("airline")
    js = airline.nc.jetstream(timeout=2)
    subscription = await js.pull_subscribe("airside.booking.station.>", durable="airline-booking", stream="AIRSIDE_BOOKING")
    messages = await subscription.fetch(5, timeout=10)  # the seeded stations booking announced at start-up
    assert messages and all(message.subject.startswith("airside.booking.station.") for message in messages)
    for message in messages:
        await message.ack()
    assert not airline.errors, airline.errors

    # Named as docs/integrating.md creates it: the client sends the filter subject in the API subject.
    named = ConsumerConfig(name="airline-flights", durable_name="airline-flights", filter_subject="airside.flight.status")
    assert (await js.add_consumer("AIRSIDE_FLIGHTS", named)).name == "airline-flights"
    assert not airline.errors, airline.errors

    with pytest.raises(NatsTimeout):
        await js.add_consumer("AIRSIDE_BOOKING", ConsumerConfig(durable_name="booking-x"))
    assert await airline.violated("$JS.API.CONSUMER.DURABLE.CREATE.AIRSIDE_BOOKING.booking-x")
    with pytest.raises(NatsTimeout):
        await js.consumer_info("AIRSIDE_BOOKING", "lounge-booking")
    with pytest.raises(NatsTimeout):
        await js.stream_info("AIRSIDE_BOOKING")


async def test_the_airline_publishes_flight_status(services, as_user):
    airline = await as_user("airline")
    departure = datetime.now(UTC) + timedelta(hours=8)
    payload = flight_events.FlightStatusChanged(
        carrier="CA",
        number="1577",
        flight_date=departure.astimezone(SHANGHAI).date(),
        origin="PEK",
        destination="CTU",
        status="scheduled",
        updated_at=datetime.now(UTC),
        std=departure,
    )
    event = flight_events.flight_status.build(payload, subject=f"CA1577/{payload.flight_date}", source="airline/test")
    ack = await airline.nc.jetstream(timeout=5).publish(event.type, event.to_json(), headers={"Nats-Msg-Id": event.id})
    assert ack.stream == "AIRSIDE_FLIGHTS"
    assert not airline.errors, airline.errors


async def test_the_three_services_run_a_booking_with_their_own_users(services):
    booking, lounge, callcenter = (services[name].url for name in SERVICES)
    async with httpx.AsyncClient(timeout=10) as http:
        member_body = {"name": "Secured Member", "phone": "+8613900139000", "tier": "gold"}
        member = await http.post(f"{booking}/v1/members", json=member_body, headers={**AGENT, "Idempotency-Key": uuid.uuid4().hex})
        assert member.status_code == 201, member.text
        member_id = member.json()["id"]

        departure = datetime.now(UTC) + timedelta(hours=6)
        flight = {
            "carrier": "CA",
            "number": "1931",
            "flight_date": departure.astimezone(SHANGHAI).date().isoformat(),
            "origin": "PEK",
            "destination": "KMG",
            "std": departure.isoformat().replace("+00:00", "Z"),
        }
        order_body = {
            "member_id": member_id,
            "station": "PEK",
            "direction": "departure",
            "flight": flight,
            "items": [{"product": "LOUNGE"}],
            "passengers": [{"name": "Secured Member"}],
            "channel": "call_center",
        }
        order = await http.post(f"{booking}/v1/orders", json=order_body, headers={**AGENT, "Idempotency-Key": uuid.uuid4().hex})
        assert order.status_code == 201, order.text
        order_id = order.json()["id"]

        async def lounge_expects_it() -> bool:
            response = await http.get(
                f"{lounge}/v1/lounges/{PEK_LOUNGE}/expected-visits", params={"order_id": order_id}, headers=LOUNGE_STAFF
            )
            return response.status_code == 200 and bool(response.json()["items"])

        async def callcenter_knows_the_member() -> bool:
            response = await http.get(f"{callcenter}/v1/members/{member_id}", headers=SUPERVISOR)
            return response.status_code == 200

        await wait_for(lounge_expects_it, timeout=30, what="the lounge expecting the order booked on booking")
        await wait_for(callcenter_knows_the_member, timeout=30, what="the call center's copy of the member")
        for name in SERVICES:
            ready = (await http.get(f"{services[name].url}/readyz")).json()
            assert ready["nats"] == "connected", (name, ready)


async def test_each_services_live_feed_reads_its_own_stream_with_its_own_user(services):
    """The feed's ordered consumer is created and followed under the service's NATS user: a feed that could
    not subscribe answers 503 instead of `ready` (docs/feeds.md)."""
    routes = {
        "booking": "/v1/stations/PEK/orders/stream",
        "lounge": f"/v1/lounges/{PEK_LOUNGE}/board/stream",
        "callcenter": "/v1/queue/stream",
    }
    async with httpx.AsyncClient(timeout=10) as http:
        for name, path in routes.items():
            async with FeedReader(http, services[name].url + path, auth("station_manager", stations=["PEK"])) as feed:
                assert feed.status == 200, (name, feed.body)
    for name in SERVICES:
        assert "permissions violation" not in services[name].log_file.read_text().lower(), name


def test_the_password_comes_from_the_environment_or_a_mounted_file(tmp_path, monkeypatch):
    secret = tmp_path / "booking-nats-password"
    secret.write_text("from-the-file\n")  # as `echo` or a secrets store writes it
    monkeypatch.delenv("AIRSIDE_NATS_PASSWORD", raising=False)
    monkeypatch.setenv("AIRSIDE_NATS_PASSWORD_FILE", str(secret))  # read as any setting's _FILE (shared/tests/test_settings_files.py)
    assert AirsideSettings(nats_user="booking").nats_credentials() == ("booking", "from-the-file")
    monkeypatch.delenv("AIRSIDE_NATS_PASSWORD_FILE")
    assert AirsideSettings(nats_user="booking", nats_password="direct").nats_credentials() == ("booking", "direct")
    assert AirsideSettings().nats_credentials() is None, "no user: connect as before, for the dev run and the test harness"
    for half_given in ({"nats_user": "booking"}, {"nats_password": "x"}):
        with pytest.raises(SettingsError, match="AIRSIDE_NATS_"):
            AirsideSettings(**half_given).nats_credentials()


def test_a_service_connects_over_tls_with_the_configured_ca(databases, tmp_path):
    """The deployed configuration with a tls block added, as an operator enables it: a client without the CA
    is refused, booking given AIRSIDE_NATS_TLS_CA_FILE (and its user) connects and declares its streams."""
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1")
    ca_file, cert_file, key_file = tmp_path / "ca.pem", tmp_path / "server.pem", tmp_path / "server.key"
    authority.cert_pem.write_to_path(str(ca_file))
    certificate.cert_chain_pems[0].write_to_path(str(cert_file))
    certificate.private_key_pem.write_to_path(str(key_file))
    tls = f'\ntls {{\n  cert_file: "{cert_file}"\n  key_file: "{key_file}"\n}}\n'
    with deployed_nats(tmp_path / "nats", added=tls) as server:

        async def plain() -> None:
            await Connection().connect(server.url, "booking", PASSWORDS["booking"])

        with pytest.raises(ssl.SSLCertVerificationError):  # checked against the system CAs, which never signed it
            asyncio.run(plain())
        env = {**credentials("booking"), "AIRSIDE_NATS_TLS_CA_FILE": str(ca_file)}
        process = service_process(
            "booking",
            database_url=databases.create("secured_tls"),
            nats_url=f"tls://{server.host}:{server.port}",
            log_dir=tmp_path,
            extra_env=env,
        )
        try:
            process.start().wait_ready(60)

            def connected() -> bool:
                return httpx.get(f"{process.url}/readyz", timeout=5).json()["nats"] == "connected"

            wait_until(connected, 30, "booking connected to NATS over TLS")
        finally:
            process.stop()


def consumer_rights(durable: str, stream: str) -> set[str]:
    """The subjects a service must be allowed to publish to run one durable consumer (deploy/nats/auth.conf)."""
    create = (f"DURABLE.CREATE.{stream}.{durable}", f"CREATE.{stream}.{durable}", f"CREATE.{stream}.{durable}.>")
    return {
        *(f"$JS.API.CONSUMER.{subject}" for subject in create),
        f"$JS.API.CONSUMER.INFO.{stream}.{durable}",
        f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}",
        f"$JS.ACK.{stream}.{durable}.>",
    }


@pytest.mark.parametrize("service", SERVICES)
def test_every_durable_a_service_declares_is_allowed_to_it_and_no_other(service):
    # Each service's consumers are read in a process of its own: the services' models share table names.
    listing = (
        "import json; from airside.app import load_service; from airside.webhooks.fanout import webhook_consumer\n"
        f"definition = load_service({service!r})\n"
        f"specs = [*definition.consumers, webhook_consumer({service!r})]\n"
        "print(json.dumps([[spec.durable, spec.stream] for spec in specs]))"
    )
    done = subprocess.run([sys.executable, "-c", listing], capture_output=True, text=True, timeout=120, check=True)
    declared = {tuple(pair) for pair in json.loads(done.stdout)}
    block = (DEPLOYED / "auth.conf").read_text().split(f"\n{service.upper()}: {{", 1)[1].split("\n}", 1)[0]
    allowed = set(re.findall(r'"([^"]+)"', block))
    for durable, stream in declared:
        assert consumer_rights(durable, stream) <= allowed, f"{service} declares {durable} on {stream}; auth.conf does not allow it"
    granted = set(re.findall(r"\$JS\.API\.CONSUMER\.INFO\.([A-Z_]+)\.([a-z-]+)", block))
    assert granted == {(stream, durable) for durable, stream in declared}
