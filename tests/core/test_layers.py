"""Layers that point one way: the import rules of ARCHITECTURE.md ("Layers"), checked on the source.

Every ``.py`` file under ``dendro/`` is parsed (``ast``) and every import it makes is read, the
ones inside functions and under ``TYPE_CHECKING`` included. The test fails on (a) any import
cycle between files and (b) any import from a lower layer to a higher one, or between two
packages of the same layer. A second test runs ``dendro --help`` (and each verb's ``--help``) in
a fresh interpreter and fails if that loaded duckdb, pyarrow or boto3.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "dendro"

#: bottom to top; a module may import its own package and the layers below its own, nothing else
LAYERS: tuple[tuple[str, ...], ...] = (
    ("dendro", "dendro.errors"),
    ("dendro.services",),
    ("dendro.config",),
    ("dendro.store",),
    ("dendro.metrics",),
    ("dendro.analysis",),
    ("dendro.alerts",),
    ("dendro.vector", "dendro.ingest", "dendro.pipeline"),
    ("dendro.exporter", "dendro.grafana", "dendro.web"),
    ("dendro.runtime",),
    ("dendro.cli",),
)
#: the CLI layer: the app, what its verbs share, and every component's ``commands`` module
CLI = "dendro.cli"
CLI_MODULES = ("dendro.cli", "dendro.cli_common")
#: modules that may import other modules by name (a name, not an import the rules above could check)
BY_NAME = {
    "dendro.cli": "the verbs' modules, listed in COMMAND_MODULES",
    "dendro.services": "the built-in integrations, listed in BUILTIN",
}
#: libraries a ``dendro --help`` must not load (each takes a noticeable part of a second)
HEAVY = ("duckdb", "pyarrow", "boto3")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).parts)
    parts[-1] = parts[-1].removesuffix(".py").replace(".", "_")  # red.dashboard.py: a file, not a module
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def imports(module: str, path: Path, known: dict[str, Path]) -> Iterator[tuple[int, str]]:
    """(line, imported dendro module) for every import of the file, wherever it is."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        for target in targets:
            if target.split(".")[0] == "dendro" and (found := _resolve(target, known)) and found != module:
                yield node.lineno, found


def graph() -> dict[str, dict[str, int]]:
    """module → {imported module: first line importing it}."""
    known = modules()
    edges: dict[str, dict[str, int]] = {m: {} for m in known}
    for module, path in known.items():
        for line, target in imports(module, path, known):
            edges[module].setdefault(target, line)
    return edges


def layer_of(module: str) -> int:
    if module in CLI_MODULES or module.endswith(".commands"):
        return len(LAYERS) - 1
    owner = package_of(module)
    for index, names in enumerate(LAYERS):
        if owner in names:
            return index
    raise AssertionError(f"{module} is in no layer: add its package to LAYERS and to ARCHITECTURE.md")


def package_of(module: str) -> str:
    if module in CLI_MODULES or module.endswith(".commands"):
        return CLI
    return ".".join(module.split(".")[:2])


def cycles(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components of more than one file (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in edges:
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(edges[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def test_no_import_cycle_between_files() -> None:
    assert cycles(graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    edges = {"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {"a": 1}}
    assert cycles(edges) == [["a", "b", "c"]]


def against_layers(edges: dict[str, dict[str, int]]) -> list[tuple[str, int, str]]:
    """(module, line, imported module) of every import that does not point to a lower layer."""
    return [
        (module, line, target)
        for module, targets in edges.items()
        for target, line in sorted(targets.items())
        if package_of(target) != package_of(module) and layer_of(target) >= layer_of(module)
    ]


def test_every_import_points_down() -> None:
    paths = modules()
    wrong = [
        f"{paths[m].relative_to(ROOT)}:{line}: {m} ({package_of(m)}) imports {t} ({package_of(t)})"
        for m, line, t in against_layers(graph())
    ]
    assert wrong == [], "imports against the layers (ARCHITECTURE.md, Layers):\n" + "\n".join(wrong)


def test_the_rule_refuses_upward_and_sideways_imports() -> None:
    edges = {
        "dendro.web.app": {"dendro.store.base": 1, "dendro.web.auth": 2},  # down, own package
        "dendro.store.factory": {"dendro.ingest.client": 3},  # up
        "dendro.exporter.server": {"dendro.web.app": 4},  # sideways: one layer, two packages
        "dendro.web.commands": {"dendro.cli_common": 5, "dendro.runtime.up": 6},  # the CLI layer
    }
    assert against_layers(edges) == [
        ("dendro.store.factory", 3, "dendro.ingest.client"),
        ("dendro.exporter.server", 4, "dendro.web.app"),
    ]


def test_every_package_has_a_layer() -> None:
    for module in modules():
        layer_of(module)


def test_the_rules_see_imports_inside_functions() -> None:
    edges = graph()
    # dendro.runtime.stores imports the Timestream store only when the backend is aws
    assert "dendro.store.timestream" in edges["dendro.runtime.stores"]
    assert layer_of("dendro.vector.commands") == layer_of("dendro.cli")


def test_nothing_is_imported_by_name_but_the_listed_catalogues() -> None:
    """A module loaded by its name escapes these rules, and its absence is easy to ignore silently."""
    found = set()
    for module, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "import_module":
                found.add(module)
            if isinstance(node, ast.Name) and node.id == "__import__":
                found.add(module)
    assert found == set(BY_NAME)


HELP_CHECK = """
import sys
from dendro import cli
try:
    cli.app(sys.argv[1:], prog_name="dendro")
except SystemExit as done:
    if done.code:
        raise
print("loaded:", ",".join(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


def verbs() -> list[str]:
    from dendro.cli import app

    names = [c.name or c.callback.__name__ for c in app.registered_commands if c.callback]
    return sorted([*names, *(g.name for g in app.registered_groups if g.name)])


@pytest.mark.parametrize("verb", [None, *verbs()])
def test_help_loads_no_heavy_library(verb: str | None) -> None:
    arguments = ["--help"] if verb is None else [verb, "--help"]
    done = subprocess.run(
        [sys.executable, "-c", HELP_CHECK.format(heavy=HEAVY), *arguments],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Usage" in done.stdout
    loaded = done.stdout.rstrip("\n").rpartition("\n")[2]
    assert loaded == "loaded: ", f"dendro {' '.join(arguments)}: {loaded}"


REFUSE_CLOUDWATCH = """
import importlib.abc, sys
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "dendro.alerts.cloudwatch":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Refuse())
from dendro.config import from_dict
from dendro.pipeline.desired import alarm_names
from dendro.pipeline.models import Names
print(alarm_names(from_dict({"backend": "aws", "services": ["nginx"]}), Names("dendro", "1", "us-east-1")))
"""


def test_the_pipeline_without_its_alarms_fails_loudly() -> None:
    """The deploy step used to load the CloudWatch alarms by name and deploy none if that failed."""
    done = subprocess.run([sys.executable, "-c", REFUSE_CLOUDWATCH], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert done.returncode != 0, done.stdout
    assert re.search(r"(ImportError|ModuleNotFoundError): .*cloudwatch", done.stderr), done.stderr
