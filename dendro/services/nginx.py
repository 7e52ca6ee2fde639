"""nginx: access log, error log and stub_status metrics.

The access program reads Dendro's recommended ``log_format dendro`` (combined plus
``$request_time``, so requests have a duration) and nginx's default ``combined`` format (no
duration), including the variants seen in the wild: a virtual-host first field, forwarded-for
address lists before ``$remote_addr``, a trailing ``"$http_x_forwarded_for"``, requests logged as
``"-"`` or ``""``. nginx writes ``"`` and ``\\`` inside values as ``\\x22`` / ``\\x5C``; those two
are decoded, other escapes stay as logged. Error-log times carry no zone (nginx writes its local
time): they are read in the service's ``timezone`` setting (an IANA name, UTC by default;
``dendro configure`` offers the node's own zone).
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from dendro.services.base import (
    TIMESTAMP_FORMAT,
    DemoFeed,
    Gauge,
    Metrics,
    Multiline,
    Parser,
    Sample,
    Service,
    Setting,
    Source,
    log_file,
)
from dendro.services.http_common import (
    QUOTED,
    REQUEST_VRL,
    access_event_vrl,
    access_expected,
    access_table,
    alert_events,
    demo_combined,
    error_expected,
    error_log_rate,
    error_table,
    five_hundreds_example,
    metric_sample,
    metrics_parser,
    metrics_table,
    red,
    requests_per_minute_example,
    slowest_paths_example,
    status_metric,
)
from dendro.services.scene import DEPLOY, Scene
from dendro.services.zones import timezone_setting

LOG_FORMAT = (
    "log_format dendro '$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent "
    "\"$http_referer\" \"$http_user_agent\" $request_time';"
)

SERVER_CONFIG = f"""{LOG_FORMAT}
access_log /var/log/nginx/access.log dendro;
"""

SERVER_CONFIG_HELP = (
    "Put the log_format line in the http { } block of /etc/nginx/nginx.conf and make every "
    "access_log use it (replace the existing access_log line), then `nginx -t && systemctl reload "
    "nginx`. Lines already written in the default combined format still parse, without a duration. "
    "For metrics, expose stub_status (location = /nginx_status { stub_status; allow 127.0.0.1; "
    "deny all; }) and set status_url."
)

# Everything before " <ident> <user> [time]" is the client part: "$remote_addr", optionally
# preceded by a virtual host and/or a forwarded-for list (quoted or not). Extra quoted fields
# after the user agent ("$http_x_forwarded_for" of nginx's "main" format) are skipped.
ACCESS_RE = (
    r"^(?P<prefix>.+?) (?P<ident>\S+) (?P<user>\S+) \[(?P<time>[^\]]+)\] "
    f'"(?P<request>{QUOTED})" '
    r"(?P<status>[0-9]{3}) (?P<bytes>[0-9]+|-)"
    f'(?: "(?P<referer>{QUOTED})" "(?P<agent>{QUOTED})")?(?: "{QUOTED}")*'
    r"(?: (?P<duration>[0-9]+(?:\.[0-9]+)?|-))?\s*$"
)
CLIENT_RE = r'^(?:(?P<vhost>[^\s,"]+) )?"?(?P<client>[^\s,"]+)'

ACCESS_VRL = (
    f"""
line = string!(.message)
m = parse_regex!(line, r'{ACCESS_RE}')
who = parse_regex!(m.prefix, r'{CLIENT_RE}')
vhost = who.vhost
client = who.client
"""
    + REQUEST_VRL
    + r"""
