"""The staff console: a service's static pages at /console/, and the development token route (docs/console.md).

Each service keeps its page in `<service>/console/` (index.html and its module); the assets every page
shares (console.js, console.css) are in this package's `assets/`. Nothing is built or downloaded: the
files are served as they are committed. URLs inside the pages are relative, so the same files work at
localhost:8002/console/ and behind the gateway at /lounge/console/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, RedirectResponse
from pydantic import BaseModel, Field

from airside.auth import ALL_STATIONS, STAFF_ROLES, Role, issue_token
from airside.problems import not_found

SHARED_ASSETS = Path(__file__).resolve().parent / "assets"
MEDIA_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
ASSET_NAME = r"^[a-z0-9-]{1,40}\.(html|js|css)$"
# Same origin only, no inline script: a pasted token can only ever reach this service.
HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# A shift and a bit: a development token outlives the working day it is fetched for, and no longer.
DEV_TOKEN_SECONDS = 10 * 3600
StaffRole = Annotated[str, Field(pattern="^(" + "|".join(role.value for role in Role if role in STAFF_ROLES) + ")$")]


class DevTokenRequest(BaseModel):
    role: StaffRole
    station: str = Field(default="PEK", pattern=r"^([A-Z]{3}|\*)$")


class DevToken(BaseModel):
    token: str
    role: str
    stations: list[str]
    expires_in: int


def console_router(directory: Path) -> APIRouter:
    """The routes of one service's console, its page in `directory`; none of them is in the API document."""
    router = APIRouter(include_in_schema=False)

    def asset(name: str) -> FileResponse:
        for folder in (directory, SHARED_ASSETS):
            if (folder / name).is_file():
                return FileResponse(folder / name, media_type=MEDIA_TYPES[Path(name).suffix], headers=HEADERS)
        raise not_found(f"console file {name}")

    @router.get("/console")
    async def console_root() -> RedirectResponse:
        # Relative, so behind the gateway /lounge/console goes to /lounge/console/.
        return RedirectResponse("console/", status_code=308)

    @router.get("/console/")
    async def console_page() -> FileResponse:
        return asset("index.html")

    @router.get("/console/{name}")
    async def console_asset(name: Annotated[str, PathParam(pattern=ASSET_NAME)]) -> FileResponse:
        return asset(name)

    @router.post("/console/dev-token")
    async def dev_token(body: DevTokenRequest, request: Request) -> DevToken:
        """A staff token for the console, only where AIRSIDE_DEV_TOKENS is on (`make run` sets it)."""
        settings = request.app.state.runtime.settings
        if not settings.dev_tokens:
            raise not_found("console/dev-token")
        stations = [ALL_STATIONS] if body.role in (Role.admin, Role.service) else [body.station]
        token = issue_token(settings, roles=[body.role], stations=stations, sub=f"dev-{body.role}", ttl_seconds=DEV_TOKEN_SECONDS)
        return DevToken(token=token, role=body.role, stations=stations, expires_in=DEV_TOKEN_SECONDS)

    return router
