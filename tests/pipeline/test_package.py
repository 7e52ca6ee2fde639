"""The Lambda zip holds the loader and exactly what it imports, and imports without yaml/duckdb."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from dendro.pipeline import package
from dendro.pipeline.errors import DeployError

#: run inside a bare interpreter: only the zip on the path, third-party packages but boto3 refused
IMPORT_CHECK = """
import importlib.abc, sys
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"yaml", "duckdb", "flask", "typer", "rich", "sqlglot", "vrl"}:
            raise ImportError(f"{name} is not in the Lambda runtime")
sys.meta_path.insert(0, Refuse())
sys.path.insert(0, sys.argv[1])
import dendro.pipeline.loader as loader
assert loader.__file__.startswith(sys.argv[1]), loader.__file__
assert callable(loader.handler)
from dendro.services import catalog
print(len(catalog()))
"""


def test_zip_holds_the_loader_and_only_what_it_imports() -> None:
    built = package.build()
    names = set(zipfile.ZipFile(io.BytesIO(built.zip_bytes)).namelist())
    assert "dendro/pipeline/loader.py" in names and "dendro/__init__.py" in names
    assert "dendro/services/nginx.py" in names  # catalog() imports the integrations by name
    for absent in (
        "dendro/config.py",
        "dendro/store/local.py",
        "dendro/pipeline/deployer.py",
        "dendro/cli.py",
    ):
        assert absent not in names
    assert all(name.endswith(".py") for name in names)


def test_zip_is_deterministic() -> None:
    first = package._build(package.ENTRY, ())
    package._build.cache_clear()
    second = package._build(package.ENTRY, ())
    assert first.zip_bytes == second.zip_bytes and first.sha256 == second.sha256


def test_the_loader_imports_from_the_zip_alone(tmp_path: Path) -> None:
    zipfile.ZipFile(io.BytesIO(package.build().zip_bytes)).extractall(tmp_path)
    done = subprocess.run(
        [sys.executable, "-I", "-c", IMPORT_CHECK, str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) >= 1


def test_a_module_needing_a_library_the_runtime_lacks_is_refused() -> None:
    with pytest.raises(
        DeployError, match=r"dendro\.config imports yaml, which the Lambda runtime does not provide"
    ):
        package.modules_of("dendro.config")
