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

Times without a zone (RFC 3164, and the high-precision format when rsyslog writes no offset) are
the node's local time: they are read in the service's ``timezone`` setting (an IANA name,
``dendro configure`` offers the node's own zone; the remap transform's ``timezone``, which
``parse_syslog`` and ``parse_timestamp`` use, and vrl-python's runner alike). ``host`` is always the node that
shipped the line; the host name written in the line is kept in ``hostname``. Records whose
continuation lines are indented (macOS, some daemons) are joined by the source's multiline rule.

Hosts whose syslog lives only in the systemd journal (Debian 12 installs no rsyslog, so there is
no /var/log/syslog) read it with Vector's ``journald`` source instead (setting ``source:
journald``; ``dendro configure`` picks it when /var/log/syslog is absent). Vector runs
``journalctl --follow --all --show-cursor --output=json`` and, in its default (legacy) log
namespace, makes each entry an event of the journal's fields, all strings, with ``MESSAGE``
moved to ``message`` and ``_HOSTNAME`` to ``host`` (vectordotdev/vector src/sources/journald.rs,
``create_log_event_from_record`` and ``enrich_log_event``). The journald program maps them to the
same ``syslog`` table: time from ``_SOURCE_REALTIME_TIMESTAMP`` (else ``__REALTIME_TIMESTAMP``,
the order Vector uses; microseconds since the epoch), ``hostname`` from ``_HOSTNAME``,
``program`` from ``SYSLOG_IDENTIFIER`` (else ``_COMM``), ``pid`` from ``SYSLOG_PID`` (else
``_PID``), ``severity`` from ``PRIORITY`` and ``facility`` from ``SYSLOG_FACILITY`` (the names
``parse_syslog`` gives), and ``host`` is the node (``get_hostname``), as for the file.
"""

from __future__ import annotations

import glob
import random
import socket
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from dendro.services.base import (
    AlertEvent,
    Column,
    DemoFeed,
    Multiline,
    Parser,
    Sample,
    Service,
    Setting,
    Source,
    Table,
    log_file,
)
from dendro.services.scene import DEPLOY, Scene
from dendro.services.zones import timezone_setting

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
        note="no zone: read in the service's time zone (UTC, the default)",
    ),
    Sample(
        message="2019-06-14T10:40:20.912134 localhost sudo: pam_unix(sudo-i:session): session opened",
        expected={
            "type": "syslog",
            "host": "web-1",
            "timestamp": "2019-06-14T08:40:20.912134Z",
            "hostname": "localhost",
            "program": "sudo",
            "message": "pam_unix(sudo-i:session): session opened",
        },
        settings={"timezone": "Europe/Paris"},
        note="no zone, timezone Europe/Paris: summer time, two hours before UTC",
    ),
    Sample(message="this is not a syslog line", expected=None, note="no timestamp: parse_error"),
    Sample(message="", expected=None, note="empty line: parse_error"),
)

#: a journal entry as Vector's journald source emits it (legacy log namespace) → a syslog event
JOURNALD_VRL = r"""
text = string!(.message)
stamp = string(."_SOURCE_REALTIME_TIMESTAMP") ?? string!(."__REALTIME_TIMESTAMP")
ts = from_unix_timestamp!(to_int!(stamp), unit: "microseconds")
node = get_hostname() ?? ""
if node == "" { node = string(.host) ?? "unknown" }
event = {
  "type": "syslog",
  "host": node,
  "timestamp": format_timestamp!(ts, "%Y-%m-%dT%H:%M:%S%.6fZ", timezone: "UTC"),
  "hostname": string(.host) ?? null,
  "program": string(.SYSLOG_IDENTIFIER) ?? string(."_COMM") ?? null,
  "message": text
}
# journal fields are strings; to_int(null) would be 0, so a missing field is tested first
pid = string(.SYSLOG_PID) ?? string(."_PID") ?? null
if pid != null { event.pid = to_int(pid) ?? null }
priority = string(.PRIORITY) ?? null
if priority != null { event.severity = to_syslog_level(to_int(priority) ?? -1) ?? null }
facility = string(.SYSLOG_FACILITY) ?? null
if facility != null { event.facility = to_syslog_facility(to_int(facility) ?? -1) ?? null }
. = compact(event, nullish: false, string: false)
"""

#: the node's name as VRL's ``get_hostname`` gives it where the samples run (``dendro check``,
#: the tests): the journald program's ``host``
_NODE = socket.gethostname()

#: journal entries recorded from systemd 252's journald (``journalctl --all --output=json``, the
#: fields Vector reads; machine and boot ids left out) as Vector's journald source hands them on
JOURNALD_SAMPLES = (
    Sample(
        input={
            "message": "Accepted publickey for deploy from 10.0.0.5 port 50022 ssh2",
            "host": "web-1",
            "timestamp": "2026-12-04T16:26:43.832180Z",
            "source_type": "journald",
            "PRIORITY": "6",
            "SYSLOG_FACILITY": "4",
            "SYSLOG_IDENTIFIER": "sshd",
            "SYSLOG_PID": "20721",
            "SYSLOG_TIMESTAMP": "Dec  4 16:26:43 ",
            "_COMM": "logger",
            "_PID": "20721",
            "_TRANSPORT": "syslog",
            "_SOURCE_REALTIME_TIMESTAMP": "1796401603832180",
            "__REALTIME_TIMESTAMP": "1796401603832207",
            "__MONOTONIC_TIMESTAMP": "3437001245",
        },
        expected={
            "type": "syslog",
            "host": _NODE,
            "timestamp": "2026-12-04T16:26:43.832180Z",
            "hostname": "web-1",
            "program": "sshd",
            "pid": 20721,
            "severity": "info",
            "facility": "auth",
            "message": "Accepted publickey for deploy from 10.0.0.5 port 50022 ssh2",
        },
        note="a syslog(3) message in the journal (no rsyslog): SYSLOG_* fields",
    ),
    Sample(
        input={
            "message": "first line\nsecond line",
            "host": "web-1",
            "timestamp": "2026-12-04T16:26:43.934575Z",
            "source_type": "journald",
            "PRIORITY": "3",
            "SYSLOG_IDENTIFIER": "app",
            "_COMM": "python3",
            "_PID": "20723",
            "_TRANSPORT": "journal",
            "_SOURCE_REALTIME_TIMESTAMP": "1796401603934575",
            "__REALTIME_TIMESTAMP": "1796401603939368",
        },
        expected={
            "type": "syslog",
            "host": _NODE,
            "timestamp": "2026-12-04T16:26:43.934575Z",
            "hostname": "web-1",
            "program": "app",
            "pid": 20723,
            "severity": "err",
            "message": "first line\nsecond line",
        },
        note="native journal entry: pid from _PID, no facility, a message of two lines kept whole",
    ),
    Sample(
        input={
            "message": "Out of memory: Killed process 4242 (java)",
            "host": "web-1",
            "source_type": "journald",
            "PRIORITY": "2",
            "SYSLOG_FACILITY": "0",
            "SYSLOG_IDENTIFIER": "kernel",
            "_TRANSPORT": "kernel",
            "__REALTIME_TIMESTAMP": "1796401603835342",
        },
        expected={
            "type": "syslog",
            "host": _NODE,
            "timestamp": "2026-12-04T16:26:43.835342Z",
            "hostname": "web-1",
            "program": "kernel",
            "severity": "crit",
            "facility": "kern",
            "message": "Out of memory: Killed process 4242 (java)",
        },
        note="kernel entry: no _SOURCE_REALTIME_TIMESTAMP (the journal's receive time), no pid",
    ),
    Sample(
        input={"host": "web-1", "source_type": "journald", "__REALTIME_TIMESTAMP": "1796401603835342"},
        expected=None,
        note="an entry without MESSAGE: parse_error",
    ),
)

SYSLOG_TABLE = Table(
    name="syslog",
    description="System log lines (rsyslog, RFC 3164 and RFC 5424, or the systemd journal).",
    columns=(
        Column("host", "VARCHAR", dimension=True, description="the node that shipped the line"),
        Column("hostname", "VARCHAR", dimension=True, description="the host name written in the line"),
        Column("program", "VARCHAR", dimension=True),
        Column("pid", "BIGINT"),
        Column("severity", "VARCHAR", dimension=True, description="RFC 5424 lines and the journal"),
        Column("facility", "VARCHAR", dimension=True, description="RFC 5424 lines and the journal"),
        Column("message", "VARCHAR"),
    ),
)

#: where Debian's rsyslog writes; without it the node's syslog is in the journal only
RSYSLOG_FILE = "/var/log/syslog"


def detect_source(known: Mapping[str, Any]) -> str:
    """``file`` when a syslog file to follow exists on this node (the configured ``paths``, else
    rsyslog's), ``journald`` otherwise."""
    paths = known.get("paths") or [RSYSLOG_FILE]
    return "file" if any(glob.glob(str(path)) for path in paths) else "journald"


#: records a second a node's rsyslog writes at an average hour
DEMO_RATE = 0.02
_ROUTINE = (
    "CRON[{pid}]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)",
    "CRON[{pid}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)",
    "sshd[{pid}]: Accepted publickey for deploy from 10.1.0.5 port {port} ssh2: ED25519 SHA256:"
    "p2NQnXs9d0ZGvOqsOSy1b7KJtrv0QknwHc0jzSMvbbc",
    "systemd[1]: Starting apt-daily.service - Daily apt download activities...",
    "systemd[1]: Finished apt-daily.service - Daily apt download activities.",
    "systemd[1]: Starting sysstat-collect.service - system activity accounting tool...",
)
_DEPLOY = (
    "systemd[1]: Stopping shop.service - Shop application...",
    "systemd[1]: shop.service: Deactivated successfully.",
    "systemd[1]: Started shop.service - Shop application.",
    "shop[{pid}]: Traceback (most recent call last): KeyError: 'PAYMENT_PROVIDER_URL'",
)


def demo_rate(scene: Scene) -> float:
    """Records a second: routine cron, ssh and systemd lines; during a broken deploy, the
    application's restarts and its crash."""
    return DEMO_RATE * scene.load + (0.05 if scene.during(DEPLOY) else 0.0)


def demo_line(rng: random.Random, now: datetime, scene: Scene, host: str) -> str:
    """An RFC 3164 line as rsyslog writes it."""
    stamp = now.strftime("%b ") + f"{now.day:>2}" + now.strftime(" %H:%M:%S")
    lines = _DEPLOY if scene.during(DEPLOY) and rng.random() < 0.7 else _ROUTINE
    text = rng.choice(lines).format(pid=rng.randint(100, 99_999), port=rng.randint(32768, 60999))
    return f"{stamp} {host} {text}"


SERVICE = Service(
    name="syslog",
    title="Syslog",
    sources=(
        replace(
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
            when=("source", "file"),
        ),
        Source(
            id="syslog_journald",
            kind="journald",
            parser="syslog_journald",
            # like read_from: end: only new entries at the first start, then from the checkpoint
            options={"since_now": True},
            when=("source", "journald"),
        ),
    ),
    parsers=(
        Parser(id="syslog", vrl=SYSLOG_VRL, samples=SAMPLES),
        Parser(id="syslog_journald", vrl=JOURNALD_VRL, samples=JOURNALD_SAMPLES),
    ),
    tables=(SYSLOG_TABLE,),
    settings=(
        Setting(
            key="source",
            prompt="Read syslog from (file: rsyslog's files; journald: the systemd journal)",
            default="file",
            kind="choice",
            choices=("file", "journald"),
            detect=detect_source,
        ),
        Setting(
            key="paths",
            prompt="Syslog files to follow",
            default=["/var/log/syslog"],
            kind="list",
            when=("source", "file"),
        ),
        timezone_setting("time zone of the syslog files' times (rsyslog writes local time)",
                         when=("source", "file")),
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
    role="events",
    demo=(DemoFeed("syslog_logs", line=demo_line, rate=demo_rate),),
)
