"""Settings common to every service; each service subclasses with its database URL and port."""

from __future__ import annotations

import hashlib
import hmac
import logging
import ssl
from pathlib import Path
from typing import Annotated, ClassVar, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

# The embedded run (one command on a laptop) signs tokens with this and says so at start-up.
DEVELOPMENT_JWT_SECRET = "airside-development-secret-do-not-use-in-production"
# HS256 keys shorter than the hash (RFC 7518 3.2) can be brute-forced from one token.
MIN_SECRET_BYTES = 32

log = logging.getLogger("airside.settings")


class SettingsError(RuntimeError):
    """The configuration cannot run: the message says what to set."""


class SecretFilesSource(EnvSettingsSource):
    """Every setting may be given as `<VARIABLE>_FILE` instead: the path of a file holding the value, as
    Docker and Kubernetes mount secrets (docs/deployment.md). The file's content is the value, its trailing
    newline dropped (as `echo` and most secret stores write it). Both the variable and its `_FILE` set is
    refused: which one wins would be a guess."""

    def __call__(self) -> dict[str, object]:
        values: dict[str, object] = {}
        for field_name, field in self.settings_cls.model_fields.items():
            for field_key, env_name, _is_complex in self._extract_field_info(field, field_name):
                path = self.env_vars.get(f"{env_name}_file")
                if path is None:
                    continue
                variable = env_name.upper()
                if self.env_vars.get(env_name) is not None:
                    raise SettingsError(f"set {variable} or {variable}_FILE, not both")
                try:
                    values[field_key] = Path(path).read_text().rstrip("\r\n")
                except OSError as exc:
                    raise SettingsError(f"{variable}_FILE={path}: cannot read the file ({exc.strerror})") from exc
                break
        return values


class AirsideSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIRSIDE_", extra="ignore", populate_by_name=True)

    service_name: ClassVar[str] = "airside"

    # None: embedded on SQLite, production on PostgreSQL (a deployment that forgot to say so is not a laptop).
    env: Literal["embedded", "production"] | None = None
    nats_url: str = "nats://127.0.0.1:4222"
    # The service's NATS user (docs/nats-security.md); its password given directly or as a mounted secret
    # file (AIRSIDE_NATS_PASSWORD_FILE, as any setting: SecretFilesSource). Neither: no credentials, as the
    # dev run's and the tests' nats-server expect.
    nats_user: str | None = None
    nats_password: SecretStr | None = None
    # TLS to NATS: the CA that signed the server's certificate, and a client certificate where the server asks for one.
    nats_tls_ca_file: Path | None = None
    nats_tls_cert_file: Path | None = None
    nats_tls_key_file: Path | None = None
    log_level: str = "INFO"
    jwt_secret: SecretStr | None = None
    jwt_algorithm: Literal["HS256", "RS256"] = "HS256"
    jwt_jwks_url: str | None = None
    jwt_issuer: str = "airside"
    jwt_audience: str = "airside"
    cors_origins: Annotated[list[str], NoDecode] = []
    migrate_on_start: bool = True
    # JetStream: replicas 1 on one node, 3 in a cluster; events kept for 7 days by default.
    stream_replicas: int = 1
    stream_max_age_days: float = 7.0
    # Outbox relay: sweep timer besides the wake-up after each commit.
    outbox_sweep_seconds: float = 1.0
    outbox_batch_size: int = 500
    # Where the relay runs: in the service's process (the embedded default, and the only choice on SQLite),
    # or `external`, a process of its own (`airside relay <service>`), so request workers never publish.
    # The external relay serves /healthz, /readyz and /metrics on relay_port.
    relay: Literal["in_process", "external"] = "in_process"
    relay_port: int = 8100
    # Inbox: nak delays by delivery attempt, then dead-letter at this many deliveries.
    retry_delays: Annotated[list[float], NoDecode] = [1, 5, 30, 120, 300, 600, 600]
    dead_letter_after: int = 8
    ack_wait_seconds: float = 30.0
    # Scheduled jobs (overdue confirmations, SLA timers, boarding calls) poll at this interval.
    scheduler_interval_seconds: float = 1.0
    # On SIGTERM /readyz answers 503 while the listener keeps serving this long, so a load balancer
    # stops sending before the listener closes; then requests in flight finish and the loops stop.
    drain_seconds: float = 5.0
    # /metrics serves values a background task refreshes at this interval (never NATS on the scrape);
    # NATS is asked for a PING-like JetStream answer at the probe interval, within its timeout.
    metrics_refresh_seconds: float = 5.0
    nats_probe_seconds: float = 1.0
    nats_probe_timeout_seconds: float = 1.0
    # Live feeds (docs/feeds.md): events each process keeps for resuming clients, frames a client may be
    # behind before it is dropped, the heartbeat, and how long a new client waits for the feed to load.
    feed_window: int = Field(default=1000, ge=1)
    feed_client_queue: int = Field(default=256, ge=1)
    feed_heartbeat_seconds: float = 15.0
    feed_load_wait_seconds: float = 3.0
    # A stream is closed after this long (the browser reconnects and resumes): balancers rebalance, tokens are read again.
    feed_max_seconds: float = 3600.0

    # Connections per process on PostgreSQL: replicas * (pool + overflow) must stay under max_connections.
    # No overflow by default: an overflow connection is opened for one request and closed after it,
    # which under steady load (more requests in flight than the pool) costs more than waiting.
    db_pool_size: int = 16
    db_max_overflow: int = 0

    database_url: str = "sqlite+aiosqlite:///.data/airside.db"
    port: int = 8000
    # The URL other systems reach this service at (behind a proxy, its public name): the base of the
    # `dataschema` its events carry. Unset: http://localhost:<port>, the embedded run's (docs/events.md).
    public_url: str | None = None
    # POST /console/dev-token hands out staff tokens for the console: only the embedded run turns it on
    # (`make run`; docs/console.md). Off, the route answers 404.
    dev_tokens: bool = False

    # Webhooks (docs/webhooks.md). Destinations on loopback, private or link-local addresses are refused
    # unless a host name or a CIDR here names them.
    webhook_allow_hosts: Annotated[list[str], NoDecode] = []
    # Extra CA certificates to trust for webhook destinations (a partner's private PKI; the tests' own CA).
    webhook_ca_file: Path | None = None
    # The wait before each retry of a failed delivery (Standard Webhooks' schedule: about 27 hours in all),
    # then the delivery is a dead letter; a subscription failing this long is disabled.
    webhook_retry_delays: Annotated[list[float], NoDecode] = [5, 300, 1800, 7200, 18000, 36000, 36000]
    webhook_disable_after_seconds: float = 86400.0
    # After a secret rotation the old secret keeps signing beside the new one this long.
    webhook_secret_overlap_seconds: float = 86400.0
    webhook_timeout_seconds: float = 10.0
    webhook_concurrency: int = 16

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, SecretFilesSource(settings_cls), dotenv_settings, file_secret_settings

    @field_validator("cors_origins", "webhook_allow_hosts", mode="before")
    @classmethod
    def _split_names(cls, value: object) -> object:
        if isinstance(value, str):
            return [name.strip() for name in value.split(",") if name.strip()]
        return value

    @field_validator("retry_delays", "webhook_retry_delays", mode="before")
    @classmethod
    def _split_delays(cls, value: object) -> object:
        if isinstance(value, str):
            return [float(delay) for delay in value.split(",") if delay.strip()]
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        # Accept the plain URLs ops people write and pick the async driver ourselves.
        for plain, driver in (
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgres://", "postgresql+asyncpg://"),
            ("sqlite://", "sqlite+aiosqlite://"),
        ):
            if value.startswith(plain):
                return driver + value[len(plain) :]
        return value

    def nats_credentials(self) -> tuple[str, str] | None:
        """The NATS user and its password, or None without a user."""
        if self.nats_user is None:
            if self.nats_password is not None:
                raise SettingsError("a NATS password needs AIRSIDE_NATS_USER")
            return None
        if self.nats_password is None:
            raise SettingsError("AIRSIDE_NATS_USER needs AIRSIDE_NATS_PASSWORD or AIRSIDE_NATS_PASSWORD_FILE")
        return self.nats_user, self.nats_password.get_secret_value()

    def nats_tls(self) -> ssl.SSLContext | None:
        """A TLS context verifying the server against the configured CA (and presenting a client certificate), or None."""
        if self.nats_tls_ca_file is None and self.nats_tls_cert_file is None:
            return None
        context = ssl.create_default_context(cafile=self.nats_tls_ca_file)
        if self.nats_tls_cert_file is not None:
            context.load_cert_chain(self.nats_tls_cert_file, self.nats_tls_key_file)
        return context

    @property
    def public_base_url(self) -> str:
        return (self.public_url or f"http://localhost:{self.port}").rstrip("/")

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    @property
    def is_embedded(self) -> bool:
        """The one-command run on a laptop: AIRSIDE_ENV=embedded, or no AIRSIDE_ENV and SQLite."""
        return self.env == "embedded" or (self.env is None and not self.is_postgres)

    def signing_secret(self) -> str:
        """The server secret: signs HS256 tokens and keys the cursors (also in RS256 mode, where no
        token is signed with it). The embedded run falls back to the published development secret."""
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        if self.is_embedded:
            return DEVELOPMENT_JWT_SECRET
        raise SettingsError("AIRSIDE_JWT_SECRET must be set outside the embedded run (AIRSIDE_ENV=production or a PostgreSQL database)")

    def server_key(self, purpose: str) -> bytes:
        """A key for one purpose (e.g. signing cursors), derived from the server secret so it is never the token key itself."""
        return hmac.new(self.signing_secret().encode(), f"airside:{purpose}".encode(), hashlib.sha256).digest()

    def check_runnable(self) -> None:
        """Refuse to start in a mode that would be unsafe; warn where the embedded run cuts corners."""
        if self.jwt_algorithm == "RS256" and not self.jwt_jwks_url:
            raise SettingsError("AIRSIDE_JWT_JWKS_URL must be set when AIRSIDE_JWT_ALGORITHM=RS256")
        if self.relay == "external" and not self.is_postgres:
            raise SettingsError("AIRSIDE_RELAY=external needs PostgreSQL: on SQLite the service's own process relays its outbox")
        # A half-given NATS user or an unreadable TLS file: refused now, not on the first connect.
        self.nats_credentials()
        self.nats_tls()
        secret = self.signing_secret()
        if not self.is_embedded:
            mode = f"AIRSIDE_ENV={self.env}" if self.env else "a PostgreSQL database without AIRSIDE_ENV=embedded"
            if self.dev_tokens:
                raise SettingsError(f"AIRSIDE_DEV_TOKENS hands out tokens to anyone who asks; {mode} must not turn it on")
            if secret == DEVELOPMENT_JWT_SECRET:
                raise SettingsError(f"AIRSIDE_JWT_SECRET is the published development secret; {mode} needs a secret of its own")
            if len(secret.encode()) < MIN_SECRET_BYTES:
                raise SettingsError(f"AIRSIDE_JWT_SECRET is shorter than {MIN_SECRET_BYTES} bytes; {mode} needs a longer one")
        if self.jwt_secret is None:
            log.warning(
                "embedded run: tokens are signed with the fixed development secret; "
                "set AIRSIDE_JWT_SECRET and AIRSIDE_ENV=production for anything real"
            )
