"""The gateway as deployed, run by the real nginx in front of the three services as processes.

deploy/nginx/gateway.conf is used as is, bar what only Docker provides: the listen port, the log
path and the service addresses (`booking:8001` -> this machine's port). Checked: the gateway
serves the /v1 API (not /v1/ops), /docs, /openapi.json, /asyncapi.json and the event schemas of each service and
nothing else, however a path is spelled, and at its root /problems/<slug>: a problem's `type` resolves,
whichever service answered it; /<service>/docs loads its document from
/<service>/openapi.json; ETags and 304s pass unchanged; and a journey with phone numbers leaves none of them in any log the
gateway or the services wrote, nor in a dead letter's error.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import secrets
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest

from airside.db.columns import utcnow
from airside_tools.processes import free_port, port_open, wait_until
from airside_tools.testing.harness import ServiceSet, auth, services_running

ROOT = Path(__file__).resolve().parents[1]
GATEWAY_CONF = ROOT / "deploy" / "nginx" / "gateway.conf"
SERVICES = {"booking": 8001, "lounge": 8002, "callcenter": 8003}
PUBLIC_EXTRAS = ["/docs", "/openapi.json"]  # FastAPI's own, not in the document's paths


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((path for path in ("/usr/sbin/nginx",) if os.access(path, os.X_OK)), None)


class Gateway:
    """nginx on a loopback port with gateway.conf, in the foreground, its logs in `root`."""

    def __init__(self, binary: str, root: Path, upstreams: dict[str, int]) -> None:
        self.root = root
        self.port = free_port()
        self.access_log = root / "access.log"
        self.error_log = root / "error.log"
        config = GATEWAY_CONF.read_text()
        replacements = {"listen 80;": f"listen 127.0.0.1:{self.port};", "/var/log/nginx/access.log": str(self.access_log)}
        replacements |= {
            f"set $airside_upstream {name}:{port};": f"set $airside_upstream 127.0.0.1:{upstreams[name]};"
            for name, port in SERVICES.items()
        }
        for docker_only, local in replacements.items():
            assert config.count(docker_only) >= 1, f"gateway.conf no longer has {docker_only!r}: adapt this test"
            config = config.replace(docker_only, local)
        (root / "gateway.conf").write_text(config)
        # One process as the invoking user (no worker user switch), temporary files under root.
        temp_paths = "".join(f"{kind}_temp_path {root / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (root / "nginx.conf").write_text(
            f"daemon off; master_process off; pid {root / 'nginx.pid'}; error_log {self.error_log} info;\n"
            f"events {{ worker_connections 128; }}\n"
            f"http {{ {temp_paths} include {root / 'gateway.conf'}; }}\n"
        )
        self.command = [binary, "-p", str(root), "-c", str(root / "nginx.conf"), "-e", str(self.error_log)]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Gateway:
        checked = subprocess.run([*self.command, "-t"], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, checked.stderr
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: port_open("127.0.0.1", self.port), 20, "nginx")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def raw_get(self, path: str) -> tuple[int, dict[str, str]]:
        """A GET with the path sent byte for byte as given (httpx would resolve dot segments first)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.putrequest("GET", path, skip_accept_encoding=True)
            connection.endheaders()
            response = connection.getresponse()
            response.read()
            return response.status, {key.lower(): value for key, value in response.getheaders()}
        finally:
            connection.close()


@pytest.fixture(scope="module")
def stack(databases, nats_server, tmp_path_factory) -> Iterator[tuple[ServiceSet, Gateway]]:
    binary = nginx_binary()
    if binary is None:
        pytest.skip("nginx is not installed (apt-get install nginx-light; .ci/run installs it)")
    root = tmp_path_factory.mktemp("gateway")
    with services_running(databases, nats_server.url, root / "services") as services:
        gateway = Gateway(binary, root, {name: services[name].port for name in SERVICES}).start()
        try:
            yield services, gateway
        finally:
            gateway.stop()


def reached_the_service(headers: dict[str, str] | httpx.Headers) -> bool:
    # Every answer of a service carries its correlation id; the gateway's own refusals do not.
    return "x-correlation-id" in headers


def service_paths(services: ServiceSet, name: str) -> list[str]:
    """Every path a service serves, its path parameters filled in."""
    document = httpx.get(f"{services[name].url}/openapi.json", timeout=10).json()
    return [re.sub(r"\{[^}]+\}", "x", path) for path in document["paths"]] + PUBLIC_EXTRAS


