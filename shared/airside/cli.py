"""`airside`: development tokens, seeding, flight status and ops, from a shell (`airside-dev`, in tools/, runs the set)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from typing import Annotated

import httpx
import typer

from airside.auth import Role, issue_token
from airside.flight_numbers import CARRIER_PATTERN
from airside.settings import AirsideSettings, SettingsError

app = typer.Typer(help="Airside operations and development commands.", no_args_is_help=True, add_completion=False)
ops = typer.Typer(help="Operate the running services: dead letters, events set aside and republishing.", no_args_is_help=True)
app.add_typer(ops, name="ops")

# The arguments every ops command takes.
ServiceName = Annotated[str, typer.Argument(help="booking, lounge or callcenter")]
AdminToken = Annotated[str | None, typer.Option("--token", help="Admin token; minted from the secret when absent")]

SERVICE_URLS = {"booking": "http://127.0.0.1:8001", "lounge": "http://127.0.0.1:8002", "callcenter": "http://127.0.0.1:8003"}


def _service_url(service: str) -> str:
    if service not in SERVICE_URLS:
        raise typer.BadParameter(f"unknown service {service}; one of {', '.join(SERVICE_URLS)}")
    return os.environ.get(f"AIRSIDE_{service.upper()}_URL", SERVICE_URLS[service])


def _admin_headers(token: str | None) -> dict[str, str]:
    token = token or issue_token(AirsideSettings(), roles=[Role.admin], stations=["*"], sub="airside-cli", ttl_seconds=300)
    return {"Authorization": f"Bearer {token}"}


def _show(response: httpx.Response) -> None:
    typer.echo(json.dumps(response.json(), indent=2, ensure_ascii=False))
    if response.status_code >= 400:
        raise typer.Exit(1)


@app.command()
def token(
    role: Annotated[list[Role], typer.Option("--role", help="Role; repeat for several")],
    station: Annotated[list[str] | None, typer.Option("--station", help="Station code; repeat; * for all")] = None,
    sub: Annotated[str | None, typer.Option(help="Subject: the person's id (a concierge's or agent's)")] = None,
    member_id: Annotated[str | None, typer.Option("--member-id", help="The member a member token acts for")] = None,
    carrier: Annotated[str | None, typer.Option("--carrier", help="The airline a carrier token acts for, e.g. CA")] = None,
    ttl: Annotated[int, typer.Option(help="Lifetime in seconds")] = 3600,
) -> None:
    """Print a development token (only the token), signed with the running set's secret."""
    if Role.member in role and not member_id:
        raise typer.BadParameter("a member token needs --member-id")
    if Role.carrier in role and not (carrier and re.fullmatch(CARRIER_PATTERN, carrier)):
        raise typer.BadParameter("a carrier token needs --carrier, its 2-character IATA designator in upper case (e.g. CA)")
    token = issue_token(
        AirsideSettings(), roles=role, stations=station or [], sub=sub, member_id=member_id, carrier=carrier, ttl_seconds=ttl
    )
    typer.echo(token)


@app.command()
def seed(
    service: Annotated[list[str] | None, typer.Option("--service", help="Only these services")] = None,
) -> None:
    """Migrate each service's database to head and seed its reference data (idempotent)."""
    from airside.app import installed_services

    for name in installed_services():
        if service and name not in service:
            continue
        # One process per service: each service's tables belong to its own interpreter.
        result = subprocess.run([sys.executable, "-m", "airside.seeding", name], check=False)
        if result.returncode:
            raise typer.Exit(result.returncode)


@app.command()
def relay(
    service: ServiceName,
    host: Annotated[str, typer.Option(help="Address /healthz, /readyz and /metrics listen on (port: AIRSIDE_RELAY_PORT)")] = "0.0.0.0",
) -> None:
    """Run a service's outbox relay in a process of its own (the service runs with AIRSIDE_RELAY=external);
    SIGTERM stops it after the batch in hand."""
    from airside.app import installed_services
    from airside.relay_process import run_relay

    services = installed_services()
    if service not in services:
        raise typer.BadParameter(f"unknown service {service}; one of {', '.join(services)}")
    try:
        started = run_relay(service, services[service](), host=host)
    except SettingsError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    if not started:
        raise typer.Exit(1)


