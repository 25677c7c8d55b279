"""Auth, problem details and pagination, on a bare app built from the shared pieces."""

import time

import jwt
import pytest
from fastapi import Depends, FastAPI
from httpx import ASGITransport, AsyncClient
from pydantic import BaseModel, model_validator
from sqlalchemy.exc import DBAPIError, StatementError

from airside.auth import CurrentUser, Principal, Role, TokenVerifier, issue_token, require
from airside.problems import Problem, install_problem_handlers
from airside.settings import DEVELOPMENT_JWT_SECRET, AirsideSettings, SettingsError
from airside_tools.testing.harness import auth


class Body(BaseModel):
    count: int
    name: str


class Period(BaseModel):
    start: int
    end: int

    @model_validator(mode="after")
    def _ordered(self) -> "Period":
        if self.end < self.start:
            raise ValueError("end is before start")
        return self


class Many(BaseModel):
    a: int
    b: int
    c: int
    d: int
    e: int


def build_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.state.token_verifier = TokenVerifier(AirsideSettings())

    @app.post("/things")
    async def things(body: Body, _user: CurrentUser) -> dict[str, int]:
        return {"count": body.count}

    @app.post("/periods")
    async def periods(body: Period) -> dict[str, int]:
        return {"start": body.start}

    @app.post("/many")
    async def many(body: Many) -> dict[str, int]:
        return {"a": body.a}

    @app.get("/agents-only")
    async def agents_only(principal: Principal = Depends(require(Role.agent))) -> dict[str, str]:
        return {"sub": principal.sub}

    @app.get("/refuse")
    async def refuse() -> None:
        raise Problem(409, "lounge_full", "the lounge is full")

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("secret internals")

    class DriverError(Exception):
        def __init__(self, sqlstate: str) -> None:
            super().__init__("driver says no")
            self.sqlstate = sqlstate

    @app.get("/database/{sqlstate}")
    async def database(sqlstate: str) -> None:
        raise DBAPIError("INSERT …", {}, DriverError(sqlstate))

    @app.get("/year-one")
    async def year_one() -> None:
        raise StatementError("date value out of range", "SELECT …", {}, OverflowError("date value out of range"))

    return app


@pytest.fixture
async def client():
    async with AsyncClient(transport=ASGITransport(app=build_app(), raise_app_exceptions=False), base_url="http://t") as client:
        yield client


def bearer(*roles: str, **claims) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(AirsideSettings(), roles=roles, **claims)}"}


