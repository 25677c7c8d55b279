"""Request middleware: correlation and trace ids into the log context, and request metrics."""

from __future__ import annotations

import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from airside.logs import correlation_id_var, new_trace_id, trace_id_from, trace_id_var
from airside.metrics import HTTP_LATENCY, HTTP_REQUESTS
from airside.tracing import current_trace_id


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        correlation_id = headers.get("x-correlation-id") or uuid.uuid4().hex
        # With tracing on, the request's span (airside.tracing, outside this middleware) names the trace.
        trace_id = current_trace_id() or trace_id_from(headers.get("traceparent")) or new_trace_id()
        # Kept on the request too: the crash handler runs after this middleware has unwound.
        scope.setdefault("state", {})["correlation_id"] = correlation_id
        correlation_token = correlation_id_var.set(correlation_id)
        trace_token = trace_id_var.set(trace_id)
        status_holder = {"status": 500}
        started = time.perf_counter()

        async def send_with_ids(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message.setdefault("headers", [])
                message["headers"].append((b"x-correlation-id", correlation_id.encode("latin-1")))
            await send(message)

        try:
            await self.app(scope, receive, send_with_ids)
        finally:
            route = scope.get("route")
            route_path = getattr(route, "path", "unmatched")
            method = scope.get("method", "")
            HTTP_LATENCY.labels(self.service, method, route_path).observe(time.perf_counter() - started)
            HTTP_REQUESTS.labels(self.service, method, route_path, str(status_holder["status"])).inc()
            correlation_id_var.reset(correlation_token)
            trace_id_var.reset(trace_token)
