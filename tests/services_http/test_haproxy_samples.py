"""The HAProxy integration without a server: every sample of its parsers, the manual's examples,
the real lines kept in tests/samples/haproxy, and what the module declares.

The format is HAProxy's configuration manual, haproxy/haproxy doc/configuration.txt at tag v3.0.0
(commit 5590ada4731a1f75004675680b4bdca61fa4c507; the 2.6 manual gives the same httplog string):
8.2.3 "HTTP log format" (fields 1-16: the strict equivalent of option httplog is
``%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs
%{+Q}r``), 8.2.4 (httpslog appends fields after the request), 8.2.5 (the connection error line),
8.6 (non-printable characters, ``"`` as ``#22``, ``#`` as ``#23``), 8.9 (examples of logs).
"""

from __future__ import annotations

import random
import socket
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from vrl_python import VRLRuntime

from dendro.services import catalog, haproxy, runner
from dendro.services.scene import DEPLOY, QUIET, scene_of
from dendro.store.schema import parse_time, to_row
from dendro.vector.render import source_component
from tests.services_http.helpers import lines_of
from tests.support import shared_samples

SERVICE = haproxy.SERVICE
LOG = SERVICE.parser("haproxy_log")
METRICS = SERVICE.parser("haproxy_metrics")
def _run(line: str) -> dict[str, Any]:
    return runner.run(LOG, {"message": line, "host": "web-1"}, source="haproxy_logs")


def test_the_manuals_8_2_3_example_field_by_field() -> None:
    # configuration.txt v3.0.0 section 8.2.3, the table "Field / Format / Extract from the example":
    # 2 client_ip:client_port 10.0.1.2:33317, 3 [request_date] [06/Feb/2009:12:14:14.655],
    # 4 frontend_name http-in, 5 backend_name/server_name static/srv1, 6 TR/Tw/Tc/Tr/Ta
    # 10/0/30/69/109, 7 status_code 200, 8 bytes_read 2750, 11 termination_state ----,
    # 12 actconn/feconn/beconn/srv_conn/retries 1/1/1/1/0, 16 http_request "GET /index.html HTTP/1.1"
    event = _run(haproxy._D_HTTP)
    assert event["client_ip"] == "10.0.1.2"
    assert event["timestamp"] == "2009-02-06T12:14:14.655000Z"  # zone-less: read as UTC
    assert (event["frontend"], event["backend"], event["server"]) == ("http-in", "static", "srv1")
    assert (event["queue_time"], event["connect_time"], event["server_time"], event["duration"]) == (
        0.0, 0.03, 0.069, 0.109)
    assert (event["status"], event["bytes"]) == (200, 2750)
    assert (event["termination_state"], event["retries"]) == ("----", 0)
    assert (event["method"], event["path"], event["protocol"]) == ("GET", "/index.html", "HTTP/1.1")


def test_the_accept_date_is_read_in_the_configured_zone() -> None:
    # Vector's remap reads zone-less times in its `timezone` option, which dendro.vector.render sets
    # from the service's timezone setting; the program names no zone itself, so a runtime in the
    # sample's zone (UTC unless it says otherwise) gives its event, and the same line read for a
    # host in Europe/Paris is an hour earlier in UTC (December: CET)
    assert any(s.settings for s in LOG.samples)
    for sample in LOG.samples:
        if sample.expected is not None:
            runtime = VRLRuntime(timezone=sample.settings.get("timezone", "UTC"))
            assert runtime.execute(LOG.vrl, sample.input_event()).processed_event == sample.expected


def test_5xx_keeps_the_line_others_do_not() -> None:
    for sample in LOG.samples:
        if sample.expected is None or sample.expected["type"] != "haproxy_access":
            continue
        status = sample.expected["status"]
        failed = status is not None and status >= 500
        assert sample.expected["message"] == (sample.message if failed else None)


