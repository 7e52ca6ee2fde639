"""Apache httpd: access log, error log and mod_status metrics.

The access program reads Dendro's recommended ``LogFormat ... dendro`` (combined plus ``%D``, the
request time in microseconds) and the formats Debian ships: ``combined``, ``common``,
``vhost_combined`` (``%v:%p`` first) and mod_ssl's ``ssl_request_log`` (no status). Apache writes
``"`` and ``\\`` inside values as ``\\"`` / ``\\\\``; those are decoded. Error-log records of
Apache 2.2 and 2.4 (``[module:level] [pid N:tid M] [client ip:port]``) are read; their times
carry no zone (Apache writes its local time): they are read in the service's ``timezone``
setting (an IANA name, UTC by default; ``dendro configure`` offers the node's own zone).
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
    metric_sample,
    metrics_parser,
    metrics_table,
    red,
    slowest_paths_example,
    status_metric,
)
from dendro.services.scene import DEPLOY, Scene
from dendro.services.zones import timezone_setting

LOG_FORMAT = (
    'LogFormat "%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\" %D" dendro'
)

SERVER_CONFIG = f"""{LOG_FORMAT}
CustomLog ${{APACHE_LOG_DIR}}/access.log dendro
"""

SERVER_CONFIG_HELP = (
    "Put the LogFormat line in /etc/apache2/conf-available/dendro.conf and run `a2enconf dendro`; "
    "in each site (/etc/apache2/sites-enabled/*.conf) replace `CustomLog ... combined` with the "
    "CustomLog line above, then `apache2ctl configtest && systemctl reload apache2`. Lines already "
    "written in the combined format still parse, without a duration. For metrics, enable mod_status "
    "(a2enmod status; it answers on 127.0.0.1 by default) and set status_url."
)

# combined / common / dendro, optionally preceded by "%v" or "%v:%p" (vhost_combined)
ACCESS_RE = (
    r"^(?:(?P<vhost>\S+) )?(?P<client>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<time>[^\]]+)\] "
    f'"(?P<request>{QUOTED})" '
    r"(?P<status>[0-9]{3}) (?P<bytes>[0-9]+|-)"
    f'(?: "(?P<referer>{QUOTED})" "(?P<agent>{QUOTED})")?(?: "{QUOTED}")*'
    r"(?: (?P<duration>[0-9]+(?:\.[0-9]+)?|-))?\s*$"
)
# mod_ssl's ssl_request_log: %t %h %{SSL_PROTOCOL}x %{SSL_CIPHER}x "%r" %b
SSL_REQUEST_RE = (
    r"^\[(?P<time>[^\]]+)\] (?P<client>\S+) (?P<tls>\S+) (?P<cipher>\S+) "
    f'"(?P<request>{QUOTED})" '
    r"(?P<bytes>[0-9]+|-)\s*$"
)

ACCESS_VRL = (
    f"""
line = string!(.message)
m = parse_regex(line, r'{ACCESS_RE}') ?? parse_regex!(line, r'{SSL_REQUEST_RE}')
vhost = m.vhost
client = m.client
"""
    + REQUEST_VRL
    + r"""
