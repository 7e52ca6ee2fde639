"""MySQL and MariaDB: the slow query log and the error log.

Slow log records (MySQL 5.5 to 8.0, MariaDB 10.x, Percona Server) look like::

    # Time: 2026-11-26T12:00:00.123456Z          (MySQL >= 5.7: on every record)
    # User@Host: app[app] @ web-1 [10.0.0.5]  Id:    14
    # Query_time: 2.000652  Lock_time: 0.000120 Rows_sent: 1  Rows_examined: 1000
    use shop;                                    (when the session changed database)
    SET timestamp=1795694400;
    SELECT ...;                                  (as many lines as the query has)

MariaDB and MySQL 5.5/5.6 write ``# Time: 261126 12:00:00`` only when the second changes, so a
record may begin with ``# User@Host:``; MariaDB adds ``# Thread_id: … Schema: …`` lines and
Percona more ``#`` lines. No per-line rule can join a ``# Time:`` line to the record that
follows it and also start a record at a ``# User@Host:`` line that has none, so the source's
multiline rule starts a record at every ``# Time:`` line, every ``# User@Host:`` line and the
header the server writes when it starts (``/usr/sbin/mysqld, Version: … started with:`` and its
two lines): a ``# Time:`` line arrives alone. The parser takes every record's time from
``SET timestamp=N`` (epoch seconds, exact whatever the server's zone; every version writes it
into every record), so a lone ``# Time:`` line carries nothing: like the start header, it is log
structure, not data, and the program emits no event for it (``. = []``, an empty array at the
root). Only a record that is exactly one of those; anything else that does not parse stays a
parse_error with its raw text.

Error log lines of MySQL 5.5 (``161209 14:18:50 [Note] …``, or no level at all), 5.7
(``2016-12-09T12:08:33.335060Z 0 [Warning] …``), 8.0 (``… 0 [Warning] [MY-010068] [Server] …``)
and MariaDB 10.x (``2019-10-16 17:24:15 0 [Note] InnoDB: …``) parse into ``level`` (Note,
Warning, Error, System), ``code`` (MY-…), ``subsystem`` (Server, InnoDB…), ``thread`` and
``message``; lines without a time (``Version: …``, dumps) join the record above them. Times
without a zone (MariaDB, 5.5: the server's local time) are read in the service's ``timezone``
setting (an IANA name; the remap transform's ``timezone`` and vrl-python's runner alike); MySQL
5.7 and 8.0 write UTC with a ``Z`` unless ``log_timestamps = SYSTEM``, then with an offset.
"""

from __future__ import annotations

import random
from datetime import datetime

from dendro.services.base import (
    STATEMENT_LINE_BYTES,
    AlertEvent,
    Column,
    DemoFeed,
    LogPanels,
    Multiline,
    Parser,
    Red,
    Sample,
    Service,
    Setting,
    log_file,
)
from dendro.services.db_common import DATABASE, STATEMENT, USER, log_table, recent_panel, slowest_panel
from dendro.services.scene import DISK_FILLING, Scene
from dendro.services.zones import timezone_setting

#: the header mysqld writes into the slow log when it starts
_START_HEADER = r"^\S+, Version: .* started with:"

SLOW_MULTILINE = Multiline(
    start_pattern=r"^# Time: |^# User@Host: |" + _START_HEADER,
    condition_pattern=r"^# Time: |^# User@Host: |" + _START_HEADER,
    mode="halt_before",
    timeout_ms=1000,
)

ERROR_MULTILINE = Multiline(
    start_pattern=r"^(?:\d{4}-\d{2}-\d{2}[T\s]\s?\d{1,2}:\d{2}:\d{2}|\d{6}\s+\d{1,2}:\d{2}:\d{2})",
    condition_pattern=r"^(?:\d{4}-\d{2}-\d{2}[T\s]\s?\d{1,2}:\d{2}:\d{2}|\d{6}\s+\d{1,2}:\d{2}:\d{2})",
    mode="halt_before",
    timeout_ms=1000,
)

_USER_HOST_RE = r"(?m)^# User@Host: (?P<user>[^\[\s]*)\[[^\]]*\] @ (?P<chost>\S*)\s*\[(?P<ip>[^\]]*)\]"
_QUERY_TIME_RE = (
    r"(?m)^# Query_time: (?P<qt>\d+(?:\.\d+)?)\s+Lock_time: (?P<lt>\d+(?:\.\d+)?)"
    r"\s+Rows_sent: (?P<rs>\d+)\s+Rows_examined: (?P<re>\d+)"
)

