"""The time zone a server writes its log times in: the ``timezone`` setting of a service.

Servers write times in their own zone: without any zone at all (syslog, MySQL and MariaDB error
logs, Redis, HAProxy's accept date, nginx and Apache error logs) or with an abbreviation
(PostgreSQL's ``log_timezone``: ``CST``, ``IST``…). Neither says which instant it is: ``CST`` is
China (+08:00) or the US Central zone (-06:00), ``IST`` India, Ireland or Israel. A service whose
logs need it declares the setting :func:`timezone_setting`; its value is an IANA name (``UTC``,
``Asia/Shanghai``), and it reaches the parsers twice:

- Vector's remap transform runs the service's programs with ``timezone`` set to it (the zone of
  ``parse_timestamp`` on a time without one: vectordotdev/vector ``src/transforms/remap.rs``,
  ``RemapConfig.timezone``, v0.44.0 and v0.57.0; it overrides Vector's global ``timezone``, the
  node's local zone by default), and vrl-python's runner is built with the same zone;
- a program that reads abbreviations gets the ones that zone uses (:func:`abbreviations`, from
  Python's zoneinfo, written into the program as a literal) and accepts no other: an unknown or
  ambiguous abbreviation makes the line a parse_error that says why, never a silently shifted time.

``dendro configure`` offers the node's own zone (:func:`node_zone`), where such servers write
by default (PostgreSQL's initdb copies the system zone into ``log_timezone``).
"""

from __future__ import annotations

import contextlib
import functools
import os
import zoneinfo
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dendro.services.base import Setting, known_zone

#: the setting's key; every service that declares it gets it as its remap's ``timezone``
TIMEZONE = "timezone"
DEFAULT_ZONE = "UTC"
#: the years whose abbreviations a zone accepts (a log older than 1970 is no concern)
YEARS = (1970, 2040)


def _zone_of_link(path: Path) -> str | None:
    try:
        target = str(path.resolve())
    except OSError:
        return None
    marker = "/zoneinfo/"
    return target.split(marker, 1)[1] if marker in target else None


def node_zone(environ: Mapping[str, str] | None = None, etc: Path = Path("/etc")) -> str:
    """The IANA name of this machine's zone: ``TZ``, else /etc/timezone, else the /etc/localtime link;
    UTC when none names a known zone."""
    environ = os.environ if environ is None else environ
    candidates = [environ.get("TZ", "").removeprefix(":")]
    with contextlib.suppress(OSError):
        candidates.append((etc / "timezone").read_text(encoding="utf-8").strip())
    candidates.append(_zone_of_link(etc / "localtime") or "")
    for name in candidates:
        if known_zone(name):
            return name
    return DEFAULT_ZONE


def timezone_setting(prompt: str, when: tuple[str, str] | None = None) -> Setting:
    """The ``timezone`` setting of a service whose logs need it; ``prompt`` says which times,
    ``when`` which choice of the service makes them (Setting.when)."""
    return Setting(
        key=TIMEZONE,
        prompt=prompt + ", an IANA name such as Europe/Paris",
        default=DEFAULT_ZONE,
        kind="timezone",
        detect=lambda known: node_zone(),
        when=when,
    )


