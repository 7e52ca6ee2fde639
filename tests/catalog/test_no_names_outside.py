"""Outside ``dendro/services``, no module names a built-in service or table: readers read the catalog.

A new integration is one catalog module; a reader that wrote ``if service.name == "postgres"``
or ``FROM "nginx_access"`` would leave the next service out of it without anyone noticing. The
test reads every module of ``dendro/`` (the dashboard files too) with ``ast`` and fails on a
string (docstrings aside) that

- is a service's or a table's name, or holds one as a quoted SQL name (``"nginx_access"``);
- for a name that is also a column of some table (``host``: the host metrics' table and every
  table's column, which text alone cannot tell apart), is compared with a ``.name`` or ``.role``
  or passed to ``has()``, ``table_ref()``, ``table()`` or ``service()``, the ways a module would
  pick that service or table (a column is tested as ``"host" in columns``, never by ``.name``),
  or is a module constant's value (``HOST_TABLE = "host"``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import dendro
from dendro.services import catalog

ROOT = Path(dendro.__file__).parent
CATALOG = ROOT / "services"
SERVICES = set(catalog())
TABLES = {t.name for s in catalog().values() for t in s.tables}
COLUMNS = {c.name for s in catalog().values() for t in s.tables for c in t.columns}
NAMES = SERVICES | TABLES
#: names that are also columns: only their uses as a service or a table are told apart
AMBIGUOUS = NAMES & COLUMNS
PICKERS = frozenset({"has", "table_ref", "table", "service"})


def _modules() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if CATALOG not in p.parents)


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _text_findings(tree: ast.AST) -> list[str]:
    skip = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or not isinstance(node.value, str) or id(node) in skip:
            continue
        if node.value in NAMES - AMBIGUOUS:
            found.append(f"line {node.lineno}: {node.value!r}")
        for name in NAMES - AMBIGUOUS:  # "host" quoted is a column (a VRL or JSON key) as often
            if f'"{name}"' in node.value:
                found.append(f"line {node.lineno}: {name!r} quoted in {node.value[:60]!r}")
    return found


def _is_ambiguous(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value in AMBIGUOUS


def _use_findings(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            picked = any(isinstance(s, ast.Attribute) and s.attr in ("name", "role") for s in sides)
            if picked and any(_is_ambiguous(s) for s in sides):
                found.append(f"line {node.lineno}: compares a .name with a built-in name")
        elif isinstance(node, ast.Assign) and _is_ambiguous(node.value):
            constants = [t.id for t in node.targets if isinstance(t, ast.Name) and t.id.isupper()]
            if constants:
                found.append(f"line {node.lineno}: {constants[0]} names a built-in service or table")
        elif isinstance(node, ast.Call):
            callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if callee in PICKERS and any(_is_ambiguous(a) for a in node.args):
                found.append(f"line {node.lineno}: {callee}() of a built-in service or table")
    return found


def findings(source: str) -> list[str]:
    tree = ast.parse(source)
    return _text_findings(tree) + _use_findings(tree)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_outside_the_catalog_names_a_builtin_service_or_table(path: Path) -> None:
    assert findings(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    "source",
    [
        'if service.name == "postgres": pass',
        'x = "nginx_access"',
        "sql = f'SELECT * FROM {db}.\"mysql_slow\"'",
        'if service.name == "host": pass',
        'if selection.has("host"): pass',
        "q = table_ref(database, 'host')",
        'HOST_TABLE = "host"',
    ],
)
def test_the_rule_sees_what_it_forbids(source: str) -> None:
    assert findings(source)


@pytest.mark.parametrize(
    "source",
    [
        '"""Docstring naming nginx_access and "postgres"."""',
        'columns = ("time", "host", "message")',
        'row.get("host")',
        'tags["host"] = node',
    ],
)
def test_the_rule_lets_columns_and_docstrings_be(source: str) -> None:
    assert findings(source) == []
