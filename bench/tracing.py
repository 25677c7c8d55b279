"""P12: what tracing costs: P1's orders at full speed with tracing off, then on, twice each (docs/tracing.md).

On: the booking worker and its relay export every span with the SDK's BatchSpanProcessor over OTLP/HTTP
(`OTEL_EXPORTER_OTLP_ENDPOINT`) to a local receiver in the bench's process, which decodes each request
and counts its spans, so the exporter's whole path (encoding, HTTP, its thread) is paid. Off: the
variable is unset, as in production by default. The cost is the ratio of the on and off throughputs
(the median of each side's runs) and the CPU per order of the worker and the relay.
"""

from __future__ import annotations

import gzip
import statistics
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest, ExportTraceServiceResponse

from airside_tools.processes import free_port
from bench import datagen
from bench.scaleout import BookingReplicas, orders_at_full_speed

ROUNDS = 2


class OtlpReceiver:
    """An OTLP/HTTP traces endpoint (POST /v1/traces, protobuf) on loopback that counts the spans it is sent."""

    def __init__(self) -> None:
        self.spans = 0
        self.requests = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                request = ExportTraceServiceRequest.FromString(body)
                count = sum(len(scope.spans) for resource in request.resource_spans for scope in resource.scope_spans)
                with receiver._lock:
                    receiver.spans += count
                    receiver.requests += 1
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> OtlpReceiver:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


async def p12(booking_url: str, nats_url: str, log_dir: Path, data: datagen.BookingData, *, seconds: float) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    with OtlpReceiver() as receiver:
        for round_ in range(ROUNDS):
            for tracing in ("off", "on"):
                env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url} if tracing == "on" else {}
                spans_before = receiver.spans
                replicas = BookingReplicas(booking_url, nats_url, log_dir / f"p12-{tracing}-{round_}", 1, env=env)
                async with replicas:
                    run = await orders_at_full_speed(replicas, data, seconds=seconds, pinned=True)
                # Stopped: the last spans are exported at exit, so the count covers the whole run.
                run["spans_received"] = receiver.spans - spans_before
                runs.append({"tracing": tracing, **run})
    sides = {tracing: [run for run in runs if run["tracing"] == tracing] for tracing in ("off", "on")}

    def median(tracing: str, key: str, process: str | None = None) -> float:
        values = [run[key][process] if process else run[key] for run in sides[tracing]]
        return statistics.median(values)

    summary = {
        tracing: {
            "orders_per_second": median(tracing, "orders_per_second"),
            "worker_cpu_ms_per_order": median(tracing, "cpu_ms_per_order", "booking-1"),
            "relay_cpu_ms_per_order": median(tracing, "cpu_ms_per_order", "booking-relay"),
        }
        for tracing in ("off", "on")
    }
    on_orders = sum(run["completed"] for run in sides["on"])
    return {"runs": runs, **summary, "spans_per_order": sum(run["spans_received"] for run in sides["on"]) / max(on_orders, 1)}