def _offset_text(offset: timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{rest:02d}"


@functools.lru_cache(maxsize=64)
def abbreviations(zone: str) -> dict[str, tuple[str, ...]]:
    """Each abbreviation ``zone`` used between :data:`YEARS` (read twice a day) → its UTC offsets
    (``+08:00``), sorted. Numeric names (``+03``, tzdata's name for a zone without an
    abbreviation) are left out: a line carrying one says its offset itself."""
    info = zoneinfo.ZoneInfo(zone)
    found: dict[str, set[str]] = {}
    moment = datetime(YEARS[0], 1, 1, tzinfo=UTC)
    end = datetime(YEARS[1], 1, 1, tzinfo=UTC)
    step = timedelta(hours=12)
    while moment < end:
        local = moment.astimezone(info)
        name, offset = local.tzname(), local.utcoffset()
        if name and offset is not None and name[0] not in "+-":
            found.setdefault(name, set()).add(_offset_text(offset))
        moment += step
    return {name: tuple(sorted(offsets)) for name, offsets in sorted(found.items())}


def zone_of(settings: Mapping[str, Any]) -> str:
    """The zone a service's settings give (UTC when it has no such setting)."""
    return str(settings.get(TIMEZONE) or DEFAULT_ZONE)


def abbreviations_vrl(zone: str) -> str:
    """:func:`abbreviations` as a VRL object literal: ``{"CST": ["+08:00"], ...}``."""
    items = ", ".join(
        f'"{name}": [' + ", ".join(f'"{o}"' for o in offsets) + "]"
        for name, offsets in abbreviations(zone).items()
    )
    return "{" + items + "}"


def describe(zone: str) -> str:
    """What a parser of abbreviations accepts in ``zone``, for ``dendro check``."""
    known = ", ".join(f"{name} ({'/'.join(offsets)})" for name, offsets in abbreviations(zone).items())
    return f"{zone}: {known or 'no abbreviation'}; UTC and numeric offsets as written"


#: VRL reading a local time ``stamp`` (format ``FORMAT``) with the zone name ``zone_name`` written
#: beside it (null: none) into ``ts``: a numeric offset (``+03``, ``-0530``) and ``UTC`` as written,
#: no zone at all in the remap's time zone (the configured one), an abbreviation only if the
#: configured zone uses it (ZONE_TABLE: the offsets it had under that name) and calls that instant
#: by that name with that offset (Vector's own zone data; this also tells CET from CEST in the hour
#: a clock goes back). Anything else fails the program with the reason.
_ABBREVIATED_VRL = r"""
offset = null
if zone_name == null {
  offset = null
} else if match(string!(zone_name), r'^[+-][0-9]{2}(:?[0-9]{2})?$') {
  z = parse_regex!(zone_name, r'^(?P<sign>[+-])(?P<h>[0-9]{2}):?(?P<m>[0-9]{2})?$')
  minutes = "00"
  if z.m != null { minutes = z.m }
  offset = z.sign + z.h + ":" + minutes
} else if zone_name == "UTC" {
  offset = "+00:00"
} else {
  name = string!(zone_name)
  candidates = get(ZONE_TABLE, [name]) ?? null
  assert!(is_array(candidates), "time zone abbreviation " + name + " is not one ZONE_NAME uses (" +
    "SETTING_PATH; it writes ZONE_USES): the time is left unread rather than guessed")
  found = []
  for_each(array!(candidates)) -> |_index, candidate| {
    instant = parse_timestamp!(stamp + " " + string!(candidate), "FORMAT %:z")
    if format_timestamp!(instant, "%Z %:z", timezone: "ZONE_NAME") == name + " " + string!(candidate) {
      found = push(found, candidate)
    }
  }
  assert!(length(found) == 1, "time zone abbreviation " + name + " is not what ZONE_NAME writes at " +
    stamp + " (SETTING_PATH): the time is left unread rather than guessed")
  offset = found[0]
}
ts = now()
if offset == null {
  ts = parse_timestamp!(stamp, "FORMAT")
} else {
  ts = parse_timestamp!(stamp + " " + string!(offset), "FORMAT %:z")
}
"""


def abbreviated_time_vrl(zone: str, time_format: str, setting_path: str) -> str:
    """VRL that sets ``ts`` from the strings ``stamp`` and ``zone_name`` (see :data:`_ABBREVIATED_VRL`)
    on a node whose configured zone is ``zone``; ``setting_path`` names the setting in messages."""
    uses = ", ".join(abbreviations(zone)) or "no abbreviation"
    return (
        _ABBREVIATED_VRL.replace("ZONE_TABLE", abbreviations_vrl(zone))
        .replace("ZONE_NAME", zone)
        .replace("ZONE_USES", uses + ", UTC or a numeric offset")
        .replace("SETTING_PATH", setting_path)
        .replace("FORMAT", time_format)
    )
