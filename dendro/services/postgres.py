"""PostgreSQL: the server log (errors, FATALs, slow statements) and ``postgresql_metrics``.

The log parser reads the Debian default ``log_line_prefix = '%m [%p] %q%u@%d '``
(``2026-11-26 12:00:00.123 UTC [1234] app@shop ERROR:  ...``) and its usual relatives: ``%t``
(no milliseconds), ``[%p-%l]`` (with the session line number), no pid, no ``user@database``
(background processes), ``[unknown]@[unknown]``, and the ``SQLSTATE:`` code that
``log_error_verbosity = verbose`` adds. Each record becomes one row of the ``postgres`` table:

- ``level``: LOG, ERROR, FATAL, PANIC, WARNING… and the detail lines PostgreSQL writes as
  records of their own (STATEMENT, DETAIL, HINT, CONTEXT, QUERY, LOCATION);
- ``duration`` (seconds) from ``duration: 12.345 ms``, with or without a statement;
- ``statement``: the SQL of ``duration: … ms  statement:|execute <name>:|parse …:|bind …:``,
  of ``statement: …`` (``log_statement``) and of STATEMENT records;
- multi-line statements arrive whole: the source's multiline rule joins the lines that do not
  start with a timestamp to the record they continue.

Times carry the zone PostgreSQL writes (``log_timezone``): ``UTC``, a numeric offset (``+03``,
``-0530``), both read as written, or an abbreviation (``CST``, ``IST``…), which names no instant
by itself (CST is China or US Central; IST India, Ireland or Israel). The service's ``timezone``
setting is the server's ``log_timezone``, and the program (:func:`postgres_vrl`, built for it)
reads only the abbreviations that zone writes, at the instants it writes them
(:func:`dendro.services.zones.abbreviated_time_vrl`); any other makes the record a parse_error
that says why, never a time shifted by a guess.

``postgresql_metrics`` events (after ``metric_to_log``) become rows of ``postgres_metrics``:
connections (``pg_stat_database_numbackends``), commits and rollbacks
(``pg_stat_database_xact_commit_total``/``_xact_rollback_total``), cache hits and reads
(``…_blks_hit_total``/``…_blks_read_total``, whose ratio is the cache hit ratio) and
deadlocks (``…_deadlocks_total``), each with its ``db``. A server on loopback is this node: its
metrics carry the node's host name, as its log lines do.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from dendro.services.base import (
    ENDPOINT_NODE_VRL,
    METRIC_VALUE_VRL,
    STATEMENT_LINE_BYTES,
    TIMESTAMP_FORMAT,
    AlertEvent,
    Column,
    DemoFeed,
    Example,
    Gauge,
    LogPanels,
    Metrics,
    Multiline,
    Parser,
    Red,
    Sample,
    Service,
    Setting,
    Source,
    log_file,
)
from dendro.services.db_common import (
    DATABASE,
    STATEMENT,
    USER,
    log_table,
    metrics_table,
    recent_panel,
    slowest_panel,
)
from dendro.services.scene import SLOW_QUERIES, Scene
from dendro.services.zones import abbreviated_time_vrl, timezone_setting, zone_of

#: the log_line_prefix variants: time [zone] [[pid(-line)]] [user@database] LEVEL:  text
PREFIX_RE = (
    r"(?s)^(?P<ts>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?)"
    r"(?: (?P<tz>[A-Za-z]{1,6}|[+-]\d{2}(?::?\d{2})?))? "
    r"(?:\[(?P<pid>\d+)(?:-\d+)?\] )?"
    r"(?:(?P<user>[^\s@]*)@(?P<database>\S*) )?"
    r"(?P<level>[A-Z]+[1-5]?):  (?P<message>.*)$"
)

#: "duration: 1.2 ms", alone or with the statement / the step of the extended protocol
DURATION_RE = (
    r"(?s)^duration: (?P<ms>\d+(?:\.\d+)?) ms"
    r"(?:  (?:statement|(?:execute|parse|bind) [^:]*): (?P<sql>.*))?$"
)

#: the format of PostgreSQL's times (%m, %t) without their zone
TIME_FORMAT = "%Y-%m-%d %H:%M:%S%.f"

_POSTGRES_VRL = r"""
p = parse_regex!(string!(.message), r'{PREFIX_RE}')
# capture groups that did not take part are null (VRL types them as strings)
stamp = string!(p.ts)
zone_name = p.tz
{ZONE_VRL}
text = string!(p.message)
event = {
  "type": "postgres",
  "host": .host,
  "timestamp": format_timestamp!(ts, "%Y-%m-%dT%H:%M:%S%.6fZ", timezone: "UTC"),
  "level": p.level,
  "message": text
}
if p.pid != null { event.pid = to_int!(p.pid) }
if p.user != null && p.user != "" && p.user != "[unknown]" { event.user = p.user }
if p.database != null && p.database != "" && p.database != "[unknown]" { event.database = p.database }
# log_error_verbosity = verbose puts the SQLSTATE before the text ("00000: duration: ...")
body = replace(text, r'^[0-9A-Z]{5}: ', "", count: 1)
d, err = parse_regex(body, r'{DURATION_RE}')
if err == null {
  # PostgreSQL writes microsecond precision; rounding drops float noise from the division
  event.duration = round(to_float!(d.ms) / 1000.0, precision: 6)
  if d.sql != null { event.statement = d.sql }
} else if p.level == "STATEMENT" {
  event.statement = text
} else {
  s, err = parse_regex(body, r'(?s)^statement: (?P<sql>.*)$')
  if err == null { event.statement = s.sql }
}
. = event
""".replace("{PREFIX_RE}", PREFIX_RE).replace("{DURATION_RE}", DURATION_RE)


def postgres_vrl(settings: Mapping[str, Any]) -> str:
    """The log program for a node whose PostgreSQL writes its times in ``settings``' time zone."""
    zone = zone_of(settings)
    zone_vrl = abbreviated_time_vrl(zone, TIME_FORMAT, "services.postgres.timezone")
    return _POSTGRES_VRL.replace("{ZONE_VRL}", zone_vrl)


