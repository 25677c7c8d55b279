"""The Grafana dashboards (deploy/grafana) and the Prometheus rules (deploy/prometheus) read only metrics that exist.

The three services run as processes (and, on PostgreSQL, booking's outbox relay as `airside relay booking`, as
compose runs it); each one's /metrics is parsed with prometheus_client's own parser into the series names it
serves: a counter family `x` is `x_total` (and `x_created`), a histogram `x_bucket`, `x_sum` and `x_count`, a
gauge `x`; a labelled family with no sample yet still declares itself. Every PromQL expression, in every dashboard
panel, alert and recording rule, is parsed with promql-parser and its selectors' metric names must be among those,
the recording rules' outputs (for dashboards and alerts) or the series Prometheus writes itself for each target.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import promql_parser
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from airside_tools.processes import ServiceProcess
from airside_tools.testing.harness import ServiceSet, relay_process, services_running

ROOT = Path(__file__).resolve().parents[1]
DASHBOARDS = sorted((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"))
PROVISIONING = ROOT / "deploy" / "grafana" / "provisioning"
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
SERVICES = ("booking", "lounge", "callcenter")
# Written by Prometheus for every target it scrapes, not by the target.
PROMETHEUS_OWN = {"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling", "scrape_series_added"}
# What a family of each type puts in the text format, after its name.
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
}
# Grafana's interval variables, replaced by a duration before parsing.
GRAFANA_INTERVALS = re.compile(r"\$__(rate_interval|interval|range)\b")


def series_names(metrics_text: str) -> set[str]:
    names: set[str] = set()
    for family in text_string_to_metric_families(metrics_text):
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ("",)))
        names.update(sample.name for sample in family.samples)
    return names


def metric_names(expr: str) -> set[str]:
    """The metric names an expression's selectors read; functions, keywords, labels and durations are not names."""
    query = GRAFANA_INTERVALS.sub("5m", expr)
    assert "$" not in query, f"a template variable this test does not know in {expr!r}"
    found: set[str] = set()
    _walk(promql_parser.parse(query), found, expr)
    return found


def _walk(node: Any, found: set[str], expr: str) -> None:
    if isinstance(node, promql_parser.VectorSelector):
        named = node.name or next(
            (m.value for m in node.matchers.matchers if m.name == "__name__" and m.op == promql_parser.MatchOp.Equal), None
        )
        assert named, f"a selector without one metric name in {expr!r}: it cannot be checked"
        found.add(named)
    elif isinstance(node, promql_parser.MatrixSelector):
        _walk(node.vector_selector, found, expr)
    elif isinstance(node, promql_parser.Call):
        for arg in node.args:
            _walk(arg, found, expr)
    elif isinstance(node, promql_parser.BinaryExpr):
        _walk(node.lhs, found, expr)
        _walk(node.rhs, found, expr)
    elif isinstance(node, promql_parser.AggregateExpr):
        _walk(node.expr, found, expr)
        if node.param is not None:
            _walk(node.param, found, expr)
    elif isinstance(node, (promql_parser.ParenExpr, promql_parser.UnaryExpr, promql_parser.SubqueryExpr)):
        _walk(node.expr, found, expr)
    else:
        assert isinstance(node, (promql_parser.NumberLiteral, promql_parser.StringLiteral)), f"{type(node).__name__} in {expr!r}"


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def rules(kind: str) -> list[dict[str, Any]]:
    """The rules of one kind (`record` or `alert`) in the files prometheus.yml loads."""
    files = load_yaml(PROMETHEUS_DIR / "prometheus.yml")["rule_files"]
    return [rule for name in files for group in load_yaml(PROMETHEUS_DIR / name)["groups"] for rule in group["rules"] if kind in rule]


RECORDED = {rule["record"] for rule in rules("record")}


def dashboard_queries(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(panel title, expression) for every query of every panel, rows' nested panels included."""
    for panel in dashboard["panels"]:
        for inner in [panel, *panel.get("panels", [])]:
            for target in inner.get("targets", []):
                yield inner["title"], target["expr"]


def scrape(process: ServiceProcess) -> set[str]:
    response = httpx.get(f"{process.url}/metrics", timeout=10)
    assert response.status_code == 200, response.text
    return series_names(response.text)


@pytest.fixture(scope="module")
def services(databases, nats_server, tmp_path_factory) -> Iterator[ServiceSet]:
    with services_running(databases, nats_server.url, tmp_path_factory.mktemp("dashboards")) as running:
        yield running


@pytest.fixture(scope="module")
def exported(services: ServiceSet) -> dict[str, set[str]]:
    """Each service's series names, as its /metrics serves them."""
    return {name: scrape(services[name]) for name in SERVICES}


def missing(queries: list[tuple[str, str]], known: set[str]) -> list[str]:
    return [f"{where}: {name} (in {expr})" for where, expr in queries for name in sorted(metric_names(expr) - known)]


def test_the_names_read_from_metrics_are_the_series_prometheus_stores(exported: dict[str, set[str]]) -> None:
    booking = exported["booking"]
    assert {"airside_http_requests_total", "airside_http_request_duration_seconds_bucket", "airside_outbox_backlog"} <= booking
    # A labelled family nothing has touched yet still counts; a gauge has no _total, a counter no bare name.
    assert {"airside_sla_breaches_total", "airside_nats_connected"} <= booking
    assert "airside_outbox_backlog_total" not in booking and "airside_http_requests" not in booking
    assert metric_names(
        'histogram_quantile(0.99, sum by (le) (rate(airside_nope_bucket{route!~".*/stream"}[$__rate_interval]))) > on() up'
    ) == {
        "airside_nope_bucket",
        "up",
    }
    assert missing([("probe", "sum(rate(airside_no_such_total[5m]))")], booking) == [
        "probe: airside_no_such_total (in sum(rate(airside_no_such_total[5m])))"
    ]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.stem)
