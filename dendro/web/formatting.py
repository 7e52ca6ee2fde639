"""Jinja filters of the console: times in UTC, ages, durations, byte sizes, numbers."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from flask import Flask

from dendro.web.results import cell_text


def when(epoch: float | None) -> str:
    if epoch is None:
        return "never"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = max(0, int(seconds))
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size or (unit == "s" and not parts):
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
        if len(parts) == 2:
            break
    return " ".join(parts)


def ago(epoch: float | None, now: float | None = None) -> str:
    if epoch is None:
        return "never"
    return duration((now or time.time()) - epoch) + " ago"


def size(value: float | None) -> str:
    if value is None:
        return "—"
    number = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(number) < 1024 or unit == "TiB":
            return f"{number:.0f} {unit}" if unit == "B" else f"{number:.1f} {unit}"
        number /= 1024
    return f"{number:.1f} TiB"


def number(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return f"{value:,}"


def install(app: Flask) -> None:
    app.jinja_env.filters.update(
        when=when, ago=ago, duration=duration, size=size, number=number, cell=cell_text
    )
