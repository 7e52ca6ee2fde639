"""Syslog: the lines rsyslog (Debian's default) writes to /var/log/syslog, and RFC 5424 lines.

Three shapes parse:
- RFC 3164 as rsyslog writes it by default, without a year: ``Nov 26 12:00:00 web-1 sshd[123]: msg``.
  The year is resolved the way Vector's ``parse_syslog`` does it: the current year, except that a
  December line read in January belongs to the previous year. A line from another year (an old
  rotated file read from the beginning) gets the wrong year; that is the price of a year-less format.
- RFC 5424 (``<34>1 2026-11-26T12:00:00.003Z web-1 su 77 ID47 - msg``), which adds severity and
  facility;
- the high-precision variant rsyslog writes with ``RSYSLOG_FileFormat``
  (``2026-11-26T12:00:00.123456+00:00 web-1 app[1]: msg``), including offsets without a colon and
  times without a zone (see below).

Times without a zone are read in the remap transform's time zone (Vector's global ``timezone``,
the node's local time by default; vrl-python's runner uses UTC). ``host`` is always the node that
shipped the line; the host name written in the line is kept in ``hostname``. Records whose
continuation lines are indented (macOS, some daemons) are joined by the source's multiline rule.
"""

from __future__ import annotations

from datetime import UTC, datetime

from dendro.services.base import (
    AlertEvent,
    Column,
    Multiline,
    Parser,
    Sample,
    Service,
    Setting,
    Table,
    log_file,
)

#: RSYSLOG_FileFormat lines: ISO 8601 time (any offset form, or none), host, program[pid]: message
ISO_LINE = (
    r"(?s)^(?P<ts>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)"
    r"\s+(?P<hostname>\S+)\s+(?P<program>[^\s\[:]+)(?:\[(?P<pid>\d+)\])?:\s?(?P<message>.*)$"
)

SYSLOG_VRL = r"""
raw = string!(.message)
# VRL variables are block-scoped: declare them before the branches assign them
ts = null
hostname = null
program = null
pid = null
text = null
severity = null
facility = null
parsed, err = parse_syslog(raw)
if err == null && exists(parsed.timestamp) {
  ts = parsed.timestamp
  hostname = parsed.hostname
  program = parsed.appname
  pid = parsed.procid
  text = parsed.message
  severity = parsed.severity
  facility = parsed.facility
} else {
  # RSYSLOG_FileFormat variants parse_syslog refuses: "+0400" offsets, times without a zone
  p = parse_regex!(raw, r'ISO_LINE')
  ts = parse_timestamp(p.ts, "%+") ?? parse_timestamp(p.ts, "%Y-%m-%dT%H:%M:%S%.f%z") ??
    parse_timestamp!(p.ts, "%Y-%m-%dT%H:%M:%S%.f")
  hostname = p.hostname
  program = p.program
  pid = p.pid
  text = p.message
}
event = {
  "type": "syslog",
  "host": .host,
  "timestamp": format_timestamp!(ts, "%Y-%m-%dT%H:%M:%S%.6fZ", timezone: "UTC"),
  "hostname": hostname,
  "program": program,
  "message": text
}
if pid != null { event.pid = to_int(pid) ?? null }
if severity != null { event.severity = severity }
if facility != null { event.facility = facility }
. = compact(event, nullish: false, string: false)
""".replace("ISO_LINE", ISO_LINE)


def _year_for(month: int) -> int:
    """The year parse_syslog gives a year-less line of ``month`` (December lines read in January
    belong to the previous year)."""
    now = datetime.now(UTC)
    return now.year - 1 if now.month == 1 and month == 12 else now.year


_Y = _year_for(11)