@app.command("flight-status")
def flight_status(
    flight_no: Annotated[str, typer.Argument(help="Carrier and number, e.g. CA1831")],
    flight_date: Annotated[str, typer.Argument(help="The origin's local date, YYYY-MM-DD")],
    status: Annotated[str, typer.Option(help="scheduled, delayed, boarding, departed, arrived or cancelled")],
    etd: Annotated[datetime | None, typer.Option(help="Estimated departure (UTC unless it says otherwise)")] = None,
    eta: Annotated[datetime | None, typer.Option(help="Estimated arrival (UTC unless it says otherwise)")] = None,
    std: Annotated[datetime | None, typer.Option(help="Scheduled departure (UTC unless it says otherwise)")] = None,
    sta: Annotated[datetime | None, typer.Option(help="Scheduled arrival (UTC unless it says otherwise)")] = None,
    gate: Annotated[str | None, typer.Option(help="Gate")] = None,
    reason: Annotated[str | None, typer.Option(help="Why, for the people told")] = None,
    token: Annotated[str | None, typer.Option(help="Admin or service token; minted from the secret when absent")] = None,
) -> None:
    """Enter a flight's status in booking by hand; booking applies it and publishes it on airside.flight.status."""
    body: dict[str, str] = {"status": status}
    for name, moment in (("etd", etd), ("eta", eta), ("std", std), ("sta", sta)):
        if moment is not None:
            body[name] = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()
    if gate:
        body["gate"] = gate
    if reason:
        body["reason"] = reason
    url = f"{_service_url('booking')}/v1/flights/{flight_no.upper()}/{flight_date}/status"
    _show(httpx.post(url, json=body, headers=_admin_headers(token), timeout=10))


@ops.command("dead-letters")
def dead_letters(
    service: ServiceName,
    status: Annotated[str | None, typer.Option(help="parked or replayed")] = None,
    token: AdminToken = None,
) -> None:
    """List a service's dead letters."""
    params = {"status": status} if status else {}
    _show(httpx.get(f"{_service_url(service)}/v1/ops/dead-letters", params=params, headers=_admin_headers(token), timeout=10))


@ops.command("replay")
def replay(
    service: ServiceName,
    dead_letter_id: Annotated[int, typer.Argument(help="The dead letter's id")],
    token: AdminToken = None,
) -> None:
    """Replay one dead letter through its handler."""
    _show(httpx.post(f"{_service_url(service)}/v1/ops/dead-letters/{dead_letter_id}/replay", headers=_admin_headers(token), timeout=30))


@ops.command("set-aside")
def set_aside(
    service: ServiceName,
    event_id: Annotated[str, typer.Argument(help="The id of the event the relay keeps failing to publish (its log names it)")],
    token: AdminToken = None,
) -> None:
    """Move an event the relay cannot publish to the dead letters, so the events behind it go out."""
    _show(httpx.post(f"{_service_url(service)}/v1/ops/outbox/{event_id}/set-aside", headers=_admin_headers(token), timeout=30))


@ops.command("republish")
def republish(
    service: ServiceName,
    since: Annotated[datetime, typer.Option(help="Republish every event recorded since this time (UTC unless it says otherwise)")],
    wait_seconds: Annotated[float, typer.Option(help="How long the service waits for its relay before answering (0-25)")] = 10,
    token: AdminToken = None,
) -> None:
    """Publish again every event a service recorded since a time (rebuilds a lost stream); prints how many
    were marked, how many the stream has, and how many are still pending."""
    moment = since if since.tzinfo else since.replace(tzinfo=UTC)
    body = {"since": moment.isoformat(), "wait_seconds": wait_seconds}
    _show(httpx.post(f"{_service_url(service)}/v1/ops/republish", json=body, headers=_admin_headers(token), timeout=30))


def main() -> None:
    app()