POSTGRES_VRL = postgres_vrl({})

_MULTI_LINE_SQL = "SELECT id,\n\t       name\n\tFROM users\n\tWHERE id = 1;"
_LOCK_SQL = "SELECT * FROM qrtz_LOCKS WHERE LOCK_NAME = $1 FOR UPDATE"

def _zoned(stamp: str, zone: str, expected: str | None, note: str) -> Sample:
    """A checkpoint record written at local time ``stamp`` (with its zone) by a server whose
    ``log_timezone`` is ``zone``: its UTC time ``expected``, or None for a parse_error."""
    message = f"{stamp} [99] LOG:  checkpoint starting: time"
    event = {"type": "postgres", "host": "db-1", "timestamp": expected, "level": "LOG", "pid": 99,
             "message": "checkpoint starting: time"}
    return Sample(message=message, host="db-1", expected=event if expected else None,
                  settings={"timezone": zone}, note=note)


#: abbreviations read in the zone the service's ``timezone`` setting names; IST, CST, AST are each
#: several zones' and are read only as the configured one writes them
ZONE_SAMPLES = (
    _zoned("2026-12-04 18:03:11.123 CST", "Asia/Shanghai", "2026-12-04T10:03:11.123000Z",
           "log_timezone Asia/Shanghai: CST is China, +08:00"),
    _zoned("2026-01-15 04:03:11.123 CST", "America/Chicago", "2026-01-15T10:03:11.123000Z",
           "log_timezone America/Chicago: CST is US Central, -06:00"),
    _zoned("2026-12-04 18:03:11.123 CST", "UTC", None, "CST from a server configured as UTC: a parse_error"),
    _zoned("2026-07-01 12:00:00.000 CDT", "Asia/Shanghai", None,
           "CDT: Shanghai's name until 1991, not what it writes today: a parse_error"),
    _zoned("2026-07-01 17:30:00.000 IST", "Asia/Kolkata", "2026-07-01T12:00:00.000000Z",
           "IST in India, +05:30"),
    _zoned("2026-07-01 13:00:00.000 IST", "Europe/Dublin", "2026-07-01T12:00:00.000000Z",
           "IST in Ireland (summer), +01:00"),
    _zoned("2026-01-15 14:00:00.000 IST", "Asia/Jerusalem", "2026-01-15T12:00:00.000000Z",
           "IST in Israel (winter), +02:00"),
    _zoned("2026-07-01 17:30:00.000 IST", "UTC", None, "IST from a server configured as UTC: a parse_error"),
    _zoned("2026-01-15 08:30:00.000 NST", "America/St_Johns", "2026-01-15T12:00:00.000000Z",
           "NST, Newfoundland, -03:30"),
    _zoned("2026-01-15 14:00:00.000 SAST", "Africa/Johannesburg", "2026-01-15T12:00:00.000000Z",
           "SAST, South Africa, +02:00"),
    _zoned("2026-01-15 08:00:00.000 AST", "America/Halifax", "2026-01-15T12:00:00.000000Z",
           "AST, Atlantic, -04:00"),
    _zoned("2026-10-25 02:30:00.000 CEST", "Europe/Berlin", "2026-10-25T00:30:00.000000Z",
           "the hour Berlin's clock goes back, first time: CEST"),
    _zoned("2026-10-25 02:30:00.000 CET", "Europe/Berlin", "2026-10-25T01:30:00.000000Z",
           "the hour Berlin's clock goes back, second time: CET"),
    _zoned("2026-07-01 14:00:00.000 CET", "Europe/Berlin", None,
           "CET in July from Berlin (it writes CEST then): a parse_error"),
    _zoned("2026-07-01 12:00:00.000 UTC", "Asia/Shanghai", "2026-07-01T12:00:00.000000Z",
           "UTC means UTC whatever the configured zone"),
    _zoned("2026-07-01 15:00:00.000 +03", "Asia/Shanghai", "2026-07-01T12:00:00.000000Z",
           "a numeric offset is read as written whatever the configured zone"),
)

