"""Traces across two services (docs/tracing.md): a request's span, the relay's publish span and another
service's consumer span in one trace, through a real nats-server, the real relay and the real consumer."""

import dataclasses
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator

import nats
import pytest
from conftest import PROBE, ProbeSettings, probe_settings_on
from nats.js.api import RawStreamMsg
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from airside import tracing
from airside.app import ServiceDefinition, create_service_app
from airside.events import booking as booking_events
from airside.logs import trace_id_var
from airside.messaging.envelope import CloudEvent, parse_envelope
from airside.messaging.streams import ConsumerSpec
from airside.tracing import TracingMiddleware
from airside_tools.testing.harness import InProcessService, in_process, wait_for

CALLBACKS_CONSUMER = "tracedcallbacks-stations"


class TracedCallback(SQLModel, table=True):
    """What the other service's handler wrote, with the span and log trace it wrote it under."""

    code: str = Field(primary_key=True)
    traceparent: str
    log_trace_id: str | None = None


async def write_callback(session: AsyncSession, event: CloudEvent) -> None:
    station = booking_events.station_upserted.parse(event)
    session.add(TracedCallback(code=station.code, traceparent=tracing.current_traceparent(), log_trace_id=trace_id_var.get()))


async def callback_of(service: InProcessService, code: str) -> TracedCallback | None:
    async with service.app.state.db.session() as session:
        return await session.get(TracedCallback, code)


# The writer: the probe's station route and relay, without the probe's own consumer.
WRITER = dataclasses.replace(PROBE, name="tracedwriter", consumers=())
CALLBACKS = ServiceDefinition(
    name="tracedcallbacks",
    title="traced callbacks",
    settings_class=ProbeSettings,
    routers=[],
    alembic_dir=PROBE.alembic_dir,
    consumers=[
        ConsumerSpec(
            durable=CALLBACKS_CONSUMER,
            stream="AIRSIDE_BOOKING",
            filter_subject="airside.booking.station.upserted",
            handlers={booking_events.station_upserted.type: write_callback},
        )
    ],
)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracing.stop_tracing()
    tracing.configure_tracing("tracing-test", exporter)
    yield exporter
    tracing.stop_tracing()


@pytest.fixture
async def writer_and_callbacks(spans, nats_server, databases) -> AsyncIterator[tuple[InProcessService, InProcessService]]:
    suffix = uuid.uuid4().hex[:6]
    writer_settings = await probe_settings_on(databases, nats_server.url, f"traced_writer_{suffix}")
    callbacks_settings = await probe_settings_on(databases, nats_server.url, f"traced_callbacks_{suffix}")
    async with in_process(WRITER, writer_settings) as writer, in_process(CALLBACKS, callbacks_settings) as callbacks:
        yield writer, callbacks


def finished(exporter: InMemorySpanExporter, kind: SpanKind, event_id: str | None = None) -> list[ReadableSpan]:
    tracing.flush()
    return [
        span
        for span in exporter.get_finished_spans()
        if span.kind == kind and (event_id is None or (span.attributes or {}).get("messaging.message.id") == event_id)
    ]


def span_id_in(traceparent: str) -> int:
    return int(traceparent.split("-")[2], 16)


async def stream_message(nats_url: str, event_id: str) -> RawStreamMsg:
    """The event's message as the stream holds it."""
    connection = await nats.connect(nats_url)
    try:
        message = await connection.jetstream().get_last_msg("AIRSIDE_BOOKING", "airside.booking.station.upserted")
    finally:
        await connection.close()
    assert message.headers and message.headers["Nats-Msg-Id"] == event_id
    return message


