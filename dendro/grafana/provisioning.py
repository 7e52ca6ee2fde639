"""Write a Grafana provisioning tree (apiVersion 1 files) for a config.

::

    <out>/datasources/dendro.yaml     Prometheus (uid dendro-prometheus) and the Timestream plugin
                                      (uid dendro-timestream: authType default, region, database)
    <out>/dashboards/dendro.yaml      a file provider reading the JSON files beside it
    <out>/dashboards/<name>.json      one per dashboard
    <out>/alerting/*.yaml             the alert rules, and the contact points and policy when
                                      dendro.yaml (or the caller) gives a real address or topic

Mount ``<out>`` as Grafana's provisioning directory (``/etc/grafana/provisioning``); the
provider's path is where the dashboards directory is inside Grafana (``dashboards_path``).

The dashboards and the alert rules share one folder, found by its title (:data:`FOLDER`) by both
provisioners: Grafana provisions alerting first and creates a rule group's folder by title with a
generated uid, so the dashboard provider names the same title and no ``folderUid`` (which would
make Grafana look the folder up by that uid, miss it and create a second "Dendro").
Files Dendro wrote before and no longer writes (a dashboard with nothing to show) are removed;
other files in the tree are left alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from dendro.alerts.datasources import PROMETHEUS_UID, TIMESTREAM_UID
from dendro.alerts.grafana import FOLDER
from dendro.alerts.render import contents as alert_contents
from dendro.config import Config
from dendro.grafana.athena import datasource as athena_datasource
from dendro.grafana.build import dashboards, dumps
from dendro.grafana.timestream import PLUGIN_TYPE

DEFAULT_DASHBOARDS_PATH = "/etc/grafana/provisioning/dashboards"
PROMETHEUS_URL = "http://localhost:9090"
PROVIDER_FILE = "dendro.yaml"


def _scrape_interval(config: Config) -> str:
    return f"{max(int(config.exporter.interval), 1)}s"


def datasources_file(config: Config, prometheus_url: str = PROMETHEUS_URL) -> dict[str, Any]:
    """Prometheus, and the store's plugin: Timestream, or Athena when aws.store is athena."""
    data = _datasources(config, prometheus_url)
    if config.aws.store == "athena":
        data["datasources"][1] = athena_datasource(config.aws.region, config.database, config.pipeline)
    return data


def _datasources(config: Config, prometheus_url: str) -> dict[str, Any]:
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "Dendro Prometheus",
                "type": "prometheus",
                "uid": PROMETHEUS_UID,
                "access": "proxy",
                "orgId": 1,
                "url": prometheus_url,
                "isDefault": True,
                "editable": False,
                "jsonData": {"httpMethod": "POST", "timeInterval": _scrape_interval(config)},
            },
            {
                "name": "Dendro Timestream",
                "type": PLUGIN_TYPE,
                "uid": TIMESTREAM_UID,
                "access": "proxy",
                "orgId": 1,
                "isDefault": False,
                "editable": False,
                "jsonData": {
                    "authType": "default",
                    "defaultRegion": config.aws.region,
                    "defaultDatabase": config.database,
                },
            },
        ],
    }


def dashboards_file(dashboards_path: str = DEFAULT_DASHBOARDS_PATH) -> dict[str, Any]:
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": "dendro",
                "orgId": 1,
                "folder": FOLDER,
                "type": "file",
                "disableDeletion": False,
                "updateIntervalSeconds": 60,
                "allowUiUpdates": False,
                "options": {"path": dashboards_path, "foldersFromFilesStructure": False},
            }
        ],
    }


def dump_yaml(content: dict[str, Any]) -> str:
    return yaml.safe_dump(content, sort_keys=False, width=100_000, allow_unicode=True)


def tree(config: Config, dashboards_path: str = DEFAULT_DASHBOARDS_PATH,
         prometheus_url: str = PROMETHEUS_URL) -> dict[str, str]:
    """Relative path → text of every file of the provisioning tree."""
    files = {
        f"datasources/{PROVIDER_FILE}": dump_yaml(datasources_file(config, prometheus_url)),
        f"dashboards/{PROVIDER_FILE}": dump_yaml(dashboards_file(dashboards_path)),
    }
    for name, data in dashboards(config).items():
        files[f"dashboards/{name}.json"] = dumps(data)
    for name, text in alert_contents(config, "grafana").items():
        files[f"alerting/{name}"] = text
    return files


def _stale(out: Path, keep: set[str]) -> list[Path]:
    """Files Dendro writes (our provider's JSON, our alerting files) that this run does not."""
    candidates = list((out / "dashboards").glob("*.json")) + list((out / "alerting").glob("*.yaml"))
    return [p for p in candidates if p.relative_to(out).as_posix() not in keep]


def write(config: Config, out: Path, dashboards_path: str = DEFAULT_DASHBOARDS_PATH,
          prometheus_url: str = PROMETHEUS_URL) -> list[Path]:
    """Write the tree under ``out``; the paths written."""
    files = tree(config, dashboards_path, prometheus_url)
    written = []
    for relative, text in files.items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    for path in _stale(out, set(files)):
        path.unlink()
    return written
