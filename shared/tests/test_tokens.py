"""Bearer tokens: claims validated exactly (never misread, never a 500), the JWKS fetch off the event
loop, and the secrets a service refuses to start with."""

import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from airside.auth import CurrentUser, Role, TokenVerifier
from airside.problems import Problem, install_problem_handlers, not_found
from airside.settings import DEVELOPMENT_JWT_SECRET, AirsideSettings, SettingsError

SECRET = "a-secret-of-the-test-that-is-long-enough-0123456789"
SETTINGS = AirsideSettings(jwt_secret=SECRET)
KNOWN_ROLES = [role.value for role in Role]
DESIGNATOR_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def build_app(verifier: TokenVerifier) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.state.token_verifier = verifier

    @app.get("/whoami")
    async def whoami(principal: CurrentUser) -> dict[str, Any]:
        return {
            "sub": principal.sub,
            "roles": sorted(principal.roles),
            "stations": sorted(principal.stations),
            "member_id": principal.member_id,
            "carrier": principal.carrier,
        }

    @app.get("/stations/{code}")
    async def station(code: str, principal: CurrentUser) -> dict[str, str]:
        principal.require_station_to_see(code, "station")  # 404 outside the token's stations
        if not principal.is_staff:
            raise not_found("station")
        return {"code": code}

    return app


@pytest.fixture
async def client():
    app = build_app(TokenVerifier(SETTINGS))
    async with AsyncClient(transport=ASGITransport(app=app, raise_app_exceptions=False), base_url="http://t") as client:
        yield client


