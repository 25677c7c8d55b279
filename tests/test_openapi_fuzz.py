"""R7 and R12: schemathesis, and strategies of our own, against the three services holding a world.

The services run as processes on a NATS server and databases of their own, holding PEK's world
(tests/e2e/world.py: members, orders, a visit with a bill, requisitions, tickets, complaints,
callbacks, parked events), so generated requests reach real records and real next pages.

- Every operation of each service, positive and negative examples, as callers of every kind (admin,
  PEK staff of several roles, a member, the service role), half of the examples on the world's own
  records (real path parameters), the other half on generated ones.
- Stateful runs: schemathesis chains operations by the links it infers from the documents (a
  listing's ids into the routes that read or change one record, a created record into its reads).
- Strategies a generator does not try by itself: real next_cursor values tampered with (bit flips,
  truncation, other types and naive datetimes re-signed with the server's key), odd If-Match and
  Idempotency-Key values, tokens signed with the services' secret and odd claims, huge and non-ASCII
  path parameters.

Every response passes every schemathesis check (`--checks all`): no 5xx, status code, content type,
headers and body as documented, negative data rejected, missing headers and unsupported methods
refused, auth not ignored, created records readable. Two are adjusted, not off:
`positive_data_acceptance` also accepts 412/422/428, since schema-valid data is rightly refused by
rules a schema cannot state (an opaque cursor, a date range, a flight already gone, a stale ETag);
`use_after_free` checks what a deleted webhook subscription answers, and `object_level_authorization`
runs but has nothing to check (no second identity configured: R8 is the authorisation table). On
top: every 4xx is a problem+json body whose `status` is the response's.

Bounded for `make test` (about two minutes): AIRSIDE_FUZZ_EXAMPLES examples (default 4) per operation
and mode, times a few for the stateful runs and our strategies. A longer run, e.g.
`AIRSIDE_FUZZ_EXAMPLES=200 .venv/bin/python -m pytest tests/test_openapi_fuzz.py`; examples are
random, and a failure prints the `@seed` that reproduces it.
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
import schemathesis
from e2e_steps import Airside, Flight, Json, now
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from pydantic import TypeAdapter
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from world import OWN, WEBHOOK_ALLOW, pek_world, subject

from airside.pagination import Keyset
from airside.settings import AirsideSettings
from airside_tools.processes import NatsServer
from airside_tools.testing.harness import TEST_JWT_SECRET, ServiceSet, auth, services_running

EXAMPLES = int(os.environ.get("AIRSIDE_FUZZ_EXAMPLES", "4"))
SERVICES = ("booking", "lounge", "callcenter")
ADMIN = auth("admin", stations=["*"], sub="fuzzer")
PLATFORM_PATHS = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/asyncapi.json",
    "/schemas/events/{event_type}/v{version}.json",
    "/problems",
    "/problems/{slug}",
}
CONFIG = {
    # An unknown query parameter is ignored, as HTTP APIs do (caches, trackers); the token is ours to
    # choose per caller (schemathesis' check `ignored_auth` sends none, our strategies odd ones).
    "generation": {"allow-extra-parameters": False, "with-security-parameters": False},
    "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "409", "412", "422", "428"]}},
    # Patient on a machine running every lane of `make test` at once: slowness is the bench's to measure.
    "request-timeout": 60,
}
FUZZ_SETTINGS = {"deadline": None, "suppress_health_check": list(HealthCheck), "database": None}


def problem_details_on_refusals(_ctx, response, _case) -> None:
    """Every 4xx is an RFC 9457 problem whose `status` is the response's."""
    if 400 <= response.status_code < 500:
        content_type = response.headers.get("content-type", [""])[0]
        assert content_type.startswith("application/problem+json"), f"a {response.status_code} as {content_type!r}"
        body = response.json()
        assert body.get("status") == response.status_code and str(body.get("type", "")).startswith("/problems/"), body


