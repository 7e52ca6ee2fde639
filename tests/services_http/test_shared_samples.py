"""Every line of the shared nginx/apache sample logs parses or becomes a parse_error, never vanishes.

The files are real logs from many server versions (see tests/samples/README.md). For each
file we state how many records must parse; the rest must be parse_error events with the raw line.
"""

from __future__ import annotations

import pytest

from dendro.services import apache, nginx
from dendro.services.base import Service
from tests.services_http.helpers import lines_of, parse_all, records, source_of
from tests.support import shared_samples

# (service, kind, file, records that parse, records that are parse_errors)
EXPECTED = [
    (nginx.SERVICE, "access", "access.log", 13, 0),
    (nginx.SERVICE, "access", "test-with-host.log", 10, 0),
    (nginx.SERVICE, "access", "test.log", 7, 0),
    (nginx.SERVICE, "error", "error.log", 4, 0),  # 6 lines: one record spans 3 (FastCGI stderr)
    (apache.SERVICE, "access", "darwin-2.4.23.log", 6, 0),
    (apache.SERVICE, "access", "ssl-request.log", 2, 0),
    (apache.SERVICE, "access", "test-vhost.log", 1, 0),  # no final newline
    (apache.SERVICE, "access", "test.log", 7, 0),
    (apache.SERVICE, "error", "sublevel.log", 1, 1),  # the trailing blank line
    (apache.SERVICE, "error", "test.log", 3, 0),
    (apache.SERVICE, "error", "ubuntu-2.2.22.log", 7, 0),
]


def _events(service: Service, kind: str, file: str) -> tuple[list[str], list[dict]]:
    path = shared_samples() / service.name / kind / file
    parser_id = f"{service.name}_{kind}"
    messages = records(source_of(service, parser_id), lines_of(path))
    return messages, parse_all(service, parser_id, messages)


def test_every_file_is_listed() -> None:
    listed = {(s.name, kind, file) for s, kind, file, _, _ in EXPECTED}
    found = {
        (name, path.parent.name, path.name)
        for name in ("nginx", "apache")
        for path in (shared_samples() / name).glob("*/*")
        if path.is_file()
    }
    assert found == listed


@pytest.mark.parametrize(
    ("service", "kind", "file", "parsed", "errors"),
    EXPECTED,
    ids=[f"{e[0].name}/{e[1]}/{e[2]}" for e in EXPECTED],
)
def test_shared_file(service: Service, kind: str, file: str, parsed: int, errors: int) -> None:
    messages, events = _events(service, kind, file)
    assert len(events) == len(messages) == parsed + errors
    good = [e for e in events if e["type"] == f"{service.name}_{kind}"]
    bad = [e for e in events if e["type"] == "parse_error"]
    assert (len(good), len(bad)) == (parsed, errors)
    for event, message in zip(events, messages, strict=True):
        if event["type"] == "parse_error":
            assert event["message"] == message
        else:
            assert event["host"] == "web-1" and event["timestamp"].endswith("Z")


def test_without_multiline_continuations_become_parse_errors() -> None:
    path = shared_samples() / "nginx" / "error" / "error.log"
    events = parse_all(nginx.SERVICE, "nginx_error", lines_of(path))
    assert [e["type"] for e in events].count("parse_error") == 2
    assert len(events) == 6


def test_nginx_forwarded_lists_and_vhosts() -> None:
    _, events = _events(nginx.SERVICE, "access", "test-with-host.log")
    assert [(e["vhost"], e["client_ip"]) for e in events] == [
        ("example.com", "10.0.0.2"),
        ("example.com", "172.17.0.1"),
        ("example.com", "10.0.0.2"),
        ("example.com:80", "81.2.69.143"),
        ("example.com:80", "10.5.102.222"),
        ("1.128.3.4", "2a02:cf40:10ff:f00f:0000:0000:0:8000"),
        ("1.128.3.4:80", "127.0.0.1"),
        ("example.com:80", "unix:"),
        ("1.128.3.4", "localhost"),
        ("example.com", "localhost"),
    ]
    assert [e["method"] for e in events[6:8]] == [None, None]  # "" and "hello" requests
    assert [e["status"] for e in events[6:8]] == [400, 400]


def test_nginx_combined_line_values() -> None:
    _, events = _events(nginx.SERVICE, "access", "access.log")
    first = events[0]
    assert (first["timestamp"], first["method"], first["path"], first["status"], first["bytes"]) == (
        "2016-10-25T12:49:33.000000Z", "GET", "/", 200, 612)
    assert first["duration"] is None and first["referer"] is None
    assert events[1]["referer"] == "http://localhost:8080/"


def test_nginx_multiline_record_keeps_all_lines() -> None:
    _, events = _events(nginx.SERVICE, "error", "error.log")
    fastcgi = events[2]
    assert fastcgi["pid"] == 205860 and fastcgi["level"] == "error"
    assert fastcgi["message"].count("PHP message:") == 3


def test_apache_variants() -> None:
    _, darwin = _events(apache.SERVICE, "access", "darwin-2.4.23.log")
    assert [e["status"] for e in darwin] == [200, 404, 408, 200, 404, 404]
    assert darwin[2]["method"] is None and darwin[2]["bytes"] == 0
    _, ssl = _events(apache.SERVICE, "access", "ssl-request.log")
    assert [(e["status"], e["bytes"], e["client_ip"]) for e in ssl] == [
        (None, 1375, "172.30.0.119"), (None, 0, "81.2.69.143")]
    _, vhost = _events(apache.SERVICE, "access", "test-vhost.log")
    assert (vhost[0]["vhost"], vhost[0]["client_ip"], vhost[0]["timestamp"]) == (
        "vhost1.domaine.fr", "123.123.123.123", "2019-07-04T07:20:46.000000Z")


def test_apache_error_levels_and_clients() -> None:
    _, events = _events(apache.SERVICE, "error", "test.log")
    assert [(e["level"], e["pid"], e["client_ip"]) for e in events] == [
        ("error", None, "192.168.33.1"), ("notice", 11379, None), ("error", 35708, "72.15.99.187")]
    _, sub = _events(apache.SERVICE, "error", "sublevel.log")
    assert (sub[0]["level"], sub[0]["client_ip"], sub[0]["timestamp"]) == (
        "trace3", "10.121.192.8", "2021-10-20T19:20:59.121211Z")
