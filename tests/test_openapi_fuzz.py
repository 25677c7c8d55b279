"""R7: schemathesis against each service's own OpenAPI, with a valid token: no 500, no response
that breaks its documented schema.

Bounded for `make test`; set AIRSIDE_FUZZ_EXAMPLES (e.g. 200) for a longer run.
"""

import os
import re

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

from airside.testing.harness import ServiceSet, token

EXAMPLES = int(os.environ.get("AIRSIDE_FUZZ_EXAMPLES", "8"))
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture(scope="module")
def services(nats_server, databases, tmp_path_factory):
    service_set = ServiceSet(databases, nats_server.url, tmp_path_factory.mktemp("logs")).start()
    yield service_set
    service_set.stop()


ADMIN = {"Authorization": f"Bearer {token('admin', stations=['*'], sub='fuzzer')}"}


def fuzz_operation(operation) -> str | None:
    """Run one operation's generated cases; the first failure, described, or None."""

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
    def run(case) -> None:
        case.call_and_validate(headers=ADMIN, checks=CHECKS)

    try:
        run()
    except Exception as failure:  # noqa: BLE001 - collected per operation and reported together
        return f"{operation.method.upper()} {operation.path}: {failure}"
    return None


# Driven through schemathesis' Python API: its pytest plugin does not support this pytest.
@pytest.mark.parametrize("name", ["booking", "lounge", "callcenter"])
def test_no_server_error_and_every_response_matches_its_schema(services, name):
    schema = schemathesis.openapi.from_url(f"{services[name].url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 5
    failures = [failure for operation in operations if (failure := fuzz_operation(operation))]
    assert not failures, "\n\n".join(failures)


PUBLIC_PATHS = {"/healthz", "/readyz", "/metrics", "/asyncapi.json"}
PATH_VALUES = {"flight_no": "CA1831", "flight_date": "2026-11-22", "date": "2026-11-22", "code": "PEK", "priority": "P1", "sku": "BEER"}


@pytest.mark.parametrize("name", ["booking", "lounge", "callcenter"])
def test_every_route_but_the_platform_ones_needs_a_token(services, name):
    """R8's first row for every route of every service, read from the service's own OpenAPI."""
    base = services[name].url
    document = httpx.get(f"{base}/openapi.json").json()
    routes = [(method, path) for path, item in document["paths"].items() for method in item if path not in PUBLIC_PATHS]
    assert len(routes) > 5
    answers = {}
    for method, path in routes:
        concrete = re.sub(r"\{(\w+)\}", lambda match: PATH_VALUES.get(match.group(1), "1"), path)
        response = httpx.request(method.upper(), f"{base}{concrete}", json={} if method in ("post", "put", "patch") else None)
        answers[f"{method.upper()} {path}"] = response.status_code
    assert {route: status for route, status in answers.items() if status != 401} == {}
