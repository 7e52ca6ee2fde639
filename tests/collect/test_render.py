"""The generated vector.yaml: every backend × service combination, the sinks, no secrets, a golden file.

Regenerate the golden file after an intended change with
``DENDRO_UPDATE_GOLDEN=1 .venv/bin/pytest tests/collect/test_render.py``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from dendro import config as config_module
from dendro.services import BUILTIN, runner
from dendro.vector import check, render

GOLDEN = Path(__file__).parent / "golden" / "vector-syslog-host-custom-local.yaml"
CUSTOM_APP = {
    "name": "billing",
    "path": "/var/log/billing/app.log",
    "regex": r"^(?P<level>\w+) (?P<message>.*)$",
}
SUBSETS = [[name] for name in BUILTIN] + [list(BUILTIN), ["custom"], [*BUILTIN, "custom"]]


def _config(backend: str, services: list[str]) -> config_module.Config:
    raw: dict[str, Any] = {
        "backend": backend,
        "services": {name: {} for name in services if name != "custom"},
    }
    if "custom" in services:
        raw["custom"] = [CUSTOM_APP]
    return config_module.from_dict(raw)


def _remaps(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {cid: t for cid, t in document["transforms"].items() if t["type"] == "remap"}


@pytest.mark.parametrize("backend", ["local", "aws"])
@pytest.mark.parametrize("services", SUBSETS, ids=lambda s: "+".join(s))
def test_every_combination_is_a_sound_vector_config(backend: str, services: list[str]) -> None:
    config = _config(backend, services)
    text = render.to_yaml(config)
    document = yaml.safe_load(text)
    assert document == render.render(config)
    assert document["data_dir"] == "/var/lib/vector"
    assert document["api"] == {"enabled": False}
    assert check.topology_errors(document) == []
    for cid, transform in _remaps(document).items():
        assert runner.compile_error(render.unescape(transform["source"])) is None, cid
        assert re.search(r"(?<!\$)\$(?!\$)", transform["source"].replace("$$", "")) is None, cid
    # every parsed stream reaches the sink through the events' ids (the heartbeat through its
    # merge), and every remap but parse_errors and the ids reroutes what it drops
    (sink,) = document["sinks"].values()
    assert sink["inputs"] == ["dendro_outgoing"]
    ids = document["transforms"]["dendro_outgoing"]
    assert ids["source"].startswith(".dendro_id = uuid_v4()\n") and "drop_on_error" not in ids  # infallible
    parsers = [cid for cid in _remaps(document) if cid not in ("parse_errors", "dendro_outgoing")]
    streams = {cid for cid in parsers if cid != "dendro_agent_parse"}
    assert set(ids["inputs"]) == {*streams, "dendro_agent_merge", "parse_errors"}
    assert set(document["transforms"]["parse_errors"]["inputs"]) == {f"{cid}.dropped" for cid in parsers}
    for cid in parsers:
        t = document["transforms"][cid]
        assert (t["drop_on_error"], t["drop_on_abort"], t["reroute_dropped"]) == (True, True, True)
    # every service source of the config is there, with stable ids
    for service in config.enabled_services():
        for source in service.sources:
            if source.id in document["sources"]:
                assert f"{source.id}_parse" in document["transforms"]
                if document["sources"][source.id]["type"] == "file":
                    assert document["sources"][source.id]["read_from"] in ("beginning", "end")
                    assert document["sources"][source.id]["include"]
    _assert_no_secret(text)


def test_dollar_signs_reach_vector_literally() -> None:
    """Vector interpolates $NAME anywhere in its file; a regex's "$" must survive as "$$"."""
    config = config_module.from_dict(
        {"services": ["syslog"], "custom": [{"name": "jobs", "path": "/x", "regex": r"^(?P<job>\w+)$x$"}]}
    )
    text = render.to_yaml(config)
    document = yaml.safe_load(text)
    source = document["transforms"]["custom_jobs_parse"]["source"]
    assert r"(?P<job>\w+)$$x$$" in source
    assert r"(?P<job>\w+)$x$" in render.unescape(source)
    assert re.findall(r"(?<!\$)\$\{[A-Z_]+(?::\?[^}$]*)?\}", text) == [render.token_reference(config)]


def _assert_no_secret(text: str) -> None:
    assert not re.search(r"A[KS]IA[0-9A-Z]{16}", text)
    assert "secret_access_key" not in text and "access_key_id" not in text
    assert "session_token" not in text
    # the only ${...} references are environment variable names (with the message Vector shows
    # when the variable is missing)
    for reference in re.findall(r"\$\{([^}]*)\}", text):
        assert re.fullmatch(r"[A-Z_][A-Z0-9_]*(:\?[^$]*)?", reference), reference


