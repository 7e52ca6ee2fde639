"""What the database integrations share: the shape of their log and metrics tables, and their panels.

A database's log table is one row per record: the node (``host``), the record's ``level``, the
columns of that server's records, and the record's text (``message``); its metrics table is one
row per metric sample (``name``, ``db``, ``kind``, ``value``). ``dendro.services.postgres``,
``mysql`` and ``redis`` declare only what their records carry beyond that, as the web servers do
with :mod:`dendro.services.http_common`.
"""

from __future__ import annotations

from dendro.services.base import Column, LogPanel, Table

#: the columns SQL needs quoted (reserved words in Timestream and DuckDB)
_RESERVED = frozenset({"database", "user"})

DATABASE = Column("database", "VARCHAR", dimension=True)
USER = Column("user", "VARCHAR", dimension=True)
STATEMENT = Column("statement", "VARCHAR", description="the SQL text")


def log_table(name: str, description: str, levels: str, *columns: Column, message: str = "") -> Table:
    """A log table: ``host``, ``level`` (``levels`` says which), the server's ``columns``, ``message``."""
    return Table(
        name=name,
        description=description,
        columns=(
            Column("host", "VARCHAR", dimension=True),
            Column("level", "VARCHAR", dimension=True, description=levels),
            *columns,
            Column("message", "VARCHAR", description=message),
        ),
    )


def metrics_table(name: str, description: str, names: str, db: str = "") -> Table:
    """A metrics table: one row per sample of a metric (``names`` says which), per database ``db``."""
    return Table(
        name=name,
        description=description,
        columns=(
            Column("host", "VARCHAR", dimension=True),
            Column("name", "VARCHAR", dimension=True, description=names),
            Column("db", "VARCHAR", dimension=True, description=db),
            Column("kind", "VARCHAR", dimension=True, description="counter (only grows) or gauge"),
            Column("value", "DOUBLE"),
        ),
    )


def _select(columns: tuple[str, ...]) -> str:
    return ", ".join(f'"{c}"' if c in _RESERVED else c for c in columns)


def recent_panel(title: str, description: str, table: str, columns: tuple[str, ...],
                 condition: str) -> LogPanel:
    """The logs explorer's table of the last 100 records of ``table`` matching ``condition``."""
    return LogPanel(
        title=title,
        description=description,
        unit="short",
        table=table,
        sql=f"SELECT {_select(columns)} FROM {{table}} WHERE {{where}} AND {condition}"
        " ORDER BY time DESC LIMIT 100",
        columns=columns,
    )


def slowest_panel(title: str, description: str, table: str, columns: tuple[str, ...],
                  condition: str = "") -> LogPanel:
    """The logs explorer's table of the 20 longest statements of ``table`` (its ``duration``)."""
    where = f" AND {condition}" if condition else ""
    return LogPanel(
        title=title,
        description=description,
        unit="s",
        table=table,
        sql=f"SELECT {_select(columns)} FROM {{table}} WHERE {{where}}{where}"
        " ORDER BY duration DESC LIMIT 20",
        columns=columns,
    )