SAMPLES = (
    Sample(
        message="Nov 26 12:00:00 web-1 sshd[123]: Accepted publickey for deploy from 10.0.0.5 port 50022",
        host="node-a",
        expected={
            "type": "syslog",
            "host": "node-a",
            "timestamp": f"{_Y}-11-26T12:00:00.000000Z",
            "hostname": "web-1",
            "program": "sshd",
            "pid": 123,
            "message": "Accepted publickey for deploy from 10.0.0.5 port 50022",
        },
        note="Debian rsyslog default format, no year",
    ),
    Sample(
        message="Nov  3 07:15:01 web-1 CRON[4242]: (root) CMD (command -v debian-sa1 > /dev/null)",
        expected={
            "type": "syslog",
            "host": "web-1",
            "timestamp": f"{_Y}-11-03T07:15:01.000000Z",
            "hostname": "web-1",
            "program": "CRON",
            "pid": 4242,
            "message": "(root) CMD (command -v debian-sa1 > /dev/null)",
        },
        note="single-digit day padded with a space",
    ),
    Sample(
        message="Nov 26 12:00:01 web-1 kernel: [ 12.345678] EXT4-fs (sda1): mounted filesystem",
        expected={
            "type": "syslog",
            "host": "web-1",
            "timestamp": f"{_Y}-11-26T12:00:01.000000Z",
            "hostname": "web-1",
            "program": "kernel",
            "message": "[ 12.345678] EXT4-fs (sda1): mounted filesystem",
        },
        note="no pid",
    ),
    Sample(
        message="<34>1 2026-11-26T12:00:00.003Z web-1 su 77 ID47 - 'su root' failed on /dev/pts/8",
        expected={
            "type": "syslog",
            "host": "web-1",
            "timestamp": "2026-11-26T12:00:00.003000Z",
            "hostname": "web-1",
            "program": "su",
            "pid": 77,
            "severity": "crit",
            "facility": "auth",
            "message": "'su root' failed on /dev/pts/8",
        },
        note="RFC 5424 with priority",
    ),
    Sample(
        message="2026-11-26T12:00:00.123456+02:00 web-1 app[1]: started",
        expected={
            "type": "syslog",
            "host": "web-1",
            "timestamp": "2026-11-26T10:00:00.123456Z",
            "hostname": "web-1",
            "program": "app",
            "pid": 1,
            "message": "started",
        },
        note="RSYSLOG_FileFormat (ISO 8601 with microseconds and offset)",
    ),
    Sample(
        message="1986-04-26T01:23:45.101+0400 rmbkmonitor04 shutdown[2649]: shutting down for system halt",
        expected={
            "type": "syslog",
            "host": "web-1",
            "timestamp": "1986-04-25T21:23:45.101000Z",
            "hostname": "rmbkmonitor04",
            "program": "shutdown",
            "pid": 2649,
            "message": "shutting down for system halt",
        },
        note="offset without a colon",
    ),
    Sample(
        message="2019-06-14T10:40:20.912134 localhost sudo: pam_unix(sudo-i:session): session opened",
        expected={
            "type": "syslog",
            "host": "web-1",
            "timestamp": "2019-06-14T10:40:20.912134Z",
            "hostname": "localhost",
            "program": "sudo",
            "message": "pam_unix(sudo-i:session): session opened",
        },
        note="no zone: read in the transform's time zone (UTC here)",
    ),
    Sample(message="this is not a syslog line", expected=None, note="no timestamp: parse_error"),
    Sample(message="", expected=None, note="empty line: parse_error"),
)

SYSLOG_TABLE = Table(
    name="syslog",
    description="System log lines (rsyslog, RFC 3164 and RFC 5424).",
    columns=(
        Column("host", "VARCHAR", dimension=True, description="the node that shipped the line"),
        Column("hostname", "VARCHAR", dimension=True, description="the host name written in the line"),
        Column("program", "VARCHAR", dimension=True),
        Column("pid", "BIGINT"),
        Column("severity", "VARCHAR", dimension=True, description="RFC 5424 lines only"),
        Column("facility", "VARCHAR", dimension=True, description="RFC 5424 lines only"),
        Column("message", "VARCHAR"),
    ),
)

SERVICE = Service(
    name="syslog",
    title="Syslog",
    sources=(
        log_file(
            "syslog_logs",
            "syslog",
            "paths",
            # continuation lines of a record are indented (macOS daemons, stack dumps)
            multiline=Multiline(
                start_pattern=r"^\S",
                condition_pattern=r"^\s",
                mode="continue_through",
                timeout_ms=1000,
            ),
        ),
    ),
    parsers=(Parser(id="syslog", vrl=SYSLOG_VRL, samples=SAMPLES),),
    tables=(SYSLOG_TABLE,),
    settings=(
        Setting(
            key="paths",
            prompt="Syslog files to follow",
            default=["/var/log/syslog"],
            kind="list",
        ),
    ),
    alert_events=(
        AlertEvent(
            name="syslog_critical",
            table="syslog",
            where="severity IN ('emerg', 'alert', 'crit')",
            match={"severity": ("emerg", "alert", "crit")},
            summary="A critical syslog message on {{host}} from {{program}}",
            severity="critical",
        ),
    ),
)