#: a record that is nothing but a ``# Time:`` line (MySQL 5.7 ISO time, or MariaDB/5.5 yymmdd)
_LONE_TIME_RE = r"^# Time: (?:\d{4}-\d{2}-\d{2}T\S+|\d{6}\s+\d{1,2}:\d{2}:\d{2})\s*$"
#: a record that is exactly the three-line header mysqld writes when it starts
_HEADER_RE = (
    r"^\S+, Version: [^\n]* started with:\n(?i:tcp port): [^\n]*\nTime\s+Id\s+Command\s+Argument\s*$"
)

_SLOW_TEMPLATE = r"""
raw = string!(.message)
if match(raw, r'{LONE_TIME_RE}') || match(raw, r'{HEADER_RE}') {
  # log structure, not data: a lone time marker (the query's SET timestamp line gives its time)
  # or the header written at server start. An array at the root emits one event per element.
  . = []
} else {
  u = parse_regex!(raw, r'{USER_HOST_RE}')
  q = parse_regex!(raw, r'{QUERY_TIME_RE}')
  ts = null
  t, err = parse_regex(raw, r'(?m)^SET (?:\S*,)?timestamp=(?P<epoch>\d+)[,;]')
  if err == null {
    ts = from_unix_timestamp!(to_int!(t.epoch))
  } else {
    m = parse_regex!(raw, r'(?m)^# Time: (?P<time>\S+(?:\s+\d{1,2}:\d{2}:\d{2})?)\s*$')
    ts = parse_timestamp(m.time, "%+") ?? parse_timestamp!(replace(m.time, r'\s+', " "), "%y%m%d %H:%M:%S")
  }
  event = {
    "type": "mysql_slow",
    "host": .host,
    "timestamp": format_timestamp!(ts, "%Y-%m-%dT%H:%M:%S%.6fZ", timezone: "UTC"),
    "level": "slow",
    "duration": to_float!(q.qt),
    "lock_time": to_float!(q.lt),
    "rows_sent": to_int!(q.rs),
    "rows_examined": to_int!(q.re)
  }
  if u.user != "" { event.user = u.user }
  # the client's address, else its host name (local connections have no address)
  if u.ip != "" { event.client_ip = u.ip } else if u.chost != "" { event.client_ip = u.chost }
  db, err = parse_regex(raw, r'(?m)Schema: (?P<db>[^\s]+)')
  if err != null { db, err = parse_regex(raw, r'(?m)^use (?P<db>[^;\n]+);$') }
  if err == null { event.database = replace(string!(db.db), "`", "") }
  s, err = parse_regex(raw, r'(?s)\nSET (?:\S*,)?timestamp=\d+[^\n]*\n(?P<sql>.*)$')
  if err == null {
    sql = strip_whitespace(string!(s.sql))
    if sql != "" {
      event.statement = sql
      event.message = split(sql, "\n", limit: 2)[0]
    }
  }
  . = event
}
"""
MYSQL_SLOW_VRL = (
    _SLOW_TEMPLATE.replace("{USER_HOST_RE}", _USER_HOST_RE)
    .replace("{QUERY_TIME_RE}", _QUERY_TIME_RE)
    .replace("{LONE_TIME_RE}", _LONE_TIME_RE)
    .replace("{HEADER_RE}", _HEADER_RE)
)

_ERROR_RE = (
    r"(?s)^(?P<ts>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
    r"|\d{4}-\d{2}-\d{2}\s+\d{1,2}:\d{2}:\d{2}|\d{6}\s+\d{1,2}:\d{2}:\d{2})\s+"
    r"(?:(?P<thread>\d+)\s+)?(?:\[(?P<level>[A-Za-z]+)\]\s+)?"
    r"(?:\[(?P<code>MY-\d+)\]\s+\[(?P<subsystem>[^\]]+)\]\s+)?(?P<message>.*)$"
)

