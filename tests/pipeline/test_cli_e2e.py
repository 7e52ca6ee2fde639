"""End to end through the CLI against moto's server: deploy → list → deploy → teardown → list."""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dendro.cli import app
from tests.pipeline import awscheck
from tests.servers.moto import MotoServer

runner = CliRunner()
ENV = {"COLUMNS": "250"}


def dendro(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=ENV)
    return result.exit_code, result.output


def test_plan_changes_nothing(aws: MotoServer, config_file: Path) -> None:
    code, out = dendro("deploy", "--config", str(config_file), "--plan")
    assert code == 0, out
    assert 's3.create_bucket({"Bucket": "dtest-123456789012-us-east-1"})' in out
    assert "lambda.create_function(" in out and "<" in out and "bytes>" in out  # the zip shown as its size
    assert "${role:dtest-loader.arn}" in out  # the function's role ARN is a variable until the role exists
    assert "nothing was changed" in out
    assert awscheck.remains("dtest") == []


def test_deploy_list_redeploy_teardown(aws: MotoServer, config_file: Path) -> None:
    lookalikes = awscheck.make_lookalikes("dtest")
    code, out = dendro("deploy", "--config", str(config_file), "--yes", "--email", "ops@example.com")
    assert code == 0, out
    assert "Deployed pipeline dtest" in out
    assert "arn:aws:iam::123456789012:policy/dtest-agent-put-records" in out  # what to attach next

    code, out = dendro("list", "--config", str(config_file), "--json")
    assert code == 0, out
    listing = json.loads(out)
    kinds = {(r["kind"], r["name"]) for r in listing["resources"]}
    expected = {
        ("S3 bucket", "dtest-123456789012-us-east-1"),
        ("Firehose stream", "dtest"),
        ("Lambda function", "dtest-loader"),
        ("log group", "/aws/lambda/dtest-loader"),
        ("IAM role", "dtest-loader"),
        ("IAM role", "dtest-firehose"),
        ("IAM policy", "dtest-agent-put-records"),
        ("SNS topic", "dtest-alerts"),
        ("Timestream database", "dtest"),
        ("Timestream table", "dtest.nginx_access"),
        ("Timestream table", "dtest.postgres"),
        ("Timestream table", "dtest.agent"),
        ("Timestream table", "dtest.parse_error"),
    }
    assert expected <= kinds
    assert [s["endpoint"] for s in listing["subscriptions"]] == ["ops@example.com"]
    assert all(r["link"].startswith("https://") for r in listing["resources"])

    code, out = dendro("list", "--config", str(config_file))
    assert code == 0 and "Firehose stream" in out and "ops@example.com" in out

    code, out = dendro("deploy", "--config", str(config_file), "--yes")
    assert code == 0, out
    assert "Nothing to change: pipeline dtest is up to date" in out

    code, out = dendro("teardown", "--config", str(config_file), "--yes")
    assert code == 0, out
    assert "nothing of it is left" in out
    assert "dtest-lookalike-data" not in out  # not found by exact name, so not even listed

    code, out = dendro("list", "--config", str(config_file), "--json")
    assert json.loads(out)["resources"] == []
    assert awscheck.remains("dtest") == lookalikes  # only what Dendro did not create survives
    body = awscheck.client("s3").get_object(Bucket="dtest-lookalike-data", Key="raw/keep.txt")["Body"].read()
    assert body == b"keep me"


def test_untagged_resource_with_the_exact_name_is_refused_and_survives(
    aws: MotoServer, tmp_path: Path
) -> None:
    config = tmp_path / "dendro.yaml"
    config.write_text("pipeline: other\nservices: [nginx]\n", encoding="utf-8")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "firehose.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    awscheck.client("iam").create_role(RoleName="other-firehose", AssumeRolePolicyDocument=json.dumps(trust))

    code, out = dendro("deploy", "--config", str(config), "--yes")
    assert code == 1
    assert "IAM role other-firehose exists but was not created by Dendro" in out
    assert "Traceback" not in out

    code, out = dendro("teardown", "--config", str(config), "--yes")
    assert code == 0, out
    assert "not Dendro's: IAM role other-firehose" in out
    assert "iam-role:other-firehose" in awscheck.remains("other")
    assert awscheck.remains("other") == ["iam-role:other-firehose"]


