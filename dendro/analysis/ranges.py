"""Time ranges of the charts: the picker's presets, custom ranges, and the bin size of each.

A range is cut into bins of ``step`` seconds aligned to the epoch (as ``bin(time, …)`` aligns
them on both stores), about a hundred per chart whatever the range, so a 7-day chart costs the
browser no more than a 15-minute one. A range starts at a bin's start (the asked start rounded
down), so its first bin is whole; its last bin is still filling when the range ends now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

#: preset → (seconds, bin seconds)
PRESETS: dict[str, tuple[int, int]] = {
    "15m": (900, 15),
    "1h": (3600, 60),
    "6h": (21_600, 300),
    "24h": (86_400, 900),
    "7d": (604_800, 3600),
}
#: bin sizes a custom range may use, smallest first
STEPS = (10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21_600, 43_200, 86_400)
TARGET_BINS = 120
MAX_RANGE = timedelta(days=400)


class RangeError(ValueError):
    """A range a user asked for that makes no sense; ``str()`` says why."""


@dataclass(frozen=True)
class Range:
    start: datetime
    end: datetime
    step: int  # bin seconds
    key: str  # the preset, or "custom"

    def bins(self) -> list[int]:
        """Epoch seconds of every bin start in [start, end)."""
        first = int(self.start.timestamp()) // self.step * self.step
        last = int(self.end.timestamp())
        return list(range(first, last, self.step)) or [first]

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "step": self.step,
            "key": self.key,
        }


def _parse_time(text: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise RangeError(f"{name}: {text!r} is not a date and time such as 2026-11-26T12:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def step_for(seconds: float) -> int:
    for step in STEPS:
        if seconds / step <= TARGET_BINS:
            return step
    return STEPS[-1]


def parse(
    key: str | None, start: str | None = None, end: str | None = None, now: datetime | None = None
) -> Range:
    """The range of a request: a preset (default 1h) or ``custom`` with start and end (UTC)."""
    now = now or datetime.now(UTC)
    key = key or "1h"
    if key in PRESETS:
        seconds, step = PRESETS[key]
        return Range(_aligned(now - timedelta(seconds=seconds), step), now, step, key)
    if key != "custom":
        raise RangeError(f"range: {key!r} is not one of {', '.join(PRESETS)} or custom")
    if not start or not end:
        raise RangeError("a custom range needs a start and an end")
    begin, finish = _parse_time(start, "start"), _parse_time(end, "end")
    if finish <= begin:
        raise RangeError("the end of the range must come after its start")
    if finish - begin > MAX_RANGE:
        raise RangeError(f"a range may span at most {MAX_RANGE.days} days")
    step = step_for((finish - begin).total_seconds())
    return Range(_aligned(begin, step), finish, step, "custom")


def _aligned(moment: datetime, step: int) -> datetime:
    """``moment`` rounded down to the start of its bin."""
    return datetime.fromtimestamp(int(moment.timestamp()) // step * step, UTC)


def epoch(value: Any) -> float:
    """Epoch seconds of a store time (naive datetimes are UTC, as both stores keep them)."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, int | float):
        return float(value)
    return _parse_time(str(value), "time").timestamp()
