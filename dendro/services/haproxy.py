"""HAProxy: the HTTP log (``option httplog``), HAProxy's own messages, and its Prometheus exporter.

HAProxy writes one line per request in the format ``option httplog`` declares (configuration
manual 8.2.3: ``%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc
%ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r``), and its own messages (a server going DOWN, a
backend left without servers, connection errors) to the same log targets. The program reads the
line behind any header HAProxy or a syslog daemon puts in front of it: none (``log stdout format
raw``), ``<PRI>`` (short, priority), an ISO time (iso, timed, rsyslog's high-precision file
format), a BSD time and tag (local, rfc3164, Debian's rsyslog file ``/var/log/haproxy.log``) or an
RFC 5424 header. Requests go to ``haproxy_access`` (the shared HTTP columns plus frontend,
backend, server, termination state, the queue/connect/server timers and retries), messages to
``haproxy_error``.

- The request time is the accept date ``[%tr]``, which HAProxy writes in the local time of the
  HAProxy host without a zone: it is read in the service's ``timezone`` setting (an IANA name,
  ``dendro configure`` offers the node's own zone; the remap transform's ``timezone`` and
  vrl-python's runner alike). Header times without a zone are read in it too; a BSD header has no
  year (the current one, a December line read in January belongs to the previous year, as
  Vector's parse_syslog decides); a message with no time at all (raw format) gets the time it is
  read.
- ``duration`` is Ta (total active time) in seconds; every ``-1`` timer is null, and a status
  logged as ``-1`` (no response) is null. With ``option logasap`` Ta and the bytes carry a ``+``
  and are lower bounds; they are stored as logged.
- Captured headers and cookies are skipped (their order is the configuration's), so
  ``user_agent``, ``referer`` and ``vhost`` stay null. ``"`` and ``#`` in the request line,
  which HAProxy writes ``#22`` and ``#23``, are decoded; other ``#XX`` escapes stay as logged.
- A line HAProxy truncated at its log length (1024 bytes by default) parses without the end of
  its request line. TCP-mode lines (``option tcplog``) and custom ``log-format`` lines are
  parse_errors, not silently mis-read.
- A message's level is the syslog priority when the line carries one; in the file Debian's
  rsyslog writes (no priority) it is the level HAProxy's source sends for the known messages
  (server DOWN: alert, no server available: emerg…) and null for others. Without any header
  only the known messages are accepted.

The exporter (``http-request use-service prometheus-exporter``, HAProxy 2.0+) is read by Vector's
``prometheus_scrape`` source (Vector has no HAProxy source); only the families in
:data:`KEPT_METRICS` are stored, the others (about 400 series for a small configuration) are
dropped on purpose.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from dendro.services.base import (
    TIMESTAMP_FORMAT,
    Column,
    DemoFeed,
    Example,
    Gauge,
    LogPanel,
    LogPanels,
    Metrics,
    Parser,
    Sample,
    Service,
    Setting,
    Source,
    Table,
    log_file,
)
from dendro.services.http_common import (
    DEMO_PATHS,
    REQUEST_VRL,
    access_event_vrl,
    access_expected,
    access_table,
    alert_events,
    error_expected,
    error_table,
    five_hundreds_example,
    red,
    slowest_paths_example,
)
from dendro.services.scene import DEPLOY, Scene
from dendro.services.zones import timezone_setting

SERVER_CONFIG = """global
    log /dev/log local0
defaults
    mode http
    log global
    option httplog
frontend prometheus
    bind 127.0.0.1:8405
    http-request use-service prometheus-exporter if { path /metrics }
    no log
"""

SERVER_CONFIG_HELP = (
    "In /etc/haproxy/haproxy.cfg keep (or add) `log /dev/log local0` in the global section and "
    "`log global` + `option httplog` in the defaults (or in each HTTP frontend): Debian's rsyslog rule "
    "/etc/rsyslog.d/49-haproxy.conf writes these lines to /var/log/haproxy.log. Request times are "
    "read as UTC: run HAProxy on a UTC clock. For metrics, add the `frontend prometheus` section "
    "(HAProxy 2.0 or later built with the Prometheus exporter: `haproxy -vv | grep -i prometheus`) "
    "and set metrics_url to http://127.0.0.1:8405/metrics; then `haproxy -c -f "
    "/etc/haproxy/haproxy.cfg && systemctl reload haproxy`."
)

# -- the header in front of HAProxy's text ---------------------------------------------------------

#: a syslog tag, ``haproxy[1234]:`` (its groups get a suffix: the header has three places for one)
_TAG = r"(?P<tag{n}>[A-Za-z0-9_./-]+)(?:\[(?P<pid{n}>[0-9]+)\])?:"
#: <PRI>, then an RFC 5424 header, an ISO time (and host + tag), a BSD time, host and tag, or a tag
HEADER_RE = (
    r"(?s)^(?:<(?P<pri>[0-9]{1,3})>)?(?:"
    r"1 (?P<t5424>\S+) \S+ \S+ (?P<pid5424>\S+) \S+ (?:-|\[.*?\]) "
    r"|(?P<tiso>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)"
    r"(?: \S+ " + _TAG.format(n=1) + ")? "
    r"|(?P<tbsd>[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2}) (?:\S+ )??" + _TAG.format(n=2) + " "
    r"|" + _TAG.format(n=3) + " "
    r")?(?P<body>.*?)\s*$"
)

#: the accept date %tr / %t: 06/Feb/2009:12:14:14.655 (older versions: no milliseconds)
DATE = r"[0-9]{2}/[A-Za-z]{3}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"

#: option httplog (and httpslog, whose fields follow the request line)
ACCESS_RE = (
    r"^(?P<client>\S+):(?:[0-9]+|-) \[(?P<accept>" + DATE + r")\] "
    r"(?P<frontend>\S+) (?P<backend>[^\s/]+)/(?P<server>\S+) "
    r"(?:-?[0-9]+)/(?P<tw>-?[0-9]+)/(?P<tc>-?[0-9]+)/(?P<tr>-?[0-9]+)/\+?(?P<ta>-?[0-9]+) "
    r"(?P<status>-?[0-9]+) \+?(?P<bytes>[0-9]+) \S+ \S+ (?P<term>\S+) "
    r"[0-9]+/[0-9]+/[0-9]+/[0-9]+/\+?(?P<retries>[0-9]+) [0-9]+/[0-9]+"
    r"(?: \{[^}]*\}){0,2} "
    r'\\?"(?P<request>[^"]*?)(?:\\?"(?: .*)?)?$'
)

#: a request-log line of any format: client:port [accept date]
REQUEST_LIKE_RE = r"^\S+:(?:[0-9]+|-) \[" + DATE + r"\] "

#: the fixed connection-error line (configuration manual 8.2.5): client:port [date] frontend/bind: text
CONN_ERROR_RE = (
    r"^(?P<client>\S+):(?:[0-9]+|-) \[(?P<accept>" + DATE + r")\] (?P<frontend>[^\s/]+)/\S+?: (?P<text>.+)$"
)

#: HAProxy's syslog level names, by severity number (src/log.c log_levels)
LEVELS = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")

#: the level HAProxy sends its known messages at (haproxy/haproxy v3.0.0: src/server.c
#: srv_update_status, src/backend.c, src/check.c, src/proxy.c, src/listener.c, src/proto_tcp.c,
#: src/frontend.c), for lines that carry no priority; the first pattern that matches wins
KNOWN_MESSAGES = (
    (r"^(?:Backup )?Server \S+/\S+ is (?:DOWN|going DOWN for maintenance)", "alert"),
    (r"^(?:Backup )?Server \S+/\S+ is ", "notice"),
    (r"^(?:Health|Agent) check for (?:backup )?server \S+/\S+ ", "notice"),
    (r"^\S+ \S+ has no server available!$", "emerg"),
    (r"^(?:Proxy \S+ (?:stopped|hard-stopped)|Paused \S+ \S+\.$|Resumed \S+ \S+\.$)", "warning"),
    (r"^Connect\(\) failed for backend \S+: ", "err"),
    (r"^Connect (?:from|to) ", "info"),
)

#: where a message names its proxy and server
PROXY_SERVER_RE = (
    r"^(?:(?:Backup )?Server |(?:Health|Agent) check for (?:backup )?server )"
    r"(?P<proxy>[^\s/]+)/(?P<server>[^\s,.]+)"
)
PROXY_RE = (
    r"^(?:\S+ (?P<p1>\S+) has no server available!$|Proxy (?P<p2>\S+) |(?:Paused|Resumed) \S+ (?P<p3>\S+)\.$"
    r"|Connect\(\) failed for backend (?P<p4>[^\s:]+):|Connect (?:from|to) .*\((?P<p5>[^/\s]+)/\S+\)$)"
)
CONNECT_FROM_RE = r"^Connect from (?P<client>\S+):[0-9]+ to "


def _known_level_vrl() -> str:
    branches = " else ".join(
        f"if match(text, r'{pattern}') {{\n    known = \"{level}\"\n  }}" for pattern, level in KNOWN_MESSAGES
    )
    return f"  {branches}\n"


HEADER_VRL = rf"""
line = string!(.message)
h = parse_regex!(line, r'{HEADER_RE}')
body = string!(h.body)
"""

#: ms (as logged, -1 when the step never happened) to seconds or null
_MS = "{var} = null\nif to_int!(m.{group}) >= 0 {{ {var} = to_float(to_int!(m.{group})) / 1000.0 }}\n"

ACCESS_BRANCH_VRL = (
    r"""