async def test_one_trace_runs_from_the_request_through_nats_to_the_other_services_consumer(writer_and_callbacks, spans, nats_server):
    writer, callbacks = writer_and_callbacks
    code = uuid.uuid4().hex[:8]

    response = await writer.client.post(f"/v1/stations/{code}", params={"name": "Traced"})
    assert response.status_code == 201
    event_id = response.json()["event_id"]
    callback = await wait_for(lambda: callback_of(callbacks, code), timeout=10, what="the other service's consumer writing its row")

    (request,) = [span for span in finished(spans, SpanKind.SERVER) if span.name == "POST /v1/stations/{code}"]
    (publish,) = finished(spans, SpanKind.PRODUCER, event_id)
    (consumed,) = [
        span
        for span in finished(spans, SpanKind.CONSUMER, event_id)
        if span.attributes["messaging.consumer.group.name"] == CALLBACKS_CONSUMER
    ]
    trace_id = request.context.trace_id
    assert publish.context.trace_id == trace_id and consumed.context.trace_id == trace_id
    assert request.parent is None
    assert publish.parent is not None and publish.parent.span_id == request.context.span_id
    assert consumed.parent is not None and consumed.parent.span_id == publish.context.span_id
    assert publish.name == "airside.booking.station.upserted publish"
    assert request.attributes["http.response.status_code"] == 201
    # On the wire: the envelope still names the request's span, the message's header the publish span.
    message = await stream_message(nats_server.url, event_id)
    assert span_id_in(parse_envelope(message.data).traceparent) == request.context.span_id
    assert span_id_in(message.headers["traceparent"]) == publish.context.span_id
    # The callback was written inside the consumer's span, and its log lines carried the same trace.
    assert span_id_in(callback.traceparent) == consumed.context.span_id
    assert callback.log_trace_id == f"{trace_id:032x}"


async def test_a_callers_traceparent_is_the_request_spans_parent(writer_and_callbacks, spans):
    writer, _callbacks = writer_and_callbacks
    caller_trace, caller_span = uuid.uuid4().hex, uuid.uuid4().hex[:16]

    response = await writer.client.post(
        f"/v1/stations/{uuid.uuid4().hex[:8]}", params={"name": "Called"}, headers={"traceparent": f"00-{caller_trace}-{caller_span}-01"}
    )
    assert response.status_code == 201

    (request,) = [span for span in finished(spans, SpanKind.SERVER) if span.name == "POST /v1/stations/{code}"]
    assert f"{request.context.trace_id:032x}" == caller_trace
    assert request.parent is not None and request.parent.span_id == int(caller_span, 16) and request.parent.is_remote
    assert not [span for span in finished(spans, SpanKind.SERVER) if span.name.endswith(("/healthz", "/readyz"))]


def test_without_an_otlp_endpoint_no_exporter_is_installed_and_the_sdk_is_not_loaded():
    # A process of its own: this one has loaded the SDK for the tests above.
    program = """
import json, sys
from conftest import PROBE, ProbeSettings
from airside import tracing
from airside.app import create_service_app
from airside.tracing import TracingMiddleware
app = create_service_app(PROBE, ProbeSettings(database_url="sqlite+aiosqlite:///:memory:"))
print(json.dumps({
    "tracer": tracing.tracer() is not None,
    "exporter": tracing.exporter() is not None,
    "middleware": any(m.cls is TracingMiddleware for m in app.user_middleware),
    "sdk_loaded": any(name.startswith("opentelemetry.sdk") for name in sys.modules),
    "exporter_loaded": any(name.startswith("opentelemetry.exporter") for name in sys.modules),
}))
"""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    shared_tests = os.path.dirname(__file__)
    result = subprocess.run([sys.executable, "-c", program], cwd=shared_tests, env=environment, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "tracer": False,
        "exporter": False,
        "middleware": False,
        "sdk_loaded": False,
        "exporter_loaded": False,
    }


def test_with_an_otlp_endpoint_the_otlp_exporter_is_installed(monkeypatch):
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    tracing.stop_tracing()
    try:
        app = create_service_app(PROBE, ProbeSettings(database_url="sqlite+aiosqlite:///:memory:"))
        assert any(m.cls is TracingMiddleware for m in app.user_middleware)
        assert isinstance(tracing.exporter(), OTLPSpanExporter)
    finally:
        tracing.stop_tracing()