MYSQL_ERROR_VRL = (
    r"""
p = parse_regex!(string!(.message), r'{ERROR_RE}')
text = string!(p.message)
ts = null
if contains(p.ts, "T") {
  ts = parse_timestamp(p.ts, "%+") ?? parse_timestamp!(p.ts, "%Y-%m-%dT%H:%M:%S%.f")
} else if match(p.ts, r'^\d{4}-') {
  ts = parse_timestamp!(replace(p.ts, r'\s+', " "), "%Y-%m-%d %H:%M:%S")
} else {
  ts = parse_timestamp!(replace(p.ts, r'\s+', " "), "%y%m%d %H:%M:%S")
}
level = "Note"
if p.level != null {
  level = upcase(slice!(p.level, 0, 1)) + downcase(slice!(p.level, 1))
} else if match(text, r'^InnoDB: (?i)error') {
  level = "Error"
} else if match(text, r'^InnoDB: (?i)warning') {
  level = "Warning"
}
event = {
  "type": "mysql_error",
  "host": .host,
  "timestamp": format_timestamp!(ts, "%Y-%m-%dT%H:%M:%S%.6fZ", timezone: "UTC"),
  "level": level,
  "message": text
}
if p.thread != null { event.thread = to_int!(p.thread) }
if p.code != null { event.code = p.code }
if p.subsystem != null {
  event.subsystem = p.subsystem
} else {
  s, err = parse_regex(text, r'^(?P<sub>InnoDB|mysqld_safe|Event Scheduler|Slave SQL|Slave I/O)\b')
  if err == null { event.subsystem = s.sub }
}
. = event
"""
).replace("{ERROR_RE}", _ERROR_RE)


def _slow(timestamp: str, **fields: object) -> dict[str, object]:
    return {"type": "mysql_slow", "host": "db-1", "timestamp": timestamp, "level": "slow", **fields}


