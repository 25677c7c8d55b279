"""Bearer JWT auth: roles, station scoping and development tokens (docs/http.md)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from airside.flight_numbers import CARRIER_PATTERN
from airside.problems import Problem, forbidden, not_found
from airside.settings import AirsideSettings
from airside.types import RecordId, StationCode


class Role(StrEnum):
    member = "member"
    concierge = "concierge"
    concierge_lead = "concierge_lead"
    lounge_staff = "lounge_staff"
    agent = "agent"
    team_lead = "team_lead"
    supervisor = "supervisor"
    station_manager = "station_manager"
    admin = "admin"
    service = "service"
    carrier = "carrier"  # an airline reading its own settlement statements (docs/carriers.md); not staff


# The roles that are not staff: a member acts for themself, a carrier for its own designator; neither has stations.
PARTY_ROLES = frozenset({Role.member, Role.carrier})
STAFF_ROLES = frozenset(Role) - PARTY_ROLES
VERIFIED_CACHE_SIZE = 4096
ALL_STATIONS = "*"


class Claims(BaseModel):
    """What a token must say, exactly (no coercion: `stations: "PEK"` is not three stations).

    Unknown roles are ignored (an identity provider may carry roles of other systems); a role
    that is not a string, or no known role at all, makes the token invalid."""

    model_config = ConfigDict(strict=True, extra="ignore")

    sub: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    roles: Annotated[list[Annotated[str, StringConstraints(max_length=100)]], Field(max_length=50)]
    stations: Annotated[list[StationCode | Literal["*"]], Field(max_length=500)] | None = None
    member_id: RecordId | None = None
    carrier: Annotated[str, StringConstraints(pattern=CARRIER_PATTERN)] | None = None
    exp: int | float

    def principal(self) -> Principal:
        roles = frozenset(Role(role) for role in self.roles if role in Role.__members__)
        if not roles:
            raise ValueError("no known role")
        if Role.member in roles and self.member_id is None:
            raise ValueError("a member token needs member_id")
        if Role.carrier in roles and self.carrier is None:
            raise ValueError("a carrier token needs carrier")
        stations = frozenset(self.stations or ()) if roles & STAFF_ROLES else frozenset()  # stations scope staff, not members
        carrier = self.carrier if Role.carrier in roles else None
        return Principal(sub=self.sub, roles=roles, stations=stations, member_id=self.member_id, carrier=carrier)


@dataclass(frozen=True)
class Principal:
    sub: str
    roles: frozenset[Role]
    stations: frozenset[str]
    member_id: str | None = None
    carrier: str | None = None  # the designator a carrier token acts for

    def has(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & STAFF_ROLES)

    @property
    def is_member_only(self) -> bool:
        """A member acting for themself, with no staff role beside it."""
        return Role.member in self.roles and not self.is_staff

    def covers(self, station: str) -> bool:
        """Admin and service see every station; staff see the stations in their token."""
        return self.has(Role.admin, Role.service) or ALL_STATIONS in self.stations or station in self.stations

    def owns_member(self, member_id: str) -> bool:
        return self.member_id is not None and self.member_id == member_id

    def is_carrier(self, designator: str) -> bool:
        """A carrier token acting for this airline."""
        return Role.carrier in self.roles and self.carrier == designator

    def station_filter(self) -> frozenset[str] | None:
        """The stations a listing is limited to, or None for all of them."""
        if self.has(Role.admin, Role.service) or ALL_STATIONS in self.stations:
            return None
        return self.stations

    def require_station_to_create(self, station: str) -> None:
        """Creating a record at a station outside the token is forbidden (403)."""
        if not self.covers(station):
            raise forbidden(f"you do not work at station {station}")

    def require_station_to_see(self, station: str, what: str) -> None:
        """Acting on a foreign record answers 404: its existence does not leak."""
        if not self.covers(station):
            raise not_found(what)


class TokenVerifier:
    def __init__(self, settings: AirsideSettings) -> None:
        self.settings = settings
        self._jwks = jwt.PyJWKClient(settings.jwt_jwks_url) if settings.jwt_algorithm == "RS256" and settings.jwt_jwks_url else None
        self._verified: dict[str, tuple[Principal, float]] = {}

    async def verify(self, token: str) -> Principal:
        """The caller of a valid token."""
        return (await self.verify_until(token))[0]

    async def verify_until(self, token: str) -> tuple[Principal, float]:
        """The caller of a valid token and its `exp` (a live feed ends there). An HS256 token already verified
        is answered from a small cache until its `exp` (decoding and the HMAC cost more than the rest of a
        small request's auth)."""
        cached = self._verified.get(token)
        if cached is not None and cached[1] > time.time():
            return cached
        if self._jwks is None:
            verified = self._verify(token, self.settings.signing_secret())
            if len(self._verified) >= VERIFIED_CACHE_SIZE:
                self._verified.clear()
            self._verified[token] = verified
            return verified
        # PyJWKClient fetches (and caches) the key set over blocking HTTP: in a thread, never on the event loop.
        try:
            key = (await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)).key
        except jwt.PyJWKClientConnectionError as exc:
            raise Problem(503, "unavailable", "the identity provider's keys cannot be fetched", headers={"Retry-After": "5"}) from exc
        except jwt.PyJWTError as exc:
            raise _invalid_token(str(exc)) from exc
        return self._verify(token, key)

    def _verify(self, token: str, key: Any) -> tuple[Principal, float]:
        try:
            decoded = jwt.decode(
                token,
                key,
                algorithms=[self.settings.jwt_algorithm],
                audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                options={"require": ["sub", "exp", "iss", "aud"]},
            )
            claims = Claims.model_validate(decoded)
            return claims.principal(), float(claims.exp)
        except ValidationError as exc:
            named = ", ".join(sorted({".".join(map(str, error["loc"][:1])) or "claims" for error in exc.errors()}))
            raise _invalid_token(f"malformed claims: {named}") from exc
        # PyJWT turns `exp: Infinity` into OverflowError and odd types into TypeError: a bad token all the same.
        except (jwt.PyJWTError, ValueError, OverflowError, TypeError) as exc:
            raise _invalid_token(str(exc)) from exc


