"""The `airside` command as ops use it: development tokens and seeding the databases."""

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from airside.auth import TokenVerifier
from airside.settings import AirsideSettings
from airside_tools.processes import ServiceProcess, free_port
from airside_tools.testing.harness import TEST_JWT_SECRET

AIRSIDE = str(Path(sys.executable).with_name("airside"))


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([AIRSIDE, *args], capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})}, check=False)


async def test_token_prints_only_a_token_the_services_accept():
    result = run("token", "--role", "agent", "--station", "PEK", "--station", "KMG", "--sub", "agent-7")
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) == 1
    principal = await TokenVerifier(AirsideSettings()).verify(result.stdout.strip())
    assert (principal.sub, set(principal.roles), principal.stations) == ("agent-7", {"agent"}, {"PEK", "KMG"})


def test_a_member_token_needs_a_member_id():
    assert run("token", "--role", "member").returncode != 0
    assert run("token", "--role", "pilot").returncode != 0


def test_seed_migrates_and_seeds_every_service_twice_without_harm(databases, nats_server, tmp_path):
    env = {f"{name.upper()}_DATABASE_URL": databases.create(f"cli_{name}") for name in ("booking", "lounge", "callcenter")}
    env["AIRSIDE_JWT_SECRET"] = TEST_JWT_SECRET  # on PostgreSQL the service refuses the development secret
    for _ in range(2):
        result = run("seed", env=env)
        assert result.returncode == 0, result.stderr
        assert {line.split(":")[0] for line in result.stdout.splitlines()} == {"booking", "lounge", "callcenter"}

    # The seeded database serves at once, without migrating again.
    port = free_port()
    lounge_env = {**env, "LOUNGE_PORT": str(port), "AIRSIDE_NATS_URL": nats_server.url, "AIRSIDE_MIGRATE_ON_START": "false"}
    lounge = ServiceProcess("lounge", port, lounge_env, tmp_path / "lounge.log")
    try:
        lounge.start().wait_ready(60)
        token = run("token", "--role", "lounge_staff", "--station", "KMG", env=env).stdout.strip()
        lounges = httpx.get(f"{lounge.url}/v1/lounges", headers={"Authorization": f"Bearer {token}"}).json()["items"]
        assert [entry["id"] for entry in lounges] == ["KMG-VIP"]
    finally:
        lounge.stop()


@pytest.mark.parametrize("service", ["booking", "lounge", "callcenter"])
def test_ops_commands_report_an_unreachable_service_clearly(service):
    result = run("ops", "dead-letters", service, env={f"AIRSIDE_{service.upper()}_URL": "http://127.0.0.1:9"})
    assert result.returncode != 0
