"""What Grafana and the Timestream plugin read, pinned from their source, checked against the tree.

Grafana cannot run here (no binary, no Docker, no Go toolchain), so each fact the provisioning tree
relies on is written down with where it was read, and the tree is checked against it.

Sources (read, not copied):

* grafana/timestream-datasource at tag v2.13.0 (commit 32bcba574e191bc7fff935b9caaed098f551228e):
  pkg/models/query.go, src/types.ts, pkg/timestream/helper.go, pkg/timestream/macros.go,
  src/DataSource.ts, pkg/models/settings.go; its go.mod pins grafana/grafana-aws-sdk v1.4.3.
* grafana/grafana-aws-sdk at tag v1.4.3: pkg/awsds/settings.go, pkg/awsds/authSettings.go.
* grafana/grafana: too large to mirror here, so its files were read from an index of its source
  by commit, not at a release tag: pkg/services/provisioning/datasources/types.go (commit
  01c834234982c8ae5eba61acd1313c1c4443e9dd), pkg/services/provisioning/dashboards/types.go
  (1411ff8797bd3fc717e206d6afa9bd1fccd9567f) and file_reader.go
  (669d0865b2ad17e51ece47d196c8f1af9aff37b8), pkg/services/provisioning/alerting/
  rules_provisioner.go (20788f38d28c9a74523b8ede756d288c3760a73e) and rules_types.go
  (9ff3317d34d219acd5a597934ac1c31914ba1f50), apps/dashboard/pkg/migration/schemaversion/
  migrations.go (7501ffa8538f888d6f940fe9ee67e500ed95e44a), v40.go, v41.go, and
  pkg/services/provisioning/provisioning.go in the version whose RunInitProvisioners ends with
  ProvisionAlerting (the index did not name that version's commit), and
  packages/grafana-prometheus/src/types.ts (a7aa4ba453fc03dce1b248964a22f091b129a2e9).
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from dendro.alerts import grafana as alerting
from dendro.grafana.panels import SCHEMA_VERSION
from dendro.grafana.provisioning import tree
from dendro.grafana.selection import all_services
from dendro.grafana.timestream import MACROS, PLUGIN_TYPE, TABLE, TIME_SERIES
from tests.grafana.helpers import boards, panels

# timestream-datasource v2.13.0 pkg/models/query.go: `FormatOptionTable FormatQueryOption = iota`
# then `FormatOptionTimeSeries`; src/types.ts: `enum FormatOptions { Table, TimeSeries }`.
# pkg/timestream/helper.go: only `format == models.FormatOptionTimeSeries` runs data.LongToWide on
# a long frame (a time column with string columns), which needs rows in ascending time.
PLUGIN_FORMAT = {"Table": 0, "TimeSeries": 1}
# timestream-datasource v2.13.0 pkg/timestream/macros.go: the keys of `macroFuncs`, each used as
# "$__" + key; there is no $__refId (nor $__timeGroup).
PLUGIN_MACROS = {"timeFilter", "timeFrom", "timeTo", "interval", "interval_ms", "interval_raw_ms", "now_ms",
                 "database", "table", "measure"}
# timestream-datasource v2.13.0 pkg/models/settings.go (defaultDatabase, defaultTable,
# defaultMeasure) embedding grafana-aws-sdk v1.4.3 pkg/awsds/settings.go AWSDatasourceSettings
# (profile, region, authType, assumeRoleARN, externalId, endpoint, defaultRegion, proxyType,
# proxyUrl, proxyUsername; Go's JSON decoding matches keys case-insensitively, and the frontend
# writes assumeRoleArn). The backend uses `region`, or `defaultRegion` when it is "" or "default".
TIMESTREAM_JSON_KEYS = {"defaultDatabase", "defaultTable", "defaultMeasure", "profile", "region", "authType",
                        "assumeRoleARN", "externalId", "endpoint", "defaultRegion", "proxyType", "proxyUrl",
                        "proxyUsername"}
# grafana-aws-sdk v1.4.3 pkg/awsds/authSettings.go: AllowedAuthProviders defaults to
# ["default", "keys", "credentials"]; settings.go AuthType.UnmarshalJSON knows "default".
AUTH_TYPES_ALLOWED_BY_DEFAULT = {"default", "keys", "credentials"}
# grafana/grafana pkg/services/provisioning/datasources/types.go, upsertDataSourceFromConfigV1.
DATASOURCE_KEYS = {"orgId", "orgName", "version", "name", "type", "access", "url", "user", "database",
                   "basicAuth", "basicAuthUser", "withCredentials", "isDefault", "correlations", "jsonData",
                   "secureJsonData", "editable", "uid"}
# grafana/grafana packages/grafana-prometheus/src/types.ts, PromOptions: timeInterval (the scrape
# interval, the floor of $__interval and $__rate_interval's base) and httpMethod (GET or POST).
PROMETHEUS_JSON_KEYS = {"timeInterval", "queryTimeout", "httpMethod", "customQueryParameters",
                        "disableMetricsLookup", "exemplarTraceIdDestinations", "prometheusType",
                        "prometheusVersion", "cacheLevel", "defaultEditor", "incrementalQuerying",
                        "incrementalQueryOverlapWindow", "disableRecordingRules",
                        "allowAsRecordingRulesTarget", "sigV4Auth", "oauthPassThru",
                        "codeModeMetricNamesSuggestionLimit", "seriesEndpoint", "seriesLimit"}
# grafana/grafana pkg/services/provisioning/dashboards/types.go, configs (apiVersion 1 providers).
PROVIDER_KEYS = {"name", "type", "orgId", "folder", "folderUid", "editable", "options", "disableDeletion",
                 "updateIntervalSeconds", "allowUiUpdates"}
# grafana/grafana apps/dashboard/pkg/migration/schemaversion/migrations.go: MIN_VERSION = 21,
# LATEST_VERSION = 41 at that commit (v42.go and v43.go exist in later ones); every dashboard
# between the two is migrated when Grafana loads it. v40.go sets `refresh` to "" unless it is a
# string; v41.go deletes timepicker.time_options.
SCHEMA_MIN, SCHEMA_LATEST_READ = 21, 41


def _files() -> dict[str, Any]:
    texts = tree(all_services())
    return {name: yaml.safe_load(text) for name, text in texts.items() if name.endswith(".yaml")}


def _timestream_targets() -> list[tuple[str, dict[str, Any]]]:
    """(panel type, target JSON) of every Timestream target on the built dashboards."""
    return [(panel["type"], target) for board in boards().values() for panel in panels(board)
            for target in panel.get("targets", []) if target.get("datasource", {}).get("type") == PLUGIN_TYPE]


def test_format_numbers_are_the_plugins() -> None:
    assert PLUGIN_FORMAT["Table"] == TABLE
    assert PLUGIN_FORMAT["TimeSeries"] == TIME_SERIES


def test_tables_ask_for_table_frames_and_graphs_for_time_series() -> None:
    targets = _timestream_targets()
    assert {kind for kind, _ in targets} == {"table", "barchart", "timeseries"}
    for kind, target in targets:
        expected = PLUGIN_FORMAT["TimeSeries"] if kind == "timeseries" else PLUGIN_FORMAT["Table"]
        assert target["format"] == expected, (kind, target["rawQuery"])


def test_the_macros_are_the_plugins() -> None:
    assert {f"$__{name}" for name in PLUGIN_MACROS} == MACROS


def test_timestream_datasource_settings_are_keys_the_plugin_reads() -> None:
    (source,) = [d for d in _files()["datasources/dendro.yaml"]["datasources"] if d["type"] == PLUGIN_TYPE]
    assert set(source["jsonData"]) <= TIMESTREAM_JSON_KEYS
    assert source["jsonData"]["authType"] in AUTH_TYPES_ALLOWED_BY_DEFAULT
    # settings.go: an empty `profile` falls back to the datasource's top-level `database`
    assert "database" not in source


def test_prometheus_datasource_settings_are_keys_grafana_reads() -> None:
    (source,) = [d for d in _files()["datasources/dendro.yaml"]["datasources"] if d["type"] == "prometheus"]
    assert set(source["jsonData"]) <= PROMETHEUS_JSON_KEYS
    assert source["jsonData"]["httpMethod"] in {"GET", "POST"}
    assert re.fullmatch(r"[0-9]+s", source["jsonData"]["timeInterval"])


def test_datasource_and_provider_keys_are_grafanas() -> None:
    files = _files()
    for source in files["datasources/dendro.yaml"]["datasources"]:
        assert set(source) <= DATASOURCE_KEYS, source["name"]
    for provider in files["dashboards/dendro.yaml"]["providers"]:
        assert set(provider) <= PROVIDER_KEYS


def test_dashboards_and_rules_share_one_folder_found_by_title() -> None:
    """Grafana provisions alerting before dashboards (provisioning.go: RunInitProvisioners runs
    ProvisionAlerting; dashboards come in Run). rules_types.go reads a group's `folder` as a title
    (full path); rules_provisioner.go getOrCreateFolderByTitle looks it up by title and creates it
    with util.GenerateShortUID(). file_reader.go getOrCreateFolder looks the provider's folder up by
    `folderUid` when one is set, else by the title in `folder`, and creates it when not found. So a
    provider with a folderUid misses the folder alerting created and makes a second one."""
    files = _files()
    (provider,) = files["dashboards/dendro.yaml"]["providers"]
    assert "folderUid" not in provider
    folders = {group["folder"] for name, doc in files.items() if name.startswith("alerting/")
               for group in doc.get("groups", [])}
    assert folders == {provider["folder"]} == {alerting.FOLDER}


def test_schema_version_is_one_grafana_migrates_and_the_migrations_change_nothing() -> None:
    for name, board in boards().items():
        assert SCHEMA_MIN <= board["schemaVersion"] == SCHEMA_VERSION <= SCHEMA_LATEST_READ, name
        assert isinstance(board["refresh"], str), name  # v40 would blank it otherwise
        assert "time_options" not in board["timepicker"], name  # v41 deletes it
