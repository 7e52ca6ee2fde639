"""Options of the generated vector.yaml that rest on how Vector itself behaves.

Each test names the upstream lines it relies on: repository vectordotdev/vector, the path, and
the release tag read (v0.57.0, and v0.44.0 where the option must exist in the oldest Vector
Dendro supports, see ``render.MIN_VECTOR``).
"""

from __future__ import annotations

from typing import Any

from dendro import config as config_module
from dendro.vector import render


def _aws(**raw: Any) -> dict[str, Any]:
    return render.render(config_module.from_dict({"backend": "aws", "services": ["syslog"], **raw}))


def test_firehose_resends_a_partly_refused_batch() -> None:
    # vectordotdev/vector src/sinks/aws_kinesis/config.rs (v0.44.0, v0.57.0):
    # `request_retry_partial: bool` with `#[serde(default)]`, i.e. false unless set;
    # src/sinks/aws_kinesis/firehose/config.rs (v0.57.0) `should_retry_response`: Retry only when
    # `response.failure_count > 0 && self.retry_partial`, else Successful; and
    # src/sinks/aws_kinesis/service.rs `KinesisResponse::event_status` is always Delivered, so
    # without the option the refused records are acknowledged and lost.
    sink = _aws()["sinks"]["dendro_firehose"]
    assert sink["request_retry_partial"] is True
    assert sink["acknowledgements"] == {"enabled": True}

