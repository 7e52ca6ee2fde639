"""What a day of events costs on the local store's disk, for ``dendro configure`` and the docs.

The figures are measured by ``benchmarks/bench_storage.py`` (see benchmarks/README.md) on
realistic nginx access lines (216 bytes a line): :data:`PARQUET_BYTES` an event once its day has
moved to Parquet, :data:`DUCKDB_BYTES` an event while its day is still in DuckDB. Other tables
cost more or less with their columns; the estimate is for planning, not a promise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

PARQUET_BYTES = 16
DUCKDB_BYTES = 40
SECONDS_A_DAY = 86_400
#: event rates ``dendro configure`` prices when it was not told one
RATES = (10, 100, 1000)


@dataclass(frozen=True)
class DayCost:
    """A day of events at one rate, on disk."""

    events_per_second: float

    @property
    def events(self) -> int:
        return int(self.events_per_second * SECONDS_A_DAY)

    @property
    def parquet(self) -> int:
        return self.events * PARQUET_BYTES

    @property
    def duckdb(self) -> int:
        return self.events * DUCKDB_BYTES

    def kept(self, days: int) -> int:
        """Bytes with ``days`` closed days in Parquet and the current day in DuckDB."""
        return days * self.parquet + self.duckdb


def size(count: float) -> str:
    """``count`` bytes for a person: 950 MB, 1.4 GB, 46 GB."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            value = count / scale
            return f"{value:.1f} {unit}" if value < 10 else f"{value:,.0f} {unit}"
    return f"{count:.0f} B"


def _rate(rate: float) -> str:
    return f"{rate:,.0f}" if rate >= 1 else f"{rate:g}"


def retention_lines(days: int, by_table: Mapping[str, int], rates: Iterable[float] = RATES) -> list[str]:
    """The retention settings and what a day costs at each rate (nginx access lines)."""
    own = "".join(f"; {table}: {kept}" for table, kept in sorted(by_table.items()))
    kept = f"{days} days" if days else "everything (0: no limit)"
    lines = [f"Retention: {kept} (local.retention_days{own})."]
    for rate in rates:
        cost = DayCost(rate)
        line = (f"  at {_rate(rate)} events/s: a day is {size(cost.parquet)} in Parquet"
                f" ({size(cost.duckdb)} while it is the current day, in DuckDB)")
        if days:
            line += f"; {days} days kept: about {size(cost.kept(days))}"
        lines.append(line)
    lines.append(f"  (nginx access lines of about 216 bytes: {PARQUET_BYTES} bytes an event in Parquet;"
                 " other tables differ with their columns)")
    return lines
