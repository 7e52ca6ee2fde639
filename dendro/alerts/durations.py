"""Durations as dendro.yaml, Prometheus and Grafana write them: ``30s``, ``5m``, ``1h30m``, ``1d``.

A duration is kept in whole seconds; ``format_duration`` gives the shortest canonical form, so
``90s`` reads back as ``1m30s`` and every emitter writes the same text.
"""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+)(ms|d|h|m|s)")
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


class DurationError(ValueError):
    """A duration that does not parse; the message shows the accepted forms."""


def parse_duration(value: object) -> int:
    """Whole seconds of ``30s``/``5m``/``1h30m``/``1d`` (or a plain number of seconds)."""
    milliseconds = _milliseconds(value)
    if milliseconds % 1000:
        raise DurationError(f"duration {value!r} must be whole seconds")
    return milliseconds // 1000


def parse_seconds(value: object) -> float:
    """Seconds, fractions allowed: ``500ms`` → 0.5, ``2s`` → 2.0, ``0.25`` → 0.25."""
    if isinstance(value, float):
        if value < 0:
            raise DurationError(f"must not be negative, got {value}")
        return value
    return _milliseconds(value) / 1000


def _milliseconds(value: object) -> int:
    if isinstance(value, bool):
        raise DurationError(f"expected a duration such as 30s, 5m, 1h or 1d, got {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise DurationError(f"must not be negative, got {value}")
        return int(value * 1000)
    if not isinstance(value, str):
        raise DurationError(f"expected a duration such as 30s, 5m, 1h or 1d, got {value!r}")
    text = value.strip()
    parts = _PART.findall(text)
    if not text or "".join(n + u for n, u in parts) != text:
        raise DurationError(f"cannot parse duration {value!r} (use e.g. 30s, 5m, 1h30m or 1d)")
    milliseconds = 0
    for number, unit in parts:
        milliseconds += int(number) if unit == "ms" else int(number) * _UNITS[unit] * 1000
    return milliseconds


def format_duration(seconds: int) -> str:
    """``3600`` → ``1h``; ``90`` → ``1m30s``; ``0`` → ``0s``."""
    if seconds == 0:
        return "0s"
    text = ""
    for unit, size in _UNITS.items():
        count, seconds = divmod(seconds, size)
        if count:
            text += f"{count}{unit}"
    return text
