"""Run a catalog parser on Vector's own VRL engine (vrl-python), as Vector's remap would.

Used by ``dendro check``, by the backfill of log files, by the demo traffic and by the tests.
A program that fails (a ``!`` function erroring, an ``abort``) turns the input into a
``parse_error`` event that keeps the raw line and the reason, exactly as the generated Vector
config reroutes dropped events; nothing vanishes by accident.

Like Vector's remap, a program may emit several events or none by assigning an array to the
root: each element becomes an event (an element that is not an object becomes an event whose
``message`` is that value) and ``. = []`` emits nothing, which is how a parser says that a
record is log structure (a marker line, a header) and not data. :func:`run_events` gives those
0..n events and is what code processing real input calls; :func:`run` is the shorthand for a
program known to emit exactly one event and refuses an array result with a ValueError.

Both take the node's service ``settings`` where a program depends on them: the program is the
parser's for those settings (:meth:`~dendro.services.base.Parser.program`) and runs in the zone of
their ``timezone`` (UTC without one), as Vector's remap runs it with its ``timezone`` option. Each
(zone, program) pair has its own compiled runtime: vrl-python keeps one compiled program per
runtime and recompiles when given another, which made alternating programs about 200 times slower.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from vrl_python import VRLRuntime

from dendro.services.base import Parser
from dendro.services.zones import zone_of

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: compiled runtimes kept, the least recently used dropped first
RUNTIMES = 64
_runtimes: OrderedDict[tuple[str, str], VRLRuntime] = OrderedDict()
_lock = threading.Lock()


def runtime(program: str = "", zone: str = "UTC") -> VRLRuntime:
    """The runtime that runs ``program`` in ``zone`` (compiled the first time it is asked for)."""
    key = (zone, program)
    with _lock:
        found = _runtimes.get(key)
        if found is not None:
            _runtimes.move_to_end(key)
            return found
    made = VRLRuntime(timezone=zone)
    if program:
        made.compile(program)
    with _lock:
        _runtimes[key] = made
        while len(_runtimes) > RUNTIMES:
            _runtimes.popitem(last=False)
    return made


def compile_error(vrl: str) -> str | None:
    """The compiler's diagnostic for a VRL program, or None when it compiles."""
    try:
        VRLRuntime(timezone="UTC").compile(vrl)
    except ValueError as error:  # vrl-python reports compile diagnostics as ValueError
        return _ANSI.sub("", str(error)).strip()
    return None


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def first_error_line(error: Exception) -> str:
    """VRL errors are multi-line diagnostics; the first meaningful line says what failed."""
    for line in _ANSI.sub("", str(error)).splitlines():
        line = line.strip()
        if line.startswith("error["):
            return line.split(":", 1)[1].strip() if ":" in line else line
    return str(error).strip() or type(error).__name__


def parse_error_event(source: str, event: Mapping[str, Any], reason: str) -> dict[str, Any]:
    """The event a line that did not parse becomes (same shape as Vector's reroute)."""
    return {
        "type": "parse_error",
        "host": str(event.get("host") or "unknown"),
        "timestamp": now_rfc3339(),
        "source": source,
        "error": reason,
        "message": str(event.get("message", "")),
    }


def _as_event(value: Any) -> dict[str, Any]:
    """A root value as Vector's remap turns it into a log event (a non-object goes to ``message``)."""
    return dict(value) if isinstance(value, Mapping) else {"message": value}


def _execute(parser: Parser, event: Mapping[str, Any], source: str | None,
             settings: Mapping[str, Any] | None) -> Any:
    """The program's root value after it ran, or a parse_error event when it failed."""
    program = parser.program(settings)
    try:
        return runtime(program, zone_of(settings or {})).execute(program, dict(event)).processed_event
    except Exception as error:  # vrl-python raises RuntimeError for every VRL failure
        return parse_error_event(source or parser.id, event, first_error_line(error))


def run_events(parser: Parser, event: Mapping[str, Any], source: str | None = None,
               settings: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every event ``parser`` makes of ``event``, as Vector's remap emits them (on a node with
    these service ``settings``; None: the program for the defaults, in UTC).

    ``[event]`` for a program that leaves an object at the root, one event per element when it
    assigns an array to the root (none for ``. = []``), ``[parse_error]`` when it fails.
    """
    root = _execute(parser, event, source, settings)
    if isinstance(root, list):
        return [_as_event(item) for item in root]
    return [_as_event(root)]


def run(parser: Parser, event: Mapping[str, Any], source: str | None = None,
        settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The one event ``parser`` makes of ``event``, or a parse_error event with the reason.

    Raises ValueError when the program assigns an array to the root (zero or several events):
    code that may meet such programs calls :func:`run_events`.
    """
    root = _execute(parser, event, source, settings)
    if isinstance(root, list):
        raise ValueError(
            f"parser {parser.id} emitted {len(root)} events (an array at the root); use run_events"
        )
    return _as_event(root)


def decode_line(raw: bytes) -> str:
    """Bytes of a log line as text; invalid UTF-8 is replaced, as Vector's file source does."""
    return raw.decode("utf-8", errors="replace")
