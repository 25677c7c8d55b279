"""One write path (issue 11 item 1), read from the source with `ast`.

- No route handler branches on the database kind: what differs between PostgreSQL and SQLite is the
  platform's business (airside.statements carries a write plan out on either), never a route's.
- No hand-written SQL names a table of the services' code: every statement is built from the models'
  table metadata, so a table's columns are stated once, by its model. (Before, the outbox's columns
  were spelt out in six places and the idempotency record's in three, in a second, PostgreSQL-only
  copy of the order writes.) Migrations are history and keep their own DDL.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE = [ROOT / "shared" / "airside", *(ROOT / "services" / name / name for name in ("booking", "lounge", "callcenter"))]
DATABASE_KIND = re.compile(r"is_postgres|dialect|postgresql|sqlite", re.IGNORECASE)
SQL = re.compile(r"\b(INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|SELECT\b.+\bFROM)\s*(\w+)?", re.IGNORECASE | re.DOTALL)


def sources() -> Iterator[tuple[Path, ast.Module]]:
    for root in CODE:
        for path in sorted(root.rglob("*.py")):
            if "alembic" not in path.parts and path.name != "migrations.py":
                yield path, ast.parse(path.read_text(), str(path))


def table_names() -> set[str]:
    """Every __tablename__ and table-model class name the code declares (SQLModel names a table after its class)."""
    names = set()
    for _path, tree in sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any(isinstance(k, ast.keyword) and k.arg == "table" for k in node.keywords):
                names.add(node.name.lower())
                for item in node.body:
                    if isinstance(item, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__tablename__" for t in item.targets):
                        names.add(ast.literal_eval(item.value))
    return names


def route_handlers(tree: ast.Module) -> Iterator[ast.AsyncFunctionDef | ast.FunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef):
            for decorator in node.decorator_list:
                call = decorator.func if isinstance(decorator, ast.Call) else decorator
                if isinstance(call, ast.Attribute) and call.attr in {"get", "post", "put", "patch", "delete"}:
                    yield node
                    break


def test_the_table_names_are_found():
    assert {"outbox_event", "idempotency_record", "service_order", "flight", "ticket"} <= table_names()


def test_no_route_handler_branches_on_the_database_kind():
    found = []
    for path, tree in sources():
        for handler in route_handlers(tree):
            body = ast.unparse(ast.Module(body=handler.body, type_ignores=[]))
            if DATABASE_KIND.search(body):
                found.append(f"{path.relative_to(ROOT)}:{handler.lineno} {handler.name}")
    assert found == []


def test_no_hand_written_sql_names_a_table_of_the_code():
    tables = table_names()
    found = []
    for path, tree in sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
                words = set(re.findall(r"\w+", text.lower()))
                if SQL.search(text) and words & tables:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {text.strip()[:60]!r}")
    assert found == []
