"""The staff console as lounge serves it (docs/console.md): its page and shared assets at /console/, nothing
else under it, and the development token route only where AIRSIDE_DEV_TOKENS is on."""

import pytest

from airside.auth import TokenVerifier
from airside.settings import AirsideSettings, SettingsError


async def test_the_board_page_and_the_shared_assets_are_served_under_console(client):
    page = await client.get("/console/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'src="board.js"' in page.text and 'href="console.css"' in page.text
    # Same origin, no inline script: what a pasted token can reach is this service.
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for name, kind in (("board.js", "text/javascript"), ("console.js", "text/javascript"), ("console.css", "text/css")):
        asset = await client.get(f"/console/{name}")
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(kind), name


async def test_console_without_its_slash_goes_to_the_page_by_a_relative_redirect(client):
    # Relative, so behind the gateway /lounge/console goes to /lounge/console/.
    answer = await client.get("/console")
    assert answer.status_code == 308 and answer.headers["location"] == "console/"


@pytest.mark.parametrize("name", ["nothing.js", "..%2Fmain.py", "__init__.py", "board.js.map", "%2e%2e%2fconfig.py"])
async def test_nothing_but_the_console_files_is_served(client, name):
    answer = await client.get(f"/console/{name}")
    assert answer.status_code in (404, 422) and answer.headers["content-type"] == "application/problem+json", name


async def test_the_development_token_route_is_not_there_unless_turned_on(client):
    answer = await client.post("/console/dev-token", json={"role": "lounge_staff"})
    assert answer.status_code == 404 and answer.headers["content-type"] == "application/problem+json"


async def test_turned_on_it_hands_out_a_staff_token_the_service_accepts(client, lounge, monkeypatch):
    monkeypatch.setattr(lounge.runtime.settings, "dev_tokens", True)
    answer = await client.post("/console/dev-token", json={"role": "lounge_staff", "station": "PEK"})
    assert answer.status_code == 200, answer.text
    principal = await TokenVerifier(lounge.runtime.settings).verify(answer.json()["token"])
    assert principal.roles == {"lounge_staff"} and principal.stations == {"PEK"}
    board = await client.get("/v1/lounges/PEK-T3-VIP/board", headers={"Authorization": f"Bearer {answer.json()['token']}"})
    assert board.status_code == 200
    # No member tokens (a member's token names a member): staff roles only.
    assert (await client.post("/console/dev-token", json={"role": "member"})).status_code == 422


def test_development_tokens_are_refused_outside_the_embedded_run():
    settings = AirsideSettings(env="production", jwt_secret="a-production-secret-of-more-than-32-bytes-0123", dev_tokens=True)
    with pytest.raises(SettingsError, match="AIRSIDE_DEV_TOKENS"):
        settings.check_runnable()
