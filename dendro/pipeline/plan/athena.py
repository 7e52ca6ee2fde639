"""Plan the athena store's Athena workgroup: where results go, how much one query may scan.

The workgroup enforces its settings (a client cannot send results elsewhere or lift the cutoff),
writes results under ``athena-results/`` of the pipeline's bucket (SSE-S3; the bucket's lifecycle
expires them) and cancels a query past ``aws.athena_scan_limit_mb`` scanned. Engine version 3
(Trino) is what Dendro's translated SQL is written for.
"""

from __future__ import annotations

from typing import Any

from dendro.pipeline.models import Instruction, Workgroup
from dendro.pipeline.plan.base import Context
from dendro.pipeline.resources import tag_list

SERVICE = "athena"
ENGINE = "Athena engine version 3"


def configuration(ctx: Context, wg: Workgroup) -> dict[str, Any]:
    return {
        "ResultConfiguration": {
            "OutputLocation": ctx.names.results_location,
            "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"},
        },
        "EnforceWorkGroupConfiguration": True,
        "PublishCloudWatchMetricsEnabled": True,
        "BytesScannedCutoffPerQuery": wg.scan_limit_bytes,
        "EngineVersion": {"SelectedEngineVersion": ENGINE},
    }


def workgroup(ctx: Context, wg: Workgroup) -> list[Instruction]:
    wanted = configuration(ctx, wg)
    found = _get(ctx, wg.name)
    if found is None:
        params = {
            "Name": wg.name,
            "Configuration": wanted,
            "Description": f"Dendro pipeline {wg.pipeline}",
            "Tags": tag_list(wg.tags),
        }
        return [ctx.create(wg, SERVICE, "create_work_group", params=params)]
    ctx.check_tags(wg, SERVICE, "list_tags_for_resource", ResourceARN=ctx.names.workgroup_arn)
    current = found["WorkGroup"].get("Configuration", {})
    if _comparable(current) == _comparable(wanted):
        return []
    updates = {
        "ResultConfigurationUpdates": wanted["ResultConfiguration"],
        "EnforceWorkGroupConfiguration": True,
        "PublishCloudWatchMetricsEnabled": True,
        "BytesScannedCutoffPerQuery": wg.scan_limit_bytes,
        "EngineVersion": wanted["EngineVersion"],
    }
    params = {"WorkGroup": wg.name, "ConfigurationUpdates": updates}
    return [
        ctx.call(wg, SERVICE, "update_work_group", params=params, description=f"update {wg.label} settings")
    ]


def _get(ctx: Context, name: str) -> dict[str, Any] | None:
    return get_work_group(ctx.clients, name)


def get_work_group(clients: Any, name: str) -> dict[str, Any] | None:
    """The workgroup, or None: AWS answers a missing one with InvalidRequestException (moto 5.2
    with ``{"WorkGroup": null}``)."""
    from botocore.exceptions import ClientError

    from dendro.pipeline.errors import explain

    try:
        found = clients.call(SERVICE, "get_work_group", WorkGroup=name)
    except ClientError as error:
        if is_missing(error):
            return None
        raise explain(error, SERVICE, "get_work_group") from None
    return found if found.get("WorkGroup") else None


def is_missing(error: Any) -> bool:
    info = error.response.get("Error", {})
    return info.get("Code") in ("InvalidRequestException", "ResourceNotFoundException") and (
        "not found" in info.get("Message", "").lower() or "does not exist" in info.get("Message", "").lower()
    )


def _comparable(config: dict[str, Any]) -> tuple[Any, ...]:
    result = config.get("ResultConfiguration", {})
    engine = config.get("EngineVersion", {}).get("SelectedEngineVersion")
    return (
        result.get("OutputLocation"),
        (result.get("EncryptionConfiguration") or {}).get("EncryptionOption"),
        bool(config.get("EnforceWorkGroupConfiguration")),
        bool(config.get("PublishCloudWatchMetricsEnabled")),
        config.get("BytesScannedCutoffPerQuery"),
        engine,
    )
