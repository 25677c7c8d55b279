"""Issue 13 item 3: an event's dataschema is a URL its service answers with the payload's JSON Schema (docs/events.md)."""

from collections.abc import Iterator

import jsonschema
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from pydantic import BaseModel

from airside.events import booking as booking_events
from airside.messaging import envelope
from airside.platform_routes import platform_router
from airside.problems import install_problem_handlers
from airside.settings import AirsideSettings

BASE = "http://booking.test"


@pytest.fixture
def service() -> Iterator[FastAPI]:
    """The platform routes of a service whose public URL is BASE, as create_service_app sets it."""
    envelope.set_schema_base(AirsideSettings(public_url=BASE + "/").public_base_url)
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(platform_router)
    yield app
    envelope.set_schema_base(AirsideSettings().public_base_url)


@pytest.fixture
def registry() -> Iterator[None]:
    """Definitions a test adds are dropped after it."""
    versions, newest = dict(envelope.VERSIONS), dict(envelope.REGISTRY)
    yield
    envelope.VERSIONS.clear()
    envelope.VERSIONS.update(versions)
    envelope.REGISTRY.clear()
    envelope.REGISTRY.update(newest)


async def fetch(app: FastAPI, url: str) -> tuple[int, dict]:
    async with AsyncClient(transport=ASGITransport(app=app), base_url=BASE) as client:
        response = await client.get(url)
    return response.status_code, response.json()


async def test_an_events_dataschema_is_served_and_its_payload_validates(service):
    payload = booking_events.StationUpserted(code="PEK", name="Beijing", timezone="Asia/Shanghai")
    event = booking_events.station_upserted.build(payload, subject="PEK", source="airside/booking")
    assert event.dataschema == f"{BASE}/schemas/events/airside.booking.station.upserted/v1.json"

    status, schema = await fetch(service, event.dataschema)

    assert status == 200
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(event.data)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate({**event.data, "code": 7})


class OrderCreatedV2(BaseModel):
    order_id: str
    total_minor: int


async def test_a_second_version_is_served_beside_the_first(service, registry):
    v2 = envelope.define("airside.booking.order.created", OrderCreatedV2, "v2", producer="booking", version=2)

    status_v1, v1_schema = await fetch(service, "/schemas/events/airside.booking.order.created/v1.json")
    status_v2, v2_schema = await fetch(service, v2.schema_path)

    assert (status_v1, status_v2) == (200, 200)
    assert "order" in v1_schema["properties"] and set(v2_schema["properties"]) == {"order_id", "total_minor"}
    assert envelope.definition("airside.booking.order.created", 1).payload is not OrderCreatedV2
    assert envelope.REGISTRY["airside.booking.order.created"] is v2  # lookups by type get the newest


async def test_an_unknown_type_or_version_is_a_404_problem(service):
    for path in ("/schemas/events/airside.booking.order.created/v9.json", "/schemas/events/airside.nothing/v1.json"):
        status, body = await fetch(service, path)
        assert status == 404 and body["type"] == "/problems/not_found"


def test_the_same_type_and_version_cannot_be_defined_twice(registry):
    with pytest.raises(ValueError, match="v1 defined twice"):
        envelope.define("airside.booking.order.created", OrderCreatedV2, "again", producer="booking")
