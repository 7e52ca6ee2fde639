"""A grafanalib-style target for the ``grafana-athena-datasource`` plugin, from a Timestream panel's SQL.

The plugin's query model (grafana/athena-datasource ``src/types.ts``, ``AthenaQuery``, v3.3.3):
``rawSQL`` (Trino SQL with the plugin's macros and dashboard variables), ``format``
(``FormatOptions``: 0 time series, 1 table, 2 logs: not the Timestream plugin's order), and
``connectionArgs`` ``{region, catalog, database}`` (``__default``: the datasource's settings). Its
backend's macros (``pkg/athena/macros.go``): ``$__timeFrom()`` / ``$__timeTo()`` →
``TIMESTAMP 'yyyy-MM-dd HH:mm:ss'`` of the range (UTC), ``$__timeFilter(col)`` →
``col BETWEEN TIMESTAMP … AND TIMESTAMP …``, ``$__timeGroup(col, '1m')`` →
``FROM_UNIXTIME(FLOOR(TO_UNIXTIME(col)/60)*60)``, ``$__dateFilter(col)`` → ``col BETWEEN date …``
(a ``date`` column: the store's partition column is a string, so it is not used).

One query text per panel: a panel is written once, in Dendro's Timestream SQL with the Timestream
plugin's macros; :func:`athena_sql` turns it into the Athena plugin's SQL through the same
translation the store uses (:mod:`dendro.store.athena_sql`: Glue database, time functions, the
``date`` bound that keeps Athena's scan to the dates on screen). The Timestream macros become
placeholders sqlglot parses (``$__timeFilter`` → ``time BETWEEN grafana_time_from() AND
grafana_time_to()``, ``$__interval_ms`` → ``grafana_interval()``, ``$host`` → ``grafana_var_host()``)
and the placeholders become the Athena plugin's macros after translation.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import Any

import attr

from dendro.store import athena_sql, dialect

PLUGIN_TYPE = "grafana-athena-datasource"
ATHENA_UID = "dendro-athena"
#: the plugin's ``FormatOptions`` (src/types.ts): TimeSeries = 0, Table = 1, Logs = 2
TIME_SERIES = 0
TABLE = 1
DEFAULT = "__default"  # connectionArgs value meaning "the datasource's own setting"

_VARIABLE = re.compile(r"(?<![\w$])\$(?!__)([A-Za-z_]\w*)")


def _placeholders(sql: str, database: str) -> str:
    text = sql.replace('"$__database"', f'"{database}"').replace("$__database", f'"{database}"')
    text = text.replace("$__timeFilter", "time BETWEEN grafana_time_from() AND grafana_time_to()")
    text = text.replace("$__interval_ms", f"{athena_sql.GRAFANA_INTERVAL}()")
    left = re.findall(r"\$__\w+", text)
    if left:
        raise ValueError(f"no Athena form is known for {', '.join(sorted(set(left)))}")
    return _VARIABLE.sub(lambda m: f"grafana_var_{m.group(1)}()", text)


def _macros(trino: str) -> str:
    text = re.sub(r"GRAFANA_TIME_FROM\(\)", "$__timeFrom()", trino, flags=re.IGNORECASE)
    text = re.sub(r"GRAFANA_TIME_TO\(\)", "$__timeTo()", text, flags=re.IGNORECASE)
    text = re.sub(rf"{athena_sql.GRAFANA_TIME_GROUP}\(([^()]*)\)", r"$__timeGroup(\1, '$__interval')", text,
                  flags=re.IGNORECASE)
    return re.sub(r"GRAFANA_VAR_(\w+)\(\)", lambda m: f"${m.group(1).lower()}", text, flags=re.IGNORECASE)


def athena_sql_of(sql: str, database: str, tables: Collection[str]) -> str:
    """The Athena plugin's SQL for a panel's Timestream SQL (ValueError if it cannot be carried)."""
    glue = database.replace("-", "_")
    try:
        tree = dialect.parse(_placeholders(sql, database))
        dialect.check(tree, database, tables)
        return _macros(athena_sql.translate(tree, database, glue))
    except dialect.QueryError as error:
        raise ValueError(f"the panel's SQL does not translate for Athena: {error}") from None


def _names(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _check_sql(instance: AthenaTarget, attribute: Any, value: str) -> None:
    if "$__timeFrom()" not in value or '"date" >=' not in value:
        raise ValueError(
            "rawSQL must be bounded by the dashboard's range and its dates:"
            " Athena bills the bytes a query scans"
        )


@attr.s(frozen=True, auto_attribs=True)
class AthenaTarget:
    """One Athena query of a panel (``columns``: what it returns, for the tests; not sent)."""

    rawSQL: str = attr.ib(validator=_check_sql)
    columns: tuple[str, ...] = attr.ib(converter=_names)
    format: int = attr.ib(default=TABLE, validator=attr.validators.in_((TIME_SERIES, TABLE)))
    refId: str = attr.ib(default="A", validator=attr.validators.matches_re(r"^[A-Z]$"))
    datasource: str = ATHENA_UID
    hide: bool = False

    def to_json_data(self) -> dict[str, Any]:
        return {
            "datasource": {"type": PLUGIN_TYPE, "uid": self.datasource},
            "refId": self.refId,
            "rawSQL": self.rawSQL,
            "format": self.format,
            "connectionArgs": {"region": DEFAULT, "catalog": DEFAULT, "database": DEFAULT},
            "hide": self.hide,
        }


def athena_ds(uid: str = ATHENA_UID) -> dict[str, str]:
    return {"type": PLUGIN_TYPE, "uid": uid}


def datasource(region: str, database: str, workgroup: str) -> dict[str, Any]:
    """The provisioning entry of the Athena datasource (settings: src/types.ts AthenaDataSourceOptions
    and the AWS SDK's authType/defaultRegion; the workgroup enforces where results go)."""
    return {
        "name": "Dendro Athena",
        "type": PLUGIN_TYPE,
        "uid": ATHENA_UID,
        "access": "proxy",
        "orgId": 1,
        "isDefault": False,
        "editable": False,
        "jsonData": {
            "authType": "default",
            "defaultRegion": region,
            "catalog": "AwsDataCatalog",
            "database": database.replace("-", "_"),
            "workgroup": workgroup,
        },
    }
