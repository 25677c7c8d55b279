"""Issue 10 item 10: outside the embedded run a service refuses to start with no secret, the published
development secret or one shorter than 32 bytes, and says which; a PostgreSQL database without
AIRSIDE_ENV is not the embedded run. Each combination starts a real service process."""

import os

import pytest

from airside.settings import DEVELOPMENT_JWT_SECRET
from airside_tools.processes import ServiceProcess, free_port

# Refused before the database is opened: nothing listens here, and a service that got past the check
# would fail on connecting instead, with another message than the one asserted.
POSTGRES = "postgresql://airside@127.0.0.1:9/never"
SHORT = "only-thirty-one-bytes-long-abcd"
# The cases of the issue; every combination of mode and secret is checked on the settings in shared/tests/test_tokens.py.
REFUSED = {
    "production with the development secret": (
        {"AIRSIDE_ENV": "production", "AIRSIDE_JWT_SECRET": DEVELOPMENT_JWT_SECRET},
        "AIRSIDE_JWT_SECRET is the published development secret",
    ),
    "production with a short secret": ({"AIRSIDE_ENV": "production", "AIRSIDE_JWT_SECRET": SHORT}, "shorter than 32 bytes"),
    "PostgreSQL without AIRSIDE_ENV, the development secret": (
        {"BOOKING_DATABASE_URL": POSTGRES, "AIRSIDE_JWT_SECRET": DEVELOPMENT_JWT_SECRET},
        "AIRSIDE_JWT_SECRET is the published development secret",
    ),
    "PostgreSQL without AIRSIDE_ENV or a secret": ({"BOOKING_DATABASE_URL": POSTGRES}, "AIRSIDE_JWT_SECRET must be set"),
}


@pytest.fixture
def clean_environ(monkeypatch):
    """What the service sees is what a row sets: no Airside setting of this shell leaks in."""
    for key in list(os.environ):
        if key.startswith(("AIRSIDE_", "BOOKING_")):
            monkeypatch.delenv(key)


@pytest.mark.parametrize(("env", "message"), REFUSED.values(), ids=REFUSED.keys())
def test_a_service_refuses_to_start_with_a_secret_unfit_for_where_it_runs(clean_environ, tmp_path, env, message):
    port = free_port()
    log_file = tmp_path / "booking.log"
    database = {"BOOKING_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'booking.db'}"}
    process = ServiceProcess("booking", port, {**database, "BOOKING_PORT": str(port), **env}, log_file).start()
    assert process.process is not None
    try:
        returncode = process.process.wait(timeout=60)
    finally:
        process.kill()
    assert returncode != 0
    log = log_file.read_text()
    assert message in log, log[-2000:]
    assert SHORT not in log and DEVELOPMENT_JWT_SECRET not in log  # what it refuses is named, the secret itself is not echoed
