"""The committed OpenAPI documents, one per service (docs/openapi/<service>.json), for front-end teams
generating clients without running the services, and the problem-type table of docs/http.md.
`airside-dev openapi` writes them, `--check` (in `make lint`) fails when one is stale.

Each service's document is built in an interpreter of its own: the services share table names."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import airside
from airside.app import create_service_app, installed_services, load_service
from airside.route_contract import problem_types

DOCS = Path(airside.__file__).resolve().parents[2] / "docs"
DOCUMENTS = DOCS / "openapi"
HTTP_DOC = DOCS / "http.md"
TABLE_START, TABLE_END = "<!-- problem-types: written by `airside-dev openapi` -->\n", "<!-- end of problem-types -->\n"


def render_here(service: str) -> str:
    """The service's document and its problem types, as JSON (run in the service's own interpreter)."""
    app = create_service_app(load_service(service))
    document = json.dumps(app.openapi(), indent=2, ensure_ascii=False) + "\n"
    return json.dumps({"document": document, "problem_types": [entry.model_dump() for entry in problem_types(app)]})


def _rendered(service: str) -> dict[str, Any]:
    script = f"import sys; from airside_tools.openapi import render_here; sys.stdout.write(render_here({service!r}))"
    command = [sys.executable, "-c", script]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True, encoding="utf-8").stdout)


@cache
def rendered() -> dict[str, dict[str, Any]]:
    return {service: _rendered(service) for service in installed_services()}


def render(service: str) -> str:
    return rendered()[service]["document"]


def problem_table() -> str:
    """docs/http.md's table of every problem type, with the services that answer it."""
    by_slug: dict[str, dict[str, Any]] = {}
    for service, found in rendered().items():
        for entry in found["problem_types"]:
            by_slug.setdefault(entry["slug"], {**entry, "services": []})["services"].append(service)
    rows = [
        f"| `{slug}` | {entry['status']} | {entry['title']} | {', '.join(entry['services'])} | {entry['meaning']} |"
        for slug, entry in sorted(by_slug.items())
    ]
    return "\n".join(["| type `/problems/…` | status | title | services | meaning |", "|---|---|---|---|---|", *rows]) + "\n"


def http_doc() -> str:
    text = HTTP_DOC.read_text()
    before, _, rest = text.partition(TABLE_START)
    _, _, after = rest.partition(TABLE_END)
    return before + TABLE_START + problem_table() + TABLE_END + after


def document_path(service: str) -> Path:
    return DOCUMENTS / f"{service}.json"


def stale() -> list[str]:
    """The files that differ from what the code gives."""
    found = [
        str(document_path(service).relative_to(DOCS.parent))
        for service in installed_services()
        if not document_path(service).is_file() or document_path(service).read_text() != render(service)
    ]
    return found + (["docs/http.md"] if HTTP_DOC.read_text() != http_doc() else [])


def write() -> list[Path]:
    DOCUMENTS.mkdir(parents=True, exist_ok=True)
    for service in installed_services():
        document_path(service).write_text(render(service))
    HTTP_DOC.write_text(http_doc())
    return [*map(document_path, installed_services()), HTTP_DOC]