@pytest.fixture(scope="module")
def fuzz_services(nats_server: NatsServer, databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceSet]:
    # A live feed's 200 streams until the token expires (docs/feeds.md): here each stream closes after a second,
    # so schemathesis reads every answer whole and checks it like any other.
    logs = tmp_path_factory.mktemp("fuzz-logs")
    with services_running(databases, nats_server.url, logs, AIRSIDE_FEED_MAX_SECONDS="1", **WEBHOOK_ALLOW) as service_set:
        yield service_set


@pytest.fixture(scope="module")
async def world(fuzz_services: ServiceSet, nats_server: NatsServer) -> AsyncIterator[Json]:
    async with httpx.AsyncClient(timeout=60) as http:
        airside = Airside.connect(http, {name: fuzz_services[name].url for name in SERVICES}, nats_server.url)
        built = await pek_world(airside)
        # An order the fuzzing never names, on a flight of its own, with two concierges free at its time: its
        # candidates have a second page whatever the fuzzing did to the world's order, flight and concierges.
        for suffix in ("甲", "乙"):
            await airside.on_duty_concierge(around=now() + timedelta(hours=1), name=f"礼宾 候选{suffix}")
        own_flight = Flight.departing(now() + timedelta(hours=6), destination="CTU")  # not the world's: the fuzzing changes that one
        await airside.airline.publish(own_flight)
        waiting = await airside.booking.book(built["owner"], own_flight, products=("DEP_ESCORT",))
        await airside.booking.confirm(waiting)
        yield {**built, "candidates_order_id": waiting["id"]}


@pytest.fixture(scope="module")
def schemas(fuzz_services: ServiceSet, world: Json) -> dict[str, Any]:
    # The documents' servers are the embedded run's and the gateway's: here, each service's own port.
    configs = {name: schemathesis.Config.from_dict({**CONFIG, "base-url": fuzz_services[name].url}) for name in SERVICES}
    # Read here with a patient client: a service builds its document on the first request, which takes more than
    # schemathesis's own 10 s on a machine running every lane of `make test` at once.
    documents = {name: httpx.get(f"{fuzz_services[name].url}/openapi.json", timeout=120).raise_for_status().json() for name in SERVICES}
    return {name: schemathesis.openapi.from_dict(documents[name], config=configs[name]) for name in SERVICES}


def callers(world: Json) -> list[dict[str, str]]:
    """Admin first (hypothesis shrinks towards it), then callers whose answers take other paths."""
    staff = [auth(role, stations=[OWN], sub=subject(role, OWN)) for role in ("station_manager", "lounge_staff", "agent", "concierge_lead")]
    member = auth("member", member_id=world["member_id"], stations=[])
    return [ADMIN, *staff, member, auth("service", stations=["*"], sub="fuzz-service")]


def world_path_values(world: Json, service: str) -> dict[str, str]:
    """The world's record for each path parameter any route names."""
    return {
        **{key: str(world[key]) for key in ("member_id", "order_id", "concierge_id", "flight_no", "flight_date", "lounge_id")},
        **{key: str(world[key]) for key in ("visit_id", "line_id", "requisition_id", "ticket_id", "callback_id", "sku", "priority")},
        "code": OWN,
        "day": world["later_day"],
        "dead_letter_id": str(world[f"letter_{service}"]),
        "event_id": str(world["order_id"]),  # no event's id: setting it aside answers 404, as documented
        "event_type": "airside.booking.order.created",  # with version 1, a payload schema every service serves
        "version": "1",
        "slug": "not_found",
        "webhook_id": str(world[f"webhook_{service}"]),  # the fuzzing may delete it; kept_webhook_<service> it never names
        "delivery_id": str(world["delivery_id"]),
        # booking's carriers (docs/carriers.md); a statement's line is booking's line_id, a sale line the lounge's
        "designator": str(world["carrier"]),
        "contract_id": str(world["contract_id"]),
        "statement_id": str(world["statement_id"]),
        **({"line_id": str(world["statement_line_id"])} if service == "booking" else {}),
    }


def operations(schema) -> list[Any]:
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) > 5
    return found


def has_inputs(operation) -> bool:
    return any(len(container) for container in (operation.path_parameters, operation.query, operation.headers)) or bool(operation.body)