def test_local_sink_posts_ndjson_with_a_bearer_token_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("DENDRO_INGEST_TOKEN", "s3cret-token-value")
    config = config_module.from_dict(
        {"services": {"syslog": {}}, "local": {"url": "http://10.0.0.9:9880/ingest", "token_env": "MY_TOKEN"}}
    )
    text = render.to_yaml(config)
    assert "s3cret-token-value" not in text
    sink = yaml.safe_load(text)["sinks"]["dendro_ingest"]
    assert sink["type"] == "http"
    assert sink["uri"] == "http://10.0.0.9:9880/ingest"
    assert sink["method"] == "post"
    assert sink["encoding"] == {"codec": "json"}
    assert sink["framing"] == {"method": "newline_delimited"}
    assert sink["compression"] == "gzip"
    assert sink["auth"] == {"strategy": "bearer", "token": "${MY_TOKEN:?" + render.TOKEN_MISSING + "}"}
    assert sink["acknowledgements"] == {"enabled": True}
    assert sink["buffer"] == {"type": "disk", "max_size": 268435488, "when_full": "block"}
    assert sink["request"]["retry_initial_backoff_secs"] >= 1


def test_aws_sink_is_firehose_without_credentials() -> None:
    config = config_module.from_dict(
        {"backend": "aws", "pipeline": "shop", "aws": {"region": "eu-west-1"}, "services": ["host"]}
    )
    sink = render.render(config)["sinks"]["dendro_firehose"]
    assert sink["type"] == "aws_kinesis_firehose"
    assert (sink["stream_name"], sink["region"]) == ("shop", "eu-west-1")
    assert "auth" not in sink
    assert sink["encoding"] == {"codec": "json"}
    assert sink["batch"]["max_events"] <= 500 and sink["batch"]["max_bytes"] <= 4 * 1024 * 1024
    assert sink["acknowledgements"] == {"enabled": True}
    assert sink["buffer"] == {"type": "disk", "max_size": 268435488, "when_full": "block"}


def test_settings_fill_placeholders_and_an_empty_one_drops_the_source() -> None:
    config = config_module.from_dict(
        {"services": {"syslog": {"paths": ["/var/log/messages", "/var/log/auth.log"]}, "host": {}}}
    )
    document = render.render(config)
    assert document["sources"]["syslog_logs"]["include"] == ["/var/log/messages", "/var/log/auth.log"]
    assert document["sources"]["syslog_logs"]["multiline"]["mode"] == "continue_through"
    metrics = document["sources"]["host_metrics"]
    assert metrics["collectors"] == ["cpu", "memory", "filesystem", "load", "network"]
    assert metrics["scrape_interval_secs"] == 15
    assert "tmpfs" in metrics["filesystem"]["filesystems"]["excludes"]
    assert document["transforms"]["host_metrics_to_log"]["inputs"] == ["host_metrics"]
    assert document["transforms"]["host_metrics_parse"]["inputs"] == ["host_metrics_to_log"]

    empty = render.render(config_module.from_dict({"services": {"syslog": {"paths": []}, "host": {}}}))
    assert "syslog_logs" not in empty["sources"]
    assert "syslog_logs_parse" not in empty["transforms"]
    assert "syslog_logs_parse.dropped" not in empty["transforms"]["parse_errors"]["inputs"]
    assert check.topology_errors(empty) == []


def test_heartbeat_chain() -> None:
    document = render.render(config_module.from_dict({"services": ["syslog"]}))
    source = document["sources"]["dendro_agent_metrics"]
    assert source["type"] == "internal_metrics" and source["scrape_interval_secs"] == 60
    chain = document["transforms"]
    assert chain["dendro_agent_filter"]["condition"] == '.name == "uptime_seconds" || .name == "build_info"'
    assert chain["dendro_agent_to_log"] == {
        "type": "metric_to_log",
        "inputs": ["dendro_agent_filter"],
        "host_tag": "host",
    }
    assert chain["dendro_agent_parse"]["inputs"] == ["dendro_agent_to_log"]
    assert chain["dendro_agent_merge"]["type"] == "reduce"
    assert chain["dendro_agent_merge"]["inputs"] == ["dendro_agent_parse"]
    assert "dendro_agent_parse.dropped" in chain["parse_errors"]["inputs"]


@pytest.mark.parametrize("where", ["legacy", "none"])
def test_parse_errors_program_makes_the_runners_parse_error_event(where: str) -> None:
    raw = {"message": 'bad "line"', "host": "web-1", "file": "/var/log/x", "source_type": "file"}
    if where == "legacy":  # Vector's default log namespace puts the reason under .metadata.dropped
        raw["metadata"] = {
            "dropped": {"reason": "error", "message": "no match", "component_id": "syslog_logs_parse"}
        }
    result = runner.runtime().execute(render.PARSE_ERROR_VRL, raw).processed_event
    expected = runner.parse_error_event("syslog_logs_parse", raw, "no match")
    assert set(result) == set(expected)
    assert result["timestamp"].endswith("Z")
    if where == "legacy":
        assert {k: v for k, v in result.items() if k != "timestamp"} == {
            k: v for k, v in expected.items() if k != "timestamp"
        }
    else:
        assert (result["source"], result["message"], result["host"]) == ("unknown", 'bad "line"', "web-1")


def test_golden_vector_yaml() -> None:
    config = config_module.from_dict(
        {"pipeline": "shop", "services": {"syslog": {}, "host": {}}, "custom": [CUSTOM_APP]}
    )
    text = render.to_yaml(config)
    if os.environ.get("DENDRO_UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert yaml.safe_load(text) == yaml.safe_load(GOLDEN.read_text(encoding="utf-8"))