POSTGRES_SAMPLES = (
    Sample(
        message=(
            "2026-11-26 12:00:00.123 UTC [1234] postgres@mydb ERROR:  "
            'relation "nope" does not exist at character 15'
        ),
        host="db-1",
        expected={
            "type": "postgres",
            "host": "db-1",
            "timestamp": "2026-11-26T12:00:00.123000Z",
            "level": "ERROR",
            "pid": 1234,
            "user": "postgres",
            "database": "mydb",
            "message": 'relation "nope" does not exist at character 15',
        },
        note="Debian default prefix '%m [%p] %q%u@%d '",
    ),
    Sample(
        message="2026-11-26 12:00:01.500 UTC [1234] postgres@mydb STATEMENT:  SELECT * FROM nope;",
        host="db-1",
        expected={
            "type": "postgres",
            "host": "db-1",
            "timestamp": "2026-11-26T12:00:01.500000Z",
            "level": "STATEMENT",
            "pid": 1234,
            "user": "postgres",
            "database": "mydb",
            "message": "SELECT * FROM nope;",
            "statement": "SELECT * FROM nope;",
        },
        note="the STATEMENT record that follows an ERROR",
    ),
    Sample(
        message=(
            "2026-11-26 12:00:02.000 UTC [2001] app@shop LOG:  "
            "duration: 1234.567 ms  statement: SELECT pg_sleep(1.2);"
        ),
        host="db-1",
        expected={
            "type": "postgres",
            "host": "db-1",
            "timestamp": "2026-11-26T12:00:02.000000Z",
            "level": "LOG",
            "pid": 2001,
            "user": "app",
            "database": "shop",
            "message": "duration: 1234.567 ms  statement: SELECT pg_sleep(1.2);",
            "duration": 1.234567,
            "statement": "SELECT pg_sleep(1.2);",
        },
        note="slow statement (log_min_duration_statement)",
    ),
    Sample(
        message=(
            "2026-11-26 12:00:03.250 UTC [2001] app@shop LOG:  duration: 250.000 ms  statement: SELECT id,\n"
            "\t       name\n"
            "\tFROM users\n"
            "\tWHERE id = 1;"
        ),
        host="db-1",
        expected={
            "type": "postgres",
            "host": "db-1",
            "timestamp": "2026-11-26T12:00:03.250000Z",
            "level": "LOG",
            "pid": 2001,
            "user": "app",
            "database": "shop",
            "message": "duration: 250.000 ms  statement: " + _MULTI_LINE_SQL,
            "duration": 0.25,
            "statement": _MULTI_LINE_SQL,
        },
        note="multi-line statement joined by the multiline rule, kept whole",
    ),
    Sample(
        message=(
            "2019-09-22 06:28:24 UTC [77] app@shop LOG:  duration: 2474.307 ms  execute S_30: "
            "SELECT * FROM qrtz_LOCKS WHERE LOCK_NAME = $1 FOR UPDATE"
        ),
        host="db-1",
        expected={
            "type": "postgres",
            "host": "db-1",
            "timestamp": "2019-09-22T06:28:24.000000Z",
            "level": "LOG",
            "pid": 77,
            "user": "app",
            "database": "shop",
            "message": "duration: 2474.307 ms  execute S_30: " + _LOCK_SQL,
            "duration": 2.474307,
            "statement": _LOCK_SQL,
        },
        note="extended protocol: execute <name>, no milliseconds in the time",
    ),
    Sample(
        message='2017-07-31 13:39:16.249 CEST [5407] postgres@users FATAL:  database "users" does not exist',
        host="db-1",
        expected={
            "type": "postgres",
            "host": "db-1",
            "timestamp": "2017-07-31T11:39:16.249000Z",
            "level": "FATAL",
            "pid": 5407,
            "user": "postgres",
            "database": "users",
            "message": 'database "users" does not exist',
        },
        settings={"timezone": "Europe/Berlin"},
        note="CEST (log_timezone Europe/Berlin) converted to UTC",
    ),
    Sample(
        message=(
            "2020-04-15 12:04:45.416 CET [24981] root@postgres FATAL:  "
            'password authentication failed for user "root"'
        ),
        host="db-1",
        expected={
            "type": "postgres",
            "host": "db-1",
            "timestamp": "2020-04-15T11:04:45.416000Z",
            "level": "FATAL",
            "pid": 24981,
            "user": "root",
            "database": "postgres",
            "message": 'password authentication failed for user "root"',
        },
        settings={"timezone": "Africa/Algiers"},
        note="authentication failure, CET in April: Africa/Algiers keeps CET all year",
    ),
    Sample(
        message=(
            "2018-11-17 05:01:38 EST [832-2] HINT:  "
            'Consider increasing the configuration parameter "max_wal_size".'
        ),
        host="db-1",
        expected={
            "type": "postgres",
            "host": "db-1",
            "timestamp": "2018-11-17T10:01:38.000000Z",
            "level": "HINT",
            "pid": 832,
            "message": 'Consider increasing the configuration parameter "max_wal_size".',
        },
        settings={"timezone": "America/New_York"},
        note="[%p-%l] prefix, EST, no user@database (background process)",
    ),
    Sample(
        message="2026-11-26 15:00:00.000 +03 [99] LOG:  checkpoint starting: time",
        host="db-1",
        expected={
            "type": "postgres",
            "host": "db-1",
            "timestamp": "2026-11-26T12:00:00.000000Z",
            "level": "LOG",
            "pid": 99,
            "message": "checkpoint starting: time",
        },
        note="numeric zone as PostgreSQL writes it for zones without an abbreviation",
    ),
    Sample(
        message="2026-11-26 06:30:00.000 -0530 [99] WARNING:  could not open statistics file",
        host="db-1",
        expected={
            "type": "postgres",
            "host": "db-1",
            "timestamp": "2026-11-26T12:00:00.000000Z",
            "level": "WARNING",
            "pid": 99,
            "message": "could not open statistics file",
        },
        note="numeric offset with minutes",
    ),
    Sample(
        message="2026-11-26 12:00:00.000 XYZT [99] LOG:  database system is ready to accept connections",
        expected=None,
        note="an abbreviation the configured zone (UTC) does not use: a parse_error saying so, not UTC",
    ),
    Sample(
        message="2019-07-23 12:06:34.878 UTC [44] LOG:  00000: duration: 0.524 ms",
        host="db-1",
        expected={
            "type": "postgres",
            "host": "db-1",
            "timestamp": "2019-07-23T12:06:34.878000Z",
            "level": "LOG",
            "pid": 44,
            "message": "00000: duration: 0.524 ms",
            "duration": 0.000524,
        },
        note="log_duration without a statement, verbose SQLSTATE code",
    ),
    Sample(
        message="2017-07-31 13:36:42.956 CEST [4980] [unknown]@[unknown] LOG:  incomplete startup packet",
        host="db-1",
        expected={
            "type": "postgres",
            "host": "db-1",
            "timestamp": "2017-07-31T11:36:42.956000Z",
            "level": "LOG",
            "pid": 4980,
            "message": "incomplete startup packet",
        },
        settings={"timezone": "Europe/Berlin"},
        note="[unknown]@[unknown] gives no user nor database",
    ),
    Sample(
        message="2021-03-17 15:18:02.743 UTC [151] postgres@accounts LOG:  statement: begin",
        host="db-1",
        expected={
            "type": "postgres",
            "host": "db-1",
            "timestamp": "2021-03-17T15:18:02.743000Z",
            "level": "LOG",
            "pid": 151,
            "user": "postgres",
            "database": "accounts",
            "message": "statement: begin",
            "statement": "begin",
        },
        note="log_statement = all",
    ),
    Sample(
        message="2018-11-17 03:13:56 EST [768-1] postgres@postgres PANIC:  could not write to file",
        host="db-1",
        expected={
            "type": "postgres",
            "host": "db-1",
            "timestamp": "2018-11-17T08:13:56.000000Z",
            "level": "PANIC",
            "pid": 768,
            "user": "postgres",
            "database": "postgres",
            "message": "could not write to file",
        },
        settings={"timezone": "America/New_York"},
        note="PANIC",
    ),
    *ZONE_SAMPLES,
    Sample(message="\tFROM pg_catalog.pg_database d", expected=None, note="a lone continuation line"),
    Sample(message="postgres: this is not a log line", expected=None, note="garbage"),
    Sample(message="", expected=None, note="empty line"),
    Sample(message="2026-11-26 12:00:00 UTC [1] LOG: one space only", expected=None, note="not PostgreSQL's"),
)