def first_failure(run) -> str | None:
    try:
        run()
    except Unsatisfiable:  # nothing of this kind to generate for the operation (e.g. no input to make negative)
        return None
    except (Exception, FailureGroup) as failure:  # noqa: BLE001 - reported together, per operation
        return str(failure)
    return None


@pytest.mark.parametrize("name", SERVICES)
def test_every_operation_answers_every_generated_request_as_documented(schemas, world, name):
    schema, who = schemas[name], callers(world)
    known = world_path_values(world, name)
    failures = []
    for operation in operations(schema):
        ids = {parameter.name: known[parameter.name] for parameter in operation.path_parameters}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if mode is GenerationMode.NEGATIVE and not has_inputs(operation):
                continue
            cases = st.one_of(operation.as_strategy(generation_mode=mode), operation.as_strategy(generation_mode=mode, path_parameters=ids))

            @given(case=cases, caller=st.sampled_from(who))
            @settings(max_examples=EXAMPLES, **FUZZ_SETTINGS)
            def run(case, caller) -> None:
                case.call_and_validate(headers=caller, additional_checks=[problem_details_on_refusals])

            if failure := first_failure(run):
                failures.append(f"{mode.value} {operation.method.upper()} {operation.path}: {failure}")
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("name", SERVICES)
def test_chains_of_operations_by_their_links_answer_as_documented(schemas, name):
    machine = schemas[name].as_state_machine()

    class Chains(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case) -> dict[str, Any]:
            return {"headers": ADMIN}

        def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
            try:
                super().validate_response(response, case, additional_checks=[problem_details_on_refusals], **kwargs)
            except (Exception, FailureGroup) as failure:
                # A chain's steps draw on the services' answers, so hypothesis's replay of a failing chain may
                # draw another chain and report only "inconsistent data generation": say what failed first.
                print(f"failed in a chain: {case.as_curl_command()}\n{failure}")
                raise

    Chains.run(settings=settings(max_examples=EXAMPLES * 3, stateful_step_count=6, **FUZZ_SETTINGS))


# --- what a generator does not try by itself (R12) ---------------------------------------------------

# Latin-1 is what a header carries; UTF-8 bytes arrive as their latin-1 reading. No control
# characters: HTTP forbids them in a field, and the server's parser refuses them before the app.
VISIBLE = st.characters(exclude_categories=["Cc", "Cs"])
HEADER_TEXT = st.text(st.characters(codec="latin-1", exclude_categories=["Cc"]) | st.just("\t"), max_size=40)
UTF8_ON_THE_WIRE = st.text(VISIBLE, min_size=1, max_size=20).map(lambda text: text.encode().decode("latin-1"))
# ASCII digits, and the latin-1 digits str.isdigit() takes that int() or an ASCII pattern must not.
ODD_DIGITS = st.text(st.sampled_from("0123456789\u00b2\u00b3\u00b9"), min_size=1, max_size=6)
IF_MATCH = st.one_of(
    ODD_DIGITS.map(lambda digits: f'"{digits}"'),
    ODD_DIGITS.map(lambda digits: f'W/"{digits}"'),
    st.integers(min_value=-(10**30), max_value=10**400).map(lambda number: f'"{number}"'),
    st.lists(st.integers(0, 9), min_size=2, max_size=4).map(lambda tags: ", ".join(f'"{tag}"' for tag in tags)),
    st.sampled_from(["*", "", '""', '"', "W/", '"1', "1", '"-1"', '"1.0"', '"0x1"', '"1 "', '" 1"', '"+1"']),
    HEADER_TEXT,
    UTF8_ON_THE_WIRE,
).map(str.lstrip)
IDEMPOTENCY_KEY = st.one_of(
    st.sampled_from(["", " ", "\t", "k" * 201, "k" * 10_000]),
    HEADER_TEXT,
    UTF8_ON_THE_WIRE,
    st.text(st.characters(codec="ascii", min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=300),
).map(str.lstrip)  # a client cannot send leading blanks: they are not part of a field value
PATH_VALUE = st.one_of(
    st.text(min_size=1, max_size=30),
    st.text(st.characters(codec="utf-8"), min_size=300, max_size=3000),
    st.sampled_from(
        [
            "0" * 5000,
            "9" * 40,
            "-1",
            "1e400",
            "NaN",
            "..",
            "%00",
            "%",
            "\u0000",
            "\uff12\uff10\uff12\uff16-11-22",
            "\uff12",
            "PEK\u200b",
            "\uff30\uff45\uff4b",
        ]
    ),
)
JSON_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False), st.text(max_size=20))
JSON_VALUE = st.recursive(
    JSON_SCALAR, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6
)
NAIVE_TIMES = st.datetimes().map(lambda moment: moment.isoformat())


