"""The problems a route can answer, read from its code: the problem types its OpenAPI document lists.

From a route's view function and its dependencies, every function of ours it names (called,
passed on, or a method whose name it calls) is followed, and each `Problem(status, "slug")` or
`conflict("slug")` in them is one problem the route may give. A slug passed on as an argument
(`hold_open_bill(..., "bill_closed", ...)` → `conflict(problem, ...)`) is read at the call.
Nothing is declared by hand, so the document cannot drift from what the code raises; the
framework's own refusals (a body that is not JSON, invalid input, the database away) are added in
`openapi_responses`.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from types import FunctionType, ModuleType
from typing import Annotated, Any, get_args, get_origin

from fastapi.dependencies.models import Dependant

# The slug of `conflict(slug, ...)`: always a 409.
CONFLICT_STATUS = 409
# What constructing an object of ours runs.
CONSTRUCTORS = frozenset({"__init__", "__post_init__", "__new__"})


@dataclass(frozen=True, order=True)
class Raised:
    status: int
    slug: str
    title: str


@dataclass(frozen=True)
class FunctionProblems:
    raised: frozenset[Raised]
    # Parameters whose argument is a slug this function raises as a 409 (`conflict(problem, ...)`).
    forwarded: tuple[str, ...]


def _ours(function: Any, packages: tuple[str, ...]) -> bool:
    module = getattr(function, "__module__", None) or ""
    return isinstance(function, FunctionType) and module.split(".")[0] in packages


def _literal(node: ast.expr | None) -> Any:
    return node.value if isinstance(node, ast.Constant) else None


def _default_title(slug: str) -> str:
    return slug.replace("_", " ").capitalize()  # as Problem titles a problem given none


def _title(call: ast.Call, slug: str) -> str:
    given = next((_literal(keyword.value) for keyword in call.keywords if keyword.arg == "title"), None)
    return given if isinstance(given, str) else _default_title(slug)


def _called_name(call: ast.Call) -> str | None:
    return call.func.id if isinstance(call.func, ast.Name) else call.func.attr if isinstance(call.func, ast.Attribute) else None


@cache
def _tree(function: FunctionType) -> ast.AST | None:
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):  # no source (a builtin, a generated function)
        return None


def _parameters(function: FunctionType) -> list[str]:
    return list(inspect.signature(function).parameters)


@cache
def own_problems(function: FunctionType) -> FunctionProblems:
    """The problems `function`'s own body raises, and the parameters it raises as slugs."""
    raised: set[Raised] = set()
    forwarded: list[str] = []
    tree = _tree(function)
    params = set(_parameters(function))
    for call in (node for node in ast.walk(tree) if isinstance(node, ast.Call)) if tree else ():
        name = _called_name(call)
        if name == "Problem" and len(call.args) >= 2:
            status, slug = _literal(call.args[0]), _literal(call.args[1])
            if isinstance(status, int) and isinstance(slug, str):
                raised.add(Raised(status, slug, _title(call, slug)))
        elif name == "conflict" and call.args:
            slug = _literal(call.args[0])
            if isinstance(slug, str):
                raised.add(Raised(CONFLICT_STATUS, slug, _default_title(slug)))
            elif isinstance(call.args[0], ast.Name) and call.args[0].id in params:
                forwarded.append(call.args[0].id)
            elif isinstance(call.args[0], ast.IfExp):  # `conflict("a" if ... else "b", ...)`
                for branch in (call.args[0].body, call.args[0].orelse):
                    if isinstance(slug := _literal(branch), str):
                        raised.add(Raised(CONFLICT_STATUS, slug, _default_title(slug)))
    return FunctionProblems(frozenset(raised), tuple(forwarded))


def _resolve(node: ast.expr, scope: dict[str, Any]) -> Any:
    if isinstance(node, ast.Name):
        return scope.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _resolve(node.value, scope)
        return getattr(base, node.attr, None) if isinstance(base, ModuleType | type) else None
    return None


def _scope(function: FunctionType) -> dict[str, Any]:
    closure = dict(zip(function.__code__.co_freevars, (cell.cell_contents for cell in function.__closure__ or ()), strict=True))
    return {**vars(__import__("builtins")), **function.__globals__, **closure}


