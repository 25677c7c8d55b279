"""Prometheus metrics, defined once per process and labelled by service."""

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter("airside_http_requests_total", "HTTP requests", ["service", "method", "route", "status"])
HTTP_LATENCY = Histogram(
    "airside_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
OUTBOX_BACKLOG = Gauge("airside_outbox_backlog", "Events recorded but not yet published", ["service"])
OUTBOX_OLDEST_AGE = Gauge("airside_outbox_oldest_age_seconds", "Age of the oldest unpublished event", ["service"])
OUTBOX_PUBLISHED = Counter("airside_outbox_published_total", "Events published from the outbox", ["service"])
OUTBOX_PUBLISH_FAILURES = Counter("airside_outbox_publish_failures_total", "Failed publish attempts", ["service"])
RELAY_LEADER = Gauge("airside_outbox_relay_leader", "1 while this process's relay holds the service's relay lock", ["service"])
CONSUMER_EVENTS = Counter(
    "airside_consumer_events_total",
    "Events handled by consumers, by outcome (applied, duplicate, ignored, retried, dead_lettered)",
    ["service", "consumer", "outcome"],
)
CONSUMER_PENDING = Gauge("airside_consumer_pending", "Messages not yet delivered to the consumer (lag)", ["service", "consumer"])
CONSUMER_REDELIVERIES = Counter("airside_consumer_redeliveries_total", "Messages delivered more than once", ["service", "consumer"])
DEAD_LETTERS = Gauge("airside_dead_letters", "Events parked in the dead-letter table", ["service"])
# NATS as /readyz reports it (docs/events.md, rule 5), set at each scrape: what the NATS-disconnected alert reads.
NATS_CONNECTED = Gauge("airside_nats_connected", "1 while NATS is connected and answering, 0 while it is away or degraded", ["service"])
METRICS_AGE = Gauge(
    "airside_metrics_age_seconds",
    "Seconds since the gauges read from each source (database, nats) were last refreshed; large means stale",
    ["service", "source"],
)
# Tests wait for passes of a job (not a fixed sleep) before asserting that a pass changed nothing.
JOB_PASSES = Counter("airside_job_passes_total", "Completed passes of a scheduled job", ["service", "job"])
# A background task that raised and was started again (airside.supervision): anything above 0 is a defect to read in the log.
TASK_RESTARTS = Counter("airside_background_task_restarts_total", "Background tasks started again after an exception", ["service", "task"])
# Webhooks (docs/webhooks.md): attempts by outcome (delivered, retried, failed: every retry spent).
WEBHOOK_DELIVERIES = Counter("airside_webhook_deliveries_total", "Webhook delivery attempts, by outcome", ["service", "outcome"])
WEBHOOK_ATTEMPT_SECONDS = Histogram(
    "airside_webhook_attempt_duration_seconds",
    "One webhook POST, from the destination check to the receiver's answer",
    ["service"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
WEBHOOK_DELIVERY_LAG = Histogram(
    "airside_webhook_delivery_lag_seconds",
    "From a delivery being owed (the event fanned out) to the receiver's 2xx, retries included",
    ["service"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 5, 30, 300, 3600, 86400),
)
WEBHOOK_PENDING = Gauge(
    "airside_webhook_pending_deliveries", "Webhook deliveries still owed (due, waiting to retry, or disabled)", ["service"]
)
# Live feeds (docs/feeds.md): clients connected now, and clients dropped for not reading.
FEED_CLIENTS = Gauge("airside_feed_clients", "Clients connected to a live feed", ["service"])
FEED_DROPPED = Counter("airside_feed_clients_dropped_total", "Feed clients dropped because they did not read", ["service"])
# SLA breaches (docs/callcenter.md), counted once the timer pass that fired them has committed.
SLA_BREACHES = Counter(
    "airside_sla_breaches_total", "Ticket SLA targets breached, by target (first_response, resolution)", ["service", "target"]
)
