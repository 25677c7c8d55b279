"""The Prometheus rules and scrape configuration in deploy/prometheus, checked by Prometheus's own promtool.

`promtool check rules` and `check config` parse them as Prometheus would, and `promtool test rules` runs
tests/alerts-test.yml: input series, and which alerts fire (labels and annotations) at which time. Beside that:
every alert has a case where it fires and one where it does not, a section in the runbook its runbook_url names
(docs/operations.md), and the scrape configuration names the services and relays as docker-compose.yml does.
Debian's `prometheus` package carries promtool (`make test` and .ci/run install it where they can); without it
these tests skip and say so.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
RULE_FILES = [PROMETHEUS_DIR / "recording-rules.yml", PROMETHEUS_DIR / "alerts.yml"]
RULE_TESTS = PROMETHEUS_DIR / "tests" / "alerts-test.yml"
RUNBOOK = ROOT / "docs" / "operations.md"
COMPOSE_FILE = ROOT / "docker-compose.yml"


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.skip("promtool is not installed (Debian's `prometheus` package; `make test` installs it where it may use apt)")
    return found


def run_promtool(*args: str) -> str:
    result = subprocess.run([promtool(), *args], capture_output=True, text=True, timeout=120, cwd=PROMETHEUS_DIR)
    assert result.returncode == 0, f"promtool {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def alerts() -> list[dict[str, Any]]:
    return [rule for group in load(PROMETHEUS_DIR / "alerts.yml")["groups"] for rule in group["rules"] if "alert" in rule]


def test_promtool_accepts_the_rules() -> None:
    output = run_promtool("check", "rules", *(str(path) for path in RULE_FILES))
    assert output.count("SUCCESS") == len(RULE_FILES)


def test_promtool_accepts_the_scrape_configuration() -> None:
    output = run_promtool("check", "config", "prometheus.yml")
    assert "is valid prometheus config file syntax" in output
    assert "2 rule files found" in output  # the configuration loads the recording rules and the alerts


def test_every_alert_fires_and_stays_quiet_as_the_unit_tests_expect() -> None:
    output = run_promtool("test", "rules", str(RULE_TESTS))
    assert "SUCCESS" in output


def test_every_alert_has_a_firing_case_a_quiet_case_and_a_runbook_section() -> None:
    checks = [check for case in load(RULE_TESTS)["tests"] for check in case.get("alert_rule_test", [])]
    firing = {check["alertname"] for check in checks if check.get("exp_alerts")}
    quiet = {check["alertname"] for check in checks if not check.get("exp_alerts")}
    runbook = RUNBOOK.read_text()
    headings = {heading.strip().lower() for heading in re.findall(r"^#+\s+(.+)$", runbook, flags=re.MULTILINE)}
    for alert in alerts():
        name = alert["alert"]
        assert name in firing, f"{name}: no case in {RULE_TESTS.name} where it fires"
        assert name in quiet, f"{name}: no case in {RULE_TESTS.name} where it must not fire"
        assert alert["labels"]["severity"] in {"warning", "critical"}, name
        assert alert["annotations"]["runbook_url"] == f"docs/operations.md#{name.lower()}", name
        assert name.lower() in headings, f"{name}: no section headed `{name}` in docs/operations.md"


def test_the_scrape_configuration_reaches_every_service_and_relay_as_compose_names_them() -> None:
    compose = load(COMPOSE_FILE)["services"]
    # The Airside processes are the ones built from the repository's Dockerfile; their ports are the ones they expose.
    built = {name: {int(port) for port in service.get("expose", [])} for name, service in compose.items() if "build" in service}
    scraped: dict[str, set[int]] = {}
    for job in load(PROMETHEUS_DIR / "prometheus.yml")["scrape_configs"]:
        assert job.get("metrics_path", "/metrics") == "/metrics", job["job_name"]
        for discovery in job["dns_sd_configs"]:
            for name in discovery["names"]:
                scraped.setdefault(name, set()).add(discovery["port"])
    assert scraped == built