accept = parse_timestamp!(m.accept, "%d/%b/%Y:%H:%M:%S%.f")
# the shared event program reads a zoned time to the second; the exact time is set after it
m.time = format_timestamp!(accept, "%d/%b/%Y:%H:%M:%S +0000", timezone: "UTC")
if m.status == "-1" { m.status = null }
client = m.client
if client == "-" { client = null }
vhost = null
referer = null
agent = null
"""
    + _MS.format(var="secs", group="ta")
    + _MS.format(var="queue", group="tw")
    + _MS.format(var="connect", group="tc")
    + _MS.format(var="server_time", group="tr")
    + REQUEST_VRL
    + r"""
if req.path != null { req.path = replace(replace(string!(req.path), "#22", "\""), "#23", "#") }
"""
    + access_event_vrl("haproxy_access")
    + rf"""
.timestamp = format_timestamp!(accept, "{TIMESTAMP_FORMAT}", timezone: "UTC")
.frontend = replace(string!(m.frontend), r'~$', "")
.backend = m.backend
.server = m.server
.termination_state = m.term
.queue_time = queue
.connect_time = connect
.server_time = server_time
.retries = to_int!(m.retries)
"""
)

MESSAGE_BRANCH_VRL = (
    rf"""
assert!(!match(body, r'{REQUEST_LIKE_RE}') || match(body, r'{CONN_ERROR_RE}'),
  "a request line in a format other than option httplog (option tcplog or a custom log-format)")
text = body
client = null
proxy = null
ts = null
known = null
c, c_err = parse_regex(body, r'{CONN_ERROR_RE}')
if c_err == null {{
  text = string!(c.text)
  client = c.client
  proxy = replace(string!(c.frontend), r'~$', "")
  ts = parse_timestamp!(c.accept, "%d/%b/%Y:%H:%M:%S%.f")
  known = "info"
}}
assert!(text != "", "an HAProxy log line without a message")
"""
    + "if known == null {\n"
    + _known_level_vrl()
    + "}\n"
    + rf"""
