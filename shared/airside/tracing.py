"""OpenTelemetry traces (docs/tracing.md): a span per HTTP request, per outbox publish and per consumed event.

Off unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set: then no SDK is loaded, no middleware is added and the
relay and the consumers test one module variable per batch or event. On, one trace follows a request
through its events: the envelope's `traceparent` names the request's span, the relay's publish span is
its child and sends its own `traceparent` as a NATS header, and the consumer's span is the child of that.
The log lines keep their `trace_id` (airside.logs): it is the trace's id.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from airside.logs import traceparent as fresh_traceparent

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

ENDPOINT_VARIABLE = "OTEL_EXPORTER_OTLP_ENDPOINT"
# Probes and scrapes come every few seconds and say nothing about a booking: no spans for them.
UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
_PROPAGATOR = TraceContextTextMapPropagator()
_ENVELOPE_KEY = '"traceparent":"'
_TRACEPARENT_LENGTH = 55  # 00-<32 hex>-<16 hex>-<2 hex>
_NO_SPAN = nullcontext()

# The process's provider and tracer, once `configure_tracing` found an exporter; None while tracing is off.
_provider: TracerProvider | None = None
_tracer: Tracer | None = None
_exporter: SpanExporter | None = None


def configure_tracing(service: str, exporter: SpanExporter | None = None) -> Tracer | None:
    """Start tracing for this process once: with `exporter` (a test's), else OTLP over HTTP when
    OTEL_EXPORTER_OTLP_ENDPOINT is set. Returns the tracer, or None when tracing stays off.

    The SDK is imported only here, so a process without the variable never loads it."""
    global _provider, _tracer, _exporter
    if _tracer is not None:
        return _tracer
    from_environment = exporter is None
    if exporter is None:
        if not os.environ.get(ENDPOINT_VARIABLE):
            return None
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()  # the endpoint, headers and timeout from the OTEL_EXPORTER_OTLP_* variables
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: os.environ.get("OTEL_SERVICE_NAME") or service}))
    # Spans are queued and exported by the processor's own thread: a request never waits for the collector.
    provider.add_span_processor(BatchSpanProcessor(exporter))
    if from_environment:  # the process-wide provider, for any other instrumentation; a test's stays its own
        trace.set_tracer_provider(provider)
    _provider, _tracer, _exporter = provider, provider.get_tracer("airside"), exporter
    return _tracer


def stop_tracing() -> None:
    """Export what is left and turn tracing off (a test's exporter, or a process stopping)."""
    global _provider, _tracer, _exporter
    if _provider is not None:
        _provider.shutdown()
    _provider, _tracer, _exporter = None, None, None


def tracer() -> Tracer | None:
    """The process's tracer, None while tracing is off (the hot paths test this and do nothing more)."""
    return _tracer


def exporter() -> SpanExporter | None:
    """Where this process's spans go; None while tracing is off."""
    return _exporter


def flush(timeout_millis: int = 5_000) -> None:
    """Export every ended span now (a test reads them; a process stopping hands its last ones over)."""
    if _provider is not None:
        _provider.force_flush(timeout_millis)


def current_traceparent() -> str:
    """The W3C traceparent an event records: the current span's when one is recording, else a fresh
    span id in the log context's trace (airside.logs) as without tracing."""
    if _tracer is not None:
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"
    return fresh_traceparent()


def current_trace_id() -> str | None:
    """The current span's trace id (32 hex digits), None without one: the request's log lines carry it."""
    if _tracer is None:
        return None
    context = trace.get_current_span().get_span_context()
    return f"{context.trace_id:032x}" if context.is_valid else None


def parent_context(traceparent: str | None) -> Context | None:
    """The remote parent a W3C traceparent names; None (a new trace) when there is none or it does not parse."""
    if not traceparent:
        return None
    context = _PROPAGATOR.extract({"traceparent": traceparent})
    return context if trace.get_current_span(context).get_span_context().is_valid else None


def traceparent_of(span: Span) -> str:
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, trace.set_span_in_context(span))
    return carrier["traceparent"]


def envelope_traceparent(envelope: str) -> str | None:
    """The traceparent inside an envelope's JSON text, found without parsing the whole event."""
    start = envelope.find(_ENVELOPE_KEY)
    if start < 0:
        return None
    start += len(_ENVELOPE_KEY)
    return envelope[start : start + _TRACEPARENT_LENGTH]


def start_publish_span(tracer: Tracer, subject: str, event_id: str, envelope: str, headers: dict[str, str]) -> Span:
    """The relay's span for one event, child of the span that recorded it; its traceparent goes in `headers`."""
    span = tracer.start_span(
        f"{subject} publish",
        context=parent_context(envelope_traceparent(envelope)),
        kind=SpanKind.PRODUCER,
        attributes={
            "messaging.system": "nats",
            "messaging.operation.type": "send",
            "messaging.destination.name": subject,
            "messaging.message.id": event_id,
        },
    )
    headers["traceparent"] = traceparent_of(span)
    return span


def end_publish_spans(spans: Sequence[Span], results: Sequence[object]) -> None:
    """End each publish span with its PubAck or its error; a span whose event was never sent says so."""
    for index, span in enumerate(spans):
        result = results[index] if index < len(results) else None
        if isinstance(result, BaseException) or result is None:
            span.set_status(StatusCode.ERROR, repr(result)[:200] if result is not None else "not sent")
        span.end()


def consumer_span(consumer: str, event: Any) -> AbstractContextManager[Any]:
    """The current span while a consumer's handler applies one event (a CloudEvent), the child of the
    traceparent it carries (the consumer puts its delivery's there); nothing while tracing is off."""
    if _tracer is None:
        return _NO_SPAN
    return _tracer.start_as_current_span(
        f"{event.type} process",
        context=parent_context(event.traceparent),
        kind=SpanKind.CONSUMER,
        attributes={
            "messaging.system": "nats",
            "messaging.operation.type": "process",
            "messaging.consumer.group.name": consumer,
            "messaging.destination.name": event.type,
            "messaging.message.id": event.id,
        },
    )


class TracingMiddleware:
    """A server span per HTTP request, the child of the caller's `traceparent` when it sends one; outside
    RequestContextMiddleware, so the request's log lines carry this trace's id. Added only when tracing is on."""

    def __init__(self, app: ASGIApp, tracer: Tracer) -> None:
        self.app = app
        self.tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNTRACED_PATHS:
            await self.app(scope, receive, send)
            return
        incoming = next((value.decode("latin-1") for key, value in scope["headers"] if key == b"traceparent"), None)
        parent = parent_context(incoming)
        method = scope["method"]
        status = [500]

        async def send_with_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        attributes = {"http.request.method": method}
        server_span = self.tracer.start_as_current_span(method, context=parent, kind=SpanKind.SERVER, attributes=attributes)
        with server_span as span:
            try:
                await self.app(scope, receive, send_with_status)
            finally:
                route = getattr(scope.get("route"), "path", None)
                if route is not None:
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status[0])
                if status[0] >= 500:
                    span.set_status(StatusCode.ERROR)