def test_agent_key_is_printed_once_and_stored_nowhere(
    aws: MotoServer, config_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    code, out = dendro("deploy", "--config", str(config_file), "--yes", "--create-agent-user")
    assert code == 0, out
    secret = next(line.split("=", 1)[1] for line in out.splitlines() if "AWS_SECRET_ACCESS_KEY=" in line)
    assert len(secret) >= 20
    assert out.count(secret) == 1
    assert secret not in caplog.text
    for path in config_file.parent.rglob("*"):
        if path.is_file():
            assert secret not in path.read_text(encoding="utf-8", errors="replace"), path
    # nothing secret went into the function either: its environment or its code
    function = awscheck.client("lambda").get_function(FunctionName="dtest-loader")
    environment = json.dumps(function["Configuration"]["Environment"])
    for value in (secret, os.environ["AWS_SECRET_ACCESS_KEY"], os.environ["AWS_SESSION_TOKEN"]):
        assert value not in environment
    # a second deploy does not make another key: the user has one
    code, out = dendro("deploy", "--config", str(config_file), "--yes", "--create-agent-user")
    assert "AWS_SECRET_ACCESS_KEY" not in out and "Nothing to change" in out
    code, out = dendro("teardown", "--config", str(config_file), "--yes")
    assert code == 0, out
    assert awscheck.remains("dtest") == []


def test_print_policy_is_scoped_json(aws: MotoServer, config_file: Path) -> None:
    code, out = dendro("deploy", "--config", str(config_file), "--print-policy")
    assert code == 0, out
    document = json.loads(out)
    assert document["Version"] == "2012-10-17"
    assert all(
        "123456789012" in json.dumps(s["Resource"]) or s["Resource"] == "*" for s in document["Statement"]
    )


def test_no_credentials_is_one_clear_message(
    aws: MotoServer, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code, out = dendro("deploy", "--config", str(config_file), "--yes")
    assert code == 1
    assert "No AWS credentials found" in out and "Traceback" not in out


def _set_agent_hosts(aws: MotoServer, pipeline: str, hosts: list[str]) -> None:
    query = f'SELECT DISTINCT host FROM "{pipeline}"."agent" WHERE time > ago(10m)'
    result = {
        "QueryId": "q1",
        "ColumnInfo": [{"Name": "host", "Type": {"ScalarType": "VARCHAR"}}],
        "Rows": [{"Data": [{"ScalarValue": host}]} for host in hosts],
    }
    body = json.dumps({"results": {query: [result]}}).encode()
    request = urllib.request.Request(
        f"{aws.url}/moto-api/static/timestream/query-results",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201


def test_interactive_deploy_and_teardown_warn_and_ask(aws: MotoServer, config_file: Path) -> None:
    answers = "y\nops@example.com, dev@example.com\ny\n"  # alerts? addresses; apply?
    result = runner.invoke(app, ["deploy", "--config", str(config_file)], input=answers, env=ENV)
    assert result.exit_code == 0, result.output
    subscribed = awscheck.client("sns").list_subscriptions()["Subscriptions"]
    assert sorted(s["Endpoint"] for s in subscribed) == ["dev@example.com", "ops@example.com"]

    _set_agent_hosts(aws, "dtest", ["web-1", "db-1"])
    result = runner.invoke(app, ["teardown", "--config", str(config_file)], input="n\n", env=ENV)
    assert result.exit_code == 1
    assert "agents sent events in the last 10 minutes from: db-1, web-1" in result.output
    assert "Will delete pipeline dtest" in result.output and "Nothing was deleted" in result.output
    assert "s3:dtest-123456789012-us-east-1" in awscheck.remains("dtest")

    code, out = dendro("teardown", "--config", str(config_file), "--yes")
    assert code == 0 and "nothing of it is left" in out