SLOW_SAMPLES = (
    Sample(
        message=(
            "# Time: 2019-03-24T14:04:53.713951Z\n"
            "# User@Host: root[root] @ localhost []  Id:    16\n"
            "# Query_time: 2.631844  Lock_time: 0.000145 Rows_sent: 10  Rows_examined: 3145718\n"
            "use employees;\n"
            "SET timestamp=1553436291;\n"
            "SELECT last_name, MAX(salary) AS salary FROM employees\n"
            "    INNER JOIN salaries ON employees.emp_no = salaries.emp_no\n"
            "    GROUP BY last_name;"
        ),
        host="db-1",
        expected=_slow(
            "2019-03-24T14:04:51.000000Z",
            duration=2.631844,
            lock_time=0.000145,
            rows_sent=10,
            rows_examined=3145718,
            user="root",
            client_ip="localhost",
            database="employees",
            statement=(
                "SELECT last_name, MAX(salary) AS salary FROM employees\n"
                "    INNER JOIN salaries ON employees.emp_no = salaries.emp_no\n"
                "    GROUP BY last_name;"
            ),
            message="SELECT last_name, MAX(salary) AS salary FROM employees",
        ),
        note="MySQL 8.0: # Time on every record, use db, multi-line query kept whole",
    ),
    Sample(
        message=(
            "# User@Host: root[root] @ localhost []\n"
            "# Thread_id: 3  Schema:   QC_hit: No\n"
            "# Query_time: 0.300291  Lock_time: 0.000000  Rows_sent: 1  Rows_examined: 0\n"
            "# Rows_affected: 0  Bytes_sent: 67\n"
            "SET timestamp=1795737733;\n"
            "SELECT SLEEP(0.3);"
        ),
        host="db-1",
        expected=_slow(
            "2026-11-27T00:02:13.000000Z",
            duration=0.300291,
            lock_time=0.0,
            rows_sent=1,
            rows_examined=0,
            user="root",
            client_ip="localhost",
            statement="SELECT SLEEP(0.3);",
            message="SELECT SLEEP(0.3);",
        ),
        note="MariaDB 10.11 record without # Time (same second), empty Schema",
    ),
    Sample(
        message=(
            "# User@Host: root[root] @ localhost []\n"
            "# Thread_id: 6  Schema: mysql  QC_hit: No\n"
            "# Query_time: 0.301650  Lock_time: 0.000970  Rows_sent: 1  Rows_examined: 1\n"
            "# Rows_affected: 0  Bytes_sent: 67\n"
            "use `mysql`;\n"
            "SET timestamp=1795737733;\n"
            "select sleep(0.3) from user limit 1;"
        ),
        host="db-1",
        expected=_slow(
            "2026-11-27T00:02:13.000000Z",
            duration=0.30165,
            lock_time=0.00097,
            rows_sent=1,
            rows_examined=1,
            user="root",
            client_ip="localhost",
            database="mysql",
            statement="select sleep(0.3) from user limit 1;",
            message="select sleep(0.3) from user limit 1;",
        ),
        note="MariaDB: Schema field, use with backquotes",
    ),
    Sample(
        message=(
            "# Time: 2018-08-07T16:27:47.169604+08:00\n"
            "# User@Host: appuser[appuser] @ apphost [1.1.1.1]  Id: 10999834\n"
            "# Query_time: 10.346539  Lock_time: 0.000036 Rows_sent: 0  Rows_examined: 4751313\n"
            "SET timestamp=1533630467;\n"
            "call load_stats(1, '2017-04-28 00:00:00');"
        ),
        host="db-1",
        expected=_slow(
            "2018-08-07T08:27:47.000000Z",
            duration=10.346539,
            lock_time=0.000036,
            rows_sent=0,
            rows_examined=4751313,
            user="appuser",
            client_ip="1.1.1.1",
            statement="call load_stats(1, '2017-04-28 00:00:00');",
            message="call load_stats(1, '2017-04-28 00:00:00');",
        ),
        note="MySQL 5.7 with a client address and an offset in # Time",
    ),
    Sample(
        message=(
            "# Time: 2019-01-21T09:15:36.487710Z\n"
            "# User@Host: test[test] @  [192.168.123.123]  Id: 14370752\n"
            "# Schema: test  Last_errno: 3170  Killed: 0\n"
            "# Query_time: 153.883481  Lock_time: 0.024022  Rows_sent: 0  Rows_examined: 120309968"
            "  Rows_affected: 19198\n"
            "# Bytes_sent: 62  Tmp_tables: 0  Tmp_disk_tables: 0  Tmp_table_sizes: 0\n"
            "# Log_slow_rate_type: query  Log_slow_rate_limit: 100\n"
            "SET timestamp=1548062136;\n"
            "UPDATE test SET state = 'NOT_RELEVANT' WHERE id IN (1, 2);"
        ),
        host="db-1",
        expected=_slow(
            "2019-01-21T09:15:36.000000Z",
            duration=153.883481,
            lock_time=0.024022,
            rows_sent=0,
            rows_examined=120309968,
            user="test",
            client_ip="192.168.123.123",
            database="test",
            statement="UPDATE test SET state = 'NOT_RELEVANT' WHERE id IN (1, 2);",
            message="UPDATE test SET state = 'NOT_RELEVANT' WHERE id IN (1, 2);",
        ),
        note="Percona Server: Schema line, extra # lines",
    ),
    Sample(
        message=(
            "# Time: 161209 14:37:59\n"
            "# User@Host: debian-sys-maint[debian-sys-maint] @ localhost []\n"
            "# Query_time: 0.000153  Lock_time: 0.000061 Rows_sent: 1  Rows_examined: 5\n"
            "SELECT count(*) FROM mysql.user;"
        ),
        host="db-1",
        expected=_slow(
            "2016-12-09T14:37:59.000000Z",
            duration=0.000153,
            lock_time=0.000061,
            rows_sent=1,
            rows_examined=5,
            user="debian-sys-maint",
            client_ip="localhost",
        ),
        note="no SET timestamp: the time comes from '# Time: yymmdd h:mm:ss'",
    ),
    Sample(message="# Time: 261127  0:02:13", no_event=True, note="lone MariaDB time marker: no event"),
    Sample(
        message="# Time: 2018-04-26T18:50:32.437295Z",
        no_event=True,
        note="lone MySQL 5.7 time marker (end of file): no event",
    ),
    Sample(
        message=(
            "/usr/sbin/mariadbd, Version: 10.11.19-MariaDB-0+deb12u1-log (Debian 12). started with:\n"
            "Tcp port: 3306  Unix socket: /run/mysqld/mysqld.sock\n"
            "Time\t\t    Id Command\tArgument"
        ),
        no_event=True,
        note="header written at server start: no event",
    ),
    Sample(
        message="# Time: 261127  0:02:13\nSELECT 1;",
        expected=None,
        note="a time marker followed by something that is no record: parse_error",
    ),
    Sample(
        message="/usr/sbin/mariadbd, Version: 10.11.19-MariaDB-0+deb12u1-log (Debian 12). started with:",
        expected=None,
        note="a start header cut short: parse_error",
    ),
    Sample(message="# Time: yesterday", expected=None, note="a time marker without a time: parse_error"),
    Sample(message="SELECT 1;", expected=None, note="a query line without its header"),
    Sample(message="", expected=None, note="empty"),
)


