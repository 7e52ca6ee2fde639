"""AthenaStore against moto's Athena (control plane: it records the query and hands back the rows a
test queued): the translated SQL goes to the pipeline's workgroup and Glue database, the header row is
dropped, values are typed, the row cap and SHOW/DESCRIBE/write behave as the Store protocol says."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.athena.models import QueryResults, athena_backends

from dendro.services import catalog
from dendro.store.athena import AthenaStore, value
from dendro.store.base import QueryError, StoreError

TABLES = {t.name: t for t in catalog()["nginx"].tables}


@pytest.fixture
def athena(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, val in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, val)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("athena", region_name="us-east-1")
        client.create_work_group(
            Name="my-app", Configuration={"ResultConfiguration": {"OutputLocation": "s3://b/r/"}}
        )
        yield client


def _queue(rows: list[list[str | None]], types: list[tuple[str, str]]) -> None:
    backend = athena_backends["123456789012"]["us-east-1"]
    data = [{"Data": [{} if v is None else {"VarCharValue": v} for v in row]} for row in rows]
    info = [{"Name": n, "Type": t} for n, t in types]
    backend.query_results_queue.append(QueryResults(rows=data, column_info=info))


def test_a_query_runs_translated_in_the_workgroup_and_comes_back_typed(athena: Any) -> None:
    types = [("host", "varchar"), ("n", "bigint"), ("p95", "double"), ("last", "timestamp")]
    _queue(
        [
            ["host", "n", "p95", "last"],
            ["web-1", "42", "0.25", "2026-11-26 12:00:01.500"],
            ["web-2", "1", None, None],
        ],
        types,
    )
    store = AthenaStore("my-app", TABLES, athena=athena, sleep=lambda _s: None)
    sql = (
        "SELECT host, count(*) AS n, approx_percentile(duration, 0.95) AS p95, max(time) AS last"
        ' FROM "my-app"."nginx_access" WHERE time >= ago(1h) GROUP BY host'
    )
    result = store.query(sql)
    assert [c.type for c in result.columns] == ["VARCHAR", "BIGINT", "DOUBLE", "TIMESTAMP"]
    assert result.rows == [
        ("web-1", 42, 0.25, datetime(2026, 11, 26, 12, 0, 1, 500000, tzinfo=UTC)),
        ("web-2", 1, None, None),
    ]
    execution = next(iter(athena_backends["123456789012"]["us-east-1"].executions.values()))
    assert execution.query == store.translate(sql)
    assert '"my_app"."nginx_access"' in execution.query and '"date" >=' in execution.query
    assert execution.workgroup.name == "my-app"
    assert execution.context["Database"] == "my_app"


def test_the_row_cap_cuts_and_says_so(athena: Any) -> None:
    _queue([["n"], *[[str(i)] for i in range(5)]], [("n", "bigint")])
    result = AthenaStore("my-app", TABLES, athena=athena, sleep=lambda _s: None).query(
        'SELECT status AS n FROM "my-app"."nginx_access" WHERE time >= ago(1h)', max_rows=3
    )
    assert result.rows == [(0,), (1,), (2,)] and result.truncated


def test_show_describe_and_write_need_no_query(athena: Any) -> None:
    store = AthenaStore("my-app", TABLES, athena=athena)
    assert store.query("SHOW TABLES").rows == [(t,) for t in sorted(TABLES)]
    assert store.query('DESCRIBE "my-app"."nginx_access"').rows[0] == ("time", "TIMESTAMP")
    with pytest.raises(StoreError, match="written by the pipeline's loader"):
        store.write([])
    with pytest.raises(QueryError):
        store.query('DROP TABLE "my-app"."nginx_access"')
    assert athena_backends["123456789012"]["us-east-1"].executions == {}


def test_values_as_athena_writes_them() -> None:
    assert value("TIMESTAMP", "2026-11-26 12:00:00.000 UTC") == datetime(2026, 11, 26, 12, tzinfo=UTC)
    assert value("DOUBLE", "NaN") != value("DOUBLE", "NaN")
    assert value("BOOLEAN", "true") is True and value("BIGINT", None) is None


def test_the_verbs_open_the_athena_store_when_aws_store_is_athena(tmp_path: Any) -> None:
    from dendro import config as config_module
    from dendro.runtime.datadir import DataDir
    from dendro.runtime.stores import open_for_query

    config = config_module.from_dict(
        {"pipeline": "my-app", "backend": "aws", "services": {"nginx": {}}, "aws": {"store": "athena"}}
    )
    store = open_for_query(config, DataDir(tmp_path))
    assert isinstance(store, AthenaStore)
    assert (store.glue_database, store.workgroup, store.database) == ("my_app", "my-app", "my-app")
