"""The provisioning tree: datasources every panel and rule refers to exist, the YAML has the keys
Grafana documents for apiVersion 1 files, the dashboards pass the pinned schema, and the
repository's provisioning/ is exactly what the generator writes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from dendro.alerts.datasources import EXPRESSION_UID
from dendro.cli import app
from dendro.config import from_dict
from dendro.grafana.build import DashboardError, dashboards, load
from dendro.grafana.provisioning import tree, write
from dendro.grafana.selection import all_services
from dendro.grafana.timestream import TIME_SERIES, TimestreamTarget
from dendro.services import catalog
from tests.grafana.helpers import boards, panels

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((Path(__file__).with_name("dashboard.schema.json")).read_text(encoding="utf-8"))
REGENERATE = "dendro grafana build --all-services --out provisioning"

# the options the dashboard file reader takes (file_reader.go: path, foldersFromFilesStructure);
# the keys of each file are pinned against Grafana's source in test_upstream.py
PROVIDER_OPTIONS = {"path", "foldersFromFilesStructure"}


def provisioned() -> dict[str, str]:
    return tree(all_services())


def datasource_uids() -> dict[str, str]:
    content = yaml.safe_load(provisioned()["datasources/dendro.yaml"])
    return {d["uid"]: d["type"] for d in content["datasources"]}


def test_repository_provisioning_is_current() -> None:
    expected = provisioned()
    directory = REPO / "provisioning"
    actual = {p.relative_to(directory).as_posix(): p.read_text(encoding="utf-8")
              for p in directory.rglob("*") if p.is_file()}
    assert sorted(actual) == sorted(expected), f"provisioning/ has other files; regenerate: {REGENERATE}"
    for name, text in expected.items():
        assert actual[name] == text, f"provisioning/{name} drifted; regenerate: {REGENERATE}"


def test_datasources_file_has_the_documented_keys() -> None:
    content = yaml.safe_load(provisioned()["datasources/dendro.yaml"])
    assert set(content) == {"apiVersion", "datasources"} and content["apiVersion"] == 1
    for source in content["datasources"]:
        assert {"name", "type", "uid", "access"} <= set(source)
    timestream = next(d for d in content["datasources"] if d["type"] == "grafana-timestream-datasource")
    assert timestream["jsonData"] == {"authType": "default", "defaultRegion": "us-east-1",
                                      "defaultDatabase": "dendro"}
    assert sum(1 for d in content["datasources"] if d.get("isDefault")) == 1


def test_dashboards_provider_reads_the_json_beside_it() -> None:
    content = yaml.safe_load(provisioned()["dashboards/dendro.yaml"])
    assert set(content) == {"apiVersion", "providers"} and content["apiVersion"] == 1
    (provider,) = content["providers"]
    assert set(provider["options"]) <= PROVIDER_OPTIONS
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "/etc/grafana/provisioning/dashboards"


def _datasource_refs(board: dict[str, Any]) -> list[dict[str, str]]:
    refs = []
    for panel in panels(board):
        targets = [t.get("datasource") for t in panel.get("targets", [])]
        refs += [d for d in [panel.get("datasource"), *targets] if d]
    refs += [v["datasource"] for v in board["templating"]["list"] if v.get("datasource")]
    return refs


def _resolve(board: dict[str, Any], uid: str) -> str:
    """A ``${variable}`` uid is the variable's current value (a datasource variable)."""
    match = re.fullmatch(r"\$\{(\w+)\}", uid)
    if not match:
        return uid
    variable = next(v for v in board["templating"]["list"] if v["name"] == match.group(1))
    assert variable["type"] == "datasource"
    return str(variable["current"]["value"])


@pytest.mark.parametrize("name", sorted(boards()))
def test_every_datasource_a_panel_uses_is_provisioned(name: str) -> None:
    known = datasource_uids()
    board = boards()[name]
    for ref in _datasource_refs(board):
        uid = _resolve(board, ref["uid"])
        assert uid in known, f"{name}: datasource {ref} is not provisioned"
        assert known[uid] == ref["type"]


def test_every_datasource_an_alert_rule_uses_is_provisioned() -> None:
    known = set(datasource_uids()) | {EXPRESSION_UID}
    files = {k: v for k, v in provisioned().items() if k.startswith("alerting/")}
    rules = [r for text in files.values() for g in yaml.safe_load(text).get("groups", []) for r in g["rules"]]
    assert rules
    for rule in rules:
        for query in rule["data"]:
            assert query["datasourceUid"] in known, rule["title"]


