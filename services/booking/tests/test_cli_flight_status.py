"""`airside flight-status` posts to booking's status route with a minted admin token."""

import httpx
from typer.testing import CliRunner

from airside import cli


def test_flight_status_posts_the_status_with_times_in_utc(monkeypatch):
    sent = {}

    def fake_post(url, json, headers, timeout):
        sent.update(url=url, json=json, headers=headers)
        return httpx.Response(200, json={"flight_no": "CA1831", "status": json["status"]})

    monkeypatch.setattr(cli.httpx, "post", fake_post)
    arguments = ["flight-status", "ca1831", "2026-11-22", "--status", "delayed", "--etd", "2026-11-22T09:35:00"]
    result = CliRunner().invoke(cli.app, [*arguments, "--gate", "C12", "--reason", "ATC"])
    assert result.exit_code == 0, result.output
    assert sent["url"].endswith("/v1/flights/CA1831/2026-11-22/status")
    assert sent["json"] == {"status": "delayed", "etd": "2026-11-22T09:35:00+00:00", "gate": "C12", "reason": "ATC"}
    assert sent["headers"]["Authorization"].startswith("Bearer ")
