"""dendro.yaml's local store keys: retention_days, retention_by_table, memory_limit."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dendro.config import ConfigError, dump, from_dict
from dendro.runtime.datadir import DataDir
from dendro.runtime.stores import store_settings


def test_defaults_keep_thirty_days_in_a_gigabyte() -> None:
    local = from_dict({}).local
    assert (local.retention_days, local.retention_by_table, local.memory_limit) == (30, {}, "1GB")


def test_the_keys_reach_the_store_settings(tmp_path: Path) -> None:
    by_table = {"parse_error": 7, "rejected": 3}
    local = {"retention_days": 14, "retention_by_table": by_table, "memory_limit": "25%"}
    config = from_dict({"local": local})
    settings = store_settings(config, DataDir(tmp_path))
    assert settings.root == tmp_path and settings.memory_limit == "25%"
    assert [settings.retention.of(t) for t in ("nginx_access", "parse_error", "rejected")] == [14, 7, 3]


@pytest.mark.parametrize(("local", "message"), [
    ({"retention_days": -1}, "local.retention_days: must not be negative"),
    ({"retention_days": "30"}, "local.retention_days: expected an integer"),
    ({"retention_by_table": {"nope": 3}}, "local.retention_by_table.nope: unknown table"),
    ({"retention_by_table": {"parse_error": 1.5}}, "parse_error: expected a number of days"),
    ({"retention_by_table": {"parse_error": -2}}, "retention_by_table.parse_error: must not be negative"),
    ({"retention_by_table": ["parse_error"]}, "local.retention_by_table: expected a mapping"),
    ({"memory_limit": "lots"}, "local.memory_limit: expected a size such as 512MB"),
    ({"memory_limit": 1024}, "local.memory_limit: expected a string"),
])
def test_wrong_values_name_the_key(local: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        from_dict({"local": local})


def test_a_custom_application_table_may_have_its_own_retention() -> None:
    config = from_dict({"custom": [{"name": "billing", "path": "/var/log/b.log", "regex": "(?P<level>\\w+)"}],
                        "local": {"retention_by_table": {"billing": 90}}})
    assert config.local.retention_by_table == {"billing": 90}


def test_configure_writes_the_keys_and_they_read_back(tmp_path: Path) -> None:
    config = from_dict({"local": {"retention_days": 10, "retention_by_table": {"parse_error": 2}}})
    dump(config, tmp_path / "dendro.yaml")
    written = yaml.safe_load((tmp_path / "dendro.yaml").read_text())
    assert written["local"]["retention_days"] == 10
    assert written["local"]["retention_by_table"] == {"parse_error": 2}
    assert from_dict(written).local == config.local