if req.path != null { req.path = replace(replace(string!(req.path), "\\x22", "\""), "\\x5C", "\\") }
referer = m.referer
if referer != null { referer = replace(replace(string!(referer), "\\x22", "\""), "\\x5C", "\\") }
agent = m.agent
if agent != null { agent = replace(replace(string!(agent), "\\x22", "\""), "\\x5C", "\\") }
secs = null
if m.duration != null && m.duration != "-" { secs = to_float!(m.duration) }
"""
    + access_event_vrl("nginx_access")
)

ERROR_RE = (
    r"(?s)^(?P<time>[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}) \[(?P<level>[a-z]+)\] "
    r"(?P<pid>[0-9]+)#[0-9]+:(?: \*[0-9]+)? (?P<text>.*?)\s*$"
)
ERROR_VRL = rf"""
line = string!(.message)
m = parse_regex!(line, r'{ERROR_RE}')
client = parse_regex(m.text, r', client: (?P<ip>[^,\s]+)') ?? {{}}
ts = parse_timestamp!(m.time, "%Y/%m/%d %H:%M:%S")
. = {{
  "type": "nginx_error",
  "host": string(.host) ?? "unknown",
  "timestamp": format_timestamp!(ts, "{TIMESTAMP_FORMAT}", timezone: "UTC"),
  "level": m.level,
  "pid": to_int!(m.pid),
  "client_ip": client.ip,
  "message": m.text
}}
"""

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"
T = "2026-11-26T12:00:00.000000Z"
LONG_PATH = "/search?q=" + "a" * 10240


def _access(ts: str = T, **fields: object) -> dict[str, object]:
    return access_expected("nginx_access", ts, **fields)


_FAIL = (
    '203.0.113.7 - alice [26/Nov/2026:12:00:00 +0000] "GET /api/pay HTTP/1.1" 502 157 "-" "curl/8.5.0" 30.001'
)
ACCESS_SAMPLES = (
    Sample(
        message=f'203.0.113.7 - - [26/Nov/2026:13:00:00 +0100] "GET /api/orders?id=7 HTTP/1.1" 200 1534 '
        f'"https://shop.example/cart" "{UA}" 0.042',
        expected=_access(method="GET", path="/api/orders?id=7", protocol="HTTP/1.1", status=200, bytes=1534,
                         duration=0.042, client_ip="203.0.113.7", user_agent=UA,
                         referer="https://shop.example/cart"),
        note="recommended dendro format",
    ),
    Sample(
        message=_FAIL,
        expected=_access(method="GET", path="/api/pay", protocol="HTTP/1.1", status=502, bytes=157,
                         duration=30.001, client_ip="203.0.113.7", user_agent="curl/8.5.0", message=_FAIL),
        note="5xx keeps the raw line in message",
    ),
    Sample(
        message=f'198.51.100.23 - - [26/Nov/2026:07:00:00 -0500] "POST /login HTTP/2.0" 302 0 "-" "{UA}"',
        expected=_access(method="POST", path="/login", protocol="HTTP/2.0", status=302, bytes=0,
                         client_ip="198.51.100.23", user_agent=UA),
        note="default combined format: no duration",
    ),
    Sample(
        message='2001:db8::1 - - [26/Nov/2026:12:00:00 +0000] "GET / HTTP/1.1" 200 612 "-" '
        '"curl/8.5.0" 0.000',
        expected=_access(method="GET", path="/", protocol="HTTP/1.1", status=200, bytes=612, duration=0.0,
                         client_ip="2001:db8::1", user_agent="curl/8.5.0"),
        note="IPv6 client",
    ),
    Sample(
        message='192.0.2.1 - - [26/Nov/2026:12:00:00 +0000] "GET /q HTTP/1.1" 200 5 "-" '
        '"Bot \\x22quoted\\x22 agent with spaces \\x5C" 0.001',
        expected=_access(method="GET", path="/q", protocol="HTTP/1.1", status=200, bytes=5, duration=0.001,
                         client_ip="192.0.2.1", user_agent='Bot "quoted" agent with spaces \\'),
        note="quotes and backslash as nginx escapes them, spaces in the user agent",
    ),
    Sample(
        message='192.0.2.1 - - [26/Nov/2026:12:00:00 +0000] "GET /slow HTTP/1.1" 499 0 "-" '
        '"curl/8.5.0" 5.002',
        expected=_access(method="GET", path="/slow", protocol="HTTP/1.1", status=499, bytes=0, duration=5.002,
                         client_ip="192.0.2.1", user_agent="curl/8.5.0"),
        note="499: client closed the connection",
    ),
    Sample(
        message='192.0.2.1 - - [26/Nov/2026:12:00:00 +0000] "HEAD / HTTP/1.1" 200 - "-" "-" 0.000',
        expected=_access(method="HEAD", path="/", protocol="HTTP/1.1", status=200, bytes=0, duration=0.0,
                         client_ip="192.0.2.1"),
        note="- for bytes, - for user agent",
    ),
    Sample(
        message=f'192.0.2.1 - - [26/Nov/2026:12:00:00 +0000] "GET {LONG_PATH} HTTP/1.1" 414 150 '
        '"-" "-" 0.000',
        expected=_access(method="GET", path=LONG_PATH, protocol="HTTP/1.1", status=414, bytes=150,
                         duration=0.0, client_ip="192.0.2.1"),
        note="10 KB path",
    ),
    Sample(
        message='192.0.2.1 - - [26/Nov/2026:12:00:00 +0000] "GET /caf\ufffd HTTP/1.1" 404 10 "-" '
        '"x\ufffd\ufffdy" 0.002',
        expected=_access(method="GET", path="/caf\ufffd", protocol="HTTP/1.1", status=404, bytes=10,
                         duration=0.002, client_ip="192.0.2.1", user_agent="x\ufffd\ufffdy"),
        note="invalid UTF-8, replaced by U+FFFD as the file source does",
    ),
    Sample(
        message='192.0.2.1 - - [26/Nov/2026:12:00:00 +0000] "-" 400 0 "-" "-" 0.000',
        expected=_access(status=400, bytes=0, duration=0.0, client_ip="192.0.2.1"),
        note='request logged as "-"',
    ),
    Sample(
        message='192.0.2.1 - - [26/Nov/2026:12:00:00 +0000] "\\x16\\x03\\x01\\x02\\x00\\x01" 400 157 '
        '"-" "-" 0.001',
        expected=_access(status=400, bytes=157, duration=0.001, client_ip="192.0.2.1"),
        note="TLS handshake on a plain port: garbage request line",
    ),
    Sample(
        message='127.0.0.1 - - [04/Dec/2026:18:03:11 +0000] "get /lower HTTP/1.1" 400 157 "-" "-" 0.000',
        expected=_access("2026-12-04T18:03:11.000000Z", method="get", path="/lower", protocol="HTTP/1.1",
                         status=400, bytes=157, duration=0.0, client_ip="127.0.0.1"),
        note="nginx 1.22.1: a lower-case method, refused (400) and logged as sent",
    ),
    Sample(
        message='127.0.0.1 - - [04/Dec/2026:18:03:11 +0000] "GET /ok http/1.1" 400 157 "-" "-" 0.000',
        expected=_access("2026-12-04T18:03:11.000000Z", method="GET", path="/ok", protocol="http/1.1",
                         status=400, bytes=157, duration=0.0, client_ip="127.0.0.1"),
        note="nginx 1.22.1: a lower-case protocol name",
    ),
    Sample(
        message='10.0.0.2, 10.0.0.1, 192.0.2.9 - - [26/Nov/2026:12:00:00 +0000] "GET /ocelot HTTP/1.1" '
        '200 571 "-" "curl/8.5.0" "-"',
        expected=_access(method="GET", path="/ocelot", protocol="HTTP/1.1", status=200, bytes=571,
                         client_ip="10.0.0.2", user_agent="curl/8.5.0"),
        note="forwarded-for list first, trailing $http_x_forwarded_for",
    ),
    Sample(
        message='shop.example:443 "198.51.100.4, 203.0.113.9" 10.2.1.185 - - [26/Nov/2026:12:00:00 +0000] '
        '"PUT /api/items/3 HTTP/1.1" 204 0 "-" "okhttp/4.12.0" 0.013',
        expected=_access(method="PUT", path="/api/items/3", protocol="HTTP/1.1", status=204, bytes=0,
                         duration=0.013, client_ip="198.51.100.4", user_agent="okhttp/4.12.0",
                         vhost="shop.example:443"),
        note="virtual host and quoted forwarded-for list",
    ),
    Sample(
        message='192.0.2.1 - - [26/Nov/2026:12:00:00 +0000] "GET /a b HTTP/1.0" 400 0 "-" "-" 0.000',
        expected=_access(method="GET", path="/a b", protocol="HTTP/1.0", status=400, bytes=0, duration=0.0,
                         client_ip="192.0.2.1"),
        note="space inside the request target",
    ),
    Sample(
        message='192.0.2.1 - - [27/Nov/2026:01:30:00 +1400] "GET /tz HTTP/1.1" 200 1 "-" "-" 0.100',
        expected=_access("2026-11-26T11:30:00.000000Z", method="GET", path="/tz", protocol="HTTP/1.1",
                         status=200, bytes=1, duration=0.1, client_ip="192.0.2.1"),
        note="zone offset moves the date back to UTC",
    ),
    Sample(message="this is not an access log line", expected=None, note="garbage: parse_error"),
    Sample(message="", expected=None, note="empty line: parse_error"),
    Sample(
        message='192.0.2.1 - - [31/Foo/2026:12:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "-" 0.1',
        expected=None,
        note="impossible date: parse_error",
    ),
)

ERROR_SAMPLES = (
    Sample(
        message="2026/11/26 13:00:00 [emerg] 977#977: bind() to 0.0.0.0:80 failed (98: Address in use)",
        expected=error_expected("nginx_error", T, "emerg", "bind() to 0.0.0.0:80 failed (98: Address in use)",
                                pid=977),
        settings={"timezone": "Europe/Paris"},
        note="an nginx whose local time is Europe/Paris (the timezone setting): CET, one hour ahead",
    ),
    Sample(
        message='2026/11/26 12:00:00 [error] 4242#4242: *17 open() "/var/www/html/favicon.ico" failed '
        '(2: No such file or directory), client: 203.0.113.7, server: shop.example, request: '
        '"GET /favicon.ico HTTP/1.1", host: "shop.example"',
        expected=error_expected(
            "nginx_error", T, "error",
            'open() "/var/www/html/favicon.ico" failed (2: No such file or directory), client: 203.0.113.7, '
            'server: shop.example, request: "GET /favicon.ico HTTP/1.1", host: "shop.example"',
            pid=4242, client_ip="203.0.113.7"),
    ),
    Sample(
        message="2026/11/26 12:00:00 [emerg] 977#977: bind() to 0.0.0.0:80 failed "
        "(98: Address already in use)",
        expected=error_expected("nginx_error", T, "emerg",
                                "bind() to 0.0.0.0:80 failed (98: Address already in use)", pid=977),
    ),
    Sample(
        message="2026/11/26 12:00:00 [crit] 4242#4242: *3 SSL_do_handshake() failed (SSL: error:0A00006C:SSL "
        "routines::bad key share) while SSL handshaking, client: 2001:db8::5, server: 0.0.0.0:443",
        expected=error_expected(
            "nginx_error", T, "crit",
            "SSL_do_handshake() failed (SSL: error:0A00006C:SSL routines::bad key share) while SSL "
            "handshaking, client: 2001:db8::5, server: 0.0.0.0:443",
            pid=4242, client_ip="2001:db8::5"),
    ),
    Sample(
        message="2026/11/26 12:00:00 [notice] 1#1: signal process started",
        expected=error_expected("nginx_error", T, "notice", "signal process started", pid=1),
    ),
    Sample(
        message='2026/11/26 12:00:00 [error] 80#80: *9 FastCGI sent in stderr: "PHP message: PHP '
        'Warning:  x in /srv/a.php on line 3\nPHP message: PHP Warning:  y in /srv/b.php on line 4" while '
        "reading response header from upstream, client: 192.0.2.1, server: _",
        expected=error_expected(
            "nginx_error", T, "error",
            'FastCGI sent in stderr: "PHP message: PHP Warning:  x in /srv/a.php on line 3\nPHP message: PHP '
            'Warning:  y in /srv/b.php on line 4" while reading response header from upstream, client: '
            "192.0.2.1, server: _",
            pid=80, client_ip="192.0.2.1"),
        note="multi-line record (joined by the source's multiline rule)",
    ),
    Sample(message="PHP message: PHP Warning: orphan continuation", expected=None, note="not a record start"),
)

METRICS_SAMPLES = (
    metric_sample("nginx", "connections_active", "gauge", 3),
    metric_sample("nginx", "connections_reading", "gauge", 0),
    metric_sample("nginx", "connections_writing", "gauge", 2),
    metric_sample("nginx", "connections_waiting", "gauge", 1, endpoint="http://10.0.0.5:8080/nginx_status"),
    metric_sample("nginx", "connections_accepted_total", "counter", 311),
    metric_sample("nginx", "connections_handled_total", "counter", 311),
    metric_sample("nginx", "http_requests_total", "counter", 1042),
    metric_sample("nginx", "up", "gauge", 1),
)

#: what Vector's nginx_metrics source reads from stub_status (vectordotdev/vector
#: src/sources/nginx_metrics/mod.rs, v0.44.0 and v0.57.0), kept with the kind it has there
METRICS = Metrics(
    table="nginx_metrics",
    gauges=(
        Gauge("nginx_connections_active", "Active connections"),
        Gauge("nginx_connections_reading", "Connections reading a request"),
        Gauge("nginx_connections_writing", "Connections writing a response"),
        Gauge("nginx_connections_waiting", "Idle keep-alive connections"),
        Gauge("nginx_connections_accepted_total", "Connections accepted", counter=True),
        Gauge("nginx_connections_handled_total", "Connections handled", counter=True),
        Gauge("nginx_http_requests_total", "Requests", counter=True),
    ),
)



#: requests a second an average node answers at an average hour (the demo's access log and counter)
DEMO_RATE = 0.6


def demo_access_line(rng: random.Random, now: datetime, scene: Scene, host: str) -> str:
    """A request in the recommended dendro format."""
    combined, seconds = demo_combined(rng, now, scene)
    return f"{combined} {seconds:.3f}"


UPSTREAM_FAILURES = ("connect() failed (111: Connection refused) while connecting to upstream",
                     "upstream prematurely closed connection while reading response header from upstream")


def demo_error_line(rng: random.Random, now: datetime, scene: Scene, host: str) -> str:
    """During a broken deploy the upstream refuses or drops connections ([error]); otherwise a
    response buffered to a temporary file ([warn])."""
    stamp = now.strftime("%Y/%m/%d %H:%M:%S")
    connection, client = rng.randint(1, 99_999), f"10.1.{rng.randint(0, 9)}.{rng.randint(1, 254)}"
    head = f"{stamp} [{{level}}] 4242#4242: *{connection} "
    if scene.during(DEPLOY):
        path = rng.choice(("/api/cart", "/api/orders", "/api/pay"))
        what = rng.choice(UPSTREAM_FAILURES)
        return (head.format(level="error") + f'{what}, client: {client}, server: shop.example, request: '
                f'"GET {path} HTTP/1.1", upstream: "http://127.0.0.1:8000{path}", host: "shop.example"')
    return (head.format(level="warn") + "an upstream response is buffered to a temporary file "
            f"/var/cache/nginx/proxy_temp/{connection % 10}/00/{connection:010d} while reading upstream, "
            f'client: {client}, server: shop.example, request: "GET /api/orders HTTP/1.1", '
            'upstream: "http://127.0.0.1:8000/api/orders", host: "shop.example"')


def demo_metrics(rng: random.Random, now: datetime, scene: Scene, host: str) -> list[dict[str, Any]]:
    """stub_status of the node as Vector's nginx_metrics source reads it: connections follow the load
    and the latency (slower answers hold connections longer), the counters grow with what was served."""
    active = max(1, round((2 + 14 * scene.load * scene.latency) * rng.uniform(0.85, 1.15)))
    writing = max(1, round(active * rng.uniform(0.15, 0.35)))
    reading = 1 if rng.random() < 0.15 * scene.load else 0  # a request line arrives in a packet or two
    accepted = scene.counter(DEMO_RATE / 4)  # keep-alive: about four requests a connection
    values = {
        "connections_active": ("gauge", active),
        "connections_reading": ("gauge", reading),
        "connections_writing": ("gauge", writing),
        "connections_waiting": ("gauge", max(0, active - reading - writing)),
        "connections_accepted_total": ("counter", accepted),
        "connections_handled_total": ("counter", accepted),
        "http_requests_total": ("counter", scene.counter(DEMO_RATE)),
        "up": ("gauge", 1),
    }
    return [status_metric("nginx", name, kind, float(int(value)), now, host, "/nginx_status")
            for name, (kind, value) in values.items()]


SERVICE = Service(
    name="nginx",
    title="nginx",
    settings=(
        Setting("access_log", "nginx access log files", ["/var/log/nginx/access.log"], kind="list"),
        Setting("error_log", "nginx error log files", ["/var/log/nginx/error.log"], kind="list"),
        Setting("status_url", "stub_status URL for metrics (empty: none)", "", kind="url"),
        timezone_setting("time zone of the error log's times (nginx writes local time)"),
    ),
    sources=(
        log_file("nginx_access_logs", "nginx_access", "access_log"),
        log_file(
            "nginx_error_logs",
            "nginx_error",
            "error_log",
            multiline=Multiline(
                start_pattern=r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} \[",
                condition_pattern=r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} \[",
                mode="halt_before",
            ),
        ),
        Source(
            id="nginx_metrics",
            kind="nginx_metrics",
            parser="nginx_metrics",
            options={"endpoints": ["{status_url}"]},
        ),
    ),
    parsers=(
        Parser(id="nginx_access", vrl=ACCESS_VRL, samples=ACCESS_SAMPLES),
        Parser(id="nginx_error", vrl=ERROR_VRL, samples=ERROR_SAMPLES),
        metrics_parser("nginx_metrics", "nginx_metrics", METRICS_SAMPLES),
    ),
    tables=(
        access_table("nginx_access", "nginx"),
        error_table("nginx_error", "nginx"),
        metrics_table("nginx_metrics", "nginx"),
    ),
    red=(red("nginx_access"),),
    metrics=(METRICS,),
    alert_events=alert_events("nginx", "nginx_access", "nginx_error", "nginx"),
    server_config=SERVER_CONFIG,
    server_config_help=SERVER_CONFIG_HELP,
    role="http",
    demo=(
        DemoFeed("nginx_access_logs", line=demo_access_line, rate=DEMO_RATE),
        DemoFeed("nginx_error_logs", line=demo_error_line, rate=error_log_rate),
        DemoFeed("nginx_metrics", inputs=demo_metrics),
    ),
    examples=(
        five_hundreds_example("nginx_access", "nginx"),
        slowest_paths_example("nginx_access"),
        requests_per_minute_example("nginx_access"),
    ),
)
