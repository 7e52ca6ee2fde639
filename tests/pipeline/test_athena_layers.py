"""The athena loader's pyarrow layer: AWS SDK for pandas' managed layer per region, or the configured one.

Pinned from aws/aws-sdk-pandas at tag 3.17.0: ``docs/source/layers.rst`` lists, for Python 3.12
x86_64, ``arn:aws:lambda:us-east-1:336392948345:layer:AWSSDKPandas-Python312:29`` (and version 29
in the other regions published from 336392948345, 28 in af-south-1, other accounts for the opt-in
regions), and ``building/lambda/build-lambda-layer.sh`` builds Arrow with ``-DARROW_WITH_ZSTD=OFF``
(with ``-DARROW_WITH_SNAPPY=ON``): the reason the writer falls back to snappy (tests/athena/test_loader.py).
"""

from __future__ import annotations

import pytest

from dendro import config as config_module
from dendro.pipeline import desired, layers, package
from dendro.pipeline.errors import DeployError
from dendro.pipeline.models import Function, Names


def test_the_managed_layer_of_each_region() -> None:
    assert (
        layers.pyarrow_layer("us-east-1")
        == "arn:aws:lambda:us-east-1:336392948345:layer:AWSSDKPandas-Python312:29"
    )
    assert layers.pyarrow_layer("af-south-1").endswith(":336392948345:layer:AWSSDKPandas-Python312:28")
    assert (
        layers.pyarrow_layer("ap-east-1")
        == "arn:aws:lambda:ap-east-1:839552336658:layer:AWSSDKPandas-Python312:26"
    )
    assert layers.pyarrow_layer("eu-west-1", "arn:aws:lambda:eu-west-1:1:layer:mine:3").endswith(":mine:3")
    with pytest.raises(DeployError, match=r"aws\.pyarrow_layer"):
        layers.pyarrow_layer("mars-north-1")


def test_the_athena_pipeline_runs_the_athena_loader_with_the_layer() -> None:
    config = config_module.from_dict(
        {
            "pipeline": "my-app",
            "backend": "aws",
            "services": ["nginx"],
            "aws": {"store": "athena", "region": "eu-west-1"},
        }
    )
    names = Names("my-app", "123456789012", "eu-west-1")
    pipeline = desired.desired(config, names, package.build(package.ATHENA_ENTRY))
    function = next(r for r in pipeline.resources if isinstance(r, Function))
    assert function.handler == "dendro.pipeline.athena_loader.handler"
    assert function.layers == ("arn:aws:lambda:eu-west-1:336392948345:layer:AWSSDKPandas-Python312:29",)
    assert function.environment["DENDRO_DATABASE"] == "my_app"
    assert "dendro/pipeline/athena_loader.py" in {
        m.replace(".", "/") + ".py" for m in function.package.modules
    }
    kinds = {r.kind for r in pipeline.resources}
    assert {"Glue database", "Glue table", "Athena workgroup", "EventBridge rule"} <= kinds
    assert not {"Timestream database", "Timestream table"} & kinds


def test_only_the_athena_loader_may_import_pyarrow() -> None:
    assert "pyarrow" not in str(package.build().modules)
    with pytest.raises(DeployError, match="imports pyarrow"):
        package.modules_of(package.ATHENA_ENTRY)