async def test_missing_and_bad_tokens_are_401_problems(client):
    assert (await client.post("/things", json={"count": 1, "name": "a"})).status_code == 401
    response = await client.post("/things", json={"count": 1, "name": "a"}, headers={"Authorization": "Bearer nonsense"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/invalid_token"


async def test_expired_and_foreign_tokens_are_refused(client):
    settings = AirsideSettings()
    expired = issue_token(settings, roles=["agent"], ttl_seconds=-10)
    assert (await client.get("/agents-only", headers={"Authorization": f"Bearer {expired}"})).status_code == 401
    claims = {"sub": "x", "roles": ["agent"], "iss": "airside", "aud": "airside", "exp": int(time.time()) + 60}
    forged = jwt.encode(claims, "another-secret-that-is-long-enough-for-hs256", algorithm="HS256")
    assert (await client.get("/agents-only", headers={"Authorization": f"Bearer {forged}"})).status_code == 401


async def test_wrong_role_is_403_and_admin_passes(client):
    assert (await client.get("/agents-only", headers=bearer("concierge", stations=["PEK"]))).status_code == 403
    assert (await client.get("/agents-only", headers=bearer("agent", stations=["PEK"]))).status_code == 200
    assert (await client.get("/agents-only", headers=bearer("admin", stations=["*"]))).status_code == 200


async def test_validation_errors_name_every_bad_field(client):
    response = await client.post("/things", json={"count": "many"}, headers=bearer("agent"))
    assert response.status_code == 422
    body = response.json()
    assert body["type"] == "/problems/validation_error"
    assert {error["field"] for error in body["errors"]} == {"body.count", "body.name"}
    assert "body.count: Input should be a valid integer" in body["detail"] and "body.name: Field required" in body["detail"]


async def test_a_rule_over_the_whole_body_is_named_in_the_detail(client):
    # Regression: a model validator's refusal is located at "body" and the detail said only "Invalid fields: body".
    body = (await client.post("/periods", json={"start": 5, "end": 1})).json()
    assert body["detail"] == "body: end is before start"
    assert body["errors"] == [{"field": "body", "message": "end is before start", "type": "value_error"}]


async def test_a_detail_spells_out_the_first_errors_and_counts_the_rest(client):
    body = (await client.post("/many", json={})).json()
    assert len(body["errors"]) == 5
    assert body["detail"] == "body.a: Field required; body.b: Field required; body.c: Field required; and 2 more (errors)"


async def test_malformed_json_is_a_422_problem(client):
    response = await client.post("/things", content=b"{not json", headers={**bearer("agent"), "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["type"] == "json_invalid"


async def test_a_body_that_is_not_utf8_is_a_400_problem(client):
    response = await client.post("/things", content=b'{"name": "\xff"}', headers={**bearer("agent"), "Content-Type": "application/json"})
    assert (response.status_code, response.json()["type"]) == (400, "/problems/bad_request")


async def test_refusals_and_unknown_routes_are_problems(client):
    refused = await client.get("/refuse")
    assert (refused.status_code, refused.json()["type"]) == (409, "/problems/lounge_full")
    missing = await client.get("/nowhere")
    assert (missing.status_code, missing.json()["type"]) == (404, "/problems/not_found")


async def test_a_crash_is_a_500_problem_without_internals(client):
    response = await client.get("/crash")
    assert response.status_code == 500
    assert response.json()["type"] == "/problems/internal_error"
    assert "secret internals" not in response.text


async def test_data_the_database_refuses_is_422_and_other_database_errors_500(client):
    # 22P05: PostgreSQL cannot store a NUL character; 22003: a number out of the column's range.
    for sqlstate in ("22P05", "22003"):
        response = await client.get(f"/database/{sqlstate}")
        assert response.status_code == 422 and response.json()["type"] == "/problems/validation_error"
    assert (await client.get("/year-one")).status_code == 422
    # 42P01: a table missing is our problem, not the caller's (an unreachable database is 503: test_failures.py).
    assert (await client.get("/database/42P01")).status_code == 500


def test_staff_station_scoping():
    pek_agent = Principal(sub="a", roles=frozenset({Role.agent}), stations=frozenset({"PEK"}))
    assert pek_agent.covers("PEK") and not pek_agent.covers("KMG")
    assert pek_agent.station_filter() == {"PEK"}
    everywhere = Principal(sub="b", roles=frozenset({Role.supervisor}), stations=frozenset({"*"}))
    assert everywhere.covers("KMG") and everywhere.station_filter() is None


async def test_member_token_needs_member_id():
    token = jwt.encode(
        {"sub": "m", "roles": ["member"], "iss": "airside", "aud": "airside", "exp": int(time.time()) + 60},
        DEVELOPMENT_JWT_SECRET,
        algorithm="HS256",
    )
    with pytest.raises(Problem):
        await TokenVerifier(AirsideSettings()).verify(token)


def test_production_refuses_to_start_without_a_secret(monkeypatch):
    monkeypatch.delenv("AIRSIDE_JWT_SECRET", raising=False)
    with pytest.raises(SettingsError):
        AirsideSettings(env="production").check_runnable()
    AirsideSettings(env="production", jwt_secret="a-production-secret-of-32-bytes-or-more").check_runnable()


def test_a_problem_refuses_extension_members_named_like_its_own():
    """The class of `status: "new"` hiding a 409's status: every standard member is refused as an extension."""
    for name in ("type", "title", "status", "detail", "instance", "errors"):
        with pytest.raises(ValueError, match=name):
            Problem(409, "illegal_transition", "refused", extra={name: "new"})
    assert Problem(409, "illegal_transition", "refused", extra={"requested_status": "new"}).body()["status"] == 409


@pytest.mark.parametrize("path", ["/v1/tallies/abc/", "/v1/tallies/abc%2F", "/v1/tallies/4%25%2F", "/healthz/"])
async def test_a_trailing_or_encoded_slash_is_a_404_problem_never_a_redirect(probe, path):
    """No route ends in a slash; Starlette's slash redirect answered such a path 307 (found by schemathesis)."""
    response = await probe.client.get(path, headers=auth("admin", stations=["*"]))
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"
