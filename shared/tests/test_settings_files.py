"""Every setting may be given as `<VARIABLE>_FILE`, the path of a mounted secret (docs/deployment.md)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

import pytest
from pydantic import Field

from airside.settings import AirsideSettings, SettingsError

SECRET = "a-jwt-secret-read-from-a-mounted-file-0123456789"


class ServiceSettings(AirsideSettings):
    """Shaped as a service's settings: its database URL and port under the service's own prefix."""

    service_name: ClassVar[str] = "booking"
    database_url: str = Field("sqlite+aiosqlite:///.data/booking.db", validation_alias="BOOKING_DATABASE_URL")
    port: int = Field(8001, validation_alias="BOOKING_PORT")


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith(("AIRSIDE_", "BOOKING_")):
            monkeypatch.delenv(key)


def secret_file(tmp_path: Path, name: str, content: str) -> str:
    path = tmp_path / name
    path.write_text(content)
    return str(path)


def test_the_jwt_secret_database_url_and_nats_password_come_from_files(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRSIDE_JWT_SECRET_FILE", secret_file(tmp_path, "jwt", SECRET + "\n"))
    monkeypatch.setenv("BOOKING_DATABASE_URL_FILE", secret_file(tmp_path, "db", "postgresql://booking:pw@db:5432/booking\n"))
    monkeypatch.setenv("AIRSIDE_NATS_USER", "booking")
    monkeypatch.setenv("AIRSIDE_NATS_PASSWORD_FILE", secret_file(tmp_path, "nats", "nats-password\r\n"))
    monkeypatch.setenv("AIRSIDE_ENV", "production")

    settings = ServiceSettings()
    assert settings.signing_secret() == SECRET, "the trailing newline is not part of the secret"
    # The file's value goes through the field's validators like the variable's: the async driver is chosen.
    assert settings.database_url == "postgresql+asyncpg://booking:pw@db:5432/booking"
    assert settings.nats_credentials() == ("booking", "nats-password")
    settings.check_runnable()


def test_the_plain_variable_still_works_and_a_file_needs_no_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRSIDE_JWT_SECRET", SECRET)
    monkeypatch.setenv("BOOKING_PORT", "9001")
    monkeypatch.setenv("AIRSIDE_CORS_ORIGINS_FILE", secret_file(tmp_path, "origins", "https://a.example, https://b.example\n"))
    settings = ServiceSettings()
    assert settings.signing_secret() == SECRET
    assert settings.port == 9001
    assert settings.cors_origins == ["https://a.example", "https://b.example"], "a list setting is split as from the variable"


def test_only_the_trailing_newline_is_dropped(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRSIDE_JWT_SECRET_FILE", secret_file(tmp_path, "jwt", f"  {SECRET} \n\n"))
    assert ServiceSettings().signing_secret() == f"  {SECRET} "


@pytest.mark.parametrize(
    ("variable", "value"),
    [("AIRSIDE_JWT_SECRET", SECRET), ("BOOKING_DATABASE_URL", "postgresql://x@db/booking"), ("AIRSIDE_NATS_PASSWORD", "pw")],
)
def test_a_variable_and_its_file_both_set_is_refused(tmp_path, monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    monkeypatch.setenv(f"{variable}_FILE", secret_file(tmp_path, "value", value))
    with pytest.raises(SettingsError, match=f"set {variable} or {variable}_FILE, not both"):
        ServiceSettings()


def test_a_file_that_cannot_be_read_is_refused_by_name(tmp_path, monkeypatch):
    missing = tmp_path / "not-mounted"
    monkeypatch.setenv("AIRSIDE_JWT_SECRET_FILE", str(missing))
    with pytest.raises(SettingsError, match=rf"AIRSIDE_JWT_SECRET_FILE={missing}: cannot read the file"):
        ServiceSettings()


def test_keyword_arguments_win_over_the_files(tmp_path, monkeypatch):
    """The test harness builds settings with keyword arguments; a stray file variable must not override them."""
    monkeypatch.setenv("AIRSIDE_JWT_SECRET_FILE", secret_file(tmp_path, "jwt", SECRET))
    given = "given-directly-0123456789abcdef0123456789"
    assert ServiceSettings(jwt_secret=given).signing_secret() == given


def test_no_setting_is_another_settings_file():
    """`<VARIABLE>_FILE` means "read <VARIABLE> from this file" for every setting, so no setting of its own may take
    such a name (AIRSIDE_NATS_TLS_CA_FILE is fine: there is no AIRSIDE_NATS_TLS_CA)."""
    names = set(ServiceSettings.model_fields)
    assert not {name for name in names if name.endswith("_file") and name.removesuffix("_file") in names}