@pytest.mark.parametrize("name", sorted(boards()))
def test_dashboard_passes_the_pinned_schema(name: str) -> None:
    jsonschema.validate(boards()[name], SCHEMA, cls=jsonschema.Draft202012Validator)


def test_panels_have_units_descriptions_and_unique_ids_on_a_grid() -> None:
    uids = [board["uid"] for board in boards().values()]
    assert len(set(uids)) == len(uids) and all(u.startswith("dendro-") for u in uids)
    for name, board in boards().items():
        ids = [p["id"] for p in panels(board)]
        assert len(set(ids)) == len(ids), name
        cells = set()
        for panel in panels(board):
            pos = panel["gridPos"]
            area = {(pos["x"] + dx, pos["y"] + dy) for dx in range(pos["w"]) for dy in range(pos["h"])}
            assert not cells & area, f"{name}: {panel['title']} overlaps another panel"
            cells |= area
            if panel["type"] == "row":
                continue
            assert panel["description"], f"{name}: {panel['title']} has no description"
            assert panel["fieldConfig"]["defaults"].get("unit"), f"{name}: {panel['title']} has no unit"


def _seconds(text: str) -> int:
    number, unit = int(text[:-1]), text[-1]
    return number * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]


def test_dashboards_with_timestream_panels_refresh_at_most_every_minute() -> None:
    for name, board in boards().items():
        uses_timestream = any(r["type"] == "grafana-timestream-datasource" for r in _datasource_refs(board))
        if uses_timestream:
            assert board["refresh"] and _seconds(board["refresh"]) >= 60, name
            assert all(_seconds(i) >= 60 for i in board["timepicker"]["refresh_intervals"]), name
        assert board["refresh"] in ("1m", "5m"), name


def test_the_red_status_classes_have_fixed_colours() -> None:
    board = boards()["red"]
    stacked = [p for p in panels(board) if p["title"] == "Requests by status class"]
    web = [s for s in catalog().values() if any(r.is_http for r in s.red)]
    assert len(stacked) == len(web) >= 2  # one per web server (nginx, apache…)
    for panel in stacked:
        colours = {o["matcher"]["options"]: o["properties"][0]["value"]["fixedColor"]
                   for o in panel["fieldConfig"]["overrides"]}
        assert colours["5xx"] == "red" and colours["2xx"] == "green"
        assert panel["fieldConfig"]["defaults"]["custom"]["stacking"]["mode"] == "normal"


def test_only_configured_services_get_rows_and_panels() -> None:
    built = dashboards(from_dict({"services": ["nginx"]}))
    # nginx keeps its status-page metrics: a Service metrics dashboard; no host service: no hosts dashboard
    assert set(built) == {"red", "logs", "anomaly", "pipeline", "metrics"}
    text = json.dumps(built)
    for absent in ("apache_access", "mysql_slow", '"postgres"', "PostgreSQL"):
        assert absent not in text
    titles = [p["title"] for p in panels(built["red"]) if p["type"] == "row"]
    assert titles == ["All services", "nginx"]


def test_timestream_target_is_validated_when_built() -> None:
    good = dict(rawQuery='SELECT time, host FROM "$__database"."agent" WHERE $__timeFilter ORDER BY time',
                columns=("time", "host"))
    assert TimestreamTarget(**good).to_json_data() == {
        "datasource": {"type": "grafana-timestream-datasource", "uid": "dendro-timestream"}, "refId": "A",
        "rawQuery": good["rawQuery"], "format": 0, "database": "$database", "table": "", "measure": "",
        "hide": False}  # a table by default, as the plugin's query editor
    series = {**good, "format": TIME_SERIES}
    assert TimestreamTarget(**series).to_json_data()["format"] == 1
    bad = [
        ({"format": 2}, "format must be 0 (table) or 1 (time series)"),
        ({"rawQuery": "SELECT 1 AS time ORDER BY time"}, "bounded by the dashboard's range"),
        ({"rawQuery": good["rawQuery"] + " AND $__timeGroup"}, "unknown macro"),
        ({"rawQuery": good["rawQuery"] + " AND $__refId = 'A'"}, "unknown macro"),
        ({"format": TIME_SERIES, "columns": ("host", "time")}, "returns time first"),
        ({"format": TIME_SERIES, "rawQuery": 'SELECT time FROM "$__database"."agent" WHERE $__timeFilter'},
         "ORDER BY"),
        ({"columns": ()}, "name the columns"),
        ({"refId": ""}, "refId"),
    ]
    for change, message in bad:
        with pytest.raises(ValueError, match=re.escape(message)):
            TimestreamTarget(**{**good, **change})


