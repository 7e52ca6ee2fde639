"""Run the ``<name>.dashboard.py`` files for a config and turn their ``dashboard`` into JSON.

Each file is executed with :func:`runpy.run_path` while :mod:`dendro.grafana.selection` holds
the config, so it adds rows and panels only for the configured services; a file whose
``dashboard`` is None (nothing configured that it shows) is skipped. JSON is written with sorted
keys and a final newline, so regenerated files diff cleanly.
"""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from typing import Any

from grafanalib._gen import DashboardEncoder

from dendro.config import Config
from dendro.grafana.selection import selected

DASHBOARD_DIR = Path(__file__).resolve().parent / "dashboards"
SUFFIX = ".dashboard.py"


class DashboardError(ValueError):
    """A dashboard file is wrong (no ``dashboard`` defined, or it does not build)."""


def dashboard_files(directory: Path = DASHBOARD_DIR) -> dict[str, Path]:
    """Dashboard name → file, in name order."""
    return {p.name[: -len(SUFFIX)]: p for p in sorted(directory.glob(f"*{SUFFIX}"))}


def load(path: Path, config: Config) -> Any:
    """The grafanalib Dashboard a file defines for this config (None: nothing to show)."""
    with selected(config):
        try:
            namespace = runpy.run_path(str(path))
        except ValueError as error:  # grafanalib and our classes validate when objects are built
            raise DashboardError(f"{path.name}: {error}") from None
    if "dashboard" not in namespace:
        raise DashboardError(f"{path.name}: defines no `dashboard`")
    return namespace["dashboard"]


def to_json(dashboard: Any) -> dict[str, Any]:
    """The dashboard as plain JSON data (what Grafana imports)."""
    data: dict[str, Any] = json.loads(json.dumps(dashboard.to_json_data(), cls=DashboardEncoder))
    return data


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def dashboards(config: Config, directory: Path = DASHBOARD_DIR) -> dict[str, dict[str, Any]]:
    """Dashboard name → JSON for every file that has something to show for this config."""
    result = {}
    for name, path in dashboard_files(directory).items():
        board = load(path, config)
        if board is not None:
            result[name] = to_json(board)
    return result