def claims() -> st.SearchStrategy[dict[str, Any]]:
    """Token claims around a valid member or staff token: each claim may be missing or of another shape."""
    now = int(time.time())
    odd = {
        "sub": st.one_of(st.text(max_size=300), JSON_VALUE),
        "roles": st.one_of(
            st.lists(st.sampled_from(["admin", "agent", "member", "station_manager", "nobody"]), max_size=3),
            JSON_VALUE,
            st.lists(st.lists(st.sampled_from(["agent", "admin"]), max_size=2), max_size=2),
            st.sampled_from(["admin", "agent"]),
        ),
        "stations": st.one_of(
            st.lists(st.sampled_from(["PEK", "KMG", "*", "pek", "PEKX", ""]), max_size=3), JSON_VALUE, st.sampled_from(["PEK", "*"])
        ),
        "member_id": st.one_of(st.integers(), JSON_VALUE, st.text(max_size=50)),
        "exp": st.one_of(st.integers(now - 10**6, now + 10**6), st.floats(allow_nan=False), st.integers(-(2**80), 2**80), JSON_VALUE),
        "iat": st.one_of(st.integers(now - 10**6, now + 10**6), JSON_VALUE),
        "nbf": st.one_of(st.integers(now - 10**6, now + 10**6), JSON_VALUE),
        "iss": st.one_of(st.just("airside"), JSON_VALUE),
        "aud": st.one_of(st.just("airside"), st.lists(st.just("airside"), max_size=2), JSON_VALUE),
    }
    base = {"sub": "fuzz-caller", "roles": ["agent"], "stations": [OWN], "iss": "airside", "aud": "airside", "iat": now, "exp": now + 600}
    changes = st.dictionaries(st.sampled_from(sorted(odd)), st.none(), min_size=1, max_size=4).flatmap(
        lambda names: st.fixed_dictionaries({name: st.one_of(odd[name], st.just(DROP)) for name in names})
    )
    return changes.map(lambda changed: {k: v for k, v in {**base, **changed}.items() if v is not DROP})


DROP = object()


def signed(claims: dict[str, Any]) -> dict[str, str]:
    """Signed as the services' tokens are, without PyJWT's checks of the claims (it would refuse the odd ones)."""
    token = jwt.api_jws.encode(json.dumps(claims).encode(), TEST_JWT_SECRET, algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


# The checks on the answer itself; those that send requests of their own (no token, another method,
# a header left out) ran on the generated requests above.
ANSWER_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    positive_data_acceptance,
    problem_details_on_refusals,
]


def attack(schema, attempts_for, examples: int) -> list[str]:
    """Each operation `attempts_for` targets, with the fixed parts it draws (strategy arguments and
    headers over admin's) and the rest generated; every answer checked as the generated ones are."""
    failures = []
    for operation in operations(schema):
        attempts = attempts_for(operation)
        if attempts is not None and (failure := first_failure(attacker(operation, attempts, examples))):
            failures.append(f"{operation.method.upper()} {operation.path}: {failure}")
    return failures


def attacker(operation, attempts, examples: int):
    @given(data=st.data())
    @settings(max_examples=examples, **FUZZ_SETTINGS)
    def run(data) -> None:
        fixed, headers = data.draw(attempts)
        case = data.draw(operation.as_strategy(**fixed))
        case.call_and_validate(headers={**ADMIN, **headers}, checks=ANSWER_CHECKS)

    return run


def header_names(operation) -> set[str]:
    return {parameter.name for parameter in operation.headers}


