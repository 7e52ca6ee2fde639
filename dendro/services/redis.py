"""Redis: the server log, and the server's ``INFO`` read by ``redis-cli`` through Vector's exec source.

Log lines are what ``serverLogRaw`` (redis/redis ``src/server.c``) writes::

    pid:role DD Mon YYYY HH:MM:SS.mmm L message        (Redis >= 5.0)
    pid:role DD Mon HH:MM:SS.mmm L message             (3.0 to 4.0: no year)
    [pid] DD Mon HH:MM:SS.mmm L message                (2.6, 2.8: no role)
    [pid] DD Mon HH:MM:SS L message                    (2.4 and older, sometimes without [pid])
    pid:signal-handler (epoch) message                 (written from a signal handler, >= 3.0)

``role`` is ``M`` master, ``S`` replica, ``C`` a child writing an RDB/AOF file, ``X`` Sentinel;
``L`` the level: ``.`` debug, ``-`` verbose, ``*`` notice, ``#`` warning (``loglevel``'s names).
A signal-handler line carries no level and no role: Redis writes it at warning level (every
caller but one passes ``LL_WARNING``), so it gets ``warning`` and no role. Times are the Redis
process's local time without a zone: they are read in the service's ``timezone`` setting (an IANA
name, ``dendro configure`` offers the node's own zone; it is the remap transform's ``timezone``
and vrl-python's runner's alike). A year-less time gets the current year, except that a December line read in
January belongs to the previous year (as the syslog parser does).

Not every line is a record. Redis writes its ASCII-art logo without the prefix when the log is a
terminal or ``always-show-logo yes`` is set (and always before 4.0), followed by a blank line:
those lines are log structure and make no event (``. = []``); a line is taken for a logo line
only if it is made of the logo's drawing characters (and holds a backquote or ``_._``),
optionally followed by one of the logo's texts (``Redis 7.0.15 (00000000/0) 64 bit``,
``Running in standalone mode``, ``Port: 6379``, ``PID: 1234``, ``https://redis.io``). Anything
else without the prefix (the raw sections of a crash report: stack trace, registers, INFO dump)
is a parse_error that keeps the line: nothing of a crash report is thrown away.

``level`` is no error signal: Redis writes routine lines at ``#`` (``Server initialized``,
``Configuration loaded``, ``User requested shutdown...``). So the parser classifies the warning
lines that are known problems into ``problem``, from the messages in Redis's source:

- ``rdb_save_failed``: the parent's ``Background saving error``, ``Background saving terminated
  by signal N`` (not 10, SIGUSR1 on Linux, which Redis sends to stop its own child),
  ``Can't save in background: fork: …``, ``Error trying to save the DB, can't exit.``, and a
  foreground ``SAVE``'s ``Failed opening the temp RDB file…`` / ``Write error saving DB on
  disk…`` / ``Error moving temp DB file…``. The same lines from the child (role ``C``) are the
  cause, and stay unclassified: one failure, one problem line;
- ``aof_failed``: ``Background AOF rewrite terminated with error``/``by signal N``,
  ``Error writing to the AOF file``, fsync failures and the like;
- ``replication_error``: ``Error condition on socket for SYNC``, ``Connection with master
  lost.``, ``MASTER timeout…``, ``Unable to connect to MASTER…``…;
- ``crash``: ``Redis … crashed by signal``, ``Guru Meditation``, ``=== ASSERTION FAILED ===``,
  ``Out Of Memory allocating…``;
- ``failover``: Sentinel's ``+odown`` and ``+switch-master`` events;
- ``config_warning``: the ``WARNING …`` lines about the system (overcommit_memory, THP, TCP
  backlog, maxmemory).

``MISCONF`` and ``OOM command not allowed`` are replies to clients, never log lines; they are
counted by ``INFO``'s ``errorstat_MISCONF`` / ``errorstat_OOM``, which the metrics keep. The slow
log is not in the log file either (it lives in memory, read with ``SLOWLOG GET``): no parser.

Metrics: Vector has no Redis metrics source (its ``redis`` source reads events from a Redis list
or channel). The ``exec`` source runs ``redis-cli --no-auth-warning -u <url> INFO`` every 15 s;
each line of the reply is one event (newline_delimited framing, the ``\\r`` of Redis's ``\\r\\n``
kept) and becomes one ``redis_metrics`` row for the fields Dendro keeps (:data:`GAUGES`,
:data:`COUNTERS`, :data:`STATUSES`, ``dbN`` keyspace lines, ``errorstat_*``); section headers,
blank lines and the other fields make no event. ``up`` is 1 for the reply's ``redis_version``
line and 0 for redis-cli's ``Could not connect to Redis at …``; any other unexpected line (an
authentication error) is a parse_error that shows it.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

from dendro.services.base import (
    TIMESTAMP_FORMAT,
    AlertEvent,
    Column,
    DemoFeed,
    Example,
    Gauge,
    LogPanel,
    LogPanels,
    Metrics,
    Parser,
    Red,
    Sample,
    Service,
    Setting,
    Source,
    log_file,
)
from dendro.services.db_common import log_table, metrics_table, recent_panel
from dendro.services.scene import DISK_FILLING, Scene
from dendro.services.zones import timezone_setting

#: serverLogRaw's level characters (``c = ".-*#"``) by loglevel name
LEVELS = {".": "debug", "-": "verbose", "*": "notice", "#": "warning"}
#: serverLogRaw's role characters
ROLES = {"M": "master", "S": "replica", "C": "child", "X": "sentinel"}

#: every prefix of serverLogRaw since 2.x (pid:role or [pid] or nothing, year or not, ms or not)
LINE_RE = (
    r"^(?:(?P<pid>\d+):(?P<role>[XCSM]) |\[(?P<oldpid>\d+)\] )?"
    r"(?P<day>\d{1,2}) (?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (?:(?P<year>\d{4}) )?"
    r"(?P<time>\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?) (?P<lvl>[.*#-]) (?P<message>.*)$"
)
#: serverLogFromHandler: ``pid:signal-handler (epoch seconds) message``
SIGNAL_RE = r"^(?P<pid>\d+):signal-handler \((?P<epoch>\d+)\) (?P<message>.*)$"
#: a line of the ASCII-art logo (asciilogo.h): drawing characters, then perhaps one of its texts
LOGO_RE = (
    r"^[ _.`\x27,()|/\\-]*(?:(?:Redis \S+ \([0-9a-f]+/\d+\) \d+ bit|Running in [a-z ]+ mode|Port: \d+"
    r"|PID: \d+|https?://redis\.io) *)?$"
)

#: warning lines that are known problems, by class (Rust regex: ``\x27`` is the apostrophe)
PROBLEMS = (
    ("crash", r"crashed by signal|^Guru Meditation|^=== ASSERTION FAILED ===|^Out Of Memory allocating"),
    (
        "rdb_save_failed",
        r"^Background saving error|^Background saving terminated by signal \d+$"
        r"|^Can\x27t save in background: fork|^Error trying to save the DB, can\x27t exit"
        r"|^Failed opening the temp RDB file|^Write error saving DB on disk|^Error moving temp DB file",
    ),
    (
        "aof_failed",
        r"^Background AOF rewrite terminated (?:with error|by signal \d+$)"
        r"|^Can\x27t rewrite append only file in background|^Error writing to the AOF file"
        r"|^Can\x27t persist AOF for fsync error|^Can\x27t recover from AOF write error"
        r"|^AOF fsync policy is \x27always\x27|^Fail to fsync the AOF file"
        r"|^Short write while writing to the AOF file",
    ),
    (
        "replication_error",
        r"^Error condition on socket for SYNC|^Unable to connect to MASTER|^Timeout connecting to the MASTER"
        r"|^MASTER timeout|^Connection with master lost"
        r"|^I/O error (?:reading|trying to sync|writing to).*MASTER"
        r"|^Unable to AUTH to MASTER|^MASTER aborted replication|^Master did not respond"
        r"|^Failed trying to load the MASTER synchronization|^Timeout receiving bulk data from MASTER"
        r"|^SYNC failed|^BGSAVE for replication failed",
    ),
    ("failover", r"^\+(?:odown|switch-master) "),
    ("config_warning", r"^WARNING\b"),
)

_PROBLEMS_VRL = "\n".join(
    f"    {'if' if i == 0 else '} else if'} match(text, r'{regex}') {{\n      problem = \"{name}\""
    for i, (name, regex) in enumerate(PROBLEMS)
) + "\n    }"

_LOG_TEMPLATE = r"""
raw = string!(.message)
if match(raw, r'^\s*$') || (match(raw, r'{LOGO_RE}') && (contains(raw, "`") || contains(raw, "_._"))) {
  # the ASCII-art logo and the blank line after it: log structure, not data
  . = []
} else {
  # VRL variables are block-scoped: declare them before the branches assign them
  ts = null
  pid = null
  role = null
  level = "warning"
  text = ""
  s, err = parse_regex(raw, r'{SIGNAL_RE}')
  if err == null {
    ts = from_unix_timestamp!(to_int!(s.epoch))
    pid = s.pid
    text = string!(s.message)
  } else {
    p = parse_regex!(raw, r'{LINE_RE}')
    year = p.year
    if year == null {
      y = to_int!(format_timestamp!(now(), "%Y"))
      if format_timestamp!(now(), "%m") == "01" && p.mon == "Dec" { y = y - 1 }
      year = to_string(y)
    }
    ts = parse_timestamp!(p.day + " " + p.mon + " " + string!(year) + " " + p.time, "%d %b %Y %H:%M:%S%.f")
    pid = p.pid
    if pid == null { pid = p.oldpid }
    if p.role != null { role = get!({ROLES}, [string!(p.role)]) }
    level = string!(get!({LEVELS}, [string!(p.lvl)]))
    text = string!(p.message)
  }
  event = {
    "type": "redis",
    "host": .host,
    "timestamp": format_timestamp!(ts, "TSFORMAT", timezone: "UTC"),
    "level": level,
    "message": text
  }
  if pid != null { event.pid = to_int!(pid) }
  if role != null { event.role = role }
  problem = null
  # a child's failure lines are the cause; its parent logs the outcome (one failure, one problem)
  if level == "warning" && role != "child" {
{PROBLEMS}
  }
  if problem == "rdb_save_failed" && match(text, r'by signal 10$') { problem = null }
  if problem == "aof_failed" && match(text, r'by signal 10$') { problem = null }
  if problem != null { event.problem = problem }
  . = event
}
"""


def _vrl_map(mapping: dict[str, str]) -> str:
    return "{" + ", ".join(f'"{k}": "{v}"' for k, v in mapping.items()) + "}"


REDIS_VRL = (
    _LOG_TEMPLATE.replace("{LOGO_RE}", LOGO_RE)
    .replace("{SIGNAL_RE}", SIGNAL_RE)
    .replace("{LINE_RE}", LINE_RE)
    .replace("{ROLES}", _vrl_map(ROLES))
    .replace("{LEVELS}", _vrl_map(LEVELS))
    .replace("{PROBLEMS}", _PROBLEMS_VRL)
    .replace("TSFORMAT", TIMESTAMP_FORMAT)
)


def _year_for(month: int) -> int:
    """The year the parser gives a year-less line of ``month`` (December lines read in January
    belong to the previous year)."""
    now = datetime.now(UTC)
    return now.year - 1 if now.month == 1 and month == 12 else now.year


def _log(timestamp: str, level: str, message: str, **fields: object) -> dict[str, object]:
    return {"type": "redis", "host": "cache-1", "timestamp": timestamp, "level": level, "message": message,
            **fields}


_OVERCOMMIT = (
    "WARNING Memory overcommit must be enabled! Without it, a background save or replication may fail"
    " under low memory condition. Being disabled, it can can also cause failures without low memory"
    " condition, see https://github.com/jemalloc/jemalloc/issues/1328. To fix this issue add"
    " 'vm.overcommit_memory = 1' to /etc/sysctl.conf and then reboot or run the command"
    " 'sysctl vm.overcommit_memory=1' for this to take effect."
)
_FAILED_TEMP_FILE = (
    "Failed opening the temp RDB file temp-4242.rdb (in server root dir /var/lib/redis) for saving:"
    " Permission denied"
)
_Y3 = _year_for(5)

#: lines of a real redis-server 7.0.15 (Debian 12) unless the note says otherwise
REDIS_SAMPLES = (
    Sample(
        message="3477:M 04 Dec 2026 16:36:08.116 * Ready to accept connections",
        host="cache-1",
        expected=_log("2026-12-04T16:36:08.116000Z", "notice", "Ready to accept connections",
                      pid=3477, role="master"),
        note="notice (*) from the master",
    ),
    Sample(
        message="3477:M 04 Dec 2026 16:36:08.116 * Ready to accept connections",
        host="cache-1",
        expected=_log("2026-12-04T21:36:08.116000Z", "notice", "Ready to accept connections",
                      pid=3477, role="master"),
        settings={"timezone": "America/New_York"},
        note="a Redis whose local time is America/New_York (the timezone setting): EST, +5 hours",
    ),
    Sample(
        message="3477:M 04 Dec 2026 16:36:08.116 # Server initialized",
        host="cache-1",
        expected=_log("2026-12-04T16:36:08.116000Z", "warning", "Server initialized", pid=3477,
                      role="master"),
        note="a routine line at warning level (#): no problem",
    ),
    Sample(
        message="3477:C 04 Dec 2026 16:36:08.115 # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo",
        host="cache-1",
        expected=_log("2026-12-04T16:36:08.115000Z", "warning",
                      "oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo", pid=3477, role="child"),
        note="Redis marks its first startup lines C (its pid is not known yet): kept as written",
    ),
    Sample(
        message="11923:M 04 Dec 2026 16:32:22.979 - Accepted 127.0.0.1:38774",
        host="cache-1",
        expected=_log("2026-12-04T16:32:22.979000Z", "verbose", "Accepted 127.0.0.1:38774", pid=11923,
                      role="master"),
        note="verbose (-)",
    ),
    Sample(
        message="3477:M 04 Dec 2026 16:36:08.116 # " + _OVERCOMMIT,
        host="cache-1",
        expected=_log("2026-12-04T16:36:08.116000Z", "warning", _OVERCOMMIT, pid=3477, role="master",
                      problem="config_warning"),
        note="overcommit_memory = 0: a background save may fail",
    ),
    Sample(
        message="11923:M 04 Dec 2026 16:32:23.045 * Background saving started by pid 12204",
        host="cache-1",
        expected=_log("2026-12-04T16:32:23.045000Z", "notice", "Background saving started by pid 12204",
                      pid=11923, role="master"),
        note="BGSAVE started",
    ),
    Sample(
        message="12204:C 04 Dec 2026 16:32:23.089 * DB saved on disk",
        host="cache-1",
        expected=_log("2026-12-04T16:32:23.089000Z", "notice", "DB saved on disk", pid=12204, role="child"),
        note="the child writing the RDB file (C)",
    ),
    Sample(
        message="4242:C 04 Dec 2026 16:40:00.001 # " + _FAILED_TEMP_FILE,
        host="cache-1",
        expected=_log("2026-12-04T16:40:00.001000Z", "warning", _FAILED_TEMP_FILE, pid=4242, role="child"),
        note="the child's cause of a failed BGSAVE: no problem (its parent reports the outcome)",
    ),
    Sample(
        message="4100:M 04 Dec 2026 16:40:00.010 # Background saving error",
        host="cache-1",
        expected=_log("2026-12-04T16:40:00.010000Z", "warning", "Background saving error", pid=4100,
                      role="master", problem="rdb_save_failed"),
        note="failed BGSAVE (rdb.c backgroundSaveDoneHandlerDisk)",
    ),
    Sample(
        message="4100:M 04 Dec 2026 16:40:00.020 # " + _FAILED_TEMP_FILE,
        host="cache-1",
        expected=_log("2026-12-04T16:40:00.020000Z", "warning", _FAILED_TEMP_FILE, pid=4100, role="master",
                      problem="rdb_save_failed"),
        note="a foreground SAVE failing in the server itself",
    ),
    Sample(
        message="4100:M 04 Dec 2026 16:41:00.000 # Background saving terminated by signal 9",
        host="cache-1",
        expected=_log("2026-12-04T16:41:00.000000Z", "warning", "Background saving terminated by signal 9",
                      pid=4100, role="master", problem="rdb_save_failed"),
        note="BGSAVE child killed (by the OOM killer, say)",
    ),
    Sample(
        message="4100:M 04 Dec 2026 16:41:00.000 # Background saving terminated by signal 10",
        host="cache-1",
        expected=_log("2026-12-04T16:41:00.000000Z", "warning", "Background saving terminated by signal 10",
                      pid=4100, role="master"),
        note="SIGUSR1: Redis stopped its own child on purpose, not a failure",
    ),
    Sample(
        message="4100:M 04 Dec 2026 16:42:00.000 # Background AOF rewrite terminated with error",
        host="cache-1",
        expected=_log("2026-12-04T16:42:00.000000Z", "warning",
                      "Background AOF rewrite terminated with error", pid=4100, role="master",
                      problem="aof_failed"),
        note="AOF rewrite failed (aof.c)",
    ),
    Sample(
        message="11923:S 04 Dec 2026 16:32:24.062 # Error condition on socket for SYNC: Connection refused",
        host="cache-1",
        expected=_log("2026-12-04T16:32:24.062000Z", "warning",
                      "Error condition on socket for SYNC: Connection refused", pid=11923, role="replica",
                      problem="replication_error"),
        note="a replica (S) whose master refuses the connection",
    ),
    Sample(
        message="4100:S 04 Dec 2026 16:43:00.000 # Connection with master lost.",
        host="cache-1",
        expected=_log("2026-12-04T16:43:00.000000Z", "warning", "Connection with master lost.", pid=4100,
                      role="replica", problem="replication_error"),
        note="networking.c freeClient of the master",
    ),
    Sample(
        message="3233:M 04 Dec 2026 16:36:01.005 # Redis 7.0.15 crashed by signal: 11, si_code: 2",
        host="cache-1",
        expected=_log("2026-12-04T16:36:01.005000Z", "warning",
                      "Redis 7.0.15 crashed by signal: 11, si_code: 2", pid=3233, role="master",
                      problem="crash"),
        note="the crash report's first record (DEBUG SEGFAULT)",
    ),
    Sample(
        message="3233:M 04 Dec 2026 16:36:01.006 # ",
        host="cache-1",
        expected=_log("2026-12-04T16:36:01.006000Z", "warning", "", pid=3233, role="master"),
        note="an empty message (the crash report's registers follow raw)",
    ),
    Sample(
        message="26571:X 27 Dec 2018 11:19:18.874 # +switch-master mymaster 10.0.0.5 6379 10.0.0.6 6379",
        host="cache-1",
        expected=_log("2018-12-27T11:19:18.874000Z", "warning",
                      "+switch-master mymaster 10.0.0.5 6379 10.0.0.6 6379", pid=26571, role="sentinel",
                      problem="failover"),
        note="Sentinel (X) failed a master over (sentinel.c sentinelEvent, hand-written)",
    ),
    Sample(
        message="3477:signal-handler (1796402168) Received SIGTERM scheduling shutdown...",
        host="cache-1",
        expected=_log("2026-12-04T16:36:08.000000Z", "warning", "Received SIGTERM scheduling shutdown...",
                      pid=3477),
        note="serverLogFromHandler: epoch seconds, no level nor role",
    ),
    Sample(
        message=("26571:M 27 Dec 2018 11:19:18.874 * Synchronization with replica 10.114.208.18:6023"
                 " succeeded"),
        host="cache-1",
        expected=_log("2018-12-27T11:19:18.874000Z", "notice",
                      "Synchronization with replica 10.114.208.18:6023 succeeded", pid=26571, role="master"),
        note="Redis 5.0.3 (elastic/beats fixture)",
    ),
    Sample(
        message="4961:M 30 May 12:50:13.463 # Server started, Redis version 3.0.2",
        host="cache-1",
        expected=_log(f"{_Y3}-05-30T12:50:13.463000Z", "warning", "Server started, Redis version 3.0.2",
                      pid=4961, role="master"),
        note="Redis 3.0: no year (elastic/beats fixture)",
    ),
    Sample(
        message="[2932] 31 May 04:32:08 # Open data file dump.rdb: No such file or directory",
        host="cache-1",
        expected=_log(f"{_Y3}-05-31T04:32:08.000000Z", "warning",
                      "Open data file dump.rdb: No such file or directory", pid=2932),
        note="Redis 2.4: [pid], no role, no milliseconds (elastic/beats fixture)",
    ),
    Sample(
        message="30 May 10:05:20 . 0 clients connected (0 slaves), 618932 bytes in use, 0 shared objects.",
        host="cache-1",
        expected=_log(f"{_Y3}-05-30T10:05:20.000000Z", "debug",
                      "0 clients connected (0 slaves), 618932 bytes in use, 0 shared objects."),
        note="Redis 1.2: no pid at all (elastic/beats fixture)",
    ),
    Sample(
        message="      _.-``    `.  `_.  ''-._           Redis 7.0.15 (00000000/0) 64 bit",
        no_event=True,
        note="a logo line with its version text",
    ),
    Sample(
        message=" |    `-._`-._        _.-'_.-'    |           https://redis.io       ",
        no_event=True,
        note="a logo line with trailing blanks",
    ),
    Sample(message="                _._                                                  ", no_event=True,
           note="the logo's first line"),
    Sample(message="", no_event=True, note="the blank line after the logo"),
    Sample(message="------ STACK TRACE ------", expected=None, note="a raw crash-report line"),
    Sample(message="redis_version:7.0.15", expected=None, note="the crash report's raw INFO dump"),
    Sample(message="..........", expected=None, note="drawing characters without the logo's own"),
    Sample(message="3477:Q 04 Dec 2026 16:36:08.116 * unknown role", expected=None, note="not Redis's"),
    Sample(message="3477:M 04 Dec 2026 16:36:08.116 ! unknown level", expected=None,
           note="not Redis's either"),
)

#: INFO fields kept as gauges (their value now)
GAUGES = (
    "uptime_in_seconds",
    "connected_clients",
    "blocked_clients",
    "used_memory",
    "used_memory_rss",
    "maxmemory",
    "mem_fragmentation_ratio",
    "instantaneous_ops_per_sec",
    "rdb_changes_since_last_save",
    "rdb_last_save_time",
    "connected_slaves",
)
#: INFO fields kept as counters (they only grow, until the server restarts)
COUNTERS = (
    "total_connections_received",
    "total_commands_processed",
    "rejected_connections",
    "expired_keys",
    "evicted_keys",
    "keyspace_hits",
    "keyspace_misses",
    "total_net_input_bytes",
    "total_net_output_bytes",
    "total_error_replies",
)
#: INFO status fields, kept as gauges: 1 for ok/up, 0 for err/down
STATUSES = (
    "rdb_last_bgsave_status",
    "aof_last_bgrewrite_status",
    "aof_last_write_status",
    "master_link_status",
)


def _vrl_list(items: tuple[str, ...]) -> str:
    return "[" + ", ".join(f'"{item}"' for item in items) + "]"


_METRICS_TEMPLATE = r"""
# one line of redis-cli's INFO reply, as Vector's exec source emits it (newline framing keeps the \r)
raw = replace(string!(.message), r'\r$', "")
ts = timestamp(.timestamp) ?? parse_timestamp!(string!(.timestamp), "%+")
# the node runs redis-cli; a server named by a non-loopback URL is that server's host
node = string(.host) ?? "unknown"
url = ""
for_each(array(.command) ?? []) -> |_index, argument| {
  if match(string(argument) ?? "", r'^rediss?://') { url = string(argument) ?? "" }
}
server = string(get(parse_url(url) ?? {}, ["host"]) ?? "") ?? ""
if server != "" && !match(server, r'^(127\.[0-9.]+|localhost|\[?::1\]?)$') { node = server }
name = ""
kind = "gauge"
value = 0.0
db = null
if starts_with(raw, "Could not connect to Redis at ") {
  name = "up"
} else if !match(raw, r'^(?:# [A-Z][A-Za-z]*)?$') {
  f = parse_regex!(raw, r'^(?P<key>[a-z][A-Za-z0-9_]*):(?P<value>.*)$')
  key = string!(f.key)
  text = string!(f.value)
  if key == "redis_version" {
    name = "up"
    value = 1.0
  } else if includes({GAUGES}, key) {
    name = key
    value = to_float!(text)
  } else if includes({COUNTERS}, key) {
    name = key
    kind = "counter"
    value = to_float!(text)
  } else if includes({STATUSES}, key) {
    name = key
    if text == "ok" || text == "up" {
      value = 1.0
    } else if text == "err" || text == "down" {
      value = 0.0
    } else {
      abort
    }
  } else if match(key, r'^db[0-9]+$') {
    k = parse_regex!(text, r'^keys=(?P<n>[0-9]+)')
    name = "keys"
    db = key
    value = to_float!(k.n)
  } else if starts_with(key, "errorstat_") {
    c = parse_regex!(text, r'^count=(?P<n>[0-9]+)')
    name = key
    kind = "counter"
    value = to_float!(c.n)
  }
}
if name == "" {
  # a section header, a blank line or a field Dendro does not keep
  . = []
} else {
  . = compact({
    "type": "redis_metrics",
    "host": node,
    "timestamp": format_timestamp!(ts, "TSFORMAT", timezone: "UTC"),
    "name": name,
    "db": db,
    "kind": kind,
    "value": value
  }, string: false)
}
"""

REDIS_METRICS_VRL = (
    _METRICS_TEMPLATE.replace("{GAUGES}", _vrl_list(GAUGES))
    .replace("{COUNTERS}", _vrl_list(COUNTERS))
    .replace("{STATUSES}", _vrl_list(STATUSES))
    .replace("TSFORMAT", TIMESTAMP_FORMAT)
)

#: the command the exec source runs (``{metrics_url}`` is the setting); --no-auth-warning keeps
#: redis-cli quiet about a password in the URL
INFO_COMMAND = ("redis-cli", "--no-auth-warning", "-u", "{metrics_url}", "INFO")
METRICS_INTERVAL_SECS = 15


def exec_event(line: str, url: str = "redis://127.0.0.1:6379", stream: str = "stdout",
               host: str = "cache-1", timestamp: str = "2026-12-04T16:40:00.123456Z") -> dict[str, object]:
    """One line of redis-cli's output as Vector's exec source emits it (legacy log namespace).

    vectordotdev/vector ``src/sources/exec/mod.rs`` (v0.57.0) ``handle_event``: the line in
    ``message``, the standard source metadata (``timestamp``, ``source_type``), ``stream``
    (stdout or stderr), the child's ``pid``, ``host`` (the node's name) and ``command`` (the
    argument list).
    """
    command = [url if part == "{metrics_url}" else part for part in INFO_COMMAND]
    return {"message": line, "timestamp": timestamp, "source_type": "exec", "stream": stream, "pid": 4321,
            "host": host, "command": command}


def _info(line: str, name: str, kind: str, value: float, db: str | None = None, url: str | None = None,
          host: str = "cache-1", stream: str = "stdout") -> Sample:
    expected: dict[str, object] = {"type": "redis_metrics", "host": host,
                                   "timestamp": "2026-12-04T16:40:00.123456Z", "name": name, "kind": kind,
                                   "value": value}
    if db is not None:
        expected["db"] = db
    event = exec_event(line, stream=stream) if url is None else exec_event(line, url=url, stream=stream)
    return Sample(input=event, expected=expected, note=line.strip() or "blank")


def _quiet(line: str, note: str) -> Sample:
    return Sample(input=exec_event(line), no_event=True, note=note)


#: lines of a real ``redis-cli INFO`` of redis-server 7.0.15, with the \r Redis ends them with
REDIS_METRICS_SAMPLES = (
    _info("redis_version:7.0.15\r", "up", "gauge", 1.0),
    _info("connected_clients:3\r", "connected_clients", "gauge", 3.0),
    _info("used_memory:1015384\r", "used_memory", "gauge", 1015384.0),
    _info("mem_fragmentation_ratio:11.53\r", "mem_fragmentation_ratio", "gauge", 11.53),
    _info("instantaneous_ops_per_sec:42\r", "instantaneous_ops_per_sec", "gauge", 42.0),
    _info("total_commands_processed:1234\r", "total_commands_processed", "counter", 1234.0),
    _info("keyspace_hits:7\r", "keyspace_hits", "counter", 7.0),
    _info("keyspace_misses:2\r", "keyspace_misses", "counter", 2.0),
    _info("evicted_keys:0\r", "evicted_keys", "counter", 0.0),
    _info("rejected_connections:0\r", "rejected_connections", "counter", 0.0),
    _info("rdb_last_bgsave_status:err\r", "rdb_last_bgsave_status", "gauge", 0.0),
    _info("rdb_last_bgsave_status:ok\r", "rdb_last_bgsave_status", "gauge", 1.0),
    _info("master_link_status:down\r", "master_link_status", "gauge", 0.0),
    _info("db0:keys=12,expires=3,avg_ttl=59213\r", "keys", "gauge", 12.0, db="db0"),
    _info("errorstat_OOM:count=5\r", "errorstat_OOM", "counter", 5.0),
    _info("errorstat_MISCONF:count=1\r", "errorstat_MISCONF", "counter", 1.0),
    _info("connected_clients:3\r", "connected_clients", "gauge", 3.0, url="redis://:secret@10.0.0.9:6380/0",
          host="10.0.0.9"),
    _info("Could not connect to Redis at 127.0.0.1:6379: Connection refused", "up", "gauge", 0.0,
          stream="stderr"),
    _quiet("# Server\r", "a section header"),
    _quiet("\r", "the blank line between sections"),
    _quiet("redis_mode:standalone\r", "a field Dendro does not keep"),
    _quiet("used_memory_human:991.59K\r", "a human-readable duplicate"),
    Sample(input=exec_event("NOAUTH Authentication required."), expected=None,
           note="INFO refused without a password (real redis-cli 7.0.15 output)"),
    Sample(input=exec_event("AUTH failed: WRONGPASS invalid username-password pair or user is disabled.",
                            stream="stderr"), expected=None, note="a wrong password (real, on stderr)"),
    Sample(input=exec_event("rdb_last_bgsave_status:maybe\r"), expected=None, note="an unknown status"),
    Sample(input=exec_event("connected_clients:many\r"), expected=None, note="not a number"),
)

REDIS_TABLE = log_table(
    "redis",
    "Redis server log records: startups, persistence, replication, crashes.",
    "debug, verbose, notice, warning",
    Column("role", "VARCHAR", dimension=True, description="master, replica, child, sentinel"),
    Column(
        "problem",
        "VARCHAR",
        dimension=True,
        description="rdb_save_failed, aof_failed, replication_error, crash, failover, config_warning",
    ),
    Column("pid", "BIGINT", description="process id"),
)

REDIS_METRICS_TABLE = metrics_table(
    "redis_metrics",
    "Redis INFO fields read by redis-cli: clients, memory, ops, hits, evictions, saves.",
    "the INFO field (keys: a keyspace line; up)",
    db="db0, db1… for keys",
)

#: the INFO fields Dendro charts and exposes (of those it stores)
METRICS = Metrics(
    table="redis_metrics",
    gauges=(
        Gauge("up", "Up (INFO answered)"),
        Gauge("connected_clients", "Connected clients"),
        Gauge("used_memory", "Memory used", "bytes"),
        Gauge("mem_fragmentation_ratio", "Memory fragmentation (RSS / used)"),
        Gauge("instantaneous_ops_per_sec", "Commands per second (Redis's own estimate)"),
        Gauge("keys", "Keys"),
        Gauge("rdb_last_bgsave_status", "Last background save succeeded"),
        Gauge("total_commands_processed", "Commands", counter=True),
        Gauge("keyspace_hits", "Key hits", counter=True),
        Gauge("keyspace_misses", "Key misses", counter=True),
        Gauge("evicted_keys", "Evicted keys", counter=True),
        Gauge("rejected_connections", "Rejected connections", counter=True),
    ),
    tags=("db",),
)

#: the problems that count as errors: a lost write, a broken replica, a crash
ERROR_PROBLEMS = ("rdb_save_failed", "aof_failed", "replication_error", "crash")

def _stamp(now: datetime) -> str:
    """serverLogRaw's time: ``DD Mon YYYY HH:MM:SS.mmm`` (the demo's clock is UTC)."""
    return now.strftime("%d %b %Y %H:%M:%S.") + f"{now.microsecond // 1000:03d}"


#: log lines a second at an average hour (saves, clients), commands a second
DEMO_RATE = 0.01
DEMO_COMMANDS = 450.0


#: how far a filling filesystem has gone when the RDB file no longer fits (ext4 keeps 5% for root:
#: a daemon gets ENOSPC above 95% of the filesystem)
DISK_FULL = 0.97


def demo_rate(scene: Scene) -> float:
    """Log lines a second: a few; a failing save every few seconds once the disk is full."""
    return DEMO_RATE * scene.load + (0.2 if scene.progress(DISK_FILLING) > DISK_FULL else 0.0)


def demo_line(rng: random.Random, now: datetime, scene: Scene, host: str = "") -> str:
    """A Redis log line of a healthy cache: background saves and clients (the line does not name
    the node). A filesystem filling to its last percent leaves no room for the RDB file: saves fail."""
    pid = 4100
    stamp = _stamp(now)
    if scene.progress(DISK_FILLING) > DISK_FULL:  # the child says why, its parent the outcome
        if rng.random() < 0.5:
            return f"{pid}:M {stamp} # Background saving error"
        child = rng.randint(5000, 9999)
        return (f"{child}:C {stamp} # Failed opening the temp RDB file temp-{child}.rdb"
                " (in server root dir /var/lib/redis) for saving: No space left on device")
    roll = rng.random()
    if roll < 0.4:
        return f"{pid}:M {stamp} * Background saving started by pid {rng.randint(5000, 9999)}"
    if roll < 0.7:
        return f"{pid}:M {stamp} * Background saving terminated with success"
    return f"{pid}:M {stamp} - Accepted 10.1.0.{rng.randint(1, 254)}:{rng.randint(32768, 60999)}"


def demo_info(rng: random.Random, now: datetime, scene: Scene, host: str) -> list[dict[str, object]]:
    """One ``redis-cli INFO`` run on the node as the exec source emits it, line by line: the
    charted fields (counters grow with what was served)."""
    failing = scene.progress(DISK_FILLING) > DISK_FULL
    fields = {
        "redis_version": "7.0.15",
        "connected_clients": round(rng.randint(5, 30) * scene.load),
        "used_memory": rng.randint(900_000_000, 1_100_000_000),
        "mem_fragmentation_ratio": f"{rng.uniform(1.0, 1.4):.2f}",
        "instantaneous_ops_per_sec": round(DEMO_COMMANDS * scene.load * rng.uniform(0.8, 1.2)),
        "rdb_last_bgsave_status": "err" if failing else "ok",
        "total_commands_processed": int(scene.counter(DEMO_COMMANDS)),
        "keyspace_hits": int(scene.counter(DEMO_COMMANDS * 0.8)),
        "keyspace_misses": int(scene.counter(DEMO_COMMANDS * 0.08)),
        "evicted_keys": int(scene.counter(0.5)),
        "rejected_connections": int(scene.counter(0.001)),
        "db0": f"keys={rng.randint(10_000, 12_000)},expires=300,avg_ttl=59213",
    }
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return [exec_event(f"{key}:{value}\r", host=host, timestamp=stamp) for key, value in fields.items()]


SERVICE = Service(
    name="redis",
    title="Redis",
    sources=(
        log_file("redis_logs", "redis", "log"),
        Source(
            id="redis_metrics",
            kind="exec",
            parser="redis_metrics",
            options={
                "mode": "scheduled",
                "scheduled": {"exec_interval_secs": METRICS_INTERVAL_SECS},
                "command": list(INFO_COMMAND),
                "include_stderr": True,
            },
        ),
    ),
    parsers=(
        Parser(id="redis", vrl=REDIS_VRL, samples=REDIS_SAMPLES),
        Parser(id="redis_metrics", vrl=REDIS_METRICS_VRL, samples=REDIS_METRICS_SAMPLES),
    ),
    tables=(REDIS_TABLE, REDIS_METRICS_TABLE),
    settings=(
        Setting(
            key="log",
            prompt="Redis log files to follow",
            default=["/var/log/redis/redis-server.log"],
            kind="list",
        ),
        Setting(
            key="metrics_url",
            prompt="Redis URL for INFO metrics through redis-cli (empty: no metrics)",
            default="redis://127.0.0.1:6379",
            kind="url",
        ),
        timezone_setting("time zone of the log's times (Redis writes local time)"),
    ),
    red=(Red(table="redis", level="problem", error_levels=ERROR_PROBLEMS, duration=None),),
    alert_events=(
        AlertEvent(
            name="redis_persistence_failed",
            table="redis",
            where="problem IN ('rdb_save_failed', 'aof_failed')",
            match={"problem": ("rdb_save_failed", "aof_failed")},
            summary="Redis could not persist its data on {{host}}: {{message}}",
            severity="critical",
        ),
        AlertEvent(
            name="redis_crash",
            table="redis",
            where="problem = 'crash'",
            match={"problem": ("crash",)},
            summary="Redis crashed on {{host}}: {{message}}",
            severity="critical",
        ),
        AlertEvent(
            name="redis_replication_error",
            table="redis",
            where="problem = 'replication_error'",
            match={"problem": ("replication_error",)},
            summary="Redis replication failing on {{host}}: {{message}}",
            severity="warning",
        ),
        AlertEvent(
            name="redis_failover",
            table="redis",
            where="problem = 'failover'",
            match={"problem": ("failover",)},
            summary="Redis Sentinel on {{host}}: {{message}}",
            severity="warning",
        ),
        AlertEvent(
            name="redis_config_warning",
            table="redis",
            where="problem = 'config_warning'",
            match={"problem": ("config_warning",)},
            summary="Redis on {{host}} warns about its system: {{message}}",
            severity="info",
        ),
    ),
    server_config=(
        "logfile /var/log/redis/redis-server.log\n"
        "loglevel notice"
    ),
    server_config_help=(
        "Debian's /etc/redis/redis.conf already has these lines; elsewhere add them to redis.conf and"
        " restart Redis (logfile cannot change at run time)."
    ),
    role="database",
    metrics=(METRICS,),
    demo=(
        DemoFeed("redis_logs", line=demo_line, rate=demo_rate),
        DemoFeed("redis_metrics", inputs=demo_info),
    ),
    log_panels=(
        LogPanels(
            "Redis",
            "The problems Redis logged (failed saves and rewrites, replication, crashes) from the redis"
            " table.",
            (
                recent_panel("Redis problems",
                             "The last 100 records Redis logged that are a known problem, newest first.",
                             "redis", ("time", "host", "problem", "role", "message"),
                             "problem IS NOT NULL"),
                LogPanel(
                    "Redis problems by class",
                    "Problem records per class in the range.",
                    "short",
                    "redis",
                    "SELECT problem, count(*) AS records FROM {table} WHERE {where} AND problem IS NOT NULL"
                    " GROUP BY problem ORDER BY records DESC",
                    ("problem", "records"),
                    kind="bars",
                ),
            ),
        ),
    ),
    examples=(
        Example(
            "Redis problems by class and host (last 24 hours)",
            "SELECT problem, host, count(*) AS records, max(time) AS last_seen\n"
            'FROM {db}."redis"\nWHERE time > ago(24h) AND problem IS NOT NULL\n'
            "GROUP BY problem, host\nORDER BY records DESC",
            ("redis",),
        ),
        Example(
            "Redis memory and clients per host (last value)",
            "SELECT host, name, max_by(value, time) AS value\n"
            'FROM {db}."redis_metrics"\nWHERE time > ago(1h)'
            " AND name IN ('used_memory', 'connected_clients', 'up')\n"
            "GROUP BY host, name\nORDER BY host, name",
            ("redis_metrics",),
        ),
    ),
)
