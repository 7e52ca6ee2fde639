"""aws.store athena end to end against moto's server: deploy → list → deploy → teardown, checked with
plain boto3 calls of Glue, Athena, EventBridge, Lambda and S3."""

from __future__ import annotations

import json
from pathlib import Path

from tests.pipeline import awscheck
from tests.pipeline.test_cli_e2e import dendro
from tests.servers.moto import MotoServer

BUCKET = "dath-123456789012-us-east-1"


def pyarrow_layer() -> str:
    """A layer in moto's account standing for the pyarrow layer (moto checks that a function's
    layers exist, and the AWS SDK for pandas account's are not in moto)."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("python/pyarrow/__init__.py", "")
    published = awscheck.client("lambda").publish_layer_version(
        LayerName="pyarrow", Content={"ZipFile": buffer.getvalue()}, CompatibleRuntimes=["python3.12"]
    )
    return str(published["LayerVersionArn"])


def _config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "dendro.yaml"
    layer = (tmp_path / "layer").read_text() if (tmp_path / "layer").exists() else pyarrow_layer()
    (tmp_path / "layer").write_text(layer)
    path.write_text(
        "pipeline: dath\nbackend: aws\nservices: {nginx: {}, postgres: {}}\n"
        f"aws: {{store: athena, athena_scan_limit_mb: 100, pyarrow_layer: '{layer}'{extra}}}\n",
        encoding="utf-8",
    )
    return path


def test_deploy_list_redeploy_teardown_of_the_athena_store(aws: MotoServer, tmp_path: Path) -> None:
    config = _config(tmp_path)
    code, out = dendro("deploy", "--config", str(config), "--yes")
    assert code == 0, out

    glue = awscheck.client("glue")
    tables = {t["Name"]: t for t in glue.get_tables(DatabaseName="dath")["TableList"]}
    assert {"nginx_access", "nginx_error", "postgres", "agent", "parse_error"} <= set(tables)
    access = tables["nginx_access"]
    assert access["StorageDescriptor"]["Location"] == f"s3://{BUCKET}/tables/nginx_access/"
    assert access["StorageDescriptor"]["Columns"][0] == {"Name": "time", "Type": "timestamp"}
    assert access["PartitionKeys"] == [{"Name": "date", "Type": "string"}]
    assert access["Parameters"]["projection.date.type"] == "date"
    assert access["Parameters"]["storage.location.template"] == (
        f"s3://{BUCKET}/tables/nginx_access/date=${{date}}/"
    )
    assert glue.get_tags(ResourceArn="arn:aws:glue:us-east-1:123456789012:database/dath")["Tags"] == {
        "dendro:pipeline": "dath"
    }

    group = awscheck.client("athena").get_work_group(WorkGroup="dath")["WorkGroup"]["Configuration"]
    assert group["BytesScannedCutoffPerQuery"] == 100 << 20
    assert group["ResultConfiguration"]["OutputLocation"] == f"s3://{BUCKET}/athena-results/"
    assert group["EnforceWorkGroupConfiguration"] is True

    rule = awscheck.client("events").describe_rule(Name="dath-compact")
    assert rule["ScheduleExpression"] == "rate(60 minutes)"
    targets = awscheck.client("events").list_targets_by_rule(Rule="dath-compact")["Targets"]
    assert [(t["Arn"].rsplit(":", 1)[1], json.loads(t["Input"])) for t in targets] == [
        ("dath-loader", {"dendro": "compact"})
    ]
    function = awscheck.client("lambda").get_function(FunctionName="dath-loader")["Configuration"]
    assert function["Handler"] == "dendro.pipeline.athena_loader.handler"
    assert [layer["Arn"] for layer in function["Layers"]] == [(tmp_path / "layer").read_text()]
    policy = json.loads(awscheck.client("lambda").get_policy(FunctionName="dath-loader")["Policy"])
    principals = sorted(st["Principal"]["Service"] for st in policy["Statement"])
    assert principals == ["events.amazonaws.com", "s3.amazonaws.com"]
    rules = awscheck.client("s3").get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert {(r["Filter"]["Prefix"], r["Expiration"]["Days"]) for r in rules} == {
        ("raw/", 7),
        ("athena-results/", 7),
        ("compacted/", 8),
    }
    assert awscheck.client("timestream-write").list_databases()["Databases"] == []

    code, out = dendro("list", "--config", str(config), "--json")
    assert code == 0, out
    kinds = {(r["kind"], r["name"]) for r in json.loads(out)["resources"]}
    assert {
        ("Glue database", "dath"),
        ("Glue table", "dath.nginx_access"),
        ("Athena workgroup", "dath"),
        ("EventBridge rule", "dath-compact"),
    } <= kinds

    code, out = dendro("deploy", "--config", str(config), "--yes")
    assert code == 0 and "Nothing to change" in out, out

    code, out = dendro(
        "deploy", "--config", str(_config(tmp_path, ", compaction_interval_minutes: 30")), "--yes"
    )
    assert code == 0, out
    assert (
        awscheck.client("events").describe_rule(Name="dath-compact")["ScheduleExpression"]
        == "rate(30 minutes)"
    )

    code, out = dendro("teardown", "--config", str(config), "--yes")
    assert code == 0, out
    assert "nothing of it is left" in out
    assert awscheck.remains("dath") == []
