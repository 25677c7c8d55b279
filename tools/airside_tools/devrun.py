"""`make run`: the whole set on the embedded default, on one machine, stopped cleanly by Ctrl-C."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx
import nats

from airside.app import installed_services
from airside.auth import Role, issue_token
from airside.settings import AirsideSettings
from airside_tools.processes import NatsServer, ServiceProcess, port_open

DEMO_MEMBER = {"name": "Li Wei", "phone": "+8613800138000", "tier": "gold", "card_no": "DEMO-0001"}


async def _quiet(_exc: Exception) -> None:
    """The probe's failures are reported as one clear message, not as client tracebacks."""


async def _jetstream_answers(url: str) -> bool:
    try:
        nc = await nats.connect(url, connect_timeout=2, allow_reconnect=False, max_reconnect_attempts=0, error_cb=_quiet)
    except Exception:  # noqa: BLE001 - "does not answer" is the answer
        return False
    try:
        await nc.jetstream().account_info()
        return True
    except Exception:  # noqa: BLE001
        return False
    finally:
        await nc.close()


def _fail(message: str) -> int:
    print(f"airside-dev run: {message}", file=sys.stderr)
    return 1


def _demo_member_id(booking_url: str, admin_token: str) -> str:
    headers = {"Authorization": f"Bearer {admin_token}"}
    found = httpx.get(f"{booking_url}/v1/members", params={"q": DEMO_MEMBER["card_no"]}, headers=headers, timeout=10)
    found.raise_for_status()
    if found.json()["items"]:
        return str(found.json()["items"][0]["id"])
    created = httpx.post(f"{booking_url}/v1/members", json=DEMO_MEMBER, headers=headers, timeout=10)
    created.raise_for_status()
    return str(created.json()["id"])


# The call-centre roles whose development tokens (printed, or the console's Development token) claim tickets:
# claiming needs an agent record for the token's subject (docs/callcenter.md).
DEV_AGENT_ROLES = (Role.agent, Role.team_lead, Role.supervisor)


def _dev_agents(callcenter_url: str, admin_token: str) -> None:
    """An agent record at PEK for each `dev-<role>` subject that has none yet."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    listed = httpx.get(f"{callcenter_url}/v1/agents", params={"station": "PEK"}, headers=headers, timeout=10)
    listed.raise_for_status()
    known = {agent.get("subject") for agent in listed.json()["items"]}
    for role in DEV_AGENT_ROLES:
        if f"dev-{role.value}" not in known:
            body = {"name": f"Dev {role.value.replace('_', ' ')}", "station": "PEK", "role": role.value, "subject": f"dev-{role.value}"}
            httpx.post(f"{callcenter_url}/v1/agents", json=body, headers=headers, timeout=10).raise_for_status()


def run(data_dir: Path = Path(".data")) -> int:
    settings = AirsideSettings()
    services = installed_services()
    nats_url = urlparse(settings.nats_url)
    nats_host, nats_port = nats_url.hostname or "127.0.0.1", nats_url.port or 4222
    own_nats: NatsServer | None = None
    if port_open(nats_host, nats_port):
        if not asyncio.run(_jetstream_answers(settings.nats_url)):
            return _fail(
                f"{nats_host}:{nats_port} is taken by something that is not a NATS server with JetStream; "
                "stop it or point AIRSIDE_NATS_URL at a NATS server with JetStream"
            )
        print(f"NATS: using the JetStream server already at {settings.nats_url}")
    else:
        own_nats = NatsServer(data_dir / "nats", port=nats_port, host=nats_host, log_file=data_dir / "logs" / "nats.log")
        print(f"NATS: starting nats-server on {settings.nats_url} (data in {data_dir / 'nats'})")
        own_nats.start()

    processes: list[ServiceProcess] = []
    for name, settings_class in services.items():
        service_settings = settings_class()
        if port_open("127.0.0.1", service_settings.port):
            if own_nats:
                own_nats.stop()
            return _fail(f"port {service_settings.port} for {name} is already taken; set {name.upper()}_PORT to another port")
        # The embedded run hands the console its staff tokens (POST /console/dev-token, docs/console.md).
        env = {"AIRSIDE_NATS_URL": settings.nats_url, "AIRSIDE_DEV_TOKENS": "true"}
        processes.append(ServiceProcess(name, service_settings.port, env, data_dir / "logs" / f"{name}.log"))

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    started = time.monotonic()
    try:
        for process in processes:
            process.start()
        for process in processes:
            process.wait_ready(timeout=90)
        secret_note = "the fixed development secret" if settings.jwt_secret is None else "AIRSIDE_JWT_SECRET"
        admin = issue_token(settings, roles=[Role.admin], stations=["*"], sub="dev-admin", ttl_seconds=7 * 86400)
        booking = next(process for process in processes if process.name == "booking")
        member_id = _demo_member_id(booking.url, admin)
        _dev_agents(next(process for process in processes if process.name == "callcenter").url, admin)
        print(f"\nAirside is ready in {time.monotonic() - started:.1f}s (logs in {data_dir / 'logs'}):")
        for process in processes:
            print(f"  {process.name:<11} {process.url}   docs {process.url}/docs   console {process.url}/console/")
        print(f"\nDevelopment tokens (7 days, signed with {secret_note}; staff at PEK):")
        for role in Role:
            if role is Role.member:
                token = issue_token(settings, roles=[role], member_id=member_id, ttl_seconds=7 * 86400)
                print(f"  {role.value:<16} {token}   (demo member {member_id})")
            elif role is Role.carrier:
                token = issue_token(settings, roles=[role], carrier="CA", sub="dev-carrier-CA", ttl_seconds=7 * 86400)
                print(f"  {role.value:<16} {token}   (Air China, CA)")
            else:
                stations = ["*"] if role in (Role.admin, Role.service) else ["PEK"]
                token = issue_token(settings, roles=[role], stations=stations, sub=f"dev-{role.value}", ttl_seconds=7 * 86400)
                print(f"  {role.value:<16} {token}")
        print(
            "\nMore tokens: .venv/bin/airside token --role agent --station PEK; each console's Development token button"
            " gets one too.  Ctrl-C stops everything.",
            flush=True,
        )
        while not stopping:
            for process in processes:
                if process.process is not None and process.process.poll() is not None:
                    print(f"{process.name} stopped unexpectedly; see {process.log_file}", file=sys.stderr)
                    stopping = True
            time.sleep(0.5)
    except (TimeoutError, RuntimeError, httpx.HTTPError) as exc:
        print(f"airside-dev run: {exc}", file=sys.stderr)
        return 1
    finally:
        print("\nStopping…", flush=True)
        for process in processes:  # each drains, finishes its requests and batches, then exits
            process.terminate()
        for process in processes:
            process.wait_stopped()
        if own_nats is not None:
            own_nats.stop()
        print("Stopped.")
    return 0
