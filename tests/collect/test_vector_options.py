"""Options of the generated vector.yaml that rest on how Vector itself behaves.

Each test names the upstream lines it relies on: repository vectordotdev/vector, the path, and
the release tag read (v0.57.0, and v0.44.0 where the option must exist in the oldest Vector
Dendro supports, see ``render.MIN_VECTOR``).
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from dendro import config as config_module
from dendro.ingest.server import IngestServer, IngestSettings
from dendro.services import catalog, postgres, runner, tables_of
from dendro.services.base import STATEMENT_LINE_BYTES
from dendro.services.internal import AGENT, AGENT_PARSER
from dendro.store.local import LocalStore
from dendro.store.schema import to_row
from dendro.vector import render
from tests.support import free_port


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


def _local(**raw: Any) -> dict[str, Any]:
    return render.render(config_module.from_dict({"services": ["syslog"], **raw}))


def test_a_missing_token_stops_vector_with_a_message() -> None:
    # vectordotdev/vector src/config/vars.rs (v0.44.0, v0.57.0): `${NAME:?message}` is an error
    # "Non-empty environment variable required in config. name = …, error = <message>" when NAME
    # is unset or empty; the message is `[^}]*` and the whole file is interpolated, so it may hold
    # neither `}` nor `$`. (A bare `${NAME}` only fails when unset: an empty token would start.)
    token = _local(local={"token_env": "MY_TOKEN"})["sinks"]["dendro_ingest"]["auth"]["token"]
    match = re.fullmatch(r"\$\{(?P<name>[A-Z_][A-Z0-9_]*):\?(?P<message>[^}]*)\}", token)
    assert match is not None, token
    assert match["name"] == "MY_TOKEN"
    assert "$" not in match["message"] and "ingest token" in match["message"]


@pytest.mark.parametrize(
    ("url", "health"),
    [
        ("http://10.0.0.9:9880/ingest", "http://10.0.0.9:9880/healthz"),
        ("https://mon.example.com/dendro/ingest", "https://mon.example.com/dendro/healthz"),
    ],
)
def test_the_http_sink_checks_the_ingests_health_url(url: str, health: str) -> None:
    # vectordotdev/vector src/sinks/http/config.rs (v0.44.0, v0.57.0): the sink's health check is
    # `future::ok(())` unless `healthcheck.uri` is set (src/config/sink.rs SinkHealthcheckOptions
    # `uri: Option<UriSerde>`); with it, Vector sends HEAD to the uri with the sink's auth and is
    # healthy only on StatusCode::OK.
    sink = _local(local={"url": url})["sinks"]["dendro_ingest"]
    assert sink["healthcheck"] == {"enabled": True, "uri": health}


def _head(url: str, token: str) -> int:
    request = urllib.request.Request(url, method="HEAD", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.read() == b""
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_dendros_ingest_answers_vectors_health_check(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "dendro.duckdb", "dendro", tables_of([]))
    server = IngestServer(store, IngestSettings("tok", 1 << 20), host="127.0.0.1", port=free_port())
    server.start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        sink = _local(local={"url": f"{base}/ingest"})["sinks"]["dendro_ingest"]
        assert _head(sink["healthcheck"]["uri"], "tok") == 200  # exactly 200, as Vector wants
        assert _head(f"{base}/nothing", "tok") == 404
    finally:
        server.stop()
        store.close()


def test_statement_logs_keep_lines_longer_than_vectors_default() -> None:
    # vectordotdev/vector src/sources/file.rs (v0.44.0, v0.57.0): `max_line_bytes` defaults to
    # `bytesize::kib(100u64)` and is "the maximum size of a line before it is discarded"
    # (the test `file_max_line_bytes` there: a longer line is dropped whole).
    vector_default = 100 * 1024
    document = render.render(config_module.from_dict({"services": ["postgres", "mysql", "nginx"]}))
    sources = document["sources"]
    for source_id in ("postgres_logs", "mysql_slow_logs"):
        assert sources[source_id]["max_line_bytes"] == STATEMENT_LINE_BYTES > vector_default
    assert "max_line_bytes" not in sources["nginx_access_logs"]  # other logs keep the default


def test_a_statement_line_at_the_limit_still_fits_one_firehose_record() -> None:
    # PutRecordBatch takes records of at most 1,000 KiB (AWS Firehose API reference, Record.Data).
    firehose_record = 1000 * 1024
    prefix = "2026-11-26 12:00:02.000 UTC [2001] app@shop LOG:  duration: 1234.567 ms  statement: "
    rows = "('o\"brien', 'c:\\\\tmp', 42),"
    sql = "INSERT INTO t VALUES " + rows * ((STATEMENT_LINE_BYTES - len(prefix) - 40) // len(rows))
    line = prefix + sql + "(1);"
    assert STATEMENT_LINE_BYTES - 100 < len(line.encode()) <= STATEMENT_LINE_BYTES
    (event,) = runner.run_events(postgres.SERVICE.parser("postgres"), {"message": line, "host": "db-1"})
    assert event["type"] == "postgres" and event["statement"].endswith("(1);")
    assert len(json.dumps(event, ensure_ascii=False).encode()) < firehose_record


#: VRL functions Dendro's programs call, each checked to exist in VRL v0.21.0 (vectordotdev/vrl
#: src/stdlib/*.rs, `fn identifier`), the VRL of Vector 0.44.0 (vectordotdev/vector Cargo.toml at
#: v0.44.0: `vrl = { version = "0.21.0" …}`; at v0.43.1 it is 0.20.1). VRL's CHANGELOG.md puts
#: "optional `timezone` argument in the `parse_timestamp` function" (vrl#1207) in 0.21.0.
#: A program that needs another function: check it exists in VRL 0.21.0, or raise MIN_VECTOR.
#: ``array``, ``for_each``, ``is_array`` and ``push`` (the zone abbreviations' check,
#: dendro/services/zones.py) are src/stdlib/array.rs, for_each.rs, is_array.rs, push.rs at v0.21.0;
#: ``uuid_v4`` (the events' ids, dendro/vector/render.py) is src/stdlib/uuid_v4.rs there, infallible;
#: the size cap's ``encode_json``, ``map_values``, ``truncate`` (with ``suffix``, kept in v0.35.0 when
#: ``ellipsis`` went) are encode_json.rs, map_values.rs, truncate.rs there.
VRL_0_21_FUNCTIONS = frozenset(
    {
        "array", "assert", "compact", "contains", "del", "downcase", "encode_json", "exists", "filter",
        "float",
        "for_each", "format_timestamp", "from_unix_timestamp", "get", "get_hostname", "includes", "int",
        "is_array", "is_integer", "is_object", "is_string", "is_timestamp", "length", "map_values", "match",
        "mod",
        "now", "object", "parse_regex", "parse_syslog", "parse_timestamp", "parse_url", "push",
        "replace", "round", "slice", "split", "starts_with", "string", "strip_whitespace", "timestamp",
        "to_float", "to_int", "to_string", "to_syslog_facility", "to_syslog_level", "truncate", "upcase",
        "uuid_v4",
    }
)  # fmt: skip


def _called_functions(program: str) -> set[str]:
    """Names followed by ``(`` or ``!(`` outside strings, regex literals and comments."""
    code = re.sub(r"r'[^']*'", "''", program)
    code = re.sub(r'"(?:[^"\\]|\\.)*"', '""', code)
    code = re.sub(r"#[^\n]*", "", code)
    return set(re.findall(r"\b([a-z_][a-z0-9_]*)!?\(", code)) - {"if"}


def test_the_programs_need_no_vrl_newer_than_the_oldest_vector() -> None:
    assert render.MIN_VECTOR == "0.44.0"
    every = {name: {} for name in catalog()}
    app = {"name": "a", "path": "/x", "regex": r"^(?P<level>\w+) (?P<message>.*)$"}
    configs = [
        {"services": every, "custom": [app]},
        {"services": {"syslog": {"source": "journald"}}},
    ]
    called: set[str] = set()
    for raw in configs:
        for transform in render.render(config_module.from_dict(raw))["transforms"].values():
            if transform["type"] == "remap":
                called |= _called_functions(render.unescape(transform["source"]))
    assert "parse_timestamp" in called and "to_syslog_level" in called  # the scan sees them
    assert called <= VRL_0_21_FUNCTIONS, sorted(called - VRL_0_21_FUNCTIONS)


def test_a_services_log_time_zone_is_its_remaps_timezone() -> None:
    # vectordotdev/vector src/transforms/remap.rs (v0.44.0, v0.57.0): `RemapConfig.timezone:
    # Option<TimeZone>` ("The name of the timezone to apply to timestamp conversions that do not
    # contain an explicit time zone … overrides the global `timezone` option"), used as
    # `config.timezone.unwrap_or_else(|| context.globals.timezone())` when the transform is built.
    # vectordotdev/vrl src/compiler/datetime.rs (v0.21.0): `TimeZone::parse` takes "local" or a tz
    # database name; src/stdlib/format_timestamp.rs: a Named zone formats through chrono-tz, whose
    # `%Z` is the zone's abbreviation at that instant (the abbreviation check relies on it).
    raw = {"services": {"postgres": {"timezone": "Asia/Shanghai"}, "syslog": {"timezone": "Europe/Paris"},
                        "host": {}}}
    transforms = render.render(config_module.from_dict(raw))["transforms"]
    assert transforms["postgres_logs_parse"]["timezone"] == "Asia/Shanghai"
    assert transforms["syslog_logs_parse"]["timezone"] == "Europe/Paris"
    # services without the setting (host metrics carry their own UTC time) keep Vector's global one
    assert "timezone" not in transforms["host_metrics_parse"] and "timezone" not in transforms["parse_errors"]
    program = render.unescape(transforms["postgres_logs_parse"]["source"])
    assert '{"CDT": ["+09:00"], "CST": ["+08:00"]}' in program
    line = "2026-12-04 18:03:11.123 CST [42] app@shop ERROR:  division by zero"
    run = runner.runtime(program, "Asia/Shanghai").execute(program, {"message": line, "host": "db-1"})
    assert run.processed_event["timestamp"] == "2026-12-04T10:03:11.123000Z"
    bad = config_module.from_dict({"services": {"postgres": {"timezone": "Asia/Shangai"}}})
    with pytest.raises(config_module.ConfigError, match=r"services\.postgres\.timezone"):
        render.render(bad)


def test_an_event_over_a_firehose_record_is_cut_to_fit_and_others_are_untouched() -> None:
    # PutRecordBatch takes records of at most 1,000 KiB (AWS Firehose API reference, Record.Data) and
    # fails the whole call for a larger one; vectordotdev/vector src/sinks/aws_kinesis/firehose/
    # (v0.57.0) checks only the batch (MAX_PAYLOAD_SIZE, 4 MiB), not a record. A MySQL slow-log
    # record joined from many lines (multiline) can pass 1,000 KiB: the last remap cuts it.
    firehose_record = 1000 * 1024
    transforms = render.render(config_module.from_dict({"services": ["mysql"]}))["transforms"]
    outgoing = transforms["dendro_outgoing"]
    program = render.unescape(outgoing["source"])
    statement = "INSERT INTO t VALUES\n" + "('é', 42),\n" * 120_000  # about 1.3 MB of lines
    event = {"type": "mysql_slow", "host": "db-1", "timestamp": "2026-11-26T12:00:00.000000Z",
             "statement": statement, "message": statement, "query_time": 12.5}
    cut = runner.runtime(program).execute(program, event).processed_event
    assert len(json.dumps(cut, ensure_ascii=False).encode()) < firehose_record
    assert cut["statement"].endswith(render.CUT)
    assert len(cut["statement"]) == render.FIELD_CAP_CHARS + len(render.CUT)
    assert cut["query_time"] == 12.5 and cut["host"] == "db-1" and cut["dendro_id"]
    small = runner.runtime(program).execute(program, {"type": "mysql_slow", "statement": "SELECT 1",
                                                       "host": "db-1"}).processed_event
    assert small["statement"] == "SELECT 1" and set(small) == {"type", "statement", "host", "dendro_id"}