def _error(timestamp: str, level: str, message: str, **fields: object) -> dict[str, object]:
    event: dict[str, object] = {
        "type": "mysql_error",
        "host": "db-1",
        "timestamp": timestamp,
        "level": level,
        "message": message,
    }
    event.update(fields)
    return event


ERROR_SAMPLES = (
    Sample(
        message="2019-10-16 17:24:15 0 [Note] InnoDB: Using Linux native AIO",
        host="db-1",
        expected=_error(
            "2019-10-16T17:24:15.000000Z",
            "Note",
            "InnoDB: Using Linux native AIO",
            thread=0,
            subsystem="InnoDB",
        ),
        note="MariaDB 10.x",
    ),
    Sample(
        message="2019-10-16 17:24:15 0 [Note] InnoDB: Using Linux native AIO",
        host="db-1",
        expected=_error(
            "2019-10-16T09:24:15.000000Z",
            "Note",
            "InnoDB: Using Linux native AIO",
            thread=0,
            subsystem="InnoDB",
        ),
        settings={"timezone": "Asia/Shanghai"},
        note="MariaDB 10.x on a server whose local time is Asia/Shanghai (the timezone setting)",
    ),
    Sample(
        message=(
            "2026-11-27  0:02:13 5 [Warning] "
            "Access denied for user 'nobody'@'localhost' (using password: YES)"
        ),
        host="db-1",
        expected=_error(
            "2026-11-27T00:02:13.000000Z",
            "Warning",
            "Access denied for user 'nobody'@'localhost' (using password: YES)",
            thread=5,
        ),
        note="MariaDB 10.11: hour padded with a space",
    ),
    Sample(
        message=(
            "2019-10-16 17:25:43 12 [ERROR] Event Scheduler: [root@localhost][test.test_error_log] "
            "hi from the error log"
        ),
        host="db-1",
        expected=_error(
            "2019-10-16T17:25:43.000000Z",
            "Error",
            "Event Scheduler: [root@localhost][test.test_error_log] hi from the error log",
            thread=12,
            subsystem="Event Scheduler",
        ),
        note="ERROR normalised to Error",
    ),
    Sample(
        message=(
            "2018-08-07T09:52:51.046357Z 0 [Warning] [MY-010068] [Server] "
            "CA certificate ca.pem is self signed."
        ),
        host="db-1",
        expected=_error(
            "2018-08-07T09:52:51.046357Z",
            "Warning",
            "CA certificate ca.pem is self signed.",
            thread=0,
            code="MY-010068",
            subsystem="Server",
        ),
        note="MySQL 8.0 with error code and subsystem",
    ),
    Sample(
        message=(
            "2019-03-24T13:44:34.420123Z 0 [System] [MY-010931] [Server] /usr/sbin/mysqld: ready for "
            "connections. Version: '8.0.15'  socket: '/var/run/mysqld/mysqld.sock'  port: 3306"
        ),
        host="db-1",
        expected=_error(
            "2019-03-24T13:44:34.420123Z",
            "System",
            "/usr/sbin/mysqld: ready for connections. Version: '8.0.15'  "
            "socket: '/var/run/mysqld/mysqld.sock'  port: 3306",
            thread=0,
            code="MY-010931",
            subsystem="Server",
        ),
        note="MySQL 8.0 System level",
    ),
    Sample(
        message=(
            "2016-12-09T12:08:33.784722Z 0 [Note] /usr/local/bin/mysqld: ready for connections.\n"
            "Version: '5.7.10'  socket: '/tmp/mysql.sock'  port: 3306  Homebrew"
        ),
        host="db-1",
        expected=_error(
            "2016-12-09T12:08:33.784722Z",
            "Note",
            "/usr/local/bin/mysqld: ready for connections.\n"
            "Version: '5.7.10'  socket: '/tmp/mysql.sock'  port: 3306  Homebrew",
            thread=0,
        ),
        note="MySQL 5.7, with the Version line the multiline rule joins",
    ),
    Sample(
        message="161209 14:18:50 [Warning] Using unique option prefix myisam-recover is deprecated.",
        host="db-1",
        expected=_error(
            "2016-12-09T14:18:50.000000Z",
            "Warning",
            "Using unique option prefix myisam-recover is deprecated.",
        ),
        note="MySQL 5.5",
    ),
    Sample(
        message="161209 14:18:50  InnoDB: Error: unable to create temporary file",
        host="db-1",
        expected=_error(
            "2016-12-09T14:18:50.000000Z",
            "Error",
            "InnoDB: Error: unable to create temporary file",
            subsystem="InnoDB",
        ),
        note="MySQL 5.5 InnoDB line without a level: level from the text",
    ),
    Sample(
        message="161209 13:08:33 mysqld_safe Starting mysqld daemon with databases from /var/lib/mysql",
        host="db-1",
        expected=_error(
            "2016-12-09T13:08:33.000000Z",
            "Note",
            "mysqld_safe Starting mysqld daemon with databases from /var/lib/mysql",
            subsystem="mysqld_safe",
        ),
        note="mysqld_safe",
    ),
    Sample(
        message="2026-11-26T12:00:00.000000+02:00 3 [Note] Aborted connection 3 to db: 'shop'",
        host="db-1",
        expected=_error(
            "2026-11-26T10:00:00.000000Z",
            "Note",
            "Aborted connection 3 to db: 'shop'",
            thread=3,
        ),
        note="log_timestamps = SYSTEM writes an offset",
    ),
    Sample(message="InnoDB: Doublewrite buffer created", expected=None, note="a line without a time"),
    Sample(message="not an error log line", expected=None, note="garbage"),
)