def test_enough_samples() -> None:
    expected = [s.expected for s in LOG.samples if s.expected is not None]
    access = [e for e in expected if e["type"] == "haproxy_access"]
    messages = [e for e in expected if e["type"] == "haproxy_error"]
    assert len(access) >= 15 and len(messages) >= 8
    assert sum(s.expects_parse_error for s in LOG.samples) >= 4
    assert any(e["status"] == 503 for e in access)
    assert any(e["duration"] is None for e in access)  # Ta logged -1


def test_every_column_is_filled_by_some_sample() -> None:
    """No dead column: each one is set by a sample, except the captured-header ones (documented null)."""
    never = {"user_agent", "referer", "vhost"}
    for table in SERVICE.tables:
        events = [s.expected for p in SERVICE.parsers for s in p.samples
                  if s.expected is not None and s.expected["type"] == table.name]
        filled = {c.name for c in table.columns if any(e.get(c.name) is not None for e in events)}
        assert filled == {c.name for c in table.columns} - never, table.name


@pytest.mark.parametrize("severity", range(8))
def test_the_level_is_the_syslog_priority(severity: int) -> None:
    # HAProxy's names by severity: src/log.c `log_levels` (v3.0.0); local0 is facility 16
    names = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")
    event = _run(f"<{16 * 8 + severity}>2026-11-26T12:00:00.000000+00:00 Proxy www stopped (cumulated conns: "
                 "FE: 12, BE: 0).")
    assert (event["type"], event["level"], event["proxy"]) == ("haproxy_error", names[severity], "www")
    assert names == haproxy.LEVELS


@pytest.mark.parametrize(
    ("line", "level", "proxy", "server"),
    [
        (haproxy._DOWN, "alert", "be_down", "gone"),
        ("backend be_down has no server available!", "emerg", "be_down", None),
        ("Proxy www stopped (cumulated conns: FE: 1042, BE: 0).", "warning", "www", None),
        ("Paused frontend www.", "warning", "www", None),
        ("Connect() failed for backend app: no free ports.", "err", "app", None),
        ("Backup Server app/spare is going DOWN for maintenance. 1 active and 0 backup servers left.",
         "alert", "app", "spare"),
        ("Server app/web1 is stopping, reason: Layer7 check passed. 0 active and 0 backup servers left.",
         "notice", "app", "web1"),
    ],
)
def test_raw_messages_get_haproxys_level_and_the_reading_time(
    line: str, level: str, proxy: str, server: str | None
) -> None:
    # the raw format has no time and no priority: levels are those of haproxy/haproxy v3.0.0
    # src/server.c (DOWN and maintenance: LOG_ALERT, stopping: LOG_NOTICE), src/backend.c (LOG_EMERG),
    # src/proxy.c (stopped: LOG_WARNING), src/listener.c (Paused: LOG_WARNING), src/proto_tcp.c (LOG_ERR)
    event = _run(line)
    assert (event["type"], event["level"], event["proxy"], event["server"]) == (
        "haproxy_error", level, proxy, server)
    assert abs(parse_time(event["timestamp"]) - datetime.now(UTC)) < timedelta(minutes=1)
    assert event["message"] == line and event["pid"] is None


# (file, requests, messages, parse_errors)
FILES = [
    ("configuration-3.0.log", 13, 2, 2),  # the 2 parse_errors are option tcplog lines
    ("haproxy-2.6.12-log-formats.log", 8, 16, 0),
    ("haproxy-2.6.12-requests.log", 13, 4, 0),
    ("haproxy-2.6.12-tls.log", 1, 4, 0),
]


def test_every_file_is_listed() -> None:
    found = {p.name for p in (shared_samples() / "haproxy").glob("*.log")}
    assert found == {f for f, *_ in FILES}


