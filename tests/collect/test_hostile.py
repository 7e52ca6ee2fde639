"""Hostile lines through every catalog parser that reads lines: never an exception, never a loss.

Each result is an event of one of the service's tables, or a parse_error event that keeps the
raw line; only a line a parser knows as log structure (a lone slow-log ``# Time:``) makes none.
The parsers come from the catalog as it stands (plus a custom application), so a new
integration is covered without touching this file.
"""

from __future__ import annotations

from dendro.services import catalog, custom, runner
from dendro.services.base import Service

NCSA = '{client} - - [26/Nov/2026:12:00:00 +0000] "{request}" {status} {bytes} "{referer}" "{agent}"'

#: valid lines in the combined format (no duration), which nginx and apache access parsers accept
COMBINED = [
    (NCSA.format(client="2001:db8::1", request="GET /ipv6 HTTP/1.1", status=200, bytes=512, referer="-",
                 agent="curl/8.5.0"), 200),
    (NCSA.format(client="::1", request="GET / HTTP/1.1", status=499, bytes="-", referer="-", agent="-"), 499),
]

HOSTILE = [
    *(line for line, _ in COMBINED),
    COMBINED[0][0] + " 0.004",
    COMBINED[1][0] + " -",
    NCSA.format(client="10.0.0.1", request="POST /api HTTP/2.0", status=502, bytes="-",
                referer="https://example.test/a b", agent='Mozilla/5.0 (X11; Linux) \\"quoted\\" agent'),
    NCSA.format(client="10.0.0.2", request="GET /" + "a" * 10_240 + " HTTP/1.1", status=200, bytes=1,
                referer="-", agent="x" * 2_000),
    NCSA.format(client="10.0.0.3", request="\\x16\\x03\\x01\\x02\\x00\\x01", status=400, bytes=0,
                referer="-", agent="-"),
    "[Thu Nov 26 12:00:00.123456 2026] [core:error] [pid 1:tid 2] [client 2001:db8::2:443] AH00126: bad",
    '2026/11/26 12:00:00 [error] 7#7: *1 upstream timed out, client: 2001:db8::3, request: "GET / HTTP/1.1"',
    "2026-11-26 12:00:00.123 UTC [42] postgres@shop ERROR:  syntax error at or near \"'\"",
    "2026-11-26T12:00:00.123456Z 9 [ERROR] [MY-010000] [Server] 'quoted' \"and\" \\ back",
    "# Time: 2026-11-26T12:00:00.123456Z",
    "Nov 26 12:00:00 web-1 sshd[1]: Failed password for invalid user ' from 2001:db8::4 port 22",
    "x" * 10_240,
    runner.decode_line(b"GET /caf\xc3\xa9 \xff\xfe\xc3\x28 \x80 invalid utf-8"),
    runner.decode_line(NCSA.format(client="10.0.0.4", request="GET /\xff HTTP/1.1", status=200, bytes=3,
                                   referer="-", agent="\xfe").encode("latin-1")),
    "",
    "   ",
    '"""',
    "\x00\x01\x02",
    "line with a carriage return\r",
    "{}",
    '{"message": "json where text was expected"}',
]


def _line_parsers() -> list[tuple[Service, str]]:
    services = [*catalog().values(), custom.build("billing", "/x", regex=r"^(?P<level>\w+) (?P<message>.*)$")]
    found = []
    for service in services:
        for parser in service.parsers:
            if not parser.metrics:
                found.append((service, parser.id))
    return found


def test_every_line_parser_is_covered() -> None:
    names = {service.name for service, _ in _line_parsers()}
    assert {"syslog", "billing"} <= names
    assert len(_line_parsers()) >= 3


#: (parser, line) pairs that are log structure, not data: the parser emits no event for them
STRUCTURE = {("mysql_slow", "# Time: 2026-11-26T12:00:00.123456Z"),
             # the blank line after Redis's logo (blank or spaces only)
             ("redis", ""), ("redis", "   ")}


def test_hostile_lines_never_raise_never_vanish() -> None:
    silent = set()
    for service, parser_id in _line_parsers():
        parser = service.parser(parser_id)
        tables = {t.name for t in service.tables}
        for line in HOSTILE:
            events = runner.run_events(parser, {"message": line, "host": "web-1"})
            assert len(events) <= 1, (parser_id, line[:60])
            if not events:
                silent.add((parser_id, line))
                continue
            event = events[0]
            assert isinstance(event, dict), (parser_id, line[:60])
            if event.get("type") == "parse_error":
                assert event["message"] == line, (parser_id, line[:60])
                assert event["error"] and event["host"] == "web-1"
            else:
                assert event.get("type") in tables, (parser_id, line[:60], event)
                assert event["host"] == "web-1", (parser_id, line[:60])
                assert isinstance(event.get("timestamp"), str) and event["timestamp"].endswith("Z")
    assert silent == STRUCTURE


def test_hostile_lines_in_the_line_parsers_own_format_still_parse() -> None:
    """IPv6 clients, 499 and "-" bytes in the combined format: an HTTP access parser keeps them."""
    for service, parser_id in _line_parsers():
        parser = service.parser(parser_id)
        if not any(red.is_http and red.table.endswith("_access") for red in service.red):
            continue
        if not parser_id.endswith("access"):
            continue
        for line, status in COMBINED:
            event = runner.run(parser, {"message": line, "host": "web-1"})
            assert event["type"] != "parse_error", (parser_id, event)
            assert event["status"] == status
        assert runner.run(parser, {"message": COMBINED[0][0], "host": "h"})["client_ip"] == "2001:db8::1"
        assert runner.run(parser, {"message": COMBINED[1][0], "host": "h"})["client_ip"] == "::1"
