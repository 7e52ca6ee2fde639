"""The athena loader's pyarrow: a Lambda layer, by default AWS SDK for pandas' managed one.

The Lambda runtime has no pyarrow; AWS publishes the AWS SDK for pandas (awswrangler) layer,
which carries pyarrow, in every commercial region. Its ARNs below are those of version 3.17.0,
Python 3.12, x86_64, as aws/aws-sdk-pandas lists them (``docs/source/layers.rst`` at tag 3.17.0).
That layer's Arrow is built without zstd (``building/lambda/build-lambda-layer.sh``,
``-DARROW_WITH_ZSTD=OFF``), so with it the loader writes snappy (:mod:`dendro.store.athena_writer`);
``aws.pyarrow_layer`` names a layer of your own (pyarrow from its wheel has zstd) instead.
"""

from __future__ import annotations

from dendro.pipeline.errors import DeployError

VERSION = "3.17.0"
_ACCOUNT = "336392948345"
#: regions whose layer is published from the main account, with the layer version
_MAIN = {
    "af-south-1": 28,
    **dict.fromkeys(
        (
            "ap-northeast-1",
            "ap-northeast-2",
            "ap-northeast-3",
            "ap-south-1",
            "ap-southeast-1",
            "ap-southeast-2",
            "ca-central-1",
            "eu-central-1",
            "eu-north-1",
            "eu-west-1",
            "eu-west-2",
            "eu-west-3",
            "sa-east-1",
            "us-east-1",
            "us-east-2",
            "us-west-1",
            "us-west-2",
        ),
        29,
    ),
}
#: opt-in regions publish from an account of their own
_OTHER = {
    "ap-east-1": ("839552336658", 26),
    "ap-south-2": ("246107603503", 26),
    "ap-southeast-3": ("258944054355", 26),
    "ap-southeast-4": ("945386623051", 26),
    "ca-west-1": ("941713567376", 3),
    "eu-central-2": ("956415814219", 26),
    "eu-south-1": ("774444163449", 26),
    "eu-south-2": ("982086096842", 26),
    "il-central-1": ("263840725265", 26),
    "me-central-1": ("593833071574", 26),
}


def pyarrow_layer(region: str, configured: str = "") -> str:
    """The layer version ARN the athena loader runs with in ``region``."""
    if configured:
        return configured
    if region in _MAIN:
        return f"arn:aws:lambda:{region}:{_ACCOUNT}:layer:AWSSDKPandas-Python312:{_MAIN[region]}"
    if region in _OTHER:
        account, version = _OTHER[region]
        return f"arn:aws:lambda:{region}:{account}:layer:AWSSDKPandas-Python312:{version}"
    raise DeployError(
        f"No AWS SDK for pandas layer is known in {region}: set aws.pyarrow_layer in dendro.yaml to the "
        "ARN of a Lambda layer with pyarrow for Python 3.12 (docs/loader.md)."
    )