@pytest.mark.parametrize(("file", "requests", "messages", "errors"), FILES, ids=[f[0] for f in FILES])
def test_sample_file(file: str, requests: int, messages: int, errors: int) -> None:
    lines = lines_of(shared_samples() / "haproxy" / file)
    events = [_run(line) for line in lines]
    kinds = [e["type"] for e in events]
    counts = (kinds.count("haproxy_access"), kinds.count("haproxy_error"), kinds.count("parse_error"))
    assert counts == (requests, messages, errors)
    for event in events:
        if event["type"] != "parse_error":
            to_row(SERVICE.table(event["type"]), event)
        if event["type"] == "haproxy_error":
            assert event["level"] is not None  # every message here is a known one or carries a priority
        if event["type"] == "parse_error":
            assert "option tcplog" in event["error"]


def test_every_log_format_of_haproxy_gives_the_same_request() -> None:
    """The request line of each `log ... format` HAProxy 2.6.12 writes parses to the same fields."""
    lines = lines_of(shared_samples() / "haproxy" / "haproxy-2.6.12-log-formats.log")
    requests = [e for e in map(_run, lines) if e["type"] == "haproxy_access"]
    keys = ("method", "path", "protocol", "status", "bytes", "client_ip", "frontend", "backend", "server")
    assert {tuple(e[k] for k in keys) for e in requests} == {
        ("GET", "/x", "HTTP/1.1", 404, 500, "127.0.0.1", "fe", "be_ok", "web1")}
    levels = [e["level"] for e in map(_run, lines) if e["type"] == "haproxy_error"]
    assert levels == ["alert", "emerg"] * 8


def test_a_local_exporter_belongs_to_this_node() -> None:
    # vectordotdev/vector src/sources/prometheus/scrape.rs (v0.44.0, v0.57.0): `endpoint_tag` and
    # `instance_tag` are Option<String> without a serde default, so the endpoint is tagged only when
    # the source sets endpoint_tag; no host tag is added. src/transforms/metric_to_log.rs moves a
    # `host` tag (tags.host) to the event's `host` when there is one.
    tags = {"proxy": "app", "server": "web1", "state": "UP", "endpoint": "http://127.0.0.1:8405/metrics"}
    metric: dict[str, Any] = {"name": "haproxy_server_status", "kind": "absolute", "gauge": {"value": 1.0},
                              "tags": tags, "timestamp": "2026-11-26T12:00:00Z"}
    assert runner.run(METRICS, metric)["host"] == socket.gethostname()
    assert runner.run(METRICS, {**metric, "host": "lb-2"})["host"] == "lb-2"
    ipv6 = {**metric, "tags": {**tags, "endpoint": "http://[::1]:8405/metrics"}}
    assert runner.run(METRICS, ipv6)["host"] == socket.gethostname()


def test_the_sources_vector_gets() -> None:
    # vectordotdev/vector v0.57.0: src/sources/ has no HAProxy source (nginx_metrics and
    # apache_metrics exist, nothing for HAProxy), hence prometheus_scrape on HAProxy's exporter;
    # src/sources/prometheus/scrape.rs: `endpoints` (alias `hosts`) and `endpoint_tag`
    settings = SERVICE.defaults()
    assert settings == {"log": ["/var/log/haproxy.log"], "metrics_url": "", "timezone": "UTC"}
    logs, metrics = SERVICE.sources
    assert source_component(logs, settings) == {"type": "file", "include": ["/var/log/haproxy.log"],
                                                 "read_from": "end"}
    assert source_component(metrics, settings) is None  # no exporter URL: no metrics source
    url = "http://127.0.0.1:8405/metrics"
    assert source_component(metrics, {**settings, "metrics_url": url}) == {
        "type": "prometheus_scrape", "endpoints": [url], "endpoint_tag": "endpoint"}