POSTGRES_METRICS_VRL = (
    METRIC_VALUE_VRL
    + ENDPOINT_NODE_VRL
    + r"""
event = {
  "type": "postgres_metrics",
  "host": node,
  "timestamp": format_timestamp!(ts, "TSFORMAT", timezone: "UTC"),
  "name": string!(.name),
  "db": tags.db,
  "kind": kind,
  "value": to_float!(value)
}
. = compact(event, string: false)
""".replace("TSFORMAT", TIMESTAMP_FORMAT)
)


def _metric(name: str, kind: str, value: float, db: str | None = "app") -> Sample:
    tags = {"host": "db-1", "endpoint": "postgresql://postgres@localhost:5432/postgres"}
    if db is not None:
        tags["db"] = db
    expected = {
        "type": "postgres_metrics",
        "host": "db-1",
        "timestamp": "2026-11-26T12:00:00.000000Z",
        "name": name,
        "kind": kind,
        "value": value,
    }
    if db is not None:
        expected["db"] = db
    return Sample(
        input={
            "name": name,
            "namespace": "postgresql",
            "tags": tags,
            "kind": "absolute",
            kind: {"value": value},
            "timestamp": "2026-11-26T12:00:00Z",
        },
        expected=expected,
        note=name,
    )


POSTGRES_METRICS_SAMPLES = (
    _metric("pg_stat_database_numbackends", "gauge", 7.0),
    _metric("pg_stat_database_xact_commit_total", "counter", 42.0),
    _metric("pg_stat_database_xact_rollback_total", "counter", 3.0),
    _metric("pg_stat_database_blks_hit_total", "counter", 99000.0),
    _metric("pg_stat_database_blks_read_total", "counter", 1000.0),
    _metric("pg_stat_database_deadlocks_total", "counter", 0.0),
    _metric("up", "gauge", 1.0, db=None),
    Sample(
        input={
            "name": "pg_stat_database_numbackends",
            "tags": {"host": "db-1"},
            "timestamp": "2026-11-26T12:00:00Z",
        },
        expected=None,
        note="neither counter nor gauge",
    ),
)