def _unauthorized(detail: str) -> Problem:
    return Problem(401, "unauthorized", detail, title="Unauthorized", headers={"WWW-Authenticate": "Bearer"})


def _invalid_token(detail: str) -> Problem:
    """RFC 6750's invalid_token: expired, forged or malformed; a new token is the way on."""
    return Problem(
        401,
        "invalid_token",
        f"invalid token: {detail}",
        title="Invalid token",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def issue_token(
    settings: AirsideSettings,
    *,
    roles: Iterable[str],
    stations: Iterable[str] = (),
    sub: str | None = None,
    member_id: str | None = None,
    carrier: str | None = None,
    ttl_seconds: int = 3600,
) -> str:
    """A development token signed with the running set's HS256 secret."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": sub or member_id or str(uuid.uuid4()),
        "roles": [Role(role).value for role in roles],
        "stations": list(stations),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if member_id:
        claims["member_id"] = member_id
    if carrier:
        claims["carrier"] = carrier
    return jwt.encode(claims, settings.signing_secret(), algorithm="HS256")


_bearer = HTTPBearer(auto_error=False)


def _query_token(request: Request) -> str | None:
    """`?access_token=` on the live feeds' routes only: a browser's EventSource cannot send a header
    (docs/feeds.md). Their response class says so; every other route takes the header alone."""
    response_class = getattr(request.scope.get("route"), "response_class", None)
    return request.query_params.get("access_token") if getattr(response_class, "takes_query_token", False) else None


async def current_principal(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
    if credentials is not None and credentials.scheme.lower() == "bearer":
        token: str | None = credentials.credentials
    else:
        token = _query_token(request)
    if not token:
        raise _unauthorized("a bearer token is required")
    verifier: TokenVerifier = request.app.state.token_verifier
    principal, expires = await verifier.verify_until(token)
    request.state.token_expires = expires
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]


def require(*roles: Role) -> Callable[..., Any]:
    """A dependency admitting the given roles; admin may do everything."""
    allowed = frozenset(roles) | {Role.admin}

    async def dependency(principal: CurrentUser) -> Principal:
        if not principal.roles & allowed:
            raise forbidden("your role may not do this")
        return principal

    return dependency