if req.path != null { req.path = replace(string!(req.path), r'\\(["\\])', "$1") }
referer = m.referer
if referer != null { referer = replace(string!(referer), r'\\(["\\])', "$1") }
agent = m.agent
if agent != null { agent = replace(string!(agent), r'\\(["\\])', "$1") }
secs = null
# %D is whole microseconds; a decimal number (a custom format) is taken as seconds
if m.duration != null && m.duration != "-" {
  secs = to_float!(m.duration)
  if !contains(string!(m.duration), ".") { secs = secs / 1000000 }
}
"""
    + access_event_vrl("apache_access")
)

ERROR_RE = (
    r"(?s)^\[(?P<time>[^\]]+)\] \[(?:(?P<module>[^:\]]+):)?(?P<level>[a-z]+[0-9]*)\]"
    r"(?: \[pid (?P<pid>[0-9]+)(?::tid [0-9]+)?\])?(?: (?P<src>[^\s\[]+\([0-9]+\)):)?"
    r"(?: \[client (?P<client>[^\]]+)\])? (?P<text>.*?)\s*$"
)

# Apache 2.4 logs "[client ip:port]" (IPv6 too: "[client ::1:5678]"); 2.2 logs the bare address.
ERROR_VRL = rf"""
line = string!(.message)
m = parse_regex!(line, r'{ERROR_RE}')
ip = m.client
if ip != null {{
  ip = string!(ip)
  if match(ip, r'^[0-9.]+:[0-9]+$') || (m.pid != null && match(ip, r':.*:[0-9]+$')) {{
    ip = replace(ip, r':[0-9]+$', "")
  }}
}}
ts = parse_timestamp!(m.time, "%a %b %d %H:%M:%S%.f %Y")
pid = null
if m.pid != null {{ pid = to_int!(m.pid) }}
. = {{
  "type": "apache_error",
  "host": string(.host) ?? "unknown",
  "timestamp": format_timestamp!(ts, "{TIMESTAMP_FORMAT}", timezone: "UTC"),
  "level": m.level,
  "pid": pid,
  "client_ip": ip,
  "message": m.text
}}
"""

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"
T = "2026-11-26T12:00:00.000000Z"
LONG_PATH = "/search?q=" + "b" * 10240
D = "[26/Nov/2026:12:00:00 +0000]"


def _access(ts: str = T, **fields: object) -> dict[str, object]:
    return access_expected("apache_access", ts, **fields)


_FAIL = f'203.0.113.7 - bob {D} "POST /api/pay HTTP/1.1" 503 299 "-" "curl/8.5.0" 1250000'
ACCESS_SAMPLES = (
    Sample(
        message=f'203.0.113.7 - - [26/Nov/2026:13:00:00 +0100] "GET /api/orders?id=7 HTTP/1.1" 200 1534 '
        f'"https://shop.example/cart" "{UA}" 42137',
        expected=_access(method="GET", path="/api/orders?id=7", protocol="HTTP/1.1", status=200, bytes=1534,
                         duration=0.042137, client_ip="203.0.113.7", user_agent=UA,
                         referer="https://shop.example/cart"),
        note="recommended dendro format (%D microseconds)",
    ),
    Sample(
        message=_FAIL,
        expected=_access(method="POST", path="/api/pay", protocol="HTTP/1.1", status=503, bytes=299,
                         duration=1.25, client_ip="203.0.113.7", user_agent="curl/8.5.0", message=_FAIL),
        note="5xx keeps the raw line in message",
    ),
    Sample(
        message=f'198.51.100.23 - - [26/Nov/2026:07:00:00 -0500] "POST /login HTTP/1.1" 302 0 "-" "{UA}"',
        expected=_access(method="POST", path="/login", protocol="HTTP/1.1", status=302, bytes=0,
                         client_ip="198.51.100.23", user_agent=UA),
        note="default combined format: no duration",
    ),
    Sample(
        message=f'::1 - - {D} "GET /favicon.ico HTTP/1.1" 404 209',
        expected=_access(method="GET", path="/favicon.ico", protocol="HTTP/1.1", status=404, bytes=209,
                         client_ip="::1"),
        note="common format, IPv6 client",
    ),
    Sample(
        message=f'2001:db8::7 - - {D} "GET / HTTP/1.1" 200 45 "-" "curl/8.5.0" 311',
        expected=_access(method="GET", path="/", protocol="HTTP/1.1", status=200, bytes=45, duration=0.000311,
                         client_ip="2001:db8::7", user_agent="curl/8.5.0"),
        note="IPv6 client, dendro format",
    ),
    Sample(
        message=f'192.0.2.1 - - {D} "GET /q HTTP/1.1" 200 5 "-" '
        '"Bot \\"quoted\\" agent with spaces \\\\" 900',
        expected=_access(method="GET", path="/q", protocol="HTTP/1.1", status=200, bytes=5, duration=0.0009,
                         client_ip="192.0.2.1", user_agent='Bot "quoted" agent with spaces \\'),
        note="escaped quotes and backslash, spaces in the user agent",
    ),
    Sample(
        message=f'192.0.2.1 - - {D} "GET /cached HTTP/1.1" 304 - "-" "curl/8.5.0" 150',
        expected=_access(method="GET", path="/cached", protocol="HTTP/1.1", status=304, bytes=0,
                         duration=0.00015, client_ip="192.0.2.1", user_agent="curl/8.5.0"),
        note="- for bytes",
    ),
    Sample(
        message=f'192.0.2.1 - - {D} "GET /gone HTTP/1.1" 499 0 "-" "-" 5000000',
        expected=_access(method="GET", path="/gone", protocol="HTTP/1.1", status=499, bytes=0, duration=5.0,
                         client_ip="192.0.2.1"),
        note="499 (as a proxy in front logs it)",
    ),
    Sample(
        message=f'192.0.2.1 - - {D} "GET {LONG_PATH} HTTP/1.1" 414 226 "-" "-" 120',
        expected=_access(method="GET", path=LONG_PATH, protocol="HTTP/1.1", status=414, bytes=226,
                         duration=0.00012, client_ip="192.0.2.1"),
        note="10 KB path",
    ),
    Sample(
        message=f'192.0.2.1 - - {D} "GET /caf\ufffd HTTP/1.1" 404 10 "-" "x\ufffdy" 80',
        expected=_access(method="GET", path="/caf\ufffd", protocol="HTTP/1.1", status=404, bytes=10,
                         duration=0.00008, client_ip="192.0.2.1", user_agent="x\ufffdy"),
        note="invalid UTF-8, replaced by U+FFFD as the file source does",
    ),
    Sample(
        message=f'192.0.2.1 - - {D} "-" 408 - "-" "-" 20000123',
        expected=_access(status=408, bytes=0, duration=20.000123, client_ip="192.0.2.1"),
        note='request logged as "-" (timeout before a request)',
    ),
    Sample(
        message=f'shop.example:443 198.51.100.4 - - {D} "PUT /api/items/3 HTTP/1.1" 204 0 "-" '
        '"okhttp/4.12.0"',
        expected=_access(method="PUT", path="/api/items/3", protocol="HTTP/1.1", status=204, bytes=0,
                         client_ip="198.51.100.4", user_agent="okhttp/4.12.0", vhost="shop.example:443"),
        note="vhost_combined (%v:%p first)",
    ),
    Sample(
        message=f'{D} 172.30.0.119 TLSv1.3 TLS_AES_256_GCM_SHA384 "GET /account HTTP/1.1" 1375',
        expected=_access(method="GET", path="/account", protocol="HTTP/1.1", bytes=1375,
                         client_ip="172.30.0.119"),
        note="mod_ssl ssl_request_log: no status",
    ),
    Sample(
        message=f'monitoring-server - - {D} "GET /status HTTP/1.1" 200 612 "-" "check_http" "-"',
        expected=_access(method="GET", path="/status", protocol="HTTP/1.1", status=200, bytes=612,
                         client_ip="monitoring-server", user_agent="check_http"),
        note="HostnameLookups on, trailing extra field",
    ),
    Sample(
        message=f'192.0.2.1 - - {D} "GET /f HTTP/1.1" 200 1 "-" "-" 0.250',
        expected=_access(method="GET", path="/f", protocol="HTTP/1.1", status=200, bytes=1, duration=0.25,
                         client_ip="192.0.2.1"),
        note="a decimal last field is seconds (custom formats)",
    ),
    Sample(message="GET /index.html 200", expected=None, note="garbage: parse_error"),
    Sample(message="", expected=None, note="empty line: parse_error"),
)

ERROR_SAMPLES = (
    Sample(
        message="[Thu Nov 26 12:00:00.123456 2026] [core:error] [pid 2101:tid 139811] "
        "[client 203.0.113.7:51234] AH00037: Symbolic link not allowed or link target not accessible: "
        "/var/www/html/x",
        expected=error_expected(
            "apache_error", "2026-11-26T12:00:00.123456Z", "error",
            "AH00037: Symbolic link not allowed or link target not accessible: /var/www/html/x",
            pid=2101, client_ip="203.0.113.7"),
        note="Apache 2.4 with client ip:port",
    ),
    Sample(
        message="[Thu Nov 26 07:00:00.123456 2026] [core:error] [pid 2101:tid 139811] "
        "[client 203.0.113.7:51234] AH00037: Symbolic link not allowed or link target not accessible: "
        "/var/www/html/x",
        expected=error_expected(
            "apache_error", "2026-11-26T12:00:00.123456Z", "error",
            "AH00037: Symbolic link not allowed or link target not accessible: /var/www/html/x",
            pid=2101, client_ip="203.0.113.7"),
        settings={"timezone": "America/New_York"},
        note="an Apache whose local time is America/New_York (the timezone setting): EST, five hours behind",
    ),
    Sample(
        message="[Thu Nov 26 12:00:00 2026] [error] [client 192.168.33.1] File does not exist: "
        "/var/www/x, referer: http://192.168.33.72/",
        expected=error_expected("apache_error", T, "error",
                                "File does not exist: /var/www/x, referer: http://192.168.33.72/",
                                client_ip="192.168.33.1"),
        note="Apache 2.2",
    ),
    Sample(
        message="[Thu Nov 26 12:00:00.5 2026] [mpm_event:notice] [pid 977:tid 977] AH00489: Apache/2.4.62 "
        "(Debian) configured -- resuming normal operations",
        expected=error_expected("apache_error", "2026-11-26T12:00:00.500000Z", "notice",
                                "AH00489: Apache/2.4.62 (Debian) configured -- resuming normal operations",
                                pid=977),
    ),
    Sample(
        message="[Thu Nov 26 12:00:00.000001 2026] [core:emerg] [pid 12] (28)No space left on device: "
        "AH00023: Couldn't create the mpm-accept mutex",
        expected=error_expected("apache_error", "2026-11-26T12:00:00.000001Z", "emerg",
                                "(28)No space left on device: AH00023: Couldn't create the mpm-accept "
                                "mutex",
                                pid=12),
    ),
    Sample(
        message="[Thu Nov 26 12:00:00.000000 2026] [proxy:crit] [pid 5:tid 6] [client ::1:40000] AH00898: "
        "Error reading from remote server returned by /api",
        expected=error_expected("apache_error", T, "crit",
                                "AH00898: Error reading from remote server returned by /api",
                                pid=5, client_ip="::1"),
        note="IPv6 client with port",
    ),
    Sample(
        message="[Thu Nov 26 12:00:00.000000 2026] [rewrite:trace3] [pid 9:tid 10] mod_rewrite.c(470): "
        "[client 10.1.1.8:38350] applying pattern",
        expected=error_expected("apache_error", T, "trace3", "applying pattern", pid=9, client_ip="10.1.1.8"),
        note="trace level with source location",
    ),
    Sample(message="AH00558: apache2: Could not reliably determine the server's FQDN", expected=None,
           note="startup message on stderr without a header: parse_error"),
)

METRICS_SAMPLES = (
    metric_sample("apache", "access_total", "counter", 1042),
    metric_sample("apache", "sent_bytes_total", "counter", 5_242_880),
    metric_sample("apache", "workers", "gauge", 7, state="busy"),
    metric_sample("apache", "workers", "gauge", 68, state="idle"),
    metric_sample("apache", "connections", "gauge", 9, state="total"),
    metric_sample("apache", "connections", "gauge", 2, state="writing"),
    metric_sample("apache", "connections", "gauge", 6, state="keepalive"),
    metric_sample("apache", "connections", "gauge", 1, state="closing"),
    metric_sample("apache", "scoreboard", "gauge", 143, state="waiting",
                  endpoint="http://10.0.0.6/server-status?auto"),
    metric_sample("apache", "cpu_seconds_total", "gauge", 1.5, type="user"),
    metric_sample("apache", "up", "gauge", 1),
)

#: what Vector's apache_metrics source reads from mod_status (vectordotdev/vector
#: src/sources/apache_metrics/parser.rs, v0.44.0 and v0.57.0: workers by state busy/idle,
#: connections by state total/writing/keepalive/closing), kept with the kind it has there
METRICS = Metrics(
    table="apache_metrics",
    gauges=(
        Gauge("apache_workers", "Workers by state", split="state"),  # busy + idle is the scoreboard's size
        Gauge("apache_connections", "Connections by state", split="state"),  # total holds the others
        Gauge("apache_access_total", "Requests", counter=True),
        Gauge("apache_sent_bytes_total", "Bytes sent", "bytes", counter=True),
    ),
    tags=("state",),
)



#: requests a second an average node answers at an average hour (the demo's access log and counter)
DEMO_RATE = 0.4
#: MaxRequestWorkers of the demo's event MPM (the scoreboard's size)
DEMO_WORKERS = 150


def demo_access_line(rng: random.Random, now: datetime, scene: Scene, host: str) -> str:
    """A request in the recommended dendro format (%D: microseconds)."""
    combined, seconds = demo_combined(rng, now, scene)
    return f"{combined} {int(seconds * 1_000_000)}"


def demo_error_line(rng: random.Random, now: datetime, scene: Scene, host: str) -> str:
    """During a broken deploy mod_proxy cannot reach the application ([proxy:error]); otherwise a
    scanner probing for secrets is denied ([authz_core:error], logged at the default LogLevel)."""
    stamp = now.strftime("%a %b %d %H:%M:%S.%f %Y")
    client = f"10.1.{rng.randint(0, 9)}.{rng.randint(1, 254)}:{rng.randint(32768, 60999)}"
    worker = f"[pid {rng.randint(2100, 2180)}:tid {rng.randint(139_000, 139_999)}]"
    if scene.during(DEPLOY):
        return (f"[{stamp}] [proxy:error] {worker} (111)Connection refused: AH00957: http: attempt to"
                f" connect to 127.0.0.1:8000 (127.0.0.1:8000) failed")
    probe = rng.choice((".env", ".git/config", "wp-login.php", ".aws/credentials"))
    return (f"[{stamp}] [authz_core:error] {worker} [client {client}] AH01630: client denied by server"
            f" configuration: /var/www/html/{probe}")


def demo_metrics(rng: random.Random, now: datetime, scene: Scene, host: str) -> list[dict[str, Any]]:
    """mod_status of the node as Vector's apache_metrics source reads it: busy workers follow the load
    and the latency, the counters grow with what was served."""
    busy = min(DEMO_WORKERS, max(1, round((1 + 9 * scene.load * scene.latency) * rng.uniform(0.85, 1.15))))
    keepalive = round(busy * rng.uniform(0.4, 0.7))
    writing = max(1, round(busy * rng.uniform(0.2, 0.4)))
    closing = rng.randint(0, 2)
    values: list[tuple[str, str, float, dict[str, str]]] = [
        ("up", "gauge", 1, {}),
        ("access_total", "counter", int(scene.counter(DEMO_RATE)), {}),
        ("sent_bytes_total", "counter", int(scene.counter(DEMO_RATE * 14_000)), {}),
        ("workers", "gauge", busy, {"state": "busy"}),
        ("workers", "gauge", DEMO_WORKERS - busy, {"state": "idle"}),
        ("connections", "gauge", busy + keepalive + closing, {"state": "total"}),
        ("connections", "gauge", writing, {"state": "writing"}),
        ("connections", "gauge", keepalive, {"state": "keepalive"}),
        ("connections", "gauge", closing, {"state": "closing"}),
    ]
    return [status_metric("apache", name, kind, float(value), now, host, "/server-status?auto", **tags)
            for name, kind, value, tags in values]


SERVICE = Service(
    name="apache",
    title="Apache httpd",
    settings=(
        Setting("access_log", "apache access log files", ["/var/log/apache2/access.log"], kind="list"),
        Setting("error_log", "apache error log files", ["/var/log/apache2/error.log"], kind="list"),
        Setting("status_url", "mod_status URL for metrics, ending in ?auto (empty: none)", "", kind="url"),
        timezone_setting("time zone of the error log's times (Apache writes local time)"),
    ),
    sources=(
        log_file("apache_access_logs", "apache_access", "access_log"),
        log_file("apache_error_logs", "apache_error", "error_log"),
        Source(
            id="apache_metrics",
            kind="apache_metrics",
            parser="apache_metrics",
            options={"endpoints": ["{status_url}"]},
        ),
    ),
    parsers=(
        Parser(id="apache_access", vrl=ACCESS_VRL, samples=ACCESS_SAMPLES),
        Parser(id="apache_error", vrl=ERROR_VRL, samples=ERROR_SAMPLES),
        metrics_parser("apache_metrics", "apache_metrics", METRICS_SAMPLES),
    ),
    tables=(
        access_table("apache_access", "Apache"),
        error_table("apache_error", "Apache"),
        metrics_table("apache_metrics", "Apache"),
    ),
    red=(red("apache_access"),),
    metrics=(METRICS,),
    alert_events=alert_events("apache", "apache_access", "apache_error", "Apache"),
    server_config=SERVER_CONFIG,
    server_config_help=SERVER_CONFIG_HELP,
    role="http",
    demo=(
        DemoFeed("apache_access_logs", line=demo_access_line, rate=DEMO_RATE),
        DemoFeed("apache_error_logs", line=demo_error_line, rate=error_log_rate),
        DemoFeed("apache_metrics", inputs=demo_metrics),
    ),
    examples=(slowest_paths_example("apache_access"),),
)
