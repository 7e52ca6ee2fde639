"""Options of the generated vector.yaml that rest on how Vector itself behaves.

Each test names the upstream lines it relies on: repository vectordotdev/vector, the path, and
the release tag read (v0.57.0, and v0.44.0 where the option must exist in the oldest Vector
Dendro supports, see ``render.MIN_VECTOR``).
"""

from __future__ import annotations

from typing import Any

from dendro import config as config_module
from dendro.services import runner
from dendro.services.internal import AGENT, AGENT_PARSER
from dendro.store.schema import to_row
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



def _merged(events: list[dict[str, Any]], strategies: dict[str, str]) -> dict[str, Any]:
    """What Vector's reduce makes of ``events`` with these strategies.

    vectordotdev/vector src/transforms/reduce/transform.rs (v0.44.0, v0.57.0) ``add_event``: a
    field first seen in a later event is inserted then (``Entry::Vacant``), later values go to
    its merger; src/transforms/reduce/merge_strategy.rs: ``discard`` keeps the first value,
    ``retain`` the last, ``max`` the largest number; a string without a strategy keeps the first.
    """
    merged: dict[str, Any] = {}
    for event in events:
        for key, value in event.items():
            strategy = strategies.get(key, "discard")
            if key not in merged or strategy == "retain":
                merged[key] = value
            elif strategy == "max":
                merged[key] = max(merged[key], value)
    return merged


def test_the_heartbeat_row_carries_vectors_version_from_build_info() -> None:
    # vectordotdev/vector src/internal_events/heartbeat.rs (v0.44.0, v0.57.0): the heartbeat sets
    # `uptime_seconds` with no tag and `build_info` = 1.0 with the tags debug, version,
    # rust_version, arch, revision; uptime_seconds never carries the version.
    document = _aws()
    merge = document["transforms"]["dendro_agent_merge"]
    assert merge["group_by"] == ["host"] and merge["max_events"] == 2
    assert merge["expire_after_ms"] < 60_000 / 2  # < the scrape interval: two scrapes never merge
    assert document["sources"]["dendro_agent_metrics"]["scrape_interval_secs"] == 60
    (uptime_sample, build_sample) = AGENT_PARSER.samples
    uptime = runner.run_events(AGENT_PARSER, uptime_sample.input_event())
    build = runner.run_events(AGENT_PARSER, build_sample.input_event())
    assert "version" not in uptime[0] and "uptime" not in build[0]
    for pair in ([*uptime, *build], [*build, *uptime]):  # either order within a scrape
        row = to_row(AGENT, _merged(pair, merge["merge_strategies"]))
        assert (row["host"], row["version"], row["uptime"]) == ("web-1", "0.57.0", 120.5)