#: what Vector's postgresql_metrics source reads from pg_stat_database (vectordotdev/vector
#: src/sources/postgresql_metrics.rs, v0.44.0 and v0.57.0), per database, kept with the kind it has there
POSTGRES_METRICS = Metrics(
    table="postgres_metrics",
    gauges=(
        Gauge("pg_stat_database_numbackends", "Backends (connections)"),
        Gauge("pg_stat_database_xact_commit_total", "Commits", counter=True),
        Gauge("pg_stat_database_xact_rollback_total", "Rollbacks", counter=True),
        Gauge("pg_stat_database_deadlocks_total", "Deadlocks", counter=True),
    ),
    tags=("db",),
)

POSTGRES_TABLE = log_table(
    "postgres",
    "PostgreSQL server log records: errors, FATALs, slow statements.",
    "LOG, ERROR, FATAL, PANIC, STATEMENT…",
    DATABASE,
    USER,
    Column("pid", "BIGINT", description="server process id"),
    Column("duration", "DOUBLE", description="seconds, from 'duration: … ms'"),
    STATEMENT,
)

POSTGRES_METRICS_TABLE = metrics_table(
    "postgres_metrics",
    "Vector's postgresql_metrics: connections, commits, rollbacks, cache, deadlocks.",
    "Vector's metric name",
)

