"""The shape of the code, read from the source with `ast` (issue 11 items 4 and 7).

- Calls go down the layers: within a service (and within shared/airside) the siblings' imports form no
  circle, neither two packages importing each other nor a longer loop (A -> B -> C -> A), counting imports
  inside functions (the usual way to hide a circle) and under TYPE_CHECKING.
- Views parse, authorise, call a service function and return: no `views.py` runs SQL itself.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {
    "airside": ROOT / "shared" / "airside",
    "booking": ROOT / "services" / "booking" / "booking",
    "lounge": ROOT / "services" / "lounge" / "lounge",
    "callcenter": ROOT / "services" / "callcenter" / "callcenter",
}


def modules(package: str) -> Iterator[tuple[str, Path]]:
    root = PACKAGES[package]
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def imported_modules(name: str, path: Path) -> Iterator[str]:
    """Every module an import statement anywhere in the file names (module level, functions, TYPE_CHECKING)."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield module
            yield from (f"{module}.{alias.name}" for alias in node.names)  # `from pkg import module`


def sibling_of(package: str, module: str) -> str | None:
    """The top-level unit of `package` (booking.orders, booking.config, …) that `module` lies in."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == package and len(parts) > 1 else None


def sibling_graph(package: str) -> dict[str, dict[str, set[str]]]:
    """sibling -> sibling it imports -> the modules whose imports make that edge."""
    units = {sibling_of(package, name) for name, _ in modules(package)} - {None}
    graph: dict[str, dict[str, set[str]]] = {unit: {} for unit in units}  # type: ignore[misc]
    for name, path in modules(package):
        source = sibling_of(package, name)
        if source is None:
            continue
        for imported in imported_modules(name, path):
            target = sibling_of(package, imported)
            if target in units and target != source:
                graph[source].setdefault(target, set()).add(name)
    return graph


def reachable(graph: dict[str, dict[str, set[str]]], start: str) -> set[str]:
    """The siblings `start` imports, directly or through others."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for target in graph[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def circles(graph: dict[str, dict[str, set[str]]]) -> list[list[str]]:
    """The groups of siblings each of which reaches every other one through imports: each holds a circle."""
    reach = {unit: reachable(graph, unit) for unit in graph}
    groups = {frozenset({a, *(b for b in reach[a] if a in reach[b])}) for a in graph if a in reach[a]}
    return sorted(sorted(group) for group in groups)


def described(graph: dict[str, dict[str, set[str]]], circle: list[str]) -> list[str]:
    return [f"{a} -> {b} (imported by {sorted(graph[a][b])})" for a in circle for b in sorted(graph[a]) if b in circle]


@pytest.mark.parametrize("package", PACKAGES)
def test_no_circle_of_imports_between_siblings(package):
    graph = sibling_graph(package)
    assert len(graph) > 3, "the walk found the package's siblings"
    assert [described(graph, circle) for circle in circles(graph)] == [], "siblings import each other round a circle"


def _demo_package(tmp_path: Path, sources: dict[str, str]) -> dict[str, dict[str, set[str]]]:
    package = tmp_path / "demo"
    for folder, source in sources.items():
        (package / folder).mkdir(parents=True)
        (package / folder / "__init__.py").write_text("")
        (package / folder / "service.py").write_text(source)
    (package / "__init__.py").write_text("")
    PACKAGES["demo"] = package
    try:
        return sibling_graph("demo")
    finally:
        del PACKAGES["demo"]


def test_the_circle_check_sees_a_function_level_import(tmp_path):
    """The check itself: a circle closed by an import inside a function is found."""
    graph = _demo_package(
        tmp_path,
        {"flights": "from demo.orders import rules\n", "orders": "def later():\n    from demo.flights import service\n", "members": ""},
    )
    assert circles(graph) == [["demo.flights", "demo.orders"]]


def test_the_circle_check_sees_a_circle_through_three(tmp_path):
    """A -> B -> C -> A, no two of which import each other, is a circle; a chain that does not close is not."""
    graph = _demo_package(
        tmp_path,
        {
            "flights": "from demo.orders import service\n",
            "orders": "from demo.members import service\n",
            "members": "if TYPE_CHECKING:\n    from demo.flights.service import Flight\n",
            "reports": "from demo.orders import service\nfrom demo.members import service\n",
            "stations": "",
        },
    )
    assert circles(graph) == [["demo.flights", "demo.members", "demo.orders"]]
    del graph["demo.members"]["demo.flights"]
    assert circles(graph) == []


# --- views run no SQL -------------------------------------------------------------------------------------------

SQL_BUILDERS = {"select", "insert", "update", "delete", "text"}
SESSION_QUERIES = {"execute", "scalar", "scalars", "get", "stream", "stream_scalars"}


def sql_in(path: Path) -> list[str]:
    """Each place a module builds a statement or asks the session for rows itself, as `line: code`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        builds = isinstance(function, ast.Name) and function.id in SQL_BUILDERS
        builds = builds or (isinstance(function, ast.Attribute) and function.attr in SQL_BUILDERS and ast.unparse(function.value) == "sa")
        queries = (
            isinstance(function, ast.Attribute)
            and function.attr in SESSION_QUERIES
            and "session" in ast.unparse(function.value).split(".")[-1]
        )
        if builds or queries:
            found.append(f"{node.lineno}: {ast.unparse(node)[:80]}")
    return found


def serves_routes(path: Path) -> bool:
    """The module makes an APIRouter, whatever it is called (views.py, lifecycle_views.py, platform_routes.py)."""
    calls = (node.func for node in ast.walk(ast.parse(path.read_text(), str(path))) if isinstance(node, ast.Call))
    return any(isinstance(function, ast.Name) and function.id == "APIRouter" for function in calls)


def views_modules() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for name, path in modules(package):
            if path.name == "views.py" or path.name.endswith("_views.py") or serves_routes(path):
                yield name, path


@pytest.mark.parametrize(("name", "path"), list(views_modules()), ids=lambda value: value if isinstance(value, str) else "")
def test_a_view_runs_no_sql_itself(name, path):
    """Parse, authorise, call a service function, return: the queries live in the service modules."""
    assert sql_in(path) == []


def test_every_route_module_is_checked():
    """Each service's views and the platform's routes are among the modules checked for SQL."""
    checked = {name for name, _ in views_modules()}
    assert {"airside.platform_routes", "booking.orders.lifecycle_views", "lounge.visits.views", "callcenter.tickets.views"} <= checked
    assert len(checked) >= 30


def test_the_sql_check_sees_a_query_in_a_view(tmp_path):
    view = tmp_path / "views.py"
    view.write_text(
        "async def handler(session):\n"
        "    rows = await session.execute(select(Visit).where(Visit.id == 1))\n"
        "    return await session.get(Visit, 1), await request.state.session.scalar(q)\n"
    )
    assert sorted(line.split(":")[0] for line in sql_in(view)) == ["2", "2", "3", "3"]