MYSQL_SLOW_TABLE = log_table(
    "mysql_slow",
    "MySQL/MariaDB slow query log: one row per slow statement.",
    "always 'slow'",
    DATABASE,
    USER,
    Column("client_ip", "VARCHAR", description="client address, else its host name"),
    Column("duration", "DOUBLE", description="Query_time, seconds"),
    Column("lock_time", "DOUBLE", description="Lock_time, seconds"),
    Column("rows_sent", "BIGINT"),
    Column("rows_examined", "BIGINT"),
    STATEMENT,
    message="the first line of the statement",
)

MYSQL_ERROR_TABLE = log_table(
    "mysql_error",
    "MySQL/MariaDB error log: startup notes, warnings, errors.",
    "Note, Warning, Error, System",
    Column("code", "VARCHAR", dimension=True, description="MySQL 8 error code (MY-…)"),
    Column("subsystem", "VARCHAR", dimension=True, description="Server, InnoDB…"),
    Column("thread", "BIGINT", description="connection/thread id"),
)


#: slow-log records a second at an average hour (long_query_time = 1), error-log records a second
DEMO_SLOW_RATE = 0.01
DEMO_ERROR_RATE = 0.008


def demo_slow_line(rng: random.Random, now: datetime, scene: Scene, host: str) -> str:
    """A slow-log record (several lines, MySQL 5.7's format) of a report query, 1 to 4 seconds."""
    seconds = rng.uniform(1, 4) * scene.latency
    examined = rng.randint(20_000, 400_000)
    return "\n".join([
        f"# Time: {now.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}",
        f"# User@Host: reports[reports] @ localhost []  Id: {rng.randint(10, 9999):>5}",
        f"# Query_time: {seconds:.6f}  Lock_time: 0.000145 Rows_sent: {rng.randint(1, 50)}"
        f"  Rows_examined: {examined}",
        "use shop;",
        f"SET timestamp={int(now.timestamp())};",
        "SELECT sku, sum(quantity) FROM order_items GROUP BY sku ORDER BY 2 DESC LIMIT 50;",
    ])


#: how far a filling filesystem has gone when InnoDB can no longer extend its files (ext4 keeps 5%
#: for root: a daemon gets ENOSPC above 95% of the filesystem)
DISK_FULL = 0.97


def demo_error_rate(scene: Scene) -> float:
    """Error-log records a second: now and then; often once the filesystem is full."""
    return DEMO_ERROR_RATE + (0.2 if scene.progress(DISK_FILLING) > DISK_FULL else 0.0)