#: a record starts with its timestamp; the lines of a multi-line statement do not
POSTGRES_MULTILINE = Multiline(
    start_pattern=r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}",
    condition_pattern=r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}",
    mode="halt_before",
    timeout_ms=1000,
)

#: statements of the demo's shop, and the one a storm is made of (a missing index: a sequential scan)
DEMO_QUERIES = ("SELECT * FROM orders WHERE id = $1", "UPDATE carts SET total = $1 WHERE id = $2",
                "SELECT count(*) FROM payments WHERE status = 'pending'",
                "INSERT INTO order_items (order_id, sku, quantity) VALUES ($1, $2, $3)")
STORM_QUERY = "SELECT * FROM orders WHERE lower(customer_email) = $1 ORDER BY created_at DESC"
#: statements logged a second at an average hour (log_min_duration_statement = 100 ms), and during
#: a storm of slow statements
DEMO_RATE = 0.15
STORM_RATE = 2.5
#: connections of the shop's pool at an average hour, and max_connections
DEMO_BACKENDS = 12
MAX_CONNECTIONS = 100


def demo_rate(scene: Scene) -> float:
    """Records a second: slow statements (many during a storm, with their timeouts and their
    errors' STATEMENT lines), and a checkpoint's two lines every five minutes."""
    storm = STORM_RATE * _storm_strength(scene) if scene.during(SLOW_QUERIES) else 0.0
    return DEMO_RATE * scene.load + storm + 2 / 300


def _storm_strength(scene: Scene) -> float:
    """0 to 1 to 0 over a storm: it builds up, peaks halfway and dies down once the query is killed."""
    return max(0.1, 1.0 - abs(2 * scene.progress(SLOW_QUERIES) - 1.0))


def _stamp(now: datetime) -> str:
    return now.strftime("%Y-%m-%d %H:%M:%S.") + f"{now.microsecond // 1000:03d} UTC"


