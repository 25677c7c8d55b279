"""The deployed set, checked without a Docker engine (README, "Deploying with Docker Compose").

docker-compose.yml is validated against the Compose Specification schema and against what the platform
asks of it; the NATS configs are parsed by the real nats-server; the Dockerfiles and .dockerignore are
read for what the images run (one Dockerfile, built with each service's arguments); and the environment
compose declares is exercised by starting the three services with it and the image's command, hosts mapped
to loopback (`nats` -> a nats-server on the deployed nats.conf and its users, `postgres` -> a fresh test database,
each port -> a free one).
"""

from __future__ import annotations

import copy
import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import jsonschema
import jwt
import pytest
import yaml
from test_nats_security import deployed_nats

from airside_tools.processes import NatsServer, ServiceProcess, free_port, nats_server_binary, wait_until

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
SCHEMA_FILE = ROOT / "tests" / "schemas" / "compose-spec.json"
NATS_CONFIG_DIR = ROOT / "deploy" / "nats"
DOCKERFILE = "Dockerfile"

SERVICES = {"booking": 8001, "lounge": 8002, "callcenter": 8003}
RELAYS = {f"{name}-relay": name for name in SERVICES}  # each service's outbox relay, in a container of its own
RELAY_PORT = 8100
CLUSTER_NODES = {"nats-1", "nats-2", "nats-3"}
SHARED_ENV = {
    "AIRSIDE_ENV",
    "AIRSIDE_NATS_URL",
    "AIRSIDE_JWT_SECRET_FILE",
    "AIRSIDE_LOG_LEVEL",
    "AIRSIDE_CORS_ORIGINS",
    "AIRSIDE_STREAM_REPLICAS",
    "AIRSIDE_STREAM_MAX_AGE_DAYS",
    "AIRSIDE_RELAY",
}
TEST_SECRET = "compose-test-secret-0123456789abcdef0123456789abcdef"
NATS_USERS = (*SERVICES, "airline")  # deploy/nats/auth.conf
NATS_PASSWORDS = {f"{user.upper()}_NATS_PASSWORD": f"compose-test-{user}-nats-password" for user in NATS_USERS}
REQUIRED = {"AIRSIDE_JWT_SECRET": TEST_SECRET, **NATS_PASSWORDS}
NATS_AUTH = NATS_CONFIG_DIR / "auth.conf"  # included by every node's config, not a server's config itself
CLUSTER_URL = "nats://nats-1:4222,nats://nats-2:4222,nats://nats-3:4222"
SECRETS_DIR = "/run/secrets/"  # where Compose mounts a service's secrets
# What a service may be given only as a file: the variables naming the value itself must be absent.
SECRET_SETTINGS = ("AIRSIDE_JWT_SECRET", "AIRSIDE_NATS_PASSWORD")


# --- Compose variable interpolation, as `docker compose` does it -----------------------------------------


class InterpolationError(ValueError):
    pass