def demo_error_line(rng: random.Random, now: datetime, scene: Scene, host: str) -> str:
    """An error-log record as MariaDB 10.x writes them on a quiet server: a client that went away
    (a Warning) or, now and then, InnoDB's buffer pool dump (a Note). When the filling filesystem
    has no room left, InnoDB fails to extend a table (an Error, errno 28)."""
    stamp = now.strftime("%Y-%m-%d %H:%M:%S")
    if scene.progress(DISK_FILLING) > DISK_FULL and rng.random() < 0.9:
        return (f"{stamp} {rng.randint(100, 99_999)} [ERROR] InnoDB: Write to file ./shop/order_items.ibd"
                " failed at offset 1048576, 1048576 bytes should have been written, only 0 were written."
                " Operating system error number 28. Check that your OS and file system support files of"
                " this size. Check also that the disk is not full or a disk quota exceeded.")
    if rng.random() < 0.85:
        thread = rng.randint(100, 99_999)
        return (f"{stamp} {thread} [Warning] Aborted connection {thread} to db: 'shop' user: 'app' host:"
                f" '10.1.0.{rng.randint(10, 40)}' (Got timeout reading communication packets)")
    return f"{stamp} 0 [Note] InnoDB: Buffer pool(s) dump completed at {now.strftime('%y%m%d %H:%M:%S')}"


SERVICE = Service(
    name="mysql",
    title="MySQL / MariaDB",
    sources=(
        log_file(
            "mysql_slow_logs",
            "mysql_slow",
            "slow_log",
            multiline=SLOW_MULTILINE,
            max_line_bytes=STATEMENT_LINE_BYTES,
        ),
        log_file("mysql_error_logs", "mysql_error", "error_log", multiline=ERROR_MULTILINE),
    ),
    parsers=(
        Parser(id="mysql_slow", vrl=MYSQL_SLOW_VRL, samples=SLOW_SAMPLES),
        Parser(id="mysql_error", vrl=MYSQL_ERROR_VRL, samples=ERROR_SAMPLES),
    ),
    tables=(MYSQL_SLOW_TABLE, MYSQL_ERROR_TABLE),
    settings=(
        Setting(
            key="slow_log",
            prompt="MySQL/MariaDB slow query logs to follow",
            default=["/var/log/mysql/mysql-slow.log"],
            kind="list",
        ),
        Setting(
            key="error_log",
            prompt="MySQL/MariaDB error logs to follow",
            default=["/var/log/mysql/error.log"],
            kind="list",
        ),
        timezone_setting("time zone of the error log's times (MariaDB and MySQL 5.5 write local time)"),
    ),
    red=(
        Red(table="mysql_error", level="level", error_levels=("Error",), duration=None),
        Red(table="mysql_slow", duration="duration"),
    ),
    alert_events=(
        AlertEvent(
            name="mysql_error",
            table="mysql_error",
            where="level = 'Error'",
            match={"level": ("Error",)},
            summary="MySQL error on {{host}}: {{message}}",
            severity="critical",
        ),
    ),
    server_config=(
        "[mysqld]\n"
        "slow_query_log = 1\n"
        "slow_query_log_file = /var/log/mysql/mysql-slow.log\n"
        "long_query_time = 0.5\n"
        "log_error = /var/log/mysql/error.log"
    ),
    server_config_help="Add to a file in /etc/mysql/mariadb.conf.d/ (or mysql.conf.d/), then restart.",
    role="database",
    demo=(
        DemoFeed("mysql_slow_logs", line=demo_slow_line, rate=DEMO_SLOW_RATE),
        DemoFeed("mysql_error_logs", line=demo_error_line, rate=demo_error_rate),
    ),
    log_panels=(
        LogPanels(
            "MySQL",
            "Errors and slow statements from mysql_error and mysql_slow.",
            (
                recent_panel("MySQL errors",
                             "The last 100 Error records of the MySQL/MariaDB error log, newest first.",
                             "mysql_error", ("time", "host", "code", "subsystem", "message"),
                             "level = 'Error'"),
                slowest_panel("MySQL slowest statements",
                              "The 20 longest statements of the slow query log (Query_time), with rows"
                              " examined.",
                              "mysql_slow",
                              ("time", "host", "database", "user", "duration", "rows_examined", "statement")),
            ),
        ),
    ),
    aliases=("mariadb",),
)
