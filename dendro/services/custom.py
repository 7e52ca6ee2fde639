"""A custom application's log: a regex with named groups, or the user's own VRL program.

``build(name, path, regex=…)`` makes a one-table service named after the application:

- the file source ``custom_<name>`` follows ``path``;
- with a regex (Python ``(?P<group>…)`` syntax, which Vector's regex engine shares), every named
  group becomes a column. Groups are strings, except ``duration`` (DOUBLE, seconds),
  ``status`` and ``bytes`` (BIGINT); ``level`` is lowercased and is a dimension; a ``timestamp``
  group is read as ISO 8601 / RFC 3339 (or ``YYYY-MM-DD HH:MM:SS[.fff]``) and becomes the event's
  time, and a line without one takes the time it was read. Without a ``message`` group the whole
  line is the message. A line the regex does not match becomes a parse_error event.
- with a VRL program, the program runs first and sets the fields it wants; Dendro then sets
  ``type`` (the application's name) and ``host`` when missing and turns ``timestamp`` into the
  RFC 3339 UTC string every event carries (a string it cannot read, or none, means "now").
  The table then has ``host``, ``level`` and ``message``; other fields travel with the event but
  have no column.

The group names ``type`` and ``host`` are reserved: Dendro sets them.
"""

from __future__ import annotations

import re

from dendro.errors import ConfigError
from dendro.services.base import Column, ColumnType, Parser, Red, Role, Service, Source, Table

TYPED_GROUPS: dict[str, ColumnType] = {"duration": "DOUBLE", "status": "BIGINT", "bytes": "BIGINT"}
RESERVED_GROUPS = ("type", "host")
ERROR_LEVELS = ("error", "err", "fatal", "critical", "crit", "alert", "emerg", "panic")

_MESSAGE_WITH_GROUP = 'event.message = string(get!(p, ["message"])) ?? raw'
_FORMAT = '"%Y-%m-%dT%H:%M:%S%.6fZ", timezone: "UTC"'

#: put before every program: the node's name, kept whatever the program does with the event
_START_VRL = "dendro_node = .host\n"

#: appended to every program: the fields every Dendro event carries
_FINISH_VRL = """
if !is_string(.type) {{ .type = "{name}" }}
if !is_string(.host) || .host == "" {{ .host = string(dendro_node) ?? "unknown" }}
ts = .timestamp
if is_string(ts) {{
  ts = parse_timestamp(ts, "%+") ?? parse_timestamp(ts, "%Y-%m-%d %H:%M:%S%.f") ?? now()
}}
if !is_timestamp(ts) {{ ts = now() }}
.timestamp = format_timestamp!(ts, {fmt})
"""


def _vrl_literal(regex: str) -> str:
    """The regex as a VRL raw regex literal (only the quote needs escaping)."""
    return "r'" + regex.replace("\\'", "'").replace("'", "\\'") + "'"


def _group_expr(group: str) -> str:
    # get! forgets the type VRL infers from the regex, so one expression fits optional groups too
    value = f'get!(p, ["{group}"])'
    if group in TYPED_GROUPS:
        convert = "to_float" if TYPED_GROUPS[group] == "DOUBLE" else "to_int"
        # an optional group that did not match, or "-" (nothing sent), is a missing value
        missing = f'{value} == null || {value} == "-" || {value} == ""'
        return f"if {missing} {{ null }} else {{ {convert}!({value}) }}"
    if group == "level":
        return f"downcase({value}) ?? null"
    return value


def _regex_vrl(name: str, regex: str, groups: list[str]) -> str:
    lines = [
        _START_VRL.strip(),
        "raw = string!(.message)",
        f"p = parse_regex!(raw, {_vrl_literal(regex)})",
        "event = {}",
        f'event.type = "{name}"',
        "event.host = dendro_node",
        _MESSAGE_WITH_GROUP if "message" in groups else "event.message = raw",
    ]
    for group in groups:
        if group in ("message", "timestamp"):
            continue
        lines.append(f'event."{group}" = {_group_expr(group)}')
    if "timestamp" in groups:
        lines.append('event.timestamp = get!(p, ["timestamp"])')
    lines.append(". = compact(event, string: false)")
    return "\n".join(lines) + "\n" + _FINISH_VRL.format(name=name, fmt=_FORMAT)


def _user_vrl(name: str, vrl: str) -> str:
    return _START_VRL + vrl.rstrip() + "\n\n# added by Dendro\n" + _FINISH_VRL.format(name=name, fmt=_FORMAT)


def _groups(name: str, regex: str) -> list[str]:
    try:
        groups = list(re.compile(regex).groupindex)
    except re.error as error:
        raise ConfigError(f"custom application {name}: regex is not valid ({error})") from None
    if not groups:
        raise ConfigError(f"custom application {name}: the regex needs named groups such as (?P<level>\\w+)")
    for group in groups:
        if group in RESERVED_GROUPS:
            raise ConfigError(
                f"custom application {name}: the regex group {group!r} is reserved"
                " (Dendro sets type and host); rename it"
            )
    return groups


def _columns(groups: list[str]) -> tuple[Column, ...]:
    columns = [Column("host", "VARCHAR", dimension=True)]
    if "level" in groups:
        columns.append(Column("level", "VARCHAR", dimension=True))
    columns.append(Column("message", "VARCHAR"))
    for group in groups:
        if group in ("host", "level", "message", "timestamp"):
            continue
        columns.append(Column(group, TYPED_GROUPS.get(group, "VARCHAR")))
    return tuple(columns)


def _red(name: str, groups: list[str]) -> tuple[Red, ...]:
    duration = "duration" if "duration" in groups else None
    if "status" in groups:
        return (Red(table=name, status="status", duration=duration),)
    if "level" in groups:
        return (Red(table=name, duration=duration, level="level", error_levels=ERROR_LEVELS),)
    return ()


def build(name: str, path: str, regex: str | None = None, vrl: str | None = None) -> Service:
    """The service of one custom application (exactly one of ``regex`` or ``vrl``)."""
    if bool(regex) == bool(vrl):
        raise ConfigError(f"custom application {name}: give exactly one of regex or vrl")
    if regex:
        groups = _groups(name, regex)
        program = _regex_vrl(name, regex, groups)
        columns = _columns(groups)
    else:
        groups = ["level"]
        program = _user_vrl(name, vrl or "")
        columns = _columns(groups)
    source_id = f"custom_{name}"
    red = _red(name, groups)
    return Service(
        name=name,
        title=f"Custom application {name}",
        sources=(
            Source(
                id=source_id,
                kind="file",
                parser=source_id,
                options={"include": [path], "read_from": "end"},
            ),
        ),
        parsers=(Parser(id=source_id, vrl=program, samples=()),),
        tables=(Table(name=name, columns=columns, description=f"Log of the application {name}."),),
        red=red,
        role=_role(red),
    )


def _role(red: tuple[Red, ...]) -> Role:
    """A web application when it logs a status, a database-like log when it logs levels."""
    if any(r.is_http for r in red):
        return "http"
    return "database" if red else "events"