def _classes(annotation: Any) -> list[type]:
    """The classes an annotation names: `Principal`, `Annotated[Principal, ...]`, `Keyset | None`."""
    if isinstance(annotation, type):
        return [annotation]
    return [found for argument in get_args(annotation)[:1] if get_origin(annotation) is Annotated for found in _classes(argument)] + [
        found for argument in get_args(annotation) if get_origin(annotation) is not Annotated for found in _classes(argument)
    ]


def _typed_names(function: FunctionType, tree: ast.AST, scope: dict[str, Any]) -> dict[str, list[type]]:
    """The classes of the names a function's methods are called on: its annotated parameters and
    locals, and `self` (so `caller.require_station_to_see(...)` and `self._decode(...)` are followed)."""
    try:
        annotations = inspect.get_annotations(function, eval_str=True)
    except Exception:  # noqa: BLE001 - an annotation this module cannot evaluate: its names stay untyped
        annotations = {}
    typed = {name: _classes(annotation) for name, annotation in annotations.items()}
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            try:
                typed[node.target.id] = _classes(eval(ast.unparse(node.annotation), scope))  # our own source
            except Exception:  # noqa: BLE001 - as above
                continue
        elif isinstance(node, ast.Assign | ast.NamedExpr) and isinstance(node.value, ast.Call):  # `booking = NewOrder(...)`
            made = _resolve(node.value.func, scope)
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(made, type) and isinstance(target, ast.Name):
                    typed[target.id] = [made]
    owner = scope.get(function.__qualname__.split(".")[0])
    if isinstance(owner, type):
        typed["self"] = [owner]
    return typed


def _dependency_calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _dependency_calls(dependency)


@dataclass(frozen=True)
class RouteCode:
    raised: frozenset[Raised]
    # The functions it reaches, as `module.qualname` (`airside.versioning.etag`: it sends an ETag).
    reached: frozenset[str]


def route_code(endpoint: Callable[..., Any], dependant: Dependant, packages: tuple[str, ...]) -> RouteCode:
    """Every problem a route's code may raise (over its view function and its dependencies)."""
    roots = [endpoint, *_dependency_calls(dependant)]
    todo = [inspect.unwrap(root) for root in roots]
    todo = [root if isinstance(root, FunctionType) else type(root).__call__ for root in todo]
    seen: set[FunctionType] = set()
    raised: set[Raised] = set()
    while todo:
        function = todo.pop()
        if not _ours(function, packages) or function in seen:
            continue
        seen.add(function)
        raised |= own_problems(function).raised
        tree, scope = _tree(function), _scope(function)
        if tree is None:
            continue
        typed = _typed_names(function, tree, scope)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Name | ast.Attribute):
                continue
            target = _resolve(node, scope)
            if _ours(target, packages):
                todo.append(target)
            elif isinstance(target, type) and target.__module__.split(".")[0] in packages:  # a class of ours: its constructor
                todo.extend(member for name, member in vars(target).items() if name in CONSTRUCTORS and _ours(member, packages))
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                todo.extend(getattr(cls, node.attr, None) for cls in typed.get(node.value.id, ()))
        for call in (node for node in ast.walk(tree) if isinstance(node, ast.Call)):
            raised |= _slugs_passed(call, scope, packages)
    return RouteCode(frozenset(raised), frozenset(f"{function.__module__}.{function.__qualname__}" for function in seen))


def _slugs_passed(call: ast.Call, scope: dict[str, Any], packages: tuple[str, ...]) -> set[Raised]:
    """The 409 slugs a call hands to a function of ours that raises its argument as one."""
    callee = _resolve(call.func, scope)
    if not _ours(callee, packages) or not (forwarded := own_problems(callee).forwarded):
        return set()
    names = _parameters(callee)
    passed = {names[index]: arg for index, arg in enumerate(call.args) if index < len(names)}
    passed.update({keyword.arg: keyword.value for keyword in call.keywords if keyword.arg})
    slugs = {_literal(passed.get(name)) for name in forwarded}
    return {Raised(CONFLICT_STATUS, slug, _default_title(slug)) for slug in slugs if isinstance(slug, str)}
