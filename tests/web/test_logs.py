"""Logs: the data dir's log files locally (newest first, paged); the loader's CloudWatch streams on
AWS (moto), paged; and alert states from CloudWatch alarms on AWS."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import replace

import boto3
import pytest
from moto import mock_aws

from dendro.web.app import create_app
from tests.web.conftest import Known


def test_local_log_file_newest_first_and_paged(known: Known, tmp_path: os.PathLike[str]) -> None:
    from pathlib import Path

    directory = Path(tmp_path)
    (directory / "ingest.log").write_text("".join(f"line {i} <b>\n" for i in range(450)), encoding="utf-8")
    client = create_app(known.config, known.store, log_dir=directory).test_client()
    page = client.get("/logs?source=dendro").get_data(as_text=True)
    lines = re.search(r'<pre class="log" id="log-lines">(.*?)</pre>', page, re.S).group(1).splitlines()  # type: ignore[union-attr]
    assert lines[0] == "line 449 &lt;b&gt;" and len(lines) == 200
    last = client.get("/logs?file=ingest.log&page=3").get_data(as_text=True)
    assert "line 0 &lt;b&gt;" in last and "Page 3 of 3" in last
    assert client.get("/logs?file=other.log").status_code == 404
    body = client.get("/api/logs").get_json()
    assert body["files"] == ["ingest.log"] and body["total_lines"] == 450


def test_local_without_log_file_says_so_and_links_the_store_problems(client: object, known: Known) -> None:
    page = client.get("/logs?source=dendro").get_data(as_text=True)  # type: ignore[attr-defined]
    assert 'id="no-log-file"' in page and "/logs?table=parse_error" in page and "/logs?table=rejected" in page


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield


def test_loader_log_streams_and_events(aws: None, known: Known) -> None:
    logs = boto3.client("logs", region_name="us-east-1")
    group = "/aws/lambda/dendro-loader"
    logs.create_log_group(logGroupName=group)
    for n in range(30):
        logs.create_log_stream(logGroupName=group, logStreamName=f"2026/11/26/[$LATEST]{n:04d}")
    stream = "2026/11/26/[$LATEST]0007"
    logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[
            {"timestamp": 1_795_700_000_000 + i * 1000, "message": f"loaded object {i} <x>"}
            for i in range(150)
        ],
    )
    config = replace(known.config, backend="aws")
    client = create_app(config, known.store, log_dir=known.data_dir).test_client()
    listing = client.get("/logs?source=dendro").get_data(as_text=True)
    assert group in listing and listing.count('href="/logs?stream=') == 25
    older = re.search(r'href="(/logs\?token=[^"]+)"', listing)
    assert older, "a link to the next page of streams"
    assert (
        client.get(older.group(1).replace("&amp;", "&")).get_data(as_text=True).count('href="/logs?stream=')
        == 5
    )
    events = client.get("/logs", query_string={"stream": stream}).get_data(as_text=True)
    assert "loaded object 149 &lt;x&gt;" in events and "loaded object 49 &lt;x&gt;" not in events
    body = client.get("/api/logs", query_string={"stream": stream}).get_json()
    assert body["events"][0]["message"] == "loaded object 149 <x>" and len(body["events"]) == 100
    assert body["older_token"]
    more = client.get("/api/logs", query_string={"stream": stream, "token": body["older_token"]}).get_json()
    assert more["events"][0]["message"] == "loaded object 49 <x>"


def test_missing_log_group_is_explained(aws: None, known: Known) -> None:
    client = create_app(replace(known.config, backend="aws"), known.store).test_client()
    assert "does not exist yet" in client.get("/logs?source=dendro").get_data(as_text=True)


def test_alert_states_from_cloudwatch_alarms(aws: None, known: Known) -> None:
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    cloudwatch.put_metric_alarm(
        AlarmName="dendro-postgres_fatal",
        MetricName="postgres_fatal",
        Namespace="Dendro",
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=0,
        ComparisonOperator="GreaterThanThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName="dendro-postgres_fatal", StateValue="ALARM", StateReason="test")
    client = create_app(replace(known.config, backend="aws"), known.store).test_client()
    states = {a["name"]: a for a in client.get("/api/alerts").get_json()}
    assert states["postgres_fatal"]["state"] == "firing"
    assert (
        states["nginx_error_ratio"]["state"] == "unknown"
        and "Grafana" in states["nginx_error_ratio"]["detail"]
    )
    assert "runs no billed query" in client.get("/alerts").get_data(as_text=True)


def test_the_home_page_names_the_aws_store_in_use(aws: None, known: Known) -> None:
    """It said "AWS Timestream" for the athena store too."""
    for store, name in (("timestream", "AWS Timestream"), ("athena", "AWS S3 + Athena")):
        config = replace(known.config, backend="aws", aws=replace(known.config.aws, store=store))
        page = create_app(config, known.store).test_client().get("/").get_data(as_text=True)
        assert f'<p class="big">{name}</p>' in page