named = parse_regex(text, r'{PROXY_SERVER_RE}') ?? {{}}
other = parse_regex(text, r'{PROXY_RE}') ?? {{}}
if proxy == null {{
  proxy = string(named.proxy) ?? string(other.p1) ?? string(other.p2) ?? string(other.p3) ??
    string(other.p4) ?? string(other.p5) ?? null
}}
if client == null {{
  connect = parse_regex(text, r'{CONNECT_FROM_RE}') ?? {{}}
  client = connect.client
}}
header = h.pri != null || h.t5424 != null || h.tiso != null || h.tbsd != null || h.tag3 != null
assert!(header || known != null, "not an HAProxy log line")
level = known
if h.pri != null {{ level = get!({json.dumps(list(LEVELS))}, [mod(to_int!(h.pri), 8)]) }}
if ts == null {{
  # an unmatched group is null at run time (the type checker calls every group a string)
  stamp = h.t5424
  if stamp == null {{ stamp = h.tiso }}
  if stamp != null {{
    ts = parse_timestamp(stamp, "%+") ?? parse_timestamp(stamp, "%Y-%m-%dT%H:%M:%S%.f%z") ??
      parse_timestamp!(stamp, "%Y-%m-%dT%H:%M:%S%.f")
  }} else if h.tbsd != null {{
    year = to_int!(format_timestamp!(now(), "%Y", timezone: "UTC"))
    if starts_with(string!(h.tbsd), "Dec") && format_timestamp!(now(), "%m", timezone: "UTC") == "01" {{
      year = year - 1
    }}
    ts = parse_timestamp!(to_string(year) + " " + string!(h.tbsd), "%Y %b %e %H:%M:%S")
  }} else {{
    ts = now()
  }}
}}
pid = null
for_pid = [h.pid1, h.pid2, h.pid3, h.pid5424]
for_pid = filter(for_pid) -> |_index, value| {{ is_string(value) && match(string!(value), r'^[0-9]+$') }}
if length(for_pid) > 0 {{ pid = to_int!(for_pid[0]) }}
. = {{
  "type": "haproxy_error",
  "host": string(.host) ?? "unknown",
  "timestamp": format_timestamp!(ts, "{TIMESTAMP_FORMAT}", timezone: "UTC"),
  "level": level,
  "pid": pid,
  "client_ip": client,
  "proxy": proxy,
  "server": named.server,
  "message": text
}}
"""
)

LOG_VRL = (
    HEADER_VRL
    + f"m, access_err = parse_regex(body, r'{ACCESS_RE}')\n"
    + "if access_err == null {\n"
    + ACCESS_BRANCH_VRL
    + "} else {\n"
    + MESSAGE_BRANCH_VRL
    + "}\n"
)

# -- the Prometheus exporter -------------------------------------------------------------------

#: the exporter's families Dendro stores (names of addons/promex/service-prometheus.c, v3.0.0,
#: prefix haproxy_process_/frontend_/backend_/server_; the same in 2.6): connections and
#: sessions, queues, HTTP answers by class, errors, and server/backend state
KEPT_METRICS = (
    "haproxy_process_current_connections",
    "haproxy_frontend_current_sessions",
    "haproxy_frontend_http_requests_total",
    "haproxy_frontend_http_responses_total",
    "haproxy_frontend_request_errors_total",
    "haproxy_backend_status",
    "haproxy_backend_active_servers",
    "haproxy_backend_current_queue",
    "haproxy_backend_current_sessions",
    "haproxy_backend_http_responses_total",
    "haproxy_backend_connection_errors_total",
    "haproxy_backend_response_errors_total",
    "haproxy_server_status",
    "haproxy_server_current_sessions",
    "haproxy_server_current_queue",
    "haproxy_server_check_failures_total",
    "haproxy_server_connection_errors_total",
    "haproxy_server_response_errors_total",
)

_LOOPBACK = r"^(127\.[0-9.]+|localhost|\[?::1\]?)$"

#: prometheus_scrape names metrics without a namespace and tags them with the exporter's labels
#: (proxy, server, state, code) plus ``endpoint`` (the source sets endpoint_tag); it adds no host
#: tag, so the node is the endpoint's host, or this node's name when that is loopback
METRICS_VRL = rf"""
tags = object(.tags) ?? {{}}
name = string!(.name)
if !includes({json.dumps(list(KEPT_METRICS))}, name) {{
  . = []
}} else {{
  endpoint = string(tags.endpoint) ?? ""
  node = string(.host) ?? ""
  if node == "" {{
    url = parse_url(endpoint) ?? {{}}
    node = string(url.host) ?? "unknown"
  }}
  if match(node, r'{_LOOPBACK}') {{ node = get_hostname() ?? node }}
  kind = "gauge"
  value = .gauge.value
  if value == null {{
    kind = "counter"
    value = .counter.value
  }}
  assert!(value != null, "a metric without a gauge or counter value")
  ts = timestamp(.timestamp) ?? parse_timestamp!(string!(.timestamp), "%+")
  . = {{
    "type": "haproxy_metrics",
    "host": node,
    "timestamp": format_timestamp!(ts, "{TIMESTAMP_FORMAT}", timezone: "UTC"),
    "name": name,
    "kind": kind,
    "endpoint": endpoint,
    "proxy": string(tags.proxy) ?? null,
    "server": string(tags.server) ?? null,
    "state": string(tags.state) ?? string(tags.code) ?? null,
    "value": to_float!(value)
  }}
}}
"""

# -- tables ------------------------------------------------------------------------------------


ACCESS_TABLE = access_table(
    "haproxy_access",
    "HAProxy",
    description="One row per request HAProxy logged (option httplog).",
    described={
        "status": "response status; null when HAProxy logged -1 (no response)",
        "bytes": "bytes sent to the client, headers included (%B)",
        "duration": "seconds: Ta, the time the request was active; null when logged -1",
        "user_agent": "null: captured headers are not read",
        "referer": "null: captured headers are not read",
        "vhost": "null: captured headers are not read",
    },
    extra=(
        Column("frontend", "VARCHAR", dimension=True, description="frontend that accepted the request"),
        Column("backend", "VARCHAR", dimension=True, description="backend chosen"),
        Column("server", "VARCHAR", dimension=True, description="server, or <NOSRV>, <STATS>, <PROMEX>…"),
        Column("termination_state", "VARCHAR", dimension=True, description="four flags, ---- when normal"),
        Column("queue_time", "DOUBLE", description="Tw seconds in queues; null when -1"),
        Column("connect_time", "DOUBLE", description="Tc seconds to connect to the server; null when -1"),
        Column("server_time", "DOUBLE", description="Tr seconds until the response headers; null when -1"),
        Column("retries", "BIGINT", description="connection retries"),
    ),
)

ERROR_TABLE = error_table(
    "haproxy_error",
    "HAProxy",
    description="One row per HAProxy message that is not a request: server and backend state "
    "changes, connection errors, stops (times read as UTC).",
    described={
        "level": "emerg … debug (HAProxy's names); null when neither known nor logged",
        "pid": "HAProxy's pid, when a syslog tag carries it",
        "message": "HAProxy's text after the header",
    },
    extra=(
        Column("proxy", "VARCHAR", dimension=True, description="frontend or backend the message names"),
        Column("server", "VARCHAR", dimension=True, description="server the message names"),
    ),
)


METRICS_TABLE = Table(
    name="haproxy_metrics",
    description="HAProxy's Prometheus exporter, the families Dendro keeps, read by Vector's "
    "prometheus_scrape source.",
    columns=(
        Column("host", "VARCHAR", dimension=True),
        Column("name", "VARCHAR", dimension=True, description="e.g. haproxy_server_status"),
        Column("kind", "VARCHAR", dimension=True, description="gauge or counter"),
        Column("endpoint", "VARCHAR", dimension=True, description="exporter URL scraped"),
        Column("proxy", "VARCHAR", dimension=True, description="frontend or backend (proxy label)"),
        Column("server", "VARCHAR", dimension=True, description="server label"),
        Column("state", "VARCHAR", dimension=True, description="state label (UP, DOWN…) or code (2xx…)"),
        Column("value", "DOUBLE"),
    ),
)

# -- samples -----------------------------------------------------------------------------------

#: the December of the BSD-header samples: the year the program gives them now
_NOW = datetime.now(UTC)
_DEC_YEAR = _NOW.year - 1 if _NOW.month == 1 else _NOW.year

_ACCESS_EXTRA = ("frontend", "backend", "server", "termination_state", "queue_time", "connect_time",
                 "server_time", "retries")


def access_event(ts: str, **fields: Any) -> dict[str, Any]:
    """The haproxy_access event a line must give; fields not given are null."""
    extra = {name: fields.pop(name, None) for name in _ACCESS_EXTRA}
    return {**access_expected("haproxy_access", ts, **fields), **extra}


def error_event(ts: str, level: str | None, message: str, pid: int | None = None,
                client_ip: str | None = None, proxy: str | None = None,
                server: str | None = None) -> dict[str, Any]:
    """The haproxy_error event a message must give."""
    event = error_expected("haproxy_error", ts, level or "", message, pid=pid, client_ip=client_ip)
    return {**event, "level": level, "proxy": proxy, "server": server}


def _ok(ts: str, **fields: Any) -> dict[str, Any]:
    """A request that ended normally (----) without retries."""
    return access_event(ts, termination_state="----", retries=0, **fields)


def _local(ts: str, path: str, status: int, size: int, **fields: Any) -> dict[str, Any]:
    """A GET from 127.0.0.1 to frontend fe, backend be_ok, server web1 (the lines of HAProxy 2.6.12)."""
    return _ok(ts, method="GET", path=path, protocol="HTTP/1.1", status=status, bytes=size,
               client_ip="127.0.0.1", frontend="fe", backend="be_ok", server="web1", **fields)


# real lines HAProxy 2.6.12 (Debian 12) wrote with `log stdout format <f>` for requests to frontend fe
_R_OK = ('127.0.0.1:46680 [04/Dec/2026:16:31:38.827] fe be_ok/web1 0/0/0/4/4 200 581 - - ---- '
         '1/1/0/0/0 0/0 "GET / HTTP/1.1"')
_R_503 = ("127.0.0.1:46698 [04/Dec/2026:16:31:38.852] fe be_down/<NOSRV> 0/-1/-1/-1/0 503 217 - - SC-- "
          '1/1/0/0/0 0/0 "GET /down HTTP/1.1"')
_R_404 = ' be_ok/web1 0/0/{}/1 404 500 - - ---- 1/1/0/0/0 0/0 "GET /x HTTP/1.1"'
_TRUNC_HEAD = ('127.0.0.1:46730 [04/Dec/2026:16:31:39.018] fe be_ok/web1 0/0/0/1/1 404 500 - - ---- '
               '1/1/0/0/0 0/0 "GET /')
_R_TRUNC = _TRUNC_HEAD + "a" * (1023 - len(_TRUNC_HEAD))
# examples of configuration.txt (v3.0.0), their broken lines joined
_D_HTTP = ("Feb  6 12:14:14 localhost haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in "
           'static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} '
           '"GET /index.html HTTP/1.1"')
_D_502 = ("haproxy[674]: 127.0.0.1:33320 [15/Oct/2003:08:32:17.925] px-http px-http/srv1 9/0/7/14/30 502 "
          '243 - - PH-- 3/2/2/0/0 0/0 "GET /cgi-bin/bug.cgi? HTTP/1.0"')
_D_503 = ("haproxy[18989]: 10.0.0.1:34552 [15/Oct/2003:15:26:31.462] px-http px-http/srv1 "
          '3183/-1/-1/-1/11215 503 0 - - SC-- 205/202/202/115/3 0/0 "HEAD / HTTP/1.0"')
_PX = {"client_ip": "127.0.0.1", "frontend": "px-http", "backend": "px-http"}

ACCESS_SAMPLES = (
    Sample(
        message=_R_OK,
        expected=_local("2026-12-04T16:31:38.827000Z", "/", 200, 581, duration=0.004, queue_time=0.0,
                        connect_time=0.0, server_time=0.004),
        note="HAProxy 2.6.12, log stdout format raw",
    ),
    Sample(
        message=_R_OK,
        expected=_local("2026-12-04T15:31:38.827000Z", "/", 200, 581, duration=0.004, queue_time=0.0,
                        connect_time=0.0, server_time=0.004),
        settings={"timezone": "Europe/Paris"},
        note="an HAProxy host whose local time is Europe/Paris (the timezone setting): CET, one hour ahead",
    ),
    Sample(
        message=_D_HTTP,
        expected=_ok("2009-02-06T12:14:14.655000Z", method="GET", path="/index.html", protocol="HTTP/1.1",
                     status=200, bytes=2750, duration=0.109, client_ip="10.0.1.2", frontend="http-in",
                     backend="static", server="srv1", queue_time=0.0, connect_time=0.03, server_time=0.069),
        note="configuration manual 8.2.3: syslog header, captured headers",
    ),
    Sample(
        message=_D_HTTP.replace("http-in", "https-in") + " 0/0/0/0/0 1wt.eu/TLSv1.3/TLS_AES_256_GCM_SHA384",
        expected=_ok("2009-02-06T12:14:14.655000Z", method="GET", path="/index.html", protocol="HTTP/1.1",
                     status=200, bytes=2750, duration=0.109, client_ip="10.0.1.2", frontend="https-in",
                     backend="static", server="srv1", queue_time=0.0, connect_time=0.03, server_time=0.069),
        note="configuration manual 8.2.4: option httpslog, TLS fields after the request",
    ),
    Sample(
        message=_R_503,
        expected=access_event("2026-12-04T16:31:38.852000Z", method="GET", path="/down", protocol="HTTP/1.1",
                              status=503, bytes=217, duration=0.0, client_ip="127.0.0.1", frontend="fe",
                              backend="be_down", server="<NOSRV>", termination_state="SC--", retries=0,
                              message=_R_503),
        note="503 from a backend without a server: -1 timers are null, the raw line is kept",
    ),
    Sample(
        message=_D_502,
        expected=access_event("2003-10-15T08:32:17.925000Z", method="GET", path="/cgi-bin/bug.cgi?",
                              protocol="HTTP/1.0", status=502, bytes=243, duration=0.03, server="srv1",
                              termination_state="PH--", queue_time=0.0, connect_time=0.007,
                              server_time=0.014, retries=0, message=_D_502, **_PX),
        note="configuration manual 8.9: 502 decided by HAProxy (PH--)",
    ),
    Sample(
        message=_D_503,
        expected=access_event("2003-10-15T15:26:31.462000Z", method="HEAD", path="/", protocol="HTTP/1.0",
                              status=503, bytes=0, duration=11.215, client_ip="10.0.0.1", frontend="px-http",
                              backend="px-http", server="srv1", termination_state="SC--", retries=3,
                              message=_D_503),
        note="configuration manual 8.9: connection failed after 3 retries",
    ),
    Sample(
        message="haproxy[18113]: 127.0.0.1:34548 [15/Oct/2003:15:18:55.798] px-http px-http/<NOSRV> "
        '-1/-1/-1/-1/8490 -1 0 - - CR-- 2/2/2/0/0 0/0 ""',
        expected=access_event("2003-10-15T15:18:55.798000Z", bytes=0, duration=8.49, server="<NOSRV>",
                              termination_state="CR--", retries=0, **_PX),
        note="configuration manual 8.9: client aborted, status -1 is null, empty request",
    ),
    Sample(
        message="haproxy[18113]: 127.0.0.1:34549 [15/Oct/2003:15:19:06.103] px-http px-http/<NOSRV> "
        '-1/-1/-1/-1/50001 408 0 - - cR-- 2/2/2/0/0 0/0 ""',
        expected=access_event("2003-10-15T15:19:06.103000Z", status=408, bytes=0, duration=50.001,
                              server="<NOSRV>", termination_state="cR--", retries=0, **_PX),
        note="configuration manual 8.9: client timeout, 408",
    ),
    Sample(
        message="haproxy[674]: 127.0.0.1:33320 [15/Oct/2003:08:32:17.654] px-http px-http/srv1 "
        '9/0/7/14/+30 200 +243 - - ---- 3/3/3/1/0 0/0 "GET /image.iso HTTP/1.0"',
        expected=_ok("2003-10-15T08:32:17.654000Z", method="GET", path="/image.iso", protocol="HTTP/1.0",
                     status=200, bytes=243, duration=0.03, server="srv1", queue_time=0.0, connect_time=0.007,
                     server_time=0.014, **_PX),
        note="configuration manual 8.9: option logasap, + before Ta and bytes",
    ),
    Sample(
        message="Aug  9 20:26:09 localhost haproxy[2022]: 127.0.0.1:34014 [09/Aug/2004:20:26:09] proxy-out "
        "proxy-out/cache1 0/0/0/162/+162 200 +350 - - ---- 0/0/0/0/0 0/0 "
        '{fr.adserver.yahoo.co||http://fr.f416.mail.} {|864|private||} "GET http://fr.adserver.yahoo.com/"',
        expected=_ok("2004-08-09T20:26:09.000000Z", method="GET", path="http://fr.adserver.yahoo.com/",
                     status=200, bytes=350, duration=0.162, client_ip="127.0.0.1", frontend="proxy-out",
                     backend="proxy-out", server="cache1", queue_time=0.0, connect_time=0.0,
                     server_time=0.162),
        note="configuration manual 8.8: date without milliseconds, request without a version",
    ),
    Sample(
        message="127.0.0.1:60272 [04/Dec/2026:16:36:02.189] fe fe/<NOSRV> -1/-1/-1/-1/0 400 0 - - PR-- "
        '1/1/0/0/0 0/0 "<BADREQ>"',
        expected=access_event("2026-12-04T16:36:02.189000Z", status=400, bytes=0, duration=0.0,
                              client_ip="127.0.0.1", frontend="fe", backend="fe", server="<NOSRV>",
                              termination_state="PR--", retries=0),
        note="HAProxy 2.6.12: invalid request, <BADREQ>",
    ),
    Sample(
        message="::1:48972 [04/Dec/2026:16:36:00.376] fe be_ok/web1 0/0/0/0/0 404 500 - - ---- 1/1/0/0/0 0/0 "
        '"GET /v6 HTTP/1.1"',
        expected={**_local("2026-12-04T16:36:00.376000Z", "/v6", 404, 500, duration=0.0, queue_time=0.0,
                           connect_time=0.0, server_time=0.0), "client_ip": "::1"},
        note="HAProxy 2.6.12: IPv6 client",
    ),
    Sample(
        message="127.0.0.1:46732 [04/Dec/2026:16:31:39.028] fe be_ok/web1 0/0/0/3/4 404 500 - - ---- "
        '1/1/0/0/0 0/0 "GET /q?x=#22y#22&t=#2322 HTTP/1.1"',
        expected=_local("2026-12-04T16:31:39.028000Z", '/q?x="y"&t=#22', 404, 500, duration=0.004,
                        queue_time=0.0, connect_time=0.0, server_time=0.003),
        note='HAProxy writes " as #22 and # as #23: decoded',
    ),
    Sample(
        message=_R_TRUNC,
        expected={**_local("2026-12-04T16:31:39.018000Z", _R_TRUNC[len(_TRUNC_HEAD) - 1:], 404, 500,
                           duration=0.001, queue_time=0.0, connect_time=0.0, server_time=0.001),
                  "protocol": None},
        note="HAProxy 2.6.12: line cut at 1024 bytes, no closing quote",
    ),
    Sample(
        message="<134>Dec  4 16:33:31 localhost haproxy[27887]: 127.0.0.1:45716 [04/Dec/2026:16:33:31.509] fe"
        + _R_404.format("0/1"),
        expected=_local("2026-12-04T16:33:31.509000Z", "/x", 404, 500, duration=0.001, queue_time=0.0,
                        connect_time=0.0, server_time=0.001),
        note="HAProxy 2.6.12: log format rfc3164",
    ),
    Sample(
        message="<134>1 2026-12-04T16:33:33.039639+00:00 - haproxy 28189 - - 127.0.0.1:45726 "
        "[04/Dec/2026:16:33:33.037] fe" + _R_404.format("1/0"),
        expected=_local("2026-12-04T16:33:33.037000Z", "/x", 404, 500, duration=0.001, queue_time=0.0,
                        connect_time=0.001, server_time=0.0),
        note="HAProxy 2.6.12: log format rfc5424",
    ),
    Sample(
        message="<6>2026-12-04T16:33:26.895294+00:00 127.0.0.1:55172 [04/Dec/2026:16:33:26.892] fe"
        + _R_404.format("0/1"),
        expected=_local("2026-12-04T16:33:26.892000Z", "/x", 404, 500, duration=0.001, queue_time=0.0,
                        connect_time=0.0, server_time=0.001),
        note="HAProxy 2.6.12: log format timed",
    ),
    Sample(
        message="2026-11-26T13:00:00.123456+01:00 lb-1 haproxy[2101]: 203.0.113.7:51234 "
        '[26/Nov/2026:12:00:00.120] www~ app/web2 1/0/2/40/45 201 1534 - - ---- 12/12/3/1/0 0/0 '
        '"POST /api/orders HTTP/2.0"',
        expected=_ok("2026-11-26T12:00:00.120000Z", method="POST", path="/api/orders", protocol="HTTP/2.0",
                     status=201, bytes=1534, duration=0.045, client_ip="203.0.113.7", frontend="www",
                     backend="app", server="web2", queue_time=0.0, connect_time=0.002, server_time=0.04),
        note="rsyslog high-precision file format; TLS frontend (~) named without its ~",
    ),
    Sample(
        message="unix:1 [26/Nov/2026:12:00:00.000] fe be/s1 0/0/0/2/3 200 10 - - ---- 1/1/0/0/0 0/0 "
        '"GET /u HTTP/1.1"',
        expected=_ok("2026-11-26T12:00:00.000000Z", method="GET", path="/u", protocol="HTTP/1.1", status=200,
                     bytes=10, duration=0.003, client_ip="unix", frontend="fe", backend="be", server="s1",
                     queue_time=0.0, connect_time=0.0, server_time=0.002),
        note="client on a UNIX socket (address unix, port the socket id)",
    ),
    Sample(
        message="10.0.0.9:40000 [26/Nov/2026:12:00:00.000] fe be/s2 0/0/-1/-1/-1 -1 0 - - CC-- 1/1/0/0/+3 "
        '0/0 "GET /gone HTTP/1.1"',
        expected=access_event("2026-11-26T12:00:00.000000Z", method="GET", path="/gone", protocol="HTTP/1.1",
                              bytes=0, client_ip="10.0.0.9", frontend="fe", backend="be", server="s2",
                              termination_state="CC--", queue_time=0.0, retries=3),
        note="Ta of -1: the row stays, duration null; +3: redispatched after 3 retries",
    ),
    Sample(
        message="Nov 26 12:00:00 lb-1 haproxy[7]: 10.0.0.9:40001 [26/Nov/2026:12:00:00.250] fe be/s1 "
        '0/0/0/5/6 200 99 - - ---- 1/1/0/0/0 0/0 \\"GET /esc HTTP/1.1\\"',
        expected=_ok("2026-11-26T12:00:00.250000Z", method="GET", path="/esc", protocol="HTTP/1.1",
                     status=200, bytes=99, duration=0.006, client_ip="10.0.0.9", frontend="fe", backend="be",
                     server="s1", queue_time=0.0, connect_time=0.0, server_time=0.005),
        note='quotes escaped \\" by syslog-ng (configuration manual 8.6)',
    ),
    Sample(
        message="127.0.0.1:46716 [04/Dec/2026:16:31:38.869] fe fe/<PROMEX> 0/0/0/0/0 200 57119 - - LR-- "
        '1/1/0/0/0 0/0 "GET /metrics HTTP/1.1"',
        expected={**_local("2026-12-04T16:31:38.869000Z", "/metrics", 200, 57119, duration=0.0,
                           queue_time=0.0, connect_time=0.0, server_time=0.0),
                  "backend": "fe", "server": "<PROMEX>", "termination_state": "LR--"},
        note="HAProxy 2.6.12: a request the Prometheus exporter answered",
    ),
    Sample(
        message="haproxy[18989]: 127.0.0.1:34550 [15/Oct/2003:15:24:28.312] px-tcp px-tcp/srv1 0/0/5007 0 cD "
        "0/0/0/0/0 0/0",
        expected=None,
        note="configuration manual 8.9: option tcplog line, not an HTTP request: parse_error",
    ),
    Sample(message="this is not an HAProxy log line", expected=None, note="garbage: parse_error"),
    Sample(message="", expected=None, note="empty line: parse_error"),
    Sample(
        message="127.0.0.1:1 [31/Foo/2026:12:00:00.000] fe be/s1 0/0/0/1/1 200 1 - - ---- 1/1/0/0/0 0/0 "
        '"GET / HTTP/1.1"',
        expected=None,
        note="impossible date: parse_error",
    ),
    Sample(message="Dec  4 16:33:28 lb-1 haproxy[27554]: ", expected=None, note="a header without text"),
)

_DOWN = ('Server be_down/gone is DOWN, reason: Layer4 connection problem, info: "Connection refused", '
         "check duration: 0ms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, "
         "0 remaining in queue.")
_UP = ("Server app/web2 is UP, reason: Layer4 check passed, check duration: 0ms. 1 active and 0 backup "
       "servers online. 0 sessions requeued, 0 total in queue.")
_CHECK = ('Health check for server app/web2 failed, reason: Layer4 connection problem, info: "Connection '
          'refused", check duration: 0ms, status: 0/2 DOWN.')
_NO_SERVER = "backend be_down has no server available!"
_CONNECT = "Connect from 10.0.1.2:33312 to 10.0.3.31:8012 (www/HTTP)"
_Y = _NOW.year
MESSAGE_SAMPLES = (
    Sample(
        message=f"<1>2026-12-04T16:33:25.715324+00:00 {_DOWN}",
        expected=error_event("2026-12-04T16:33:25.715324Z", "alert", _DOWN, proxy="be_down", server="gone"),
        note="HAProxy 2.6.12, log format timed: server DOWN at level alert (<1>)",
    ),
    Sample(
        message=f"<128>Dec  4 16:33:28 haproxy[27554]: {_NO_SERVER}",
        expected=error_event(f"{_DEC_YEAR}-12-04T16:33:28.000000Z", "emerg", _NO_SERVER, pid=27554,
                             proxy="be_down"),
        note="HAProxy 2.6.12, log format local: no server available at emerg (<128>)",
    ),
    Sample(
        message=f"<129>1 2026-12-04T16:33:31.856115+00:00 - haproxy 28189 - - {_DOWN}",
        expected=error_event("2026-12-04T16:33:31.856115Z", "alert", _DOWN, pid=28189, proxy="be_down",
                             server="gone"),
        note="HAProxy 2.6.12, log format rfc5424",
    ),
    Sample(
        message=f"Dec  4 16:33:30 lb-1 haproxy[27887]: {_DOWN}",
        expected=error_event(f"{_DEC_YEAR}-12-04T16:33:30.000000Z", "alert", _DOWN, pid=27887,
                             proxy="be_down", server="gone"),
        note="Debian's /var/log/haproxy.log (rsyslog, no priority): level from HAProxy's source",
    ),
    Sample(
        message="Dec  3 18:27:14 localhost haproxy[6103]: 127.0.0.1:56059 [03/Dec/2012:17:35:10.380] frt/f1: "
        "Connection error during SSL handshake",
        expected=error_event("2012-12-03T17:35:10.380000Z", "info", "Connection error during SSL handshake",
                             pid=6103, client_ip="127.0.0.1", proxy="frt"),
        note="configuration manual 8.2.5: connection error, the accept date is its time",
    ),
    Sample(
        message="127.0.0.1:57794 [04/Dec/2026:16:34:16.188] tls/1: SSL handshake failure",
        expected=error_event("2026-12-04T16:34:16.188000Z", "info", "SSL handshake failure",
                             client_ip="127.0.0.1", proxy="tls"),
        note="HAProxy 2.6.12, raw: plain HTTP sent to a TLS port",
    ),
    Sample(
        message=f"Feb  6 12:12:09 localhost haproxy[14385]: {_CONNECT}",
        expected=error_event(f"{_Y}-02-06T12:12:09.000000Z", "info", _CONNECT, pid=14385,
                             client_ip="10.0.1.2", proxy="www"),
        note="configuration manual 8.2.1: the default (connection) log format",
    ),
    Sample(
        message=f"Nov 26 12:00:00 lb-1 haproxy[2101]: {_CHECK}",
        expected=error_event(f"{_Y}-11-26T12:00:00.000000Z", "notice", _CHECK, pid=2101, proxy="app",
                             server="web2"),
        note="option log-health-checks (src/check.c)",
    ),
    Sample(
        message=f"Nov 26 12:00:00 lb-1 haproxy[2101]: {_UP}",
        expected=error_event(f"{_Y}-11-26T12:00:00.000000Z", "notice", _UP, pid=2101, proxy="app",
                             server="web2"),
        note="server UP at notice",
    ),
    Sample(
        message="Nov 26 12:00:00 lb-1 haproxy[2101]: some message a later HAProxy may write",
        expected=error_event(f"{_Y}-11-26T12:00:00.000000Z", None, "some message a later HAProxy may write",
                             pid=2101),
        note="an unknown message in HAProxy's file: kept, level unknown",
    ),
    Sample(message="Server is on fire", expected=None, note="unknown text without a header: parse_error"),
)

_ENDPOINT = "http://10.0.0.5:8405/metrics"


def _metric(name: str, kind: str, value: float, **labels: str) -> Sample:
    """A prometheus_scrape metric as metric_to_log emits it (remote exporter 10.0.0.5)."""
    metric: dict[str, Any] = {
        "name": name,
        "tags": {**labels, "endpoint": _ENDPOINT},
        "kind": "absolute",
        kind: {"value": value},
        "timestamp": "2026-11-26T12:00:15.5Z",
    }
    expected = {
        "type": "haproxy_metrics", "host": "10.0.0.5", "timestamp": "2026-11-26T12:00:15.500000Z",
        "name": name, "kind": kind, "endpoint": _ENDPOINT, "proxy": labels.get("proxy"),
        "server": labels.get("server"), "state": labels.get("state") or labels.get("code"), "value": value,
    }
    return Sample(input=metric, expected=expected, note=f"{kind} {name}")


METRICS_SAMPLES = (
    _metric("haproxy_server_status", "gauge", 1.0, proxy="app", server="web1", state="UP"),
    _metric("haproxy_backend_http_responses_total", "counter", 17.0, proxy="app", code="5xx"),
    _metric("haproxy_process_current_connections", "gauge", 3.0),
    _metric("haproxy_frontend_current_sessions", "gauge", 2.0, proxy="www"),
    _metric("haproxy_backend_current_queue", "gauge", 0.0, proxy="app"),
    Sample(
        input={"name": "haproxy_server_check_status", "kind": "absolute", "gauge": {"value": 1.0},
               "tags": {"proxy": "app", "server": "web1", "state": "L4OK", "endpoint": _ENDPOINT},
               "timestamp": "2026-11-26T12:00:15Z"},
        no_event=True,
        note="a family Dendro does not keep: no event",
    ),
    Sample(
        input={"name": "haproxy_server_status", "tags": {}, "kind": "absolute",
               "distribution": {"samples": [], "statistic": "histogram"},
               "timestamp": "2026-11-26T12:00:15Z"},
        expected=None,
        note="a kept name without a gauge or counter value: parse_error",
    ),
)

# -- the demo traffic --------------------------------------------------------------------------


def demo_access_line(rng: random.Random, now: datetime, scene: Scene, host: str = "lb-1") -> str:
    """One line as Debian's rsyslog writes HAProxy's httplog to /var/log/haproxy.log at ``now``.

    During a broken deploy a fifth of the requests find no server (503, SC--), one in eight times
    out on its server (504, sH--) and half of the others are 25 times slower; answers take the
    node's latency.
    """
    incident = scene.during(DEPLOY)
    now = now.astimezone(UTC)
    path = rng.choice(DEMO_PATHS)
    method = "POST" if path in ("/api/pay", "/login") else "GET"
    client = f"10.1.{rng.randint(0, 9)}.{rng.randint(1, 254)}:{rng.randint(1024, 65535)}"
    server = rng.choice(("web1", "web2", "web3"))
    roll = rng.random()
    if incident and roll < 0.2:
        queue, connect, answer, active, status, size, term = 0, -1, -1, 0, 503, 217, "SC--"
        server = "<NOSRV>"
    elif incident and roll < 0.33:
        queue, connect, answer, active, status, size, term = 0, 1, -1, 30_001, 504, 218, "sH--"
    else:
        slower = 25 if incident and rng.random() < 0.5 else 1
        answer = int(rng.lognormvariate(3.3, 0.8) * scene.latency * slower)
        queue, connect, active, size, term = 0, rng.randint(0, 2), 0, rng.randint(200, 40_000), "----"
        active = answer + connect + rng.randint(0, 3)
        status = 200 if roll < 0.95 else rng.choice((404, 401, 302))
    start = now - timedelta(milliseconds=active)
    accept = start.strftime("%d/%b/%Y:%H:%M:%S.") + f"{start.microsecond // 1000:03d}"
    header = now.strftime("%b ") + f"{now.day:>2}" + now.strftime(" %H:%M:%S") + f" {host} haproxy[2101]:"
    srv_conn = rng.randint(0, 8)
    be_conn = srv_conn + rng.randint(0, 10)
    fe_conn = be_conn + rng.randint(1, 10)
    conns = f"{fe_conn + rng.randint(0, 5)}/{fe_conn}/{be_conn}/{srv_conn}/0"
    return (f"{header} {client} [{accept}] www~ app/{server} 0/{queue}/{connect}/{answer}/{active} {status} "
            f'{size} - - {term} {conns} 0/0 "{method} {path} HTTP/1.1"')


def demo_line(rng: random.Random, now: datetime, scene: Scene, host: str) -> str:
    """A request; during a broken deploy, one line in ten is a server of backend app going DOWN
    (its health checks fail again and again while the release restarts)."""
    if scene.during(DEPLOY) and rng.random() < 0.1:
        header = now.strftime("%b ") + f"{now.day:>2}" + now.strftime(" %H:%M:%S") + f" {host} haproxy[2101]:"
        return f"{header} {_DOWN.replace('be_down/gone', 'app/web2')}"
    return demo_access_line(rng, now, scene, host)


#: requests a second an average node answers at an average hour
DEMO_RATE = 0.8


def demo_metrics(rng: random.Random, now: datetime, scene: Scene, host: str) -> list[dict[str, Any]]:
    """A scrape of the local exporter as prometheus_scrape and metric_to_log give it: the charted
    families of :data:`METRICS` (counters grow with what was served); queues and a lost server
    during a broken deploy."""
    incident = scene.during(DEPLOY)
    up = scene.served * DEMO_RATE / 20
    connections = round(rng.randint(5, 40) * scene.load) * (3 if incident else 1)
    gauges = {
        ("haproxy_process_current_connections", ()): connections,
        ("haproxy_frontend_current_sessions", (("proxy", "www"),)): rng.randint(2, 30),
        ("haproxy_backend_current_queue", (("proxy", "app"),)): rng.randint(5, 50) if incident else 0,
        ("haproxy_backend_active_servers", (("proxy", "app"),)): 2 if incident else 3,
    }
    counters = {
        ("haproxy_backend_http_responses_total", (("proxy", "app"), ("code", "2xx"))): up * 20,
        ("haproxy_backend_http_responses_total", (("proxy", "app"), ("code", "4xx"))): up,
        ("haproxy_backend_http_responses_total", (("proxy", "app"), ("code", "5xx"))): up * 0.2,
        ("haproxy_backend_connection_errors_total", (("proxy", "app"),)): up * 0.01,
        ("haproxy_server_check_failures_total", (("proxy", "app"), ("server", "web2"))): up * 0.005,
    }
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return [
        {"name": name, "tags": {**dict(labels), "endpoint": "http://127.0.0.1:8405/metrics"}, "host": host,
         "kind": "absolute", kind: {"value": float(int(value))}, "timestamp": stamp}
        for kind, values in (("gauge", gauges), ("counter", counters))
        for (name, labels), value in values.items()
    ]


#: the metrics Dendro charts and exposes (of those it stores): connections, sessions, queues,
#: servers up, answers and errors (counters summed over their proxies, servers and classes)
METRICS = Metrics(
    table="haproxy_metrics",
    gauges=(
        Gauge("haproxy_process_current_connections", "Current connections"),
        Gauge("haproxy_frontend_current_sessions", "Frontend sessions"),
        Gauge("haproxy_backend_current_queue", "Requests queued in backends"),
        Gauge("haproxy_backend_active_servers", "Active servers"),
        Gauge("haproxy_backend_http_responses_total", "Backend HTTP answers", counter=True),
        Gauge("haproxy_backend_connection_errors_total", "Backend connection errors", counter=True),
        Gauge("haproxy_server_check_failures_total", "Failed health checks", counter=True),
    ),
    tags=("proxy", "server", "state"),
)

LOG_PANELS = LogPanels(
    "HAProxy backends and messages",
    "Requests per backend and server from haproxy_access, and HAProxy's own messages from haproxy_error.",
    (
        LogPanel(
            "HAProxy requests by backend and server",
            "Requests, 5xx answers, p95 duration and retries per backend and server in the range"
            " (<NOSRV>: no server was available).",
            "short",
            "haproxy_access",
            "SELECT backend, server, count(*) AS requests,"
            " sum(CASE WHEN status >= 500 THEN 1 ELSE 0 END) AS errors,"
            " approx_percentile(duration, 0.95) AS p95_duration, sum(retries) AS retries"
            " FROM {table} WHERE {where} GROUP BY backend, server ORDER BY requests DESC LIMIT 50",
            ("backend", "server", "requests", "errors", "p95_duration", "retries"),
        ),
        LogPanel(
            "HAProxy messages",
            "The last 100 messages HAProxy logged (servers going DOWN or UP, backends without a server,"
            " connection errors), newest first.",
            "short",
            "haproxy_error",
            "SELECT time, host, level, proxy, server, message FROM {table} WHERE {where}"
            " ORDER BY time DESC LIMIT 100",
            ("time", "host", "level", "proxy", "server", "message"),
        ),
    ),
)

SERVICE = Service(
    name="haproxy",
    title="HAProxy",
    settings=(
        Setting("log", "HAProxy log files (option httplog)", ["/var/log/haproxy.log"], kind="list"),
        Setting("metrics_url", "HAProxy Prometheus exporter URL, e.g. http://127.0.0.1:8405/metrics "
                "(empty: none)", "", kind="url"),
        timezone_setting("time zone of the log's accept dates (HAProxy writes local time)"),
    ),
    sources=(
        log_file("haproxy_logs", "haproxy_log", "log"),
        Source(
            id="haproxy_metrics",
            kind="prometheus_scrape",
            parser="haproxy_metrics",
            options={"endpoints": ["{metrics_url}"], "endpoint_tag": "endpoint"},
        ),
    ),
    parsers=(
        Parser(id="haproxy_log", vrl=LOG_VRL, samples=ACCESS_SAMPLES + MESSAGE_SAMPLES),
        Parser(id="haproxy_metrics", vrl=METRICS_VRL, samples=METRICS_SAMPLES, metrics=True),
    ),
    tables=(ACCESS_TABLE, ERROR_TABLE, METRICS_TABLE),
    red=(red("haproxy_access"),),
    alert_events=alert_events("haproxy", "haproxy_access", "haproxy_error", "HAProxy"),
    server_config=SERVER_CONFIG,
    server_config_help=SERVER_CONFIG_HELP,
    role="http",
    metrics=(METRICS,),
    demo=(
        DemoFeed("haproxy_logs", line=demo_line, rate=DEMO_RATE),
        DemoFeed("haproxy_metrics", inputs=demo_metrics),
    ),
    log_panels=(LOG_PANELS,),
    examples=(
        five_hundreds_example("haproxy_access", "HAProxy"),
        slowest_paths_example("haproxy_access"),
        Example(
            "HAProxy requests that found no server (last 24 hours)",
            "SELECT backend, termination_state, count(*) AS requests, max(time) AS last_seen\n"
            'FROM {db}."haproxy_access"\nWHERE time > ago(24h) AND server = \'<NOSRV>\'\n'
            "GROUP BY backend, termination_state\nORDER BY requests DESC",
            ("haproxy_access",),
        ),
    ),
)