_VARIABLE = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<braced>[^}]*)\}|(?P<named>[A-Za-z_][A-Za-z0-9_]*))")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def interpolate_text(text: str, env: dict[str, str]) -> str:
    """$$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, ${VAR:+alt}, ${VAR+alt}."""

    def replace(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        if match["named"]:
            return env.get(match["named"], "")
        expression = match["braced"]
        name_match = _NAME.match(expression)
        if name_match is None:
            raise InterpolationError(f"invalid interpolation: ${{{expression}}}")
        name, rest = name_match.group(), expression[name_match.end() :]
        value = env.get(name)
        if not rest:
            return value or ""
        operator = next((op for op in (":-", ":?", ":+", "-", "?", "+") if rest.startswith(op)), None)
        if operator is None:
            raise InterpolationError(f"invalid interpolation: ${{{expression}}}")
        argument = rest[len(operator) :]
        missing = not value if operator.startswith(":") else value is None
        if operator.endswith("-"):
            return interpolate_text(argument, env) if missing else value  # type: ignore[return-value]
        if operator.endswith("?"):
            if missing:
                raise InterpolationError(f"required variable {name} is missing a value: {argument}")
            return value  # type: ignore[return-value]
        return "" if missing else interpolate_text(argument, env)

    return _VARIABLE.sub(replace, text)


def interpolate(node: Any, env: dict[str, str]) -> Any:
    """Every string value of the document (keys are not interpolated, as in Compose)."""
    if isinstance(node, str):
        return interpolate_text(node, env)
    if isinstance(node, dict):
        return {key: interpolate(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate(value, env) for value in node]
    return node


def secret_files(compose: dict[str, Any], name: str) -> dict[str, str]:
    """The service's `<VARIABLE>_FILE` settings that name one of its Compose secrets: variable -> secret."""
    files = {}
    for variable, value in environment_of(compose["services"][name]).items():
        if variable.endswith("_FILE") and value.startswith(SECRETS_DIR):
            files[variable] = value.removeprefix(SECRETS_DIR)
    return files


def environment_of(service: dict[str, Any]) -> dict[str, str]:
    declared = service.get("environment") or {}
    if isinstance(declared, list):
        declared = dict(item.split("=", 1) if "=" in item else (item, "") for item in declared)
    return {key: "" if value is None else str(value) for key, value in declared.items()}


# --- helpers -------------------------------------------------------------------------------------------------


def schema_errors(document: dict[str, Any]) -> list[jsonschema.ValidationError]:
    schema = json.loads(SCHEMA_FILE.read_text())
    return list(jsonschema.Draft7Validator(schema).iter_errors(document))


def uncommented(text: str) -> str:
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def volume_mounts(service: dict[str, Any]) -> list[tuple[str, str]]:
    mounts = []
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            mounts.append((str(volume.get("source", "")), str(volume["target"])))
        else:
            source, target = volume.split(":")[:2]
            mounts.append((source, target))
    return mounts


def is_named_volume(source: str) -> bool:
    return bool(source) and not source.startswith((".", "/", "~", "$"))


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    instructions, current = [], ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        keyword, _, rest = (current + stripped).partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        current = ""
    return instructions


@dataclass
class Image:
    """A service's image as `docker compose build` makes it: the one Dockerfile's instructions, its build arguments in place."""

    service: str
    instructions: list[tuple[str, str]]

    @property
    def env(self) -> dict[str, str]:
        return dict(item.split("=", 1) for keyword, value in self.instructions if keyword == "ENV" for item in shlex.split(value))

    @property
    def service_env(self) -> dict[str, str]:
        """What the image sets for the service to run; PATH points into the image's own virtualenv, meaningless here."""
        return {key: value for key, value in self.env.items() if key != "PATH"}

    @property
    def cmd(self) -> list[str]:
        return json.loads(dict(self.instructions)["CMD"])

    @property
    def healthcheck_code(self) -> str:
        test = json.loads(dict(self.instructions)["HEALTHCHECK"].split(" CMD ", 1)[1])
        assert test[:2] == ["python", "-c"], test
        return test[2]


def image_of(compose: dict[str, Any], name: str) -> Image:
    build = compose["services"][name]["build"]
    declared: dict[str, str] = {}

    def substitute(match: re.Match[str]) -> str:
        variable = match["braced"] or match["named"]
        return declared.get(variable, match[0])  # $PATH and the like are the base image's, left alone

    instructions = []
    for keyword, value in dockerfile_instructions(ROOT / build["context"] / build["dockerfile"]):
        if keyword == "ARG":
            variable = value.split("=", 1)[0]
            declared[variable] = build["args"][variable]
        elif keyword != "CMD":  # exec-form CMD is not substituted by Docker
            value = _VARIABLE.sub(substitute, value)
        instructions.append((keyword, value))
    return Image(name, instructions)


class ImageProcess(ServiceProcess):
    """A service started as its image starts it: the image's CMD and ENV, on loopback and a free port."""

    def __init__(self, image: Image, port: int, env: dict[str, str], log_file: Path) -> None:
        super().__init__(image.service, port, {**env, **image.service_env, "UVICORN_PORT": str(port)}, log_file)
        self.image = image

    def command(self) -> list[str]:
        program, *options = self.image.cmd
        assert options[:2] == ["--host", "0.0.0.0"], options
        return [sys.executable, "-m", program, "--host", self.host, *options[2:]]


def run_image_healthcheck(image: Image, local_port: int) -> int:
    """Run the image's HEALTHCHECK here, with the image's environment and the service's local port."""
    env = {**os.environ, **image.service_env, "UVICORN_PORT": str(local_port)}
    return subprocess.run([sys.executable, "-c", image.healthcheck_code], env=env, capture_output=True, timeout=20).returncode


def dockerignore_patterns() -> list[re.Pattern[str]]:
    patterns = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        assert not pattern.startswith("!"), "negated .dockerignore patterns are not modelled by this test"
        regex, i = "", 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                regex, i = regex + "(?:.*/)?", i + 3
            elif pattern[i] == "*":
                regex, i = regex + "[^/]*", i + 1
            elif pattern[i] == "?":
                regex, i = regex + "[^/]", i + 1
            elif pattern[i] == "[":
                end = pattern.index("]", i)
                regex, i = regex + pattern[i : end + 1], end + 1
            else:
                regex, i = regex + re.escape(pattern[i]), i + 1
        patterns.append(re.compile(regex + r"\Z"))
    return patterns


def excluded_from_build_context(relative: str, patterns: list[re.Pattern[str]]) -> bool:
    """A path is left out when a pattern matches it or one of its parent folders."""
    parts = relative.split("/")
    return any(pattern.match("/".join(parts[:depth])) for pattern in patterns for depth in range(1, len(parts) + 1))


def token(secret: str) -> str:
    now = int(time.time())
    claims = {
        "sub": "compose-test",
        "roles": ["admin"],
        "stations": ["*"],
        "iss": "airside",
        "aud": "airside",
        "iat": now,
        "exp": now + 300,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def run_healthcheck(test: list[str], port: int, local_port: int) -> int:
    """Run a service's `CMD python -c ...` healthcheck here, against the service's local port."""
    assert test[:3] == ["CMD", "python", "-c"], test
    code = test[3]
    target = f"127.0.0.1:{port}/readyz"
    assert code.count(target) == 1, code
    return subprocess.run(
        [sys.executable, "-c", code.replace(target, f"127.0.0.1:{local_port}/readyz")], capture_output=True, timeout=20
    ).returncode


# --- fixtures ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose_text() -> str:
    return COMPOSE_FILE.read_text()


@pytest.fixture(scope="module")
def compose_raw(compose_text: str) -> dict[str, Any]:
    return yaml.safe_load(compose_text)


@pytest.fixture(scope="module")
def compose(compose_raw: dict[str, Any]) -> dict[str, Any]:
    """The file as `docker compose` sees it with only the required secrets set: every other value at its default."""
    return interpolate(compose_raw, REQUIRED)


@pytest.fixture
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """The services get os.environ plus what we pass: drop any Airside setting of this shell, so compose's env is all they see."""
    for key in list(os.environ):
        if (key.startswith("AIRSIDE_") and not key.startswith("AIRSIDE_TEST_")) or key.startswith(("BOOKING_", "LOUNGE_", "CALLCENTER_")):
            monkeypatch.delenv(key)


# --- 1. the Compose Specification ---------------------------------------------------------------------------


def test_compose_file_is_valid_against_the_compose_specification(compose_raw, compose):
    assert schema_errors(compose_raw) == []
    assert schema_errors(compose) == []


def test_schema_validation_catches_a_broken_file(compose_raw):
    broken = copy.deepcopy(compose_raw)
    broken["services"]["booking"]["depends_on"]["nats"]["condition"] = "nonsense"
    errors = schema_errors(broken)
    assert errors, "a depends_on condition outside the enum must be rejected"
    assert any("depends_on" in error.absolute_path for error in errors)

    misspelt = copy.deepcopy(compose_raw)
    misspelt["services"]["lounge"]["healthchek"] = misspelt["services"]["lounge"].pop("healthcheck")
    assert schema_errors(misspelt), "an unknown service key must be rejected"


def test_interpolation_fails_loudly_without_the_jwt_secret_or_a_nats_password(compose_raw):
    for missing in REQUIRED:
        with pytest.raises(InterpolationError, match=missing):
            interpolate(compose_raw, {name: value for name, value in REQUIRED.items() if name != missing})
    assert compose_raw["x-required-secrets"] == ["${AIRSIDE_JWT_SECRET:?set AIRSIDE_JWT_SECRET}"], "the services read it from a file"


# --- 2. what the deployment asks of the file --------------------------------------------------------------------


def test_the_deployed_set_has_every_service(compose):
    assert {"nats", "postgres", *SERVICES, *RELAYS, "gateway"} <= set(compose["services"])


@pytest.mark.parametrize(("name", "port"), SERVICES.items())
def test_each_app_service_is_built_checked_and_configured(compose, name, port):
    service = compose["services"][name]
    assert service["build"] == {"context": ".", "dockerfile": DOCKERFILE, "args": {"SERVICE": name, "PORT": str(port)}}
    assert (ROOT / DOCKERFILE).is_file()

    assert service["restart"] in {"always", "unless-stopped"} or service["restart"].startswith("on-failure")
    assert {dependency: spec["condition"] for dependency, spec in service["depends_on"].items()} == {
        "nats": "service_healthy",
        "postgres": "service_healthy",
    }
    assert f"http://127.0.0.1:{port}/readyz" in " ".join(service["healthcheck"]["test"])
    assert str(port) in [str(exposed) for exposed in service.get("expose", [])]

    env = environment_of(service)
    prefix = name.upper()
    assert {*SHARED_ENV, f"{prefix}_DATABASE_URL", f"{prefix}_PORT"} <= set(env)
    assert env["AIRSIDE_ENV"] == "production"
    assert secret_files(compose, name)["AIRSIDE_JWT_SECRET_FILE"] == "airside_jwt_secret"
    assert env[f"{prefix}_PORT"] == str(port), "the documented port"
    assert env["AIRSIDE_STREAM_REPLICAS"] == "1"
    assert env["AIRSIDE_RELAY"] == "external", "its relay service publishes its outbox, never a request worker"
    assert [urlsplit(url).hostname for url in env["AIRSIDE_NATS_URL"].split(",")] == ["nats"]

    database = urlsplit(env[f"{prefix}_DATABASE_URL"])
    assert database.scheme == "postgresql"
    assert (database.hostname, database.port, database.path) == ("postgres", 5432, f"/{name}"), "its own database on `postgres`"
    assert database.username == name, "its own role"


@pytest.mark.parametrize(("relay", "name"), RELAYS.items())
def test_each_service_has_its_relay_in_a_process_of_its_own(compose, relay, name):
    """The service's image and environment, `airside relay <service>` instead of uvicorn, started once the
    service is healthy (it migrates the database the relay reads), and probed on its own port."""
    service, relayed = compose["services"][name], compose["services"][relay]
    assert relayed["build"] == service["build"], "the service's own image"
    assert relayed["command"] == ["airside", "relay", name]
    assert environment_of(relayed) == environment_of(service), "the service's database, NATS and settings"
    assert {dependency: spec["condition"] for dependency, spec in relayed["depends_on"].items()} == {
        name: "service_healthy",
        "nats": "service_healthy",
        "postgres": "service_healthy",
    }
    # Its own healthcheck: the image's probes uvicorn's port, where a relay serves nothing.
    assert f"http://127.0.0.1:{RELAY_PORT}/readyz" in " ".join(relayed["healthcheck"]["test"])
    assert str(RELAY_PORT) in [str(exposed) for exposed in relayed.get("expose", [])]
    assert relayed["restart"] in {"always", "unless-stopped"}
    assert relayed["stop_grace_period"] == service["stop_grace_period"], "time to publish and mark the batch in hand"
    assert "profiles" not in relayed


def test_infrastructure_services_are_checked_restarted_and_persistent(compose):
    services = compose["services"]
    for name in ("nats", "postgres", "gateway", *CLUSTER_NODES):
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        assert services[name].get("restart") in {"always", "unless-stopped"}, name
    for name in ("nats", "postgres", "gateway", *SERVICES):
        assert "profiles" not in services[name], f"{name} must run without a profile"

    image, _, tag = services["nats"]["image"].partition(":")
    version = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", tag)
    assert image == "nats" and version, services["nats"]["image"]
    major, minor, patch = version.groups()
    if patch is None:  # a floating minor tag gets the newest patch release
        assert (int(major), int(minor)) >= (2, 12)
    else:
        assert (int(major), int(minor), int(patch)) >= (2, 12, 3), "docs/pitfalls.md: nats-server 2.12.3 or newer"

    assert ("./deploy/nats/nats.conf", "/etc/nats/nats-server.conf") in volume_mounts(services["nats"])
    assert "--config" in services["nats"]["command"]
    assert [target for source, target in volume_mounts(services["nats"]) if is_named_volume(source)] == ["/data"]
    assert "store_dir: /data/" in (NATS_CONFIG_DIR / "nats.conf").read_text(), "JetStream stores on the named volume"
    assert [target for source, target in volume_mounts(services["postgres"]) if is_named_volume(source)] == ["/var/lib/postgresql/data"]

    gateway_port = services["gateway"]["ports"][0]
    assert str(gateway_port).endswith(":80")


def test_named_volumes_are_declared_and_not_shared(compose):
    declared = set(compose.get("volumes") or {})
    owners: dict[str, str] = {}
    for name, service in compose["services"].items():
        for source, _target in volume_mounts(service):
            if is_named_volume(source):
                assert source in declared, f"{name} mounts undeclared volume {source}"
                assert source not in owners, f"{source} is mounted by both {owners[source]} and {name}"
                owners[source] = name
            else:
                assert (ROOT / source).exists(), f"{name} mounts {source}, which is not in the repository"
    for name in ("nats", "postgres", *CLUSTER_NODES):
        assert name in owners.values(), f"{name} keeps its data on no named volume"
    assert set(owners) == declared, "every declared volume is used"


def test_postgres_init_script_creates_each_services_role_and_database(compose_raw):
    services = compose_raw["services"]
    mounts = dict((target, source) for source, target in volume_mounts(services["postgres"]))
    init_scripts = [source for target, source in mounts.items() if target.startswith("/docker-entrypoint-initdb.d/")]
    assert len(init_scripts) == 1
    script = uncommented((ROOT / init_scripts[0]).read_text())
    password_env = dict(re.findall(r"^\\getenv\s+(\w+)\s+(\w+)\s*$", script, re.M))  # psql variable -> environment variable
    roles = dict(re.findall(r"CREATE ROLE (\w+) LOGIN PASSWORD :'(\w+)'", script))  # role -> psql variable
    databases = dict(re.findall(r"CREATE DATABASE (\w+) OWNER (\w+)", script))  # database -> owner
    assert set(roles) == set(SERVICES)
    assert databases == {name: name for name in SERVICES}

    # The password the init script gives each role is the one in the service's URL, defaults or not.
    for env in (
        REQUIRED,
        {**REQUIRED, **{f"{n.upper()}_DB_PASSWORD": f"pw-{n}" for n in SERVICES}},
    ):
        interpolated = interpolate(compose_raw, env)
        postgres_env = environment_of(interpolated["services"]["postgres"])
        for name in SERVICES:
            url = urlsplit(environment_of(interpolated["services"][name])[f"{name.upper()}_DATABASE_URL"])
            assert postgres_env[password_env[roles[name]]] == url.password, name


def test_cluster_profile_runs_three_routed_jetstream_nodes(compose_raw, compose_text):
    services = interpolate(compose_raw, REQUIRED)["services"]
    in_cluster = {name for name, service in services.items() if "cluster" in service.get("profiles", [])}
    assert in_cluster == CLUSTER_NODES

    server_names = set()
    for name in sorted(CLUSTER_NODES):
        mounts = dict((target, source) for source, target in volume_mounts(services[name]))
        config = uncommented((ROOT / mounts["/etc/nats/nats-server.conf"]).read_text())
        server_names.add(re.search(r"^server_name:\s*(\S+)", config, re.M).group(1))
        routes = set(re.findall(r"nats-route://([\w.-]+):(\d+)", config))
        cluster_port = re.search(r"cluster\s*\{[^}]*?listen:\s*\S+:(\d+)", config).group(1)
        assert routes == {(node, cluster_port) for node in CLUSTER_NODES}, name
        assert re.search(r"jetstream\s*\{[^}]*\bsync_interval:\s*always\b", config), name
    assert len(server_names) == 3, "each node needs its own server_name"

    # The header documents how the services are pointed at the cluster; that environment reaches every service.
    assert f"AIRSIDE_NATS_URL={CLUSTER_URL} AIRSIDE_STREAM_REPLICAS=3" in compose_text
    clustered = interpolate(compose_raw, {**REQUIRED, "AIRSIDE_NATS_URL": CLUSTER_URL, "AIRSIDE_STREAM_REPLICAS": "3"})
    for name in SERVICES:
        env = environment_of(clustered["services"][name])
        assert env["AIRSIDE_STREAM_REPLICAS"] == "3"
        nodes = [urlsplit(url) for url in env["AIRSIDE_NATS_URL"].split(",")]
        assert {(node.hostname, node.port) for node in nodes} == {(node, 4222) for node in CLUSTER_NODES}


def test_gateway_serves_the_three_services_on_one_origin(compose):
    gateway = compose["services"]["gateway"]
    assert gateway["image"].startswith("nginx:")
    assert {dependency: spec["condition"] for dependency, spec in gateway["depends_on"].items()} == dict.fromkeys(
        SERVICES, "service_healthy"
    )
    mounts = dict((target, source) for source, target in volume_mounts(gateway))
    config = uncommented((ROOT / mounts["/etc/nginx/conf.d/default.conf"]).read_text())
    server_level = config.split("location", 1)[0]
    assert re.search(r"proxy_set_header\s+X-Correlation-ID\s+\$\w+;", server_level)
    assert re.search(r"proxy_set_header\s+traceparent\s+\$http_traceparent;", server_level)
    assert "proxy_set_header" not in config.split("location", 1)[1], "a location with its own proxy_set_header drops the inherited ones"
    for name, port in SERVICES.items():
        block = re.search(rf"location ~ \^/{name}/\(([^)]*)\)\$ \{{([^}}]*)\}}", config)
        assert block, name
        public = {
            "v1/.*",
            "docs",
            r"openapi\.json",
            r"asyncapi\.json",
            r"schemas/events/[^/]+/[^/]+\.json",
            "console",
            "console/[a-z0-9.-]*",
        }
        assert set(block.group(1).split("|")) == public, f"{name}: public routes only"
        assert re.search(rf"set \$(\w+) {name}:{port};", block.group(2)), name
        assert f"rewrite ^/{name}/(.*)$ /$1 break;" in block.group(2), f"{name}: the prefix is stripped"
        assert "proxy_pass http://$" in block.group(2)


def test_gateway_keeps_metrics_and_ops_inside_the_deployment(compose):
    """Static twin of tests/test_gateway.py, which runs the real nginx on this config."""
    mounts = dict((target, source) for source, target in volume_mounts(compose["services"]["gateway"]))
    config = uncommented((ROOT / mounts["/etc/nginx/conf.d/default.conf"]).read_text())
    locations = re.findall(r"location\s+([^{]*?)\s*\{", config)
    # Only exact or regular-expression locations: a prefix location (`location /booking/`) serves all a service has.
    assert all(location.startswith(("=", "~ ")) or location == "/" for location in locations), locations
    proxied = [location for location in locations if location.startswith("~ ^/") and "v1/.*" in location]
    assert len(proxied) == len(SERVICES)
    # Regular expressions are tried in order: the ops refusal first, for every service.
    ops = locations.index(r"~ ^/(booking|lounge|callcenter)/v1/ops(/|$)")
    assert ops < min(locations.index(location) for location in proxied)
    assert re.search(r"v1/ops\(/\|\$\) \{[^}]*return 404", config)
    for hidden in ("metrics", "readyz", "healthz", "v1/ops"):
        assert not any(hidden in location for location in proxied), hidden


def test_gateway_logs_paths_without_query_strings(compose):
    mounts = dict((target, source) for source, target in volume_mounts(compose["services"]["gateway"]))
    config = uncommented((ROOT / mounts["/etc/nginx/conf.d/default.conf"]).read_text())
    formats = dict(re.findall(r"log_format\s+(\w+)\s+(?:escape=\w+\s+)?([^;]*);", config))
    used = re.findall(r"access_log\s+\S+\s+(\w+)\s*;", config)
    assert used and set(used) <= set(formats)
    maps = {target: (source, body) for source, target, body in re.findall(r"map\s+\$(\w+)\s+\$(\w+)\s*\{([^}]*)\}", config)}
    with_query = {"request", "request_uri", "args", "query_string", "is_args"}
    for name in used:
        for variable in re.findall(r"\$(\w+)", formats[name]):
            assert variable not in with_query and not variable.startswith("arg_"), f"{name} logs ${variable}, query string and all"
            source, body = maps.get(variable, (None, ""))
            if source in with_query:  # a map over the request line must keep only what precedes the "?"
                assert re.fullmatch(r'\s*"~\^\(\?<(\w+)>\[\^\?\]\*\)"\s+\$\1;\s*', body), (variable, body)


# --- 3. the NATS configs, by the real server ---------------------------------------------------------------------


def test_every_nats_config_parses_with_the_real_server(compose, tmp_path):
    configs = sorted(config for config in NATS_CONFIG_DIR.glob("*.conf") if config != NATS_AUTH)
    mounted = {
        (ROOT / source).resolve()
        for service in compose["services"].values()
        for source, target in volume_mounts(service)
        if target == "/etc/nats/nats-server.conf"
    }
    assert mounted == {config.resolve() for config in configs}, "each NATS config in deploy/ is used by one node and vice versa"
    for config in configs:
        checked = subprocess.run(
            [nats_server_binary(), "-c", str(config), "-t"],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, **NATS_PASSWORDS},
        )
        assert checked.returncode == 0, f"{config.name}: {checked.stdout}{checked.stderr}"
        assert "is valid" in checked.stdout + checked.stderr
        assert re.search(r"jetstream\s*\{[^}]*\bsync_interval:\s*always\b", uncommented(config.read_text())), config.name

    # A node started without a user's password refuses to run rather than letting that user in unchecked.
    for missing in NATS_PASSWORDS:
        env = {name: value for name, value in {**os.environ, **NATS_PASSWORDS}.items() if name != missing}
        checked = subprocess.run([nats_server_binary(), "-c", str(configs[0]), "-t"], capture_output=True, text=True, timeout=30, env=env)
        assert checked.returncode != 0 and missing in checked.stderr, checked.stderr

    broken = tmp_path / "broken.conf"
    broken.write_text((NATS_CONFIG_DIR / "nats.conf").read_text().replace("sync_interval: always", "sync_interval: sometimes"))
    (tmp_path / "auth.conf").symlink_to(NATS_AUTH)
    checked = subprocess.run(
        [nats_server_binary(), "-c", str(broken), "-t"], capture_output=True, text=True, timeout=30, env={**os.environ, **NATS_PASSWORDS}
    )
    assert checked.returncode != 0 and "sync_interval" in checked.stderr, (
        "nats-server -t must reject a bad value, or this check proves nothing"
    )


def test_every_nats_node_enforces_the_same_users_and_partners_reach_nats(compose, compose_raw):
    """Each node includes the one auth file mounted beside its config and gets every password; each service
    and its relay log in as the service's user with its own password; NATS is published for airline systems."""
    services = compose["services"]
    auth = uncommented(NATS_AUTH.read_text())
    assert sorted(re.findall(r"\{\s*user:\s*(\w+),\s*password:\s*\$(\w+),", auth)) == sorted(
        (user, f"{user.upper()}_NATS_PASSWORD") for user in NATS_USERS
    )
    assert "no_auth_user" not in auth, "no anonymous access"
    for name in ("nats", *CLUSTER_NODES):
        mounts = dict((target, source) for source, target in volume_mounts(services[name]))
        assert mounts["/etc/nats/auth.conf"] == "./deploy/nats/auth.conf", name
        assert re.search(r"^include \./auth\.conf$", uncommented((ROOT / mounts["/etc/nats/nats-server.conf"]).read_text()), re.M), name
        assert {key: value for key, value in environment_of(services[name]).items() if key in NATS_PASSWORDS} == NATS_PASSWORDS, name
        assert all(value.startswith(f"${{{key}:?") for key, value in environment_of(compose_raw["services"][name]).items()), (
            "no password committed"
        )
    for name in (*SERVICES, *RELAYS):
        user = RELAYS.get(name, name)
        env, declared = environment_of(services[name]), environment_of(compose_raw["services"][name])
        assert env["AIRSIDE_NATS_USER"] == user, name
        # Its own user's password, as the secret file made from the variable nats-server reads it from.
        password = secret_files(compose, name)["AIRSIDE_NATS_PASSWORD_FILE"]
        assert compose["secrets"][password] == {"environment": f"{user.upper()}_NATS_PASSWORD"}, name
        assert not any(value.startswith("${") and "NATS_PASSWORD" in value for value in declared.values()), "no password in the environment"
    assert [str(port) for port in services["nats"]["ports"]] == ["4222:4222"]


# --- production options ------------------------------------------------------------------------------------


def test_secrets_reach_the_services_as_files_never_their_environment(compose):
    """Every secret a service or relay needs is a `<VARIABLE>_FILE` naming a secret it mounts, made from the
    required variable of that name; the plain variable is absent (both set is refused by the settings)."""
    declared = compose["secrets"]
    used = set()
    for name in (*SERVICES, *RELAYS):
        env, files = environment_of(compose["services"][name]), secret_files(compose, name)
        assert {f"{setting}_FILE" for setting in SECRET_SETTINGS} <= set(files), name
        assert not set(SECRET_SETTINGS) & set(env), f"{name}: a secret in the environment"
        assert set(files.values()) == set(compose["services"][name]["secrets"]), f"{name} mounts exactly the secrets it reads"
        used |= set(files.values())
    assert set(declared) == used, "every declared secret is read by someone"
    for secret, source in declared.items():
        assert set(source) == {"environment"} and source["environment"] in REQUIRED, secret


def test_every_container_is_limited_rotates_its_logs_and_runs_read_only(compose):
    for name, service in compose["services"].items():
        limits = service.get("deploy", {}).get("resources", {}).get("limits", {})
        assert {"cpus", "memory"} <= set(limits), f"{name}: CPU and memory limits"
        reservations = service["deploy"]["resources"].get("reservations", {})
        assert float(reservations["cpus"]) <= float(limits["cpus"]), name
        logging = service.get("logging", {})
        assert logging.get("driver") == "json-file" and {"max-size", "max-file"} <= set(logging.get("options", {})), f"{name}: rotated logs"
        assert service.get("read_only") is True, f"{name}: read-only root filesystem"
        writable = {target for _source, target in volume_mounts(service)} | set(service.get("tmpfs", []))
        if name in SERVICES or name in RELAYS or name == "gateway":
            assert "/tmp" in writable, name
    assert {"/var/cache/nginx", "/run"} <= set(compose["services"]["gateway"]["tmpfs"]), "nginx's pid file and proxy buffers"
    assert "/var/run/postgresql" in compose["services"]["postgres"]["tmpfs"], "the server's socket and lock file"


# --- the images ------------------------------------------------------------------------------------------------


def test_every_service_is_built_from_the_one_dockerfile_with_its_own_arguments(compose):
    dockerfiles = []
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [sub for sub in subfolders if not sub.startswith(".") and sub != "node_modules"]
        dockerfiles += [(Path(folder) / file).relative_to(ROOT).as_posix() for file in files if "dockerfile" in file.lower()]
    assert dockerfiles == [DOCKERFILE]
    builds = {name: compose["services"][name]["build"] for name in SERVICES}
    assert {name: build["args"] for name, build in builds.items()} == {
        name: {"SERVICE": name, "PORT": str(port)} for name, port in SERVICES.items()
    }
    assert len({json.dumps({**build, "args": None}) for build in builds.values()}) == 1, "only the arguments differ"

    instructions = dockerfile_instructions(ROOT / DOCKERFILE)
    arguments = [index for index, (keyword, _) in enumerate(instructions) if keyword == "ARG"]
    assert [instructions[index][1] for index in arguments] == ["SERVICE", "PORT"], "no defaults: a build must name its service"
    dependencies = next(index for index, (keyword, value) in enumerate(instructions) if keyword == "RUN" and "requirements.txt" in value)
    assert dependencies < min(arguments), "the third-party layer comes before the arguments, so the three images share it"


@pytest.mark.parametrize(("name", "port"), SERVICES.items())
def test_dockerfile_runs_the_service_as_the_tests_do(compose, name, port):
    image = image_of(compose, name)
    instructions = image.instructions
    keywords = [keyword for keyword, _ in instructions]
    assert instructions[0] == ("FROM", "python:3.11-slim")

    # uvicorn takes the app and the port from UVICORN_APP and UVICORN_PORT (its own environment
    # options); the command is exec form, so uvicorn is PID 1 and gets the SIGTERM that drains it.
    assert (image.env["UVICORN_APP"], image.env["UVICORN_PORT"]) == (f"{name}.main:app", str(port))
    cmd = image.cmd
    assert cmd == [
        "uvicorn",
        "--host",
        "0.0.0.0",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--timeout-graceful-shutdown",
        "10",
    ]
    # The tests start services with ServiceProcess, whose command must be the image's, bar host and port.
    local = ServiceProcess(name, port, {}, Path("unused.log")).command()
    assert local[1:3] == ["-m", "uvicorn"]
    assert local[3:] == [image.env["UVICORN_APP"], "--host", "127.0.0.1", "--port", str(port), *cmd[3:]]

    users = [index for index, keyword in enumerate(keywords) if keyword == "USER"]
    assert users, "the image must not run as root"
    user = instructions[users[-1]][1].split(":")[0]
    assert user not in {"root", "0"}
    assert users[-1] > max(index for index, keyword in enumerate(keywords) if keyword == "RUN"), "USER comes after the last RUN"

    runs = " ".join(value for keyword, value in instructions if keyword == "RUN")
    assert f"pip install -c constraints.txt -e shared -e services/{name}" in runs
    assert str(port) in dict(instructions)["EXPOSE"].split()
    assert "/readyz" in image.healthcheck_code  # run against the service in test_services_start_with_the_environment_compose_declares

    patterns = dockerignore_patterns()
    for keyword, value in instructions:
        if keyword == "COPY":
            *sources, _destination = value.split()
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
                assert not excluded_from_build_context(source, patterns), f"COPY {source}: excluded by .dockerignore"


def test_dockerignore_keeps_what_the_images_need_and_drops_the_rest():
    patterns = dockerignore_patterns()
    needed = ["constraints.txt", "shared/pyproject.toml", "shared/airside/app.py", "shared/airside/asyncapi.json"]
    for name in SERVICES:
        needed += [
            f"services/{name}/pyproject.toml",
            f"services/{name}/alembic.ini",
            f"services/{name}/alembic/env.py",
            f"services/{name}/{name}/main.py",
        ]
    for path in needed:
        assert (ROOT / path).exists(), path
        assert not excluded_from_build_context(path, patterns), path
    for path in [
        ".git/HEAD",
        ".venv/bin/python",
        ".data/booking.db",
        "services/booking/tests/conftest.py",
        "shared/airside_shared.egg-info/PKG-INFO",
        "tools/airside_tools/testing/plugin.py",
    ]:
        assert excluded_from_build_context(path, patterns), path


# --- 4. the declared environment, exercised ------------------------------------------------------------------------


def local_environment(
    compose: dict[str, Any],
    name: str,
    port: int,
    *,
    nats_url: str,
    database_url: str,
    local_port: int,
    secrets_dir: Path,
    entry: str | None = None,
) -> dict[str, str]:
    """The service's environment from compose (or its relay's, `entry`), with `nats`, `postgres` and the port
    mapped to this machine, and its secrets written to files as Compose mounts them (from the required variables)."""
    env = environment_of(compose["services"][entry or name])
    secrets_dir.mkdir(parents=True, exist_ok=True)
    for variable, secret in secret_files(compose, entry or name).items():
        (secrets_dir / secret).write_text(REQUIRED[compose["secrets"][secret]["environment"]] + "\n")
        env[variable] = str(secrets_dir / secret)
    prefix = name.upper()
    assert env[f"{prefix}_PORT"] == str(port)
    declared_db = urlsplit(env[f"{prefix}_DATABASE_URL"])
    assert (declared_db.scheme, declared_db.hostname, declared_db.path) == ("postgresql", "postgres", f"/{name}")
    assert all(urlsplit(url).hostname == "nats" for url in env["AIRSIDE_NATS_URL"].split(","))
    mapped = {**env, "AIRSIDE_NATS_URL": nats_url, f"{prefix}_DATABASE_URL": database_url, f"{prefix}_PORT": str(local_port)}
    if database_url.startswith("sqlite"):
        # A run without PostgreSQL: SQLite has one process per service, which relays its own outbox.
        mapped["AIRSIDE_RELAY"] = "in_process"
    return mapped


class RelayImageProcess(ServiceProcess):
    """A relay started as compose starts it: the service's image, compose's command, its probes on a free port."""

    def __init__(self, compose: dict[str, Any], relay: str, port: int, env: dict[str, str], log_file: Path) -> None:
        image = image_of(compose, RELAYS[relay])
        super().__init__(relay, port, {**env, **image.service_env, "AIRSIDE_RELAY_PORT": str(port)}, log_file)
        self.compose_command = compose["services"][relay]["command"]

    def command(self) -> list[str]:
        program, *arguments = self.compose_command
        return [str(Path(sys.executable).parent / program), *arguments]


@pytest.fixture
def started() -> Iterator[list[ServiceProcess]]:
    processes: list[ServiceProcess] = []
    try:
        yield processes
    finally:
        for process in processes:
            process.stop()


def wait_for_nats(url: str, timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = httpx.get(f"{url}/readyz", timeout=5)
        body = response.json()
        if (response.status_code == 200 and body.get("nats") == "connected") or time.monotonic() > deadline:
            return {"status_code": response.status_code, **body}
        time.sleep(0.2)


@pytest.fixture
def secured_nats(tmp_path: Path) -> Iterator[NatsServer]:
    """The deployed NATS configuration with the passwords compose was given: the services must log in as compose declares."""
    passwords = {user: NATS_PASSWORDS[f"{user.upper()}_NATS_PASSWORD"] for user in NATS_USERS}
    with deployed_nats(tmp_path / "nats", passwords=passwords) as server:
        yield server


def test_services_start_with_the_environment_compose_declares(compose, secured_nats, databases, tmp_path, clean_environ, started):
    local_ports = {}
    for name, port in SERVICES.items():
        local_ports[name] = free_port()
        env = local_environment(
            compose,
            name,
            port,
            nats_url=secured_nats.url,
            database_url=databases.create(f"compose_{name}"),
            local_port=local_ports[name],
            secrets_dir=tmp_path / "secrets" / name,
        )
        started.append(ImageProcess(image_of(compose, name), local_ports[name], env, tmp_path / "logs" / f"{name}.log").start())
    for process in started:
        process.wait_ready(60)

    for process in started:
        name, port = process.name, SERVICES[process.name]
        ready = wait_for_nats(process.url)
        assert ready["status_code"] == 200, ready
        assert (ready["service"], ready["database"], ready["nats"]) == (name, "ok", "connected"), ready

        # Production mode, with the declared secret: no token, or one signed with another secret, is 401 problem+json.
        anonymous = httpx.get(f"{process.url}/v1/members/x", timeout=5)
        assert anonymous.status_code == 401, (name, anonymous.text)
        assert anonymous.headers["content-type"].startswith("application/problem+json")
        assert anonymous.json()["status"] == 401
        forged = httpx.get(
            f"{process.url}/v1/members/x",
            headers={"Authorization": f"Bearer {token('another-secret-of-the-same-length-0123456789abcdef')}"},
            timeout=5,
        )
        assert forged.status_code == 401, name
        signed = httpx.get(f"{process.url}/v1/members/x", headers={"Authorization": f"Bearer {token(TEST_SECRET)}"}, timeout=5)
        # Accepted: an admin asking for a member nobody registered is told it is not there.
        assert (signed.status_code, signed.json()["type"]) == (404, "/problems/not_found"), (name, signed.text)

        # The compose healthcheck and the image's pass against the running service.
        healthcheck = compose["services"][name]["healthcheck"]["test"]
        assert run_healthcheck(healthcheck, port, local_ports[name]) == 0, name
        assert run_image_healthcheck(image_of(compose, name), local_ports[name]) == 0, name

    if databases.kind == "postgresql":
        start_the_relays(compose, secured_nats.url, started, tmp_path)

    for process in reversed(started):
        process.stop()
        if process.name in SERVICES:
            assert run_healthcheck(compose["services"][process.name]["healthcheck"]["test"], SERVICES[process.name], process.port) != 0
            assert run_image_healthcheck(image_of(compose, process.name), process.port) != 0


def start_the_relays(compose: dict[str, Any], nats_url: str, started: list[ServiceProcess], tmp_path: Path) -> None:
    """Each relay beside its running service, with the environment and command compose declares: it leads,
    its healthcheck passes, and what the service committed (its seed's events) gets published."""
    services = {process.name: process for process in started}
    for relay, name in RELAYS.items():
        service = services[name]
        env = local_environment(
            compose,
            name,
            SERVICES[name],
            nats_url=nats_url,
            database_url=service.env[f"{name.upper()}_DATABASE_URL"],
            local_port=service.port,
            secrets_dir=tmp_path / "secrets" / relay,
            entry=relay,
        )
        process = RelayImageProcess(compose, relay, free_port(), env, tmp_path / "logs" / f"{relay}.log").start()
        started.append(process)
        process.wait_ready(60)
        wait_until(lambda url=process.url: outbox_of(url)["relay_leader"], 20, f"{relay} leading")
        assert run_healthcheck(compose["services"][relay]["healthcheck"]["test"], RELAY_PORT, process.port) == 0, relay
        wait_until(lambda url=service.url: outbox_of(url)["pending"] == 0, 20, f"{name}'s outbox published by {relay}")


def outbox_of(url: str) -> dict[str, Any]:
    return httpx.get(f"{url}/readyz", timeout=5).json()["outbox"]


@pytest.mark.parametrize(
    ("case", "change", "said"),
    [
        ("no secret", lambda env: env.pop("AIRSIDE_JWT_SECRET_FILE"), "AIRSIDE_JWT_SECRET must be set"),
        # Both the variable and its file: the service cannot tell which is meant, and says so.
        ("twice", lambda env: env.update(AIRSIDE_JWT_SECRET=TEST_SECRET), "set AIRSIDE_JWT_SECRET or AIRSIDE_JWT_SECRET_FILE, not both"),
        (
            "file not mounted",
            lambda env: env.update(AIRSIDE_JWT_SECRET_FILE="/run/secrets/none"),
            "AIRSIDE_JWT_SECRET_FILE=/run/secrets/none",
        ),
    ],
)
def test_production_refuses_to_start_without_the_secret(
    compose, nats_server, databases, tmp_path, clean_environ, started, case, change, said
):
    local_port = free_port()
    env = local_environment(
        compose,
        "booking",
        8001,
        nats_url=nats_server.url,
        database_url=databases.create("compose_no_secret"),
        local_port=local_port,
        secrets_dir=tmp_path / "secrets",
    )
    change(env)
    assert env["AIRSIDE_ENV"] == "production"
    log_file = tmp_path / "booking-no-secret.log"
    process = ServiceProcess("booking", local_port, env, log_file).start()
    started.append(process)
    assert process.process is not None
    returncode = process.process.wait(timeout=30)
    assert returncode != 0, case
    assert said in log_file.read_text(), case