def demo_line(rng: random.Random, now: datetime, scene: Scene, host: str) -> str:
    """A record of the shop's database: a slow statement with its duration, or a checkpoint; during
    a storm of slow statements, long sequential scans, statement timeouts, at its peak connections
    refused (FATAL) and now and then a deadlock."""
    stamp, pid = _stamp(now), rng.randint(1000, 99_999)
    if scene.during(SLOW_QUERIES) and rng.random() < 0.9:
        return _storm_line(rng, stamp, pid, scene)
    if rng.random() < (2 / 300) / demo_rate(scene):
        return _checkpoint(rng, stamp)
    millis = 100 + rng.lognormvariate(4.0, 0.9) * scene.latency
    statement = rng.choice(DEMO_QUERIES)
    return f"{stamp} [{pid}] app@shop LOG:  duration: {millis:.3f} ms  statement: {statement}"


def _checkpoint(rng: random.Random, stamp: str) -> str:
    """One of the two records of a timed checkpoint, as PostgreSQL 15 writes them (log_checkpoints)."""
    if rng.random() < 0.5:
        return f"{stamp} [27] LOG:  checkpoint starting: time"
    buffers, write = rng.randint(40, 900), rng.uniform(3, 27)
    return (f"{stamp} [27] LOG:  checkpoint complete: wrote {buffers} buffers ({buffers / 163.84:.1f}%);"
            f" 0 WAL file(s) added, 0 removed, 1 recycled; write={write:.3f} s, sync=0.004 s,"
            f" total={write + 0.01:.3f} s; sync files={rng.randint(5, 40)}, longest=0.002 s, average=0.001 s;"
            f" distance={buffers * 8} kB, estimate={buffers * 9} kB")


def _storm_line(rng: random.Random, stamp: str, pid: int, scene: Scene) -> str:
    roll, peak = rng.random(), _storm_strength(scene) > 0.7
    if peak and roll < 0.04:
        return (f"{stamp} [{pid}] app@shop FATAL:  remaining connection slots are reserved for"
                " non-replication superuser connections")
    if roll < 0.01:
        return f"{stamp} [{pid}] app@shop ERROR:  deadlock detected"
    if roll < 0.12:
        return f"{stamp} [{pid}] app@shop ERROR:  canceling statement due to statement timeout"
    millis = rng.uniform(2_000, 30_000)
    return f"{stamp} [{pid}] app@shop LOG:  duration: {millis:.3f} ms  statement: {STORM_QUERY}"


def demo_metrics(rng: random.Random, now: datetime, scene: Scene, host: str) -> list[dict[str, Any]]:
    """pg_stat_database of the shop's database as Vector's postgresql_metrics source reads it:
    backends follow the load and pile up during a storm (up to max_connections at its peak);
    commits, rollbacks, blocks and deadlocks are counters that grow with what was served (rollbacks
    and deadlocks faster during storms)."""
    storm = _storm_strength(scene) if scene.during(SLOW_QUERIES) else 0.0
    backends = DEMO_BACKENDS * scene.load * rng.uniform(0.8, 1.2) + storm * (MAX_CONNECTIONS - 20)
    stormy = scene.spent.get(SLOW_QUERIES, 0.0)
    values = (
        ("pg_stat_database_numbackends", "gauge", round(min(backends, MAX_CONNECTIONS - 3))),
        ("pg_stat_database_xact_commit_total", "counter", int(scene.counter(38.0))),
        ("pg_stat_database_xact_rollback_total", "counter", int(scene.counter(0.2) + stormy * 0.3)),
        ("pg_stat_database_blks_hit_total", "counter", int(scene.counter(4_000.0))),
        ("pg_stat_database_blks_read_total", "counter", int(scene.counter(35.0) + stormy * 900)),
        ("pg_stat_database_deadlocks_total", "counter", int(scene.served / 400_000 + stormy / 500)),
    )
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    tags = {"host": host, "endpoint": f"postgresql://postgres@{host}:5432/postgres"}
    events = [{"name": "up", "namespace": "postgresql", "tags": dict(tags), "kind": "absolute",
               "gauge": {"value": 1.0}, "timestamp": stamp}]
    for name, kind, value in values:
        events.append({"name": name, "namespace": "postgresql", "tags": {**tags, "db": "shop"},
                       "kind": "absolute", kind: {"value": float(value)}, "timestamp": stamp})
    return events