def signed(claims: dict[str, Any], secret: str = SECRET) -> dict[str, str]:
    base = {"iss": "airside", "aud": "airside", "exp": int(time.time()) + 600}
    # json.dumps writes Infinity and NaN, as a careless issuer would; PyJWT's decoder reads them back.
    token = jwt.api_jws.encode(json.dumps({**base, **claims}).encode(), secret, algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


MALFORMED = {
    "roles nested": {"sub": "a", "roles": [["agent"]], "stations": ["PEK"]},
    "roles a string": {"sub": "a", "roles": "agent", "stations": ["PEK"]},
    "stations a number": {"sub": "a", "roles": ["agent"], "stations": 7},
    "stations a string": {"sub": "a", "roles": ["agent"], "stations": "PEK"},
    "stations lower case": {"sub": "a", "roles": ["agent"], "stations": ["pek"]},
    "member_id a number": {"sub": "m", "roles": ["member"], "member_id": 5},
    "member without member_id": {"sub": "m", "roles": ["member"]},
    "sub missing": {"roles": ["agent"], "stations": ["PEK"]},
    "sub a number": {"sub": 5, "roles": ["agent"], "stations": ["PEK"]},
    "sub empty": {"sub": "", "roles": ["agent"], "stations": ["PEK"]},
    "sub too long for the idempotency store": {"sub": "x" * 201, "roles": ["agent"], "stations": ["PEK"]},
    "no known role": {"sub": "a", "roles": ["pilot"], "stations": ["PEK"]},
    "exp infinite": {"sub": "a", "roles": ["agent"], "stations": ["PEK"], "exp": float("inf")},
    "iat infinite": {"sub": "a", "roles": ["agent"], "stations": ["PEK"], "iat": float("inf")},
    "nbf not a number": {"sub": "a", "roles": ["agent"], "stations": ["PEK"], "nbf": "soon"},
}


@pytest.mark.parametrize("claims", MALFORMED.values(), ids=MALFORMED.keys())
async def test_a_token_with_malformed_claims_is_401_invalid_token(client, claims):
    response = await client.get("/whoami", headers=signed(claims))
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/invalid_token"
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_stations_scope_staff_and_a_member_token_carries_none(client):
    staff = await client.get("/whoami", headers=signed({"sub": "a", "roles": ["agent", "pilot"], "stations": ["PEK", "KMG"]}))
    assert staff.json() == {"sub": "a", "roles": ["agent"], "stations": ["KMG", "PEK"], "member_id": None, "carrier": None}
    member = await client.get("/whoami", headers=signed({"sub": "m", "roles": ["member"], "member_id": "m-1", "stations": ["*"]}))
    assert member.json() == {"sub": "m", "roles": ["member"], "stations": [], "member_id": "m-1", "carrier": None}
    assert (
        await client.get("/stations/PEK", headers=signed({"sub": "m", "roles": ["member"], "member_id": "m-1", "stations": ["*"]}))
    ).status_code == 404


async def test_a_carrier_token_names_its_airline_and_carries_no_stations(client):
    carrier = await client.get("/whoami", headers=signed({"sub": "ca", "roles": ["carrier"], "carrier": "CA", "stations": ["PEK"]}))
    assert carrier.json() == {"sub": "ca", "roles": ["carrier"], "stations": [], "member_id": None, "carrier": "CA"}
    assert (await client.get("/stations/PEK", headers=signed({"sub": "ca", "roles": ["carrier"], "carrier": "CA"}))).status_code == 404
    for claims in ({"roles": ["carrier"]}, {"roles": ["carrier"], "carrier": "ca"}, {"roles": ["carrier"], "carrier": "CAX"}):
        refused = await client.get("/whoami", headers=signed({"sub": "ca", **claims}))
        assert refused.status_code == 401, claims


# --- the whole class: any claim set our secret signs ---------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
json_values = st.recursive(
    json_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=6
)
# Well-formed values as often as odd ones, so that what is granted is explored as much as what is refused.
good_roles = st.lists(st.sampled_from(KNOWN_ROLES), min_size=1, max_size=3)
odd_roles = st.lists(st.sampled_from(KNOWN_ROLES) | st.sampled_from(["Admin", "ADMIN", "pilot", "", "admin "]) | json_values, max_size=4)
good_stations = st.lists(st.sampled_from(["PEK", "KMG", "*"]), max_size=3)
odd_stations = st.lists(st.sampled_from(["PEK", "pek", "PEKX", "", "**", "\uff30\uff25\uff2b"]) | json_values, max_size=4) | json_values
claim_sets = st.fixed_dictionaries(
    {"sub": st.text(min_size=1, max_size=12) | st.text(max_size=210) | json_values, "roles": good_roles | odd_roles | json_values},
    optional={
        "stations": good_stations | odd_stations,
        "member_id": st.uuids().map(str) | st.text(max_size=40) | json_values,
        "carrier": st.sampled_from(["CA", "3U", "ca", "CAX", ""]) | json_values,
        "exp": st.integers(min_value=int(time.time()) + 600, max_value=2**40) | st.floats() | json_values,
    },
)


def expected_principal(claims: dict[str, Any]) -> dict[str, Any] | None:
    """What the platform promises a token grants, written out independently of auth.py; None: invalid."""
    sub, roles, stations, member_id = claims.get("sub"), claims.get("roles"), claims.get("stations"), claims.get("member_id")
    carrier = claims.get("carrier")
    exp = claims.get("exp", time.time() + 600)
    if not isinstance(sub, str) or not 1 <= len(sub) <= 200:
        return None
    if isinstance(exp, bool) or not isinstance(exp, int | float) or exp != exp or exp in (float("inf"), float("-inf")) or exp < time.time():
        return None
    if not isinstance(roles, list) or not all(isinstance(role, str) and len(role) <= 100 for role in roles):
        return None
    if stations is not None and not (
        isinstance(stations, list)
        and all(
            isinstance(code, str) and (code == "*" or (len(code) == 3 and code.isascii() and code.isupper() and code.isalpha()))
            for code in stations
        )
    ):
        return None
    if member_id is not None and not (isinstance(member_id, str) and 1 <= len(member_id) <= 36):
        return None
    if carrier is not None and not (isinstance(carrier, str) and len(carrier) == 2 and all(c in DESIGNATOR_CHARACTERS for c in carrier)):
        return None
    known = sorted({role for role in roles if role in KNOWN_ROLES})
    if not known or ("member" in known and member_id is None) or ("carrier" in known and carrier is None):
        return None
    staff = any(role not in ("member", "carrier") for role in known)
    return {
        "sub": sub,
        "roles": known,
        "stations": sorted(set(stations or [])) if staff else [],
        "member_id": member_id,
        "carrier": carrier if "carrier" in known else None,
    }


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(claims=claim_sets)
async def test_any_signed_claim_set_is_granted_exactly_what_it_says_or_refused_401(client, claims):
    response = await client.get("/whoami", headers=signed(claims))
    expected = expected_principal(claims)
    if expected is None:
        assert response.status_code == 401, (claims, response.text)
        assert response.json()["type"] == "/problems/invalid_token"
    else:
        assert response.status_code == 200, (claims, response.text)
        assert response.json() == expected
    event("granted" if expected else "refused")
    scoped = await client.get("/stations/PEK", headers=signed(claims))
    assert scoped.status_code in (200, 401, 404), (claims, scoped.text)
    if scoped.status_code == 200:  # only staff whose token names PEK (or every station), or admin and service
        assert expected is not None and ({"admin", "service"} & set(expected["roles"]) or {"PEK", "*"} & set(expected["stations"]))


# --- RS256: the key set is fetched off the event loop ---------------------------------------------


class SlowJwks(BaseHTTPRequestHandler):
    body = b""
    delay = 0.5

    def do_GET(self) -> None:
        time.sleep(self.delay)  # an identity provider that answers slowly
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def jwks_server():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    SlowJwks.body = json.dumps({"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowJwks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield key, f"http://127.0.0.1:{server.server_port}/jwks.json"
    server.shutdown()
    server.server_close()


async def test_the_jwks_fetch_does_not_block_the_event_loop(jwks_server):
    key, url = jwks_server
    verifier = TokenVerifier(AirsideSettings(jwt_algorithm="RS256", jwt_jwks_url=url))
    claims = {"sub": "idp-user", "roles": ["agent"], "stations": ["PEK"], "iss": "airside", "aud": "airside", "exp": int(time.time()) + 60}
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    started = time.monotonic()
    principal = await verifier.verify(token)
    elapsed = time.monotonic() - started
    ticker.cancel()
    assert principal.sub == "idp-user" and principal.stations == {"PEK"}
    assert elapsed >= SlowJwks.delay
    # Blocking the loop for the fetch would leave the ticker at 0 or 1; it runs all along instead.
    assert ticks >= 10, f"the event loop ran {ticks} times in {elapsed:.2f}s of fetching the key set"


async def test_an_unreachable_identity_provider_is_503_and_a_foreign_key_401(jwks_server):
    key, url = jwks_server
    claims = {"sub": "u", "roles": ["agent"], "iss": "airside", "aud": "airside", "exp": int(time.time()) + 60}
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
    away = build_app(TokenVerifier(AirsideSettings(jwt_algorithm="RS256", jwt_jwks_url="http://127.0.0.1:9/jwks.json")))
    async with AsyncClient(transport=ASGITransport(app=away), base_url="http://t") as client:
        response = await client.get("/whoami", headers={"Authorization": f"Bearer {token}"})
    assert (response.status_code, response.json()["type"]) == (503, "/problems/unavailable")
    assert "retry-after" in response.headers
    other = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "not-in-the-set"})
    here = build_app(TokenVerifier(AirsideSettings(jwt_algorithm="RS256", jwt_jwks_url=url)))
    async with AsyncClient(transport=ASGITransport(app=here), base_url="http://t") as client:
        response = await client.get("/whoami", headers={"Authorization": f"Bearer {other}"})
    assert (response.status_code, response.json()["type"]) == (401, "/problems/invalid_token")


# --- secrets a service refuses to start with -------------------------------------------------------

POSTGRES = "postgresql://airside@db.internal/booking"
SHORT = "thirty-one-bytes-is-not-enough!"
GOOD = "a-production-secret-of-32-bytes-or-more"
REFUSED = {
    "production, no secret": ({"env": "production"}, "AIRSIDE_JWT_SECRET must be set"),
    "production, the development secret": ({"env": "production", "jwt_secret": DEVELOPMENT_JWT_SECRET}, "published development secret"),
    "production, a short secret": ({"env": "production", "jwt_secret": SHORT}, "shorter than 32 bytes"),
    "PostgreSQL without AIRSIDE_ENV, no secret": ({"database_url": POSTGRES}, "AIRSIDE_JWT_SECRET must be set"),
    "PostgreSQL without AIRSIDE_ENV, the development secret": (
        {"database_url": POSTGRES, "jwt_secret": DEVELOPMENT_JWT_SECRET},
        "published development secret",
    ),
    "PostgreSQL without AIRSIDE_ENV, a short secret": ({"database_url": POSTGRES, "jwt_secret": SHORT}, "shorter than 32 bytes"),
    "RS256 in production, no server secret for the cursors": (
        {"env": "production", "jwt_algorithm": "RS256", "jwt_jwks_url": "https://idp/jwks"},
        "AIRSIDE_JWT_SECRET must be set",
    ),
}
STARTS = {
    "embedded SQLite, the development secret": {},
    "embedded said outright on PostgreSQL": {"env": "embedded", "database_url": POSTGRES},
    "production, a real secret": {"env": "production", "jwt_secret": GOOD},
    "PostgreSQL, a real secret": {"database_url": POSTGRES, "jwt_secret": GOOD},
    "RS256 in production with a server secret": {
        "env": "production",
        "jwt_algorithm": "RS256",
        "jwt_jwks_url": "https://idp/jwks",
        "jwt_secret": GOOD,
    },
}


@pytest.fixture
def no_secret_in_the_environment(monkeypatch):
    for name in ("AIRSIDE_JWT_SECRET", "AIRSIDE_ENV", "AIRSIDE_DATABASE_URL", "AIRSIDE_JWT_ALGORITHM", "AIRSIDE_JWT_JWKS_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(("values", "message"), REFUSED.values(), ids=REFUSED.keys())
def test_outside_the_embedded_run_a_missing_published_or_short_secret_refuses_to_start(no_secret_in_the_environment, values, message):
    with pytest.raises(SettingsError, match=message):
        AirsideSettings(**values).check_runnable()


@pytest.mark.parametrize("values", STARTS.values(), ids=STARTS.keys())
def test_the_embedded_run_and_real_secrets_start(no_secret_in_the_environment, values):
    AirsideSettings(**values).check_runnable()


async def test_a_forged_admin_token_signed_with_the_development_secret_is_refused_once_a_real_secret_is_set():
    forged = signed({"sub": "intruder", "roles": ["admin"], "stations": ["*"]}, secret=DEVELOPMENT_JWT_SECRET)["Authorization"]
    with pytest.raises(Problem) as refused:
        await TokenVerifier(AirsideSettings(env="production", jwt_secret=GOOD)).verify(forged.removeprefix("Bearer "))
    assert (refused.value.status, refused.value.slug) == (401, "invalid_token")