def test_red_and_alerts() -> None:
    (red,) = SERVICE.red
    assert (red.table, red.status, red.duration) == ("haproxy_access", "status", "duration")
    assert red.method == "method"
    alerts = {a.name: a for a in SERVICE.alert_events}
    assert alerts["haproxy_5xx"].table == "haproxy_access" and alerts["haproxy_5xx"].status_at_least == 500
    critical = alerts["haproxy_error_critical"]
    assert critical.table == "haproxy_error" and set(critical.match["level"]) == {"crit", "alert", "emerg"}
    # the messages an on-call needs are among them: a server DOWN (alert), no server left (emerg)
    assert _run(haproxy._DOWN)["level"] in critical.match["level"]
    assert _run("backend app has no server available!")["level"] in critical.match["level"]
    for table in SERVICE.tables:
        assert table.column("host").dimension
    assert "option httplog" in SERVICE.server_config and "prometheus-exporter" in SERVICE.server_config


def test_demo_lines_parse_and_an_incident_shows() -> None:
    rng = random.Random(7)
    now = datetime(2026, 11, 26, 12, 0, 0, 500000, tzinfo=UTC)
    calm = [_run(haproxy.demo_access_line(rng, now, QUIET)) for _ in range(300)]
    storm = [_run(haproxy.demo_access_line(rng, now, scene_of(DEPLOY))) for _ in range(300)]
    for event in calm + storm:
        assert event["type"] == "haproxy_access", event
        assert parse_time(event["timestamp"]) <= now
        to_row(SERVICE.table("haproxy_access"), event)
    assert sum(e["status"] >= 500 for e in calm) == 0
    assert sum(e["status"] >= 500 for e in storm) > 60
    assert {e["server"] for e in storm} >= {"web1", "web2", "web3", "<NOSRV>"}


def test_haproxy_is_registered() -> None:
    """In BUILTIN, so tests/catalog runs its samples and shows it everywhere (test_everywhere.py)."""
    assert catalog()["haproxy"] is SERVICE
    assert SERVICE.role == "http" and {f.source for f in SERVICE.demo} == {s.id for s in SERVICE.sources}


def test_demo_messages_show_a_server_going_down_in_an_incident() -> None:
    rng = random.Random(5)
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    calm = [_run(haproxy.demo_line(rng, now, QUIET, "lb-7")) for _ in range(400)]
    storm = [_run(haproxy.demo_line(rng, now, scene_of(DEPLOY), "lb-7")) for _ in range(400)]
    assert {e["type"] for e in calm} == {"haproxy_access"}
    down = [e for e in storm if e["type"] == "haproxy_error"]
    assert down and {(e["level"], e["proxy"], e["server"]) for e in down} == {("alert", "app", "web2")}


#: ten seconds after QUIET, a broken deploy under way
LATER_DEPLOY = replace(scene_of(DEPLOY), uptime=QUIET.uptime + 10, served=QUIET.served + 10)


def test_demo_metrics_are_the_charted_families_and_counters_grow() -> None:
    rng = random.Random(5)
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    first = [runner.run(METRICS, m) for m in haproxy.demo_metrics(rng, now, QUIET, "lb-7")]
    later = [runner.run(METRICS, m)
             for m in haproxy.demo_metrics(rng, now + timedelta(seconds=10), LATER_DEPLOY, "lb-7")]
    assert {e["name"] for e in first} == set(haproxy.METRICS.names)
    assert all(e["type"] == "haproxy_metrics" and e["host"] == "lb-7" for e in first + later)
    counters = {g.name for g in haproxy.METRICS.gauges if g.counter}
    for before, after in zip(first, later, strict=True):
        if before["name"] in counters:
            assert after["value"] >= before["value"]
    assert {e["value"] for e in first if e["name"] == "haproxy_backend_http_responses_total"} != {
        e["value"] for e in later if e["name"] == "haproxy_backend_http_responses_total"}
    queued = {e["name"]: e["value"] for e in later}
    assert queued["haproxy_backend_current_queue"] > 0 and queued["haproxy_backend_active_servers"] == 2