def is_public(path: str) -> bool:
    # An event's `dataschema` resolves behind the gateway too (docs/events.md).
    event_schema = path.startswith("/schemas/events/")
    return (path.startswith("/v1/") and not path.startswith("/v1/ops")) or path in {*PUBLIC_EXTRAS, "/asyncapi.json"} or event_schema


@pytest.mark.parametrize("name", SERVICES)
def test_the_gateway_serves_the_public_routes_of_each_service_and_nothing_else(stack, name):
    services, gateway = stack
    paths = service_paths(services, name)
    assert {"/metrics", "/readyz", "/healthz", "/asyncapi.json"} <= set(paths)
    assert any(path.startswith("/v1/ops/") for path in paths) and any(is_public(path) for path in paths)
    for path in paths:
        response = httpx.get(f"{gateway.url}/{name}{path}", timeout=10)
        assert reached_the_service(response.headers) == is_public(path), (path, response.status_code, response.text[:200])
        if not is_public(path):
            assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json", path
    for path in ("/docs", "/openapi.json", "/asyncapi.json", "/schemas/events/airside.booking.order.created/v1.json"):
        assert httpx.get(f"{gateway.url}/{name}{path}", timeout=10).status_code == 200, path


@pytest.mark.parametrize("name", SERVICES)
def test_the_docs_page_behind_the_gateway_loads_its_document_through_the_gateway(stack, name):
    """The Swagger page, fetched as a browser would: the document it names is fetched from the page's own origin."""
    services, gateway = stack
    page = httpx.get(f"{gateway.url}/{name}/docs", timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html"), page.text[:200]
    (document_url,) = re.findall(r"url: '([^']+)'", page.text)
    assert document_url == f"/{name}/openapi.json"
    document = httpx.get(f"{gateway.url}{document_url}", timeout=10)
    assert document.status_code == 200 and reached_the_service(document.headers)
    direct = httpx.get(f"{services[name].url}/openapi.json", timeout=10).json()
    assert document.json()["paths"] == direct["paths"] and document.json()["info"] == direct["info"]
    # "Try it out" sends requests to the first server: the gateway's prefix on the page's origin.
    assert document.json()["servers"][0]["url"] == f"/{name}"
    assert f"/{name}" not in [server["url"] for server in direct.get("servers", [])]
    # Straight to the service (the deployment network), the page names the document at the service's root.
    assert re.findall(r"url: '([^']+)'", httpx.get(f"{services[name].url}/docs", timeout=10).text) == ["/openapi.json"]


PAGES = {"booking": "dispatch.js", "lounge": "board.js", "callcenter": "queue.js"}


@pytest.mark.parametrize("name", SERVICES)
def test_the_staff_console_behind_the_gateway_loads_its_files_by_relative_urls(stack, name):
    """docs/console.md: /<service>/console/ and the files it names relative to itself reach the service."""
    _services, gateway = stack
    page = httpx.get(f"{gateway.url}/{name}/console/", timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html") and reached_the_service(page.headers)
    # The page's module (which imports ./console.js) and its style sheet, named relative to the page.
    assert f'src="{PAGES[name]}"' in page.text and 'href="console.css"' in page.text
    for asset in (PAGES[name], "console.js", "console.css"):
        fetched = httpx.get(f"{gateway.url}/{name}/console/{asset}", timeout=10)
        assert fetched.status_code == 200 and reached_the_service(fetched.headers), asset
    # Without its slash, a relative redirect keeps the prefix.
    redirected = httpx.get(f"{gateway.url}/{name}/console", timeout=10)
    assert redirected.status_code == 308 and redirected.headers["location"] == "console/"
    # The console's paths lead nowhere else: a dot segment is resolved before the gateway matches.
    status, headers = gateway.raw_get(f"/{name}/console/../metrics")
    assert status == 404 and not reached_the_service(headers)


def problem_types_of(services: ServiceSet, name: str) -> list[dict[str, Any]]:
    listed = httpx.get(f"{services[name].url}/problems", timeout=10)
    assert listed.status_code == 200, listed.text
    return listed.json()["items"]


def test_every_problem_type_resolves_at_the_gateway_root_whichever_service_answers_it(stack):
    """A `type` is relative: behind the gateway `/problems/<slug>` names the root, for every service's slugs."""
    services, gateway = stack
    catalogues = {name: {entry["slug"]: entry for entry in problem_types_of(services, name)} for name in SERVICES}
    only_in = {
        name: set(catalogue) - {slug for other in SERVICES if other != name for slug in catalogues[other]}
        for name, catalogue in catalogues.items()
    }
    assert all(only_in.values()), f"each service has slugs of its own, so one upstream would not do: {only_in}"
    for name, catalogue in catalogues.items():
        for slug, entry in catalogue.items():
            # A slug several services answer means the same in each: any of them may answer it.
            assert all(catalogues[other].get(slug, entry) == entry for other in SERVICES), slug
            resolved = httpx.get(f"{gateway.url}{entry['type']}", timeout=10)
            assert resolved.status_code == 200 and resolved.json() == entry, (name, slug, resolved.text[:200])
            assert reached_the_service(resolved.headers)
    forged = httpx.get(f"{gateway.url}/_problem_type_in_lounge", timeout=10)
    assert forged.status_code == 404 and forged.headers["content-type"] == "application/problem+json"
    unknown = httpx.get(f"{gateway.url}/problems/no_such_problem", timeout=10)
    assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json()["type"] == "/problems/not_found" and reached_the_service(unknown.headers)


def test_a_front_end_follows_a_problems_type_from_the_answer_it_came_in(stack):
    """A 422 through the gateway: its `type`, resolved against the request's URL, is the problem type's page."""
    _services, gateway = stack
    refused = httpx.post(f"{gateway.url}/booking/v1/members", json={"name": "No Phone"}, headers=auth("agent"), timeout=10)
    assert refused.status_code == 422 and refused.json()["type"] == "/problems/validation_error", refused.text
    followed = httpx.get(refused.url.join(refused.json()["type"]), timeout=10)
    assert followed.status_code == 200 and followed.json()["slug"] == "validation_error" and followed.json()["status"] == 422


def test_a_forwarded_prefix_a_caller_forges_reaches_no_docs_page(stack):
    """The gateway replaces the header; sent to a service directly, a prefix that is not plain path segments is ignored."""
    services, gateway = stack
    forged = {"X-Forwarded-Prefix": "/evil"}
    through = httpx.get(f"{gateway.url}/booking/docs", headers=forged, timeout=10)
    assert re.findall(r"url: '([^']+)'", through.text) == ["/booking/openapi.json"]
    for prefix in ("/x'+alert(1)+'", "/../../elsewhere", "//evil.example", "/a?b"):
        page = httpx.get(f"{services['booking'].url}/docs", headers={"X-Forwarded-Prefix": prefix}, timeout=10)
        assert re.findall(r"url: '([^']+)'", page.text) == ["/openapi.json"], prefix


def test_conditional_get_passes_through_the_gateway_unchanged(stack):
    """nginx neither weakens nor drops the ETag, and a 304 reaches the front end as a 304 with no body."""
    _services, gateway = stack
    agent = auth("agent")
    created = httpx.post(
        f"{gateway.url}/booking/v1/members", json={"name": "Zhou Min", "phone": phone_number(), "tier": "gold"}, headers=agent, timeout=10
    )
    assert created.status_code == 201, created.text
    url = f"{gateway.url}/booking/v1/members/{created.json()['id']}"
    read = httpx.get(url, headers=agent, timeout=10)
    assert read.status_code == 200 and read.headers["etag"] == created.headers["etag"] == '"1"'
    again = httpx.get(url, headers={**agent, "If-None-Match": read.headers["etag"]}, timeout=10)
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == '"1"'
    changed = httpx.patch(url, json={"name": "Zhou Min Jr"}, headers={**agent, "If-Match": read.headers["etag"]}, timeout=10)
    assert changed.status_code == 200, changed.text
    after = httpx.get(url, headers={**agent, "If-None-Match": read.headers["etag"]}, timeout=10)
    assert after.status_code == 200 and after.headers["etag"] == '"2"' and after.json()["name"] == "Zhou Min Jr"


# Spellings of the internal routes a gateway matching raw strings would pass on.
DISGUISED = [
    "/{name}/v1/%6Fps/dead-letters",
    "/{name}/v1//ops/dead-letters",
    "/{name}/v1/./ops/dead-letters",
    "/{name}/v1/members/../ops/dead-letters",
    "/{name}/v1%2Fops/dead-letters",
    "/{name}/v1/ops",
    "/{name}/%6Detrics",
    "/{name}//metrics",
    "/{name}/v1/../metrics",
    "/{name}/docs/../readyz",
    "/{name}/metrics?format=prometheus",
    "/{name}/",
    "/{name}",
    "/metrics",
    "/problems/../metrics",
    "/problems/..%2Fmetrics",
    "/problems/%2E%2E/{name}/v1/ops/dead-letters",
    "/_problem_type_in_lounge",
    "/_problem_type_in_callcenter",
    "/problems/../_problem_type_in_lounge?x=/problems/lounge_full",
]


@pytest.mark.parametrize("name", SERVICES)
def test_no_spelling_of_an_internal_route_gets_through(stack, name):
    _services, gateway = stack
    for disguised in DISGUISED:
        status, headers = gateway.raw_get(disguised.format(name=name))
        assert status in (400, 404) and not reached_the_service(headers), (disguised, status)


def phone_number() -> str:
    return f"+86139{secrets.randbelow(10**8):08d}"


def national_digits(phone: str) -> str:
    """What any spelling of the number contains (+86…, %2B86…, 86…): the digits after the country code."""
    return phone.removeprefix("+86")


async def wait_until_true(check: Any, timeout: float, what: str) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while not (result := await check()):
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)
    return result


async def test_a_journey_leaves_no_phone_number_in_any_log(stack, nats_server):
    services, gateway = stack
    phones = [phone_number() for _ in range(4)]
    agent = auth("agent")
    async with httpx.AsyncClient(base_url=gateway.url, headers=agent, timeout=15) as client:
        members = []
        for index, phone in enumerate(phones[:3]):
            created = await client.post("/booking/v1/members", json={"name": f"Caller {index}", "phone": phone, "tier": "gold"})
            assert created.status_code == 201, created.text
            members.append(created.json())
        for phone in phones[:3]:
            for term in (phone, phone.removeprefix("+")):
                found = await client.get("/booking/v1/members", params={"q": term})
                assert [member["phone"] for member in found.json()["items"]] == [phone], found.text

        async def copied_to_the_call_center() -> bool:
            found = await client.get("/callcenter/v1/members", params={"phone": phones[0]})
            return found.status_code == 200 and [member["id"] for member in found.json()["items"]] == [members[0]["id"]]

        await wait_until_true(copied_to_the_call_center, 30, "the call center's copy of the member")

        # A value the database refuses (PostgreSQL cannot store NUL; SQLite stores it): a 422 or a 201, its error logged.
        refused = await client.post("/booking/v1/members", json={"name": "Nul\x00Name", "phone": phones[3], "tier": "gold"})
        assert refused.status_code in (201, 422), refused.text

    # An event the consumers cannot parse, naming a phone number: parked, and its error quotes the payload.
    poison_phone = phone_number()
    phones.append(poison_phone)
    poison = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "airside/booking",
        "type": "airside.booking.member.registered",
        "subject": "poison",
        "time": utcnow().isoformat(),
        "datacontenttype": "application/json",
        "data": {"member": {"name": "Poison", "phone": poison_phone, "tier": "gold"}},  # no id, card_no, version
    }
    connection = await nats.connect(nats_server.url)
    try:
        await connection.jetstream().publish("airside.booking.member.registered", json.dumps(poison).encode())
    finally:
        await connection.close()

    admin = auth("admin", stations=["*"])
    async with httpx.AsyncClient(base_url=services["callcenter"].url, headers=admin, timeout=10) as direct:

        async def parked() -> list[dict[str, Any]]:
            letters = (await direct.get("/v1/ops/dead-letters")).json()["items"]
            return [letter for letter in letters if letter["event_id"] == poison["id"]]

        (letter,) = await wait_until_true(parked, 30, "the poison event parked")
    assert national_digits(poison_phone) in letter["payload"]  # the event is kept whole, to replay it
    assert national_digits(poison_phone) not in letter["error"], letter["error"]
    assert "member" in letter["error"]  # the error still says what is wrong

    logs = {path: path.read_text(errors="replace") for path in (gateway.root / "services").glob("*.log")}
    logs |= {gateway.access_log: gateway.access_log.read_text(), gateway.error_log: gateway.error_log.read_text()}
    assert '"path":"/booking/v1/members"' in logs[gateway.access_log]  # the gateway did log the journey
    assert any("event dead-lettered" in text for text in logs.values())
    for path, text in logs.items():
        for phone in phones:
            assert national_digits(phone) not in text, f"{path.name} holds {phone}"
