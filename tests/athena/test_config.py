"""dendro.yaml's aws.store and the athena store's settings."""

from __future__ import annotations

import pytest

from dendro import config as config_module
from dendro.errors import ConfigError


def _load(aws: dict[str, object]) -> config_module.Config:
    return config_module.from_dict({"backend": "aws", "services": {"nginx": {}}, "aws": aws})


def test_the_store_defaults_to_timestream_and_accepts_athena() -> None:
    assert _load({}).aws.store == "timestream"
    athena = _load({"store": "athena", "athena_scan_limit_mb": 200, "athena_results_expiry_days": 3})
    assert (athena.aws.store, athena.aws.athena_scan_limit_mb, athena.aws.athena_results_expiry_days) == (
        "athena",
        200,
        3,
    )


@pytest.mark.parametrize(
    ("aws", "message"),
    [
        ({"store": "influx"}, "aws.store: expected timestream or athena"),
        ({"athena_scan_limit_mb": 5}, "aws.athena_scan_limit_mb"),
        ({"athena_results_expiry_days": 0}, "aws.athena_results_expiry_days"),
        ({"compaction_interval_minutes": 1}, "aws.compaction_interval_minutes"),
    ],
)
def test_bad_athena_settings_name_the_key(aws: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _load(aws)