def on_the_world(world: Json, name: str, operation) -> dict[str, Any]:
    known = world_path_values(world, name)
    return {"path_parameters": {parameter.name: known[parameter.name] for parameter in operation.path_parameters}}


@pytest.mark.parametrize("name", SERVICES)
def test_odd_if_match_values_are_refused_as_documented(schemas, world, name):
    def attempts(operation):
        if "If-Match" not in header_names(operation):
            return None
        return IF_MATCH.map(lambda value: ({**on_the_world(world, name, operation), "headers": {"If-Match": value}}, {}))

    failures = attack(schemas[name], attempts, EXAMPLES * 8)
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("name", SERVICES)
def test_odd_idempotency_keys_are_refused_as_documented(schemas, world, name):
    def attempts(operation):
        if "Idempotency-Key" not in header_names(operation):
            return None
        return IDEMPOTENCY_KEY.map(lambda key: ({**on_the_world(world, name, operation), "headers": {"Idempotency-Key": key}}, {}))

    failures = attack(schemas[name], attempts, EXAMPLES)
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("name", SERVICES)
def test_tokens_signed_with_the_secret_and_odd_claims_are_refused_as_documented(schemas, world, name):
    def attempts(operation):
        if operation.path in PLATFORM_PATHS:
            return None
        return claims().map(lambda odd: (on_the_world(world, name, operation), signed(odd)))

    failures = attack(schemas[name], attempts, EXAMPLES)
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("name", SERVICES)
def test_huge_and_non_ascii_path_parameters_are_refused_as_documented(schemas, name):
    def attempts(operation):
        names = [parameter.name for parameter in operation.path_parameters]
        if not names:
            return None
        return st.fixed_dictionaries({parameter: PATH_VALUE for parameter in names}).map(lambda values: ({"path_parameters": values}, {}))

    failures = attack(schemas[name], attempts, EXAMPLES * 2)
    assert not failures, "\n\n".join(failures)


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def resigned(name: str, path: str, values: Any) -> str:
    """A cursor carrying `values`, signed with the service's own key: past the signature, only the
    check of each element against the list's key stands between it and the query."""
    key = AirsideSettings(jwt_secret=TEST_JWT_SECRET).server_key("cursor")
    return Keyset(key, f"{name} GET {path}", TypeAdapter(Any), None).encode(values)


def tampered(name: str, path: str, cursor: str) -> st.SearchStrategy[str]:
    payload, _, _mac = cursor.partition(".")
    values = json.loads(unb64(payload))
    flips = st.tuples(st.integers(0, len(cursor) - 1), st.characters(codec="latin-1", exclude_characters="\r\n\x00")).map(
        lambda flip: cursor[: flip[0]] + flip[1] + cursor[flip[0] + 1 :]
    )
    element = st.one_of(JSON_VALUE, NAIVE_TIMES, st.integers(-(2**80), 2**80))
    other_values = st.one_of(
        st.lists(element, min_size=len(values), max_size=len(values)),  # the arity, other types
        st.tuples(st.integers(0, len(values) - 1), element).map(lambda swap: [*values[: swap[0]], swap[1], *values[swap[0] + 1 :]]),
        st.lists(element, max_size=len(values) + 2),
        JSON_VALUE,
    )
    return st.one_of(
        flips,
        st.integers(0, len(cursor) - 1).map(lambda cut: cursor[:cut]),
        st.sampled_from([cursor + "A", cursor + ".", "." + cursor, cursor.replace(".", ""), payload, f"{payload}.", cursor.upper()]),
        other_values.map(lambda changed: resigned(name, path, changed)),
        other_values.map(lambda changed: resigned(name, "/v1/another-list", changed)),
        HEADER_TEXT,
    )


