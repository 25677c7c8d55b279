"""One table (figure, ceiling, ratio, target, PASS/FAIL) printed and written to bench/results/*.json."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.stack import ROOT

RESULTS = ROOT / "bench" / "results"


@dataclass
class Row:
    id: str
    what: str
    figure: float
    unit: str
    ceiling: float | None = None
    ceiling_id: str = ""
    target: str = ""
    ok: bool | None = None  # None: a ceiling or an informational figure

    @property
    def ratio(self) -> float | None:
        return self.figure / self.ceiling if self.ceiling else None

    @property
    def verdict(self) -> str:
        return "" if self.ok is None else ("PASS" if self.ok else "FAIL")


def machine() -> dict[str, Any]:
    def first_line(command: list[str]) -> str:
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=10).stdout.strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "?"

    model = "?"
    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if "model name" in line)
        memory_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")))
    except (OSError, StopIteration):
        memory_kb = 0
    from airside_tools.processes import nats_server_binary

    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": round(memory_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "nats_server": first_line([nats_server_binary(), "--version"]),
        "postgres": first_line(["psql", "--version"]),
        "load_average_at_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}" if abs(value) >= 10 else f"{value:.2f}"
    return f"{text} {unit}".strip()


def render(rows: list[Row]) -> str:
    header = ["id", "what", "figure", "ceiling", "ratio", "target", "result"]
    lines = [
        [row.id, row.what, _number(row.figure, row.unit), f"{row.ceiling_id} {_number(row.ceiling)}".strip() if row.ceiling else "-",
         _number(row.ratio) if row.ratio is not None else "-", row.target or "-", row.verdict or "-"]
        for row in rows
    ]  # fmt: skip
    widths = [max(len(header[column]), *(len(line[column]) for line in lines)) for column in range(len(header))]
    out = ["| " + " | ".join(name.ljust(width) for name, width in zip(header, widths, strict=True)) + " |"]
    out.append("|" + "|".join("-" * (width + 2) for width in widths) + "|")
    out += ["| " + " | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)) + " |" for line in lines]
    return "\n".join(out)


def write(rows: list[Row], raw: dict[str, Any], started: datetime, info: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"bench-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    document = {
        "started_at": started.isoformat(),
        "seconds": (datetime.now(UTC) - started).total_seconds(),
        "machine": info,
        "rows": [{**asdict(row), "ratio": row.ratio, "result": row.verdict} for row in rows],
        "raw": raw,
        "table": render(rows),
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False, default=str))
    return path