SERVICE = Service(
    name="postgres",
    title="PostgreSQL",
    sources=(
        log_file(
            "postgres_logs",
            "postgres",
            "log",
            multiline=POSTGRES_MULTILINE,
            max_line_bytes=STATEMENT_LINE_BYTES,
        ),
        Source(
            id="postgres_metrics",
            kind="postgresql_metrics",
            parser="postgres_metrics",
            options={"endpoints": ["{metrics_endpoint}"]},
        ),
    ),
    parsers=(
        Parser(id="postgres", vrl=POSTGRES_VRL, samples=POSTGRES_SAMPLES, configured=postgres_vrl),
        Parser(
            id="postgres_metrics",
            vrl=POSTGRES_METRICS_VRL,
            samples=POSTGRES_METRICS_SAMPLES,
            metrics=True,
        ),
    ),
    tables=(POSTGRES_TABLE, POSTGRES_METRICS_TABLE),
    settings=(
        Setting(
            key="log",
            prompt="PostgreSQL log files to follow",
            default=["/var/log/postgresql/postgresql-*-main.log"],
            kind="list",
        ),
        Setting(
            key="metrics_endpoint",
            prompt="PostgreSQL URL for metrics (empty: no metrics)",
            default="",
            kind="url",
        ),
        timezone_setting("time zone of the log's times (log_timezone)"),
    ),
    red=(
        Red(table="postgres", level="level", error_levels=("ERROR", "FATAL", "PANIC"), duration="duration"),
    ),
    alert_events=(
        AlertEvent(
            name="postgres_fatal",
            table="postgres",
            where="level IN ('FATAL', 'PANIC')",
            match={"level": ("FATAL", "PANIC")},
            summary="PostgreSQL {{level}} on {{host}}: {{message}}",
            severity="critical",
        ),
        AlertEvent(
            name="postgres_error",
            table="postgres",
            where="level = 'ERROR'",
            match={"level": ("ERROR",)},
            summary="PostgreSQL ERROR on {{host}}: {{message}}",
            severity="warning",
        ),
    ),
    server_config=(
        "log_line_prefix = '%m [%p] %q%u@%d '\n"
        "log_min_duration_statement = 500   # ms: slower statements are logged with their duration\n"
        "log_timezone = 'UTC'"
    ),
    server_config_help="Add to postgresql.conf (or a file in conf.d/) and reload PostgreSQL.",
    role="database",
    metrics=(POSTGRES_METRICS,),
    demo=(
        DemoFeed("postgres_logs", line=demo_line, rate=demo_rate),
        DemoFeed("postgres_metrics", inputs=demo_metrics),
    ),
    log_panels=(
        LogPanels(
            "PostgreSQL",
            "Errors and slow statements from the postgres table.",
            (
                recent_panel("PostgreSQL errors",
                             "The last 100 ERROR, FATAL and PANIC records PostgreSQL logged, newest first.",
                             "postgres", ("time", "host", "level", "database", "user", "message"),
                             "level IN ('ERROR', 'FATAL', 'PANIC')"),
                slowest_panel("PostgreSQL slowest statements",
                              "The 20 longest statements PostgreSQL logged with a duration"
                              " (log_min_duration_statement).",
                              "postgres", ("time", "host", "database", "user", "duration", "statement"),
                              "duration IS NOT NULL"),
            ),
        ),
    ),
    examples=(
        Example(
            "PostgreSQL errors by database (last 24 hours)",
            "SELECT database, level, count(*) AS events\n"
            'FROM {db}."postgres"\nWHERE time > ago(24h) AND level IN (\'ERROR\', \'FATAL\', \'PANIC\')\n'
            "GROUP BY database, level\nORDER BY events DESC",
            ("postgres",),
        ),
    ),
    aliases=("postgresql",),
)