# Lists of which the world holds one record (tests/e2e/world.py): perhaps no real next_cursor to tamper
# with here; tests/e2e/test_adversarial_http.py tampers with theirs.
ONE_PAGE_IN_THE_WORLD = {
    ("lounge", "/v1/lounges/{lounge_id}/visits"),  # the owner, inside
    ("lounge", "/v1/lounges/{lounge_id}/board"),
    ("lounge", "/v1/lounges/{lounge_id}/expected-visits"),  # the matrix's order
    ("callcenter", "/v1/members"),  # the owner's phone
    ("callcenter", "/v1/tickets/{ticket_id}/notes"),  # none: the ticket as opened
    ("callcenter", "/v1/tickets/{ticket_id}/calls"),
    ("callcenter", "/v1/tickets/{ticket_id}/history"),
    ("callcenter", "/v1/callbacks/{callback_id}/attempts"),
    # The world's subscriptions are owed no delivery; the fuzzing may have deleted one of the two.
    *((service, path) for service in SERVICES for path in ("/v1/webhooks", "/v1/webhooks/{webhook_id}/deliveries")),
}


@pytest.mark.parametrize("name", SERVICES)
def test_tampered_next_cursors_are_refused_as_documented(schemas, fuzz_services, world, name):
    listings = [operation for operation in operations(schemas[name]) if "cursor" in {parameter.name for parameter in operation.query}]
    assert listings
    values = world_path_values(world, name)
    real, lonely = {}, set()
    for operation in listings:
        required = {"phone": world["member_phone"]} if "phone" in {parameter.name for parameter in operation.query} else {}
        own = {"order_id": world["candidates_order_id"]} if operation.path.endswith("/candidates") else {}
        if "{webhook_id}" in operation.path:  # the fuzzing before may have deleted the one it names
            own = {"webhook_id": world[f"kept_webhook_{name}"]}
        url = f"{fuzz_services[name].url}{operation.path.format(**{**values, **own})}"
        page = httpx.get(url, params={"limit": 1, **required}, headers=ADMIN, timeout=60).json()
        if page["next_cursor"]:
            real[operation.path] = page["next_cursor"]
        else:
            lonely.add((name, operation.path))
    # The world's one record of these may have company by now (the fuzzing before posts notes, calls, attempts).
    assert lonely <= ONE_PAGE_IN_THE_WORLD, "lists with no second page to tamper with"

    def attempts(operation):
        if operation.path not in real:
            return None
        cursors = tampered(name, operation.path, real[operation.path])
        return cursors.map(lambda cursor: ({"query": {"cursor": cursor}}, {}))

    failures = attack(schemas[name], attempts, EXAMPLES * 8)
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("name", SERVICES)
def test_every_route_but_the_platform_ones_needs_a_token(fuzz_services, name):
    """R8's first row for every route of every service, read from the service's own OpenAPI."""
    base = fuzz_services[name].url
    document = httpx.get(f"{base}/openapi.json", timeout=60).json()
    routes = [(method, path) for path, item in document["paths"].items() for method in item if path not in PLATFORM_PATHS]
    assert len(routes) > 5
    answers = {}
    for method, path in routes:
        concrete = re.sub(r"\{(\w+)\}", "1", path)
        response = httpx.request(method.upper(), f"{base}{concrete}", json={} if method in ("post", "put", "patch") else None, timeout=60)
        answers[f"{method.upper()} {path}"] = response.status_code
    assert {route: status for route, status in answers.items() if status != 401} == {}


@pytest.mark.parametrize("name", SERVICES)
def test_every_problem_type_a_document_names_resolves_at_its_type_uri(fuzz_services, name):
    """`GET /problems` lists what the document declares, and each `type` URI answers its entry (no token)."""
    base = fuzz_services[name].url
    document = httpx.get(f"{base}/openapi.json", timeout=60).json()
    declared = {
        kind
        for item in document["paths"].values()
        for operation in item.values()
        for response in operation["responses"].values()
        if "application/problem+json" in response.get("content", {})
        for kind in response["content"]["application/problem+json"]["schema"]["properties"]["type"]["enum"]
    }
    listed = httpx.get(f"{base}/problems", timeout=60).json()["items"]
    assert declared <= {entry["type"] for entry in listed}
    for entry in listed:
        answer = httpx.get(f"{base}{entry['type']}", timeout=60)
        assert answer.status_code == 200 and answer.json() == entry and entry["meaning"], entry
    unknown = httpx.get(f"{base}/problems/no_such_problem", timeout=60)
    assert unknown.status_code == 404 and unknown.json()["type"] == "/problems/not_found"