def test_every_panel_query_names_metrics_the_services_export(path: Path, exported: dict[str, set[str]]) -> None:
    dashboard = json.loads(path.read_text())
    service = next((name for name in SERVICES if dashboard["uid"] == f"airside-{name}"), None)
    known = (exported[service] if service else set().union(*exported.values())) | RECORDED | PROMETHEUS_OWN
    queries = list(dashboard_queries(dashboard))
    assert queries, f"{path.name} has no query"
    assert not missing(queries, known), f"{path.name} names metrics no service exports"


def test_every_alert_and_recording_rule_names_metrics_the_services_export(exported: dict[str, set[str]]) -> None:
    known = set().union(*exported.values()) | PROMETHEUS_OWN
    recording = rules("record")
    alerting = [(rule["alert"], rule["expr"]) for rule in rules("alert")]
    assert recording and alerting
    for rule in recording:  # a recording rule may read what the rules before it in its group recorded
        assert not missing([(rule["record"], rule["expr"])], known), "a recording rule reads a metric no service exports"
        known.add(rule["record"])
    assert not missing(alerting, known), "an alert reads a metric no service exports"


def test_the_relay_process_serves_the_event_flow_dashboards_outbox_and_webhook_metrics(
    databases, services: ServiceSet, nats_server, tmp_path
) -> None:
    """In compose the relays publish and deliver webhooks: their /metrics carry the outbox and webhook figures."""
    if databases.kind != "postgresql":
        pytest.skip(
            "`airside relay` runs in a process of its own only on PostgreSQL (AIRSIDE_TEST_POSTGRES_URL); on SQLite a service relays itself"
        )
    flow = json.loads((ROOT / "deploy" / "grafana" / "dashboards" / "airside-event-flow.json").read_text())
    rows: dict[str, list[tuple[str, str]]] = {}
    current = ""
    for panel in flow["panels"]:
        if panel["type"] == "row":
            current = panel["title"]
        rows.setdefault(current, []).extend((panel["title"], target["expr"]) for target in panel.get("targets", []))
    relay = relay_process(
        "booking", database_url=services["booking"].env["BOOKING_DATABASE_URL"], nats_url=nats_server.url, log_dir=tmp_path
    )
    relay.start()
    try:
        relay.wait_ready(60)
        served = scrape(relay)
    finally:
        relay.stop()
    assert not missing(rows["Outbox"] + rows["Webhooks"], served | RECORDED), (
        "the relay does not serve a metric the event-flow dashboard reads"
    )


def test_the_dashboards_are_provisioned_against_the_provisioned_prometheus() -> None:
    datasource = load_yaml(PROVISIONING / "datasources" / "prometheus.yml")["datasources"][0]
    provider = load_yaml(PROVISIONING / "dashboards" / "airside.yml")["providers"][0]
    assert datasource["type"] == "prometheus" and provider["type"] == "file"
    uids = [json.loads(path.read_text())["uid"] for path in DASHBOARDS]
    assert sorted(uids) == sorted([*(f"airside-{name}" for name in SERVICES), "airside-event-flow"])
    for path in DASHBOARDS:
        dashboard = json.loads(path.read_text())
        panels = [panel for panel in dashboard["panels"] if panel["type"] != "row"]
        assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"]), f"{path.name}: panel ids repeat"
        covered: set[tuple[int, int]] = set()  # Grafana's grid: 24 columns; no panel over another
        for panel in dashboard["panels"]:
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24, f"{path.name}: {panel['title']} is wider than the grid"
            cells = {(x, y) for x in range(grid["x"], grid["x"] + grid["w"]) for y in range(grid["y"], grid["y"] + grid["h"])}
            assert not cells & covered, f"{path.name}: {panel['title']} lies over another panel"
            covered |= cells
        for panel in panels:
            assert panel["targets"], f"{path.name}: {panel['title']} has no query"
            assert panel["datasource"]["uid"] == datasource["uid"], f"{path.name}: {panel['title']}"
            assert all(target["datasource"]["uid"] == datasource["uid"] for target in panel["targets"])
