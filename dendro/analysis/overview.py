"""What the home and agents pages show: table activity, pipeline health, hosts and their agents.

Each page costs one or two queries whatever the number of tables (one ``UNION ALL``), and every
query looks back a bounded time (24 hours for activity, ``AGENT_DAYS`` for hosts), because on
Timestream a query without a time bound scans, and bills, the whole table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dendro.analysis import queries
from dendro.analysis.ranges import epoch
from dendro.config import Config
from dendro.services.base import Service
from dendro.store.base import Store

#: how far back the agents page looks for hosts
AGENT_DAYS = 7
#: problem tables of the pipeline itself (local: rejected; both: parse_error)
PROBLEM_TABLES = ("rejected", "parse_error")
#: a host is silent after this long without an event (the agent_silent rule's default)
DEFAULT_SILENT_SECONDS = 600


@dataclass
class TableActivity:
    table: str
    service: str | None
    last_5m: int = 0
    last_1h: int = 0
    last_24h: int = 0
    last_time: float | None = None  # epoch seconds


@dataclass
class Home:
    services: list[Service]
    tables: list[TableActivity]
    last_event: float | None
    rejected_1h: int | None  # None: the backend keeps rejections elsewhere
    parse_errors_1h: int | None
    missing_tables: list[str] = field(default_factory=list)
    #: objects of the local store found damaged and out of the queries (path, tbl, day, rows, reason)
    quarantined: list[dict[str, Any]] = field(default_factory=list)


def _service_of(services: list[Service]) -> dict[str, str]:
    return {table.name: service.name for service in services for table in service.tables}


def activity(store: Store, database: str, tables: list[str]) -> dict[str, TableActivity]:
    if not tables:
        return {}
    found: dict[str, TableActivity] = {}
    for row in store.query(queries.table_activity(database, tables)).dicts():
        found[row["tbl"]] = TableActivity(
            row["tbl"],
            None,
            int(row["last_5m"] or 0),
            int(row["last_1h"] or 0),
            int(row["last_24h"] or 0),
            epoch(row["last_time"]) if row["last_time"] is not None else None,
        )
    return found


def home(store: Store, config: Config, services: list[Service]) -> Home:
    existing = set(store.tables())
    owner = _service_of(services)
    wanted = [name for name in owner if name in existing]
    wanted += [name for name in PROBLEM_TABLES if name in existing]
    counts = activity(store, config.database, wanted)
    rows = []
    for name in owner:
        item = counts.get(name, TableActivity(name, None))
        item.service = owner[name]
        rows.append(item)
    times = [r.last_time for r in rows if r.last_time is not None]
    rejected = counts.get("rejected")
    parse_errors = counts.get("parse_error")
    return Home(
        services=services,
        tables=rows,
        last_event=max(times) if times else None,
        rejected_1h=(rejected.last_1h if rejected else 0) if config.backend == "local" else None,
        parse_errors_1h=parse_errors.last_1h if parse_errors else 0,
        missing_tables=[name for name in owner if name not in existing],
        quarantined=quarantined() if (quarantined := getattr(store, "quarantined", None)) else [],
    )


@dataclass
class HostRow:
    host: str
    last_seen: float
    silent_for: float
    silent: bool
    tables: dict[str, int]  # table → events in the window
    agent_version: str | None = None
    agent_uptime: float | None = None
    agent_last: float | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def hosts(
    store: Store, database: str, silent_after: float = DEFAULT_SILENT_SECONDS, now: datetime | None = None
) -> list[HostRow]:
    """Every host seen in the last AGENT_DAYS days, silent ones first, then by name."""
    now_s = (now or datetime.now(UTC)).timestamp()
    existing = [t for t in store.tables() if t != "rejected"]
    seen: dict[str, HostRow] = {}
    if existing:
        for row in store.query(queries.hosts_seen(database, existing, AGENT_DAYS)).dicts():
            if row["host"] is None or row["last_time"] is None:
                continue
            host = str(row["host"])
            last = epoch(row["last_time"])
            item = seen.setdefault(host, HostRow(host, last, 0.0, False, {}))
            item.last_seen = max(item.last_seen, last)
            item.tables[str(row["tbl"])] = int(row["n"])
    if "agent" in existing:
        for row in store.query(queries.agent_heartbeats(database, AGENT_DAYS)).dicts():
            beat = seen.get(str(row["host"]))
            if beat is not None:
                item = beat
                item.agent_last = epoch(row["last_time"])
                item.agent_version = row["version"] or None
                item.agent_uptime = float(row["uptime"]) if row["uptime"] is not None else None
    for item in seen.values():
        item.silent_for = max(0.0, now_s - item.last_seen)
        # only an agent (a host that sent a heartbeat) can be silent: a backfilled host is none
        item.silent = item.agent_last is not None and item.silent_for > silent_after
    return sorted(seen.values(), key=lambda h: (not h.silent, h.host))