def test_a_broken_dashboard_file_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.dashboard.py"
    path.write_text("from dendro.grafana.timestream import TimestreamTarget\n"
                    "dashboard = TimestreamTarget(rawQuery='SELECT 1', columns=('x',), format=1)\n")
    with pytest.raises(DashboardError, match=re.escape("broken.dashboard.py: rawQuery must be bounded")):
        load(path, all_services())
    (tmp_path / "empty.dashboard.py").write_text("x = 1\n")
    with pytest.raises(DashboardError, match="defines no `dashboard`"):
        load(tmp_path / "empty.dashboard.py", all_services())


def test_cli_build_writes_the_tree_and_removes_stale_dashboards(tmp_path: Path) -> None:
    config = tmp_path / "dendro.yaml"
    config.write_text("pipeline: shop\nservices: [nginx]\naws: {region: eu-west-1}\n", encoding="utf-8")
    out = tmp_path / "provisioning"
    (out / "dashboards").mkdir(parents=True)
    (out / "dashboards" / "hosts.json").write_text("{}", encoding="utf-8")  # from an earlier config
    (out / "dashboards" / "mine.txt").write_text("kept", encoding="utf-8")
    result = CliRunner().invoke(app, ["grafana", "build", "--config", str(config), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert not (out / "dashboards" / "hosts.json").exists() and (out / "dashboards" / "mine.txt").exists()
    written = {p.relative_to(out).as_posix() for p in out.rglob("*.*")}
    assert {"datasources/dendro.yaml", "dashboards/dendro.yaml", "dashboards/red.json",
            "alerting/shop-alert-rules.yaml"} <= written
    assert "alerting/shop-notifications.yaml" not in written  # no address, no topic: nowhere to send
    sources = yaml.safe_load((out / "datasources" / "dendro.yaml").read_text())["datasources"]
    assert sources[1]["jsonData"]["defaultDatabase"] == "shop"
    assert sources[1]["jsonData"]["defaultRegion"] == "eu-west-1"
    logs = json.loads((out / "dashboards" / "logs.json").read_text())
    database = next(v for v in logs["templating"]["list"] if v["name"] == "database")
    assert database["current"]["value"] == "shop"


def test_cli_build_takes_the_alert_destinations(tmp_path: Path) -> None:
    config = tmp_path / "dendro.yaml"
    config.write_text("pipeline: shop\nbackend: aws\nservices: [nginx]\n", encoding="utf-8")
    out = tmp_path / "provisioning"
    topic = "arn:aws:sns:us-east-1:123456789012:shop-alerts"
    result = CliRunner().invoke(app, ["grafana", "build", "--config", str(config), "--out", str(out),
                                      "--sns-topic-arn", topic, "--email", "a@example.com",
                                      "--email", "b@example.com"])
    assert result.exit_code == 0, result.output
    doc = yaml.safe_load((out / "alerting" / "shop-notifications.yaml").read_text())
    settings = {c["receivers"][0]["type"]: c["receivers"][0]["settings"] for c in doc["contactPoints"]}
    assert settings["sns"]["topic_arn"] == topic
    assert settings["email"]["addresses"] == "a@example.com;b@example.com"
    assert doc["policies"][0]["receiver"] == "shop-sns"  # backend aws: alerts.contact is sns

    bad = CliRunner().invoke(app, ["grafana", "build", "--config", str(config), "--out", str(out),
                                   "--sns-topic-arn", "arn:sns"])
    assert bad.exit_code == 1 and "alerts.sns_topic_arn" in bad.output


def test_cli_build_without_a_config_says_what_to_do(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["grafana", "build", "--config", str(tmp_path / "none.yaml"),
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "dendro configure" in result.output


def test_write_returns_what_it_wrote(tmp_path: Path) -> None:
    paths = write(all_services(), tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in paths) == sorted(provisioned())
