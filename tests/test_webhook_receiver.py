"""The webhook tests' receiver (airside_tools.webhook_receiver) as the process they run: it must refuse
what is not signed with a secret it knows, apply an event once however often it comes, and remember
across a kill, or the end-to-end webhook tests could pass on deliveries that were wrong or lost."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import pytest
from standardwebhooks import Webhook

from airside_tools.webhook_receiver import Certificates, ReceiverProcess


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


def signed(secret: str, event: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    body = orjson.dumps(event)
    moment = datetime.now(UTC)
    headers = {
        "webhook-id": event["id"],
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(event["id"], moment, body.decode()),
        "content-type": "application/json",
    }
    return body, headers


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[ReceiverProcess]:
    process = ReceiverProcess(Certificates.create(tmp_path / "tls"), tmp_path)
    process.start().wait_ready()
    try:
        yield process
    finally:
        process.stop()


async def test_verifies_deduplicates_and_remembers_across_a_kill(receiver: ReceiverProcess) -> None:
    old, new = new_secret(), new_secret()
    await receiver.set_secrets(old, new)
    event = {"id": "evt-1", "type": "airside.booking.order.created", "subject": "order-1", "time": "2026-12-02T10:00:00Z"}
    async with httpx.AsyncClient(verify=receiver.tls) as client:
        for secret in (old, new):  # both verify during a rotation's overlap; the second is a duplicate
            body, headers = signed(secret, event)
            assert (await client.post(receiver.hook_url("booking"), content=body, headers=headers)).status_code == 204
        body, headers = signed(new_secret(), {**event, "id": "evt-2"})
        assert (await client.post(receiver.hook_url("booking"), content=body, headers=headers)).status_code == 401
        body, headers = signed(old, {**event, "id": "evt-3"})
        tampered = body.replace(b"order-1", b"order-9")
        assert (await client.post(receiver.hook_url("booking"), content=tampered, headers=headers)).status_code == 401

        receiver.kill()
        receiver.restart()
        await receiver.set_mode("fail")
        body, headers = signed(new, {**event, "id": "evt-4"})
        assert (await client.post(receiver.hook_url("booking"), content=body, headers=headers)).status_code == 500

    state = await receiver.state()
    assert [(e["id"], e["endpoint"], e["copies"]) for e in state.events] == [("evt-1", "booking", 2)]
    assert (state.duplicates, state.rejected, state.failed) == (1, 2, 1)
