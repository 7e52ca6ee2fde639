"""``dendro check --data``: one report row per Parquet object of the local store.

Each object below ``DATA_DIR/tables/`` is read whole (footer, schema, every page against its
CRC; :mod:`dendro.store.datacheck`), and each object in ``DATA_DIR/quarantine/`` (taken out of
the queries when it was found damaged) is reported as a failure until someone restores or
deletes it. The DuckDB file is not opened, so this runs beside ``dendro up``.
"""

from __future__ import annotations

from dendro.config import Config
from dendro.runtime.datadir import DataDir
from dendro.store import datacheck
from dendro.vector.check import Report, Row

KIND = "data"


def data_rows(data_dir: DataDir) -> list[Row]:
    reports = datacheck.check(data_dir.path)
    if not reports:
        return [Row(KIND, str(data_dir.path), True, "no Parquet objects yet", skipped=True)]
    rows = []
    for found in reports:
        name = found.path.relative_to(data_dir.path).as_posix()
        if found.problem is None:
            rows.append(Row(KIND, name, True, f"{found.rows} rows"))
        elif found.quarantined:
            rows.append(Row(KIND, name, False, f"quarantined, its rows are not queried ({found.problem});"
                                               " restore it from a backup or delete it"))
        else:
            rows.append(Row(KIND, name, False, f"damaged ({found.problem}); dendro up quarantines it when"
                                               " a query meets it or when it starts"))
    return rows


def with_data(report: Report, config: Config) -> Report:
    """``report`` and a row per Parquet object of ``config``'s data dir."""
    return Report(report.rows + tuple(data_rows(DataDir.of(config))))
