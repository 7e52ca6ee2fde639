"""The Lambda zip: the loader and exactly the Dendro modules it imports, nothing else.

Imports are read from the source (``ast``), following ``dendro.*`` modules transitively. The
Lambda runtime offers the standard library and boto3; any other third-party import (yaml,
duckdb…) is refused with a message naming the module, because it would fail at run time.
The zip is deterministic (fixed dates and order), so an unchanged loader keeps its CodeSha256.
"""

from __future__ import annotations

import ast
import base64
import functools
import hashlib
import importlib.util
import io
import sys
import zipfile
from pathlib import Path

from dendro.pipeline.errors import DeployError
from dendro.pipeline.models import Package

ENTRY = "dendro.pipeline.loader"
ATHENA_ENTRY = "dendro.pipeline.athena_loader"
RUNTIME_PROVIDED = frozenset({"boto3", "botocore"})
#: what the athena loader's Lambda layer adds to the runtime (dendro.pipeline.layers)
LAYER_PROVIDED = frozenset({"pyarrow"})
_EPOCH = (1980, 1, 1, 0, 0, 0)


def _dynamic_imports(module: str) -> list[str]:
    """Modules a package imports by name at run time (``importlib``), invisible to ``ast``."""
    if module == "dendro.services":  # catalog() imports every built-in integration by name
        from dendro.services import BUILTIN

        return [f"dendro.services.{name}" for name in BUILTIN if _is_module(f"dendro.services.{name}")]
    return []


def _source_path(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        raise DeployError(f"the Lambda loader needs {module}, which is not a Python source module")
    return Path(spec.origin)


def _imports(module: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            found.add(target)
            # `from dendro.x import y` may import the submodule dendro.x.y
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def modules_of(entry: str = ENTRY, provided: frozenset[str] = frozenset()) -> dict[str, Path]:
    """Every Dendro module the entry imports (transitively), with its package ``__init__``s;
    ``provided``: third-party packages a layer gives the function besides the runtime's."""
    if not _is_module(entry):
        raise DeployError(f"the Lambda loader {entry} is missing from this installation of Dendro")
    todo, seen = [entry], {}
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        path = _source_path(module)
        seen[module] = path
        parts = module.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))  # parent packages
        todo.extend(_dynamic_imports(module))
        for name in sorted(_imports(module, path)):
            top = name.split(".")[0]
            if top == "dendro":
                if _is_module(name):
                    todo.append(name)
            elif top not in sys.stdlib_module_names | RUNTIME_PROVIDED | provided | {"__future__"}:
                raise DeployError(
                    f"{module} imports {top}, which the Lambda runtime does not provide; "
                    "the loader may use only the standard library and boto3"
                )
    return seen


def _fingerprint() -> tuple[tuple[str, int, int], ...]:
    """Every Dendro source file with its size and modification time: a changed file rebuilds."""
    root = Path(__file__).resolve().parents[1]
    return tuple(sorted((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in root.rglob("*.py")))


def build(entry: str = ENTRY) -> Package:
    """The deterministic zip of the loader (built once per process while no source changes);
    the athena loader may import what its layer provides (pyarrow)."""
    return _build(entry, _fingerprint())


@functools.lru_cache(maxsize=4)
def _build(entry: str, fingerprint: tuple[tuple[str, int, int], ...]) -> Package:
    modules = modules_of(entry, LAYER_PROVIDED if entry == ATHENA_ENTRY else frozenset())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for module in sorted(modules):
            path = modules[module]
            arcname = "/".join(module.split(".")) + ("/__init__.py" if path.name == "__init__.py" else ".py")
            info = zipfile.ZipInfo(arcname, date_time=_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    data = buffer.getvalue()
    sha = base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")
    return Package(zip_bytes=data, sha256=sha, modules=tuple(sorted(modules)))
