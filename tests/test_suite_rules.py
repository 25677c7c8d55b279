"""Rules the tests themselves keep, read from their source with `ast` (docs/testing.md).

No test bounds how fast something is: speed is the bench's business, measured against a ceiling of the same
run, and a clock compared with a constant in a test fails on a loaded machine (a member's copies "within a
second" failed CI at 1.05 s). A test waits for a state with a deadline; an `assert` that compares a reading
of the clock is listed here with what it shows, or it is a defect.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_ROOTS = [ROOT / "tests", ROOT / "shared" / "tests", *sorted((ROOT / "services").glob("*/tests"))]
CLOCKS = {("time", "monotonic"), ("time", "perf_counter"), ("time", "time"), ("loop", "time")}
ORDERINGS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)

# (file, function): why its clock comparison is not a bound on speed.
ALLOWED = {
    ("tests/test_database_outage.py", "until"): "the deadline of a wait for a state",
    ("shared/tests/test_tokens.py", "test_the_jwks_fetch_does_not_block_the_event_loop"): "a lower bound: the fetch did wait",
    ("shared/tests/test_nats_hung.py", "test_readiness_reports_nats_degraded_within_seconds_of_any_fault_and_connected_after"): (
        "readiness must say degraded before the client's own ~12 s give-up: a 6 s bound on behaviour, not on speed"
    ),
}


def _is_clock(node: ast.AST) -> bool:
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name)):
        return False
    return (node.func.value.id, node.func.attr) in CLOCKS


def _reads_clock(node: ast.AST, timed: set[str]) -> bool:
    return any(_is_clock(sub) or (isinstance(sub, ast.Name) and sub.id in timed) for sub in ast.walk(node))


def clock_comparisons(source: str) -> Iterator[tuple[str, int]]:
    """(function, line) of each `assert` that orders a clock reading, or a name computed from a difference of
    readings in the same function, against something."""
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        timed: set[str] = set()
        for node in ast.walk(function):
            difference = isinstance(node, ast.Assign) and any(isinstance(sub, ast.BinOp) for sub in ast.walk(node.value))
            if difference and _reads_clock(node.value, set()):
                timed |= {name.id for target in node.targets for name in ast.walk(target) if isinstance(name, ast.Name)}
        for node in ast.walk(function):
            if not isinstance(node, ast.Assert):
                continue
            for compare in ast.walk(node.test):
                ordering = isinstance(compare, ast.Compare) and any(isinstance(op, ORDERINGS) for op in compare.ops)
                if ordering and _reads_clock(compare, timed):
                    yield function.name, node.lineno
                    break


def test_no_test_bounds_how_fast_something_is():
    found = {}
    for root in TEST_ROOTS:
        for path in sorted(root.rglob("*.py")):
            for function, line in clock_comparisons(path.read_text()):
                found[(str(path.relative_to(ROOT)), function)] = line
    unexplained = {f"{file}:{line} {function}" for (file, function), line in found.items() if (file, function) not in ALLOWED}
    assert not unexplained, f"a clock compared in an assert (measure it in bench/, or wait for a state): {sorted(unexplained)}"
    assert set(ALLOWED) <= set(found), f"allowed, but compares no clock any more: {sorted(set(ALLOWED) - set(found))}"


def test_the_check_sees_a_bound_on_an_elapsed_time_and_on_the_clock_itself():
    source = """
async def test_fast(http):
    started = time.monotonic()
    await http.get("/")
    elapsed = time.monotonic() - started
    assert elapsed < 1.0

async def test_faster(http):
    started = time.perf_counter()
    assert time.perf_counter() - started < 0.5

async def test_waits_for_a_state(http):
    await wait_for(lambda: ready(http), timeout=30, what="ready")
    assert (await http.get("/")).status_code == 200
"""
    assert [function for function, _line in clock_comparisons(source)] == ["test_fast", "test_faster"]
