"""The vocabulary of the service catalog: what one integration declares about itself.

Every integration module in ``dendro.services`` builds one :class:`Service` from these inert,
frozen dataclasses. Everything else in Dendro is derived from them, so adding an integration
touches one module: the Vector config (sources, parsers, settings, ``dendro configure``'s
aliases), the store's tables and the loader's record mapping, the exporter (RED mappings, kept
metrics), the dashboards (RED and anomaly rows by role, log-explorer panels, kept metrics), the
console (charts, example queries), the alert rules (RED, alert events, alert kinds) and the demo
traffic (demo feeds). No module outside ``dendro.services`` names a built-in service or table
(tests/catalog/test_no_names_outside.py).

Conventions every VRL program follows (so that Vector and vrl-python give the same event):
- the input event is ``{"message": <raw line>, "host": <node name>, ...}`` as Vector's file
  source emits it (metrics sources go through ``metric_to_log`` first);
- the output event carries ``type`` (its table), ``host`` and ``timestamp``, the latter an
  RFC 3339 UTC string with microseconds (``format_timestamp!(ts, TIMESTAMP_FORMAT,
  timezone: "UTC")``), and the table's columns with their final types;
- a metrics event's ``timestamp`` is a timestamp in Vector but a string under vrl-python: read
  it with ``timestamp(.timestamp) ?? parse_timestamp!(string!(.timestamp), "%+")``;
- a line the program cannot parse makes it fail (``!`` functions or ``abort``): Vector reroutes
  it to a ``parse_error`` event that keeps the raw line, and so does vrl-python's runner;
- a record that is the log's own structure and carries no data (a lone time marker, the header
  a server writes when it starts) makes the program assign ``. = []``: Vector's remap then
  emits no event (an array at the root emits one event per element), and so does
  ``runner.run_events``. Only records recognised exactly as such; anything else unparseable
  stays a parse_error.
"""

from __future__ import annotations

import random
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from dendro.services.scene import Scene

ColumnType = Literal["VARCHAR", "BIGINT", "DOUBLE", "BOOLEAN", "TIMESTAMP"]

#: what kind of thing a service is, for the readers that treat every service of a kind alike:
#: ``http`` (a web server or proxy: RED by status), ``database`` (RED by log level),
#: ``host_metrics`` (Vector's host_metrics names: CPU, memory, filesystems, load, network, read by
#: the hosts dashboard, the console's host charts and the host alert kinds) or ``events`` (logs only)
Role = Literal["http", "database", "host_metrics", "events"]
#: the unit of a :class:`Gauge` (a counter's rate is this unit per second)
GaugeUnit = Literal["count", "bytes", "seconds", "ratio"]

#: strftime format of every event's ``timestamp`` (chrono syntax, as VRL's format_timestamp).
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S%.6fZ"

#: VRL reading a metric after ``metric_to_log``: its time ``ts``, ``kind`` (counter or gauge),
#: ``value`` and ``tags``; a metric of another kind (a histogram, a summary) is dropped
#: (``abort``), since no table has a place for it
METRIC_VALUE_VRL = r"""
ts = timestamp(.timestamp) ?? parse_timestamp!(string!(.timestamp), "%+")
kind = null
value = null
if exists(.counter.value) {
  kind = "counter"
  value = .counter.value
} else if exists(.gauge.value) {
  kind = "gauge"
  value = .gauge.value
} else {
  abort
}
tags = object(.tags) ?? {}
"""

#: VRL setting ``node`` for a metric scraped from an endpoint (nginx/apache status pages,
#: PostgreSQL): Vector tags it with the endpoint's host, but an endpoint on loopback belongs to
#: this node, whose name is ``get_hostname`` (as the file sources use), so every table of a node
#: has one host name
ENDPOINT_NODE_VRL = r"""
node = string(tags.host) ?? string(.host) ?? "unknown"
if match(node, r'^(127\.[0-9.]+|localhost|\[?::1\]?)(:[0-9]+)?$') {
  node = get_hostname() ?? node
}
"""


@dataclass(frozen=True)
class Column:
    """One column of a table.

    ``dimension`` marks bounded-cardinality strings (host, method, level…) that become
    Timestream dimensions; everything else becomes a measure. ``time`` is implicit in every
    table and is not listed.
    """

    name: str
    type: ColumnType
    dimension: bool = False
    description: str = ""
    #: searched by the logs explorer's text query; None: a VARCHAR measure is (a raw line, a
    #: message, a path, a statement), a dimension is not (it is filtered by value instead)
    searchable: bool | None = None

    @property
    def searched(self) -> bool:
        if self.searchable is not None:
            return self.searchable
        return self.type == "VARCHAR" and not self.dimension


@dataclass(frozen=True)
class Table:
    """A table of the store: one per event type, named after it."""

    name: str
    columns: tuple[Column, ...]
    description: str = ""

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"table {self.name} has no column {name!r}")

    @property
    def dimensions(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.dimension)

    @property
    def measures(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if not c.dimension)

    @property
    def holds_metrics(self) -> bool:
        """One row per metric sample (its ``name``, ``kind`` and ``value``), not one per log record."""
        return {"name", "kind", "value"} <= {c.name for c in self.columns}

    @property
    def is_log(self) -> bool:
        """One row per log record of a node (what the logs explorer searches)."""
        return "host" in {c.name for c in self.columns} and not self.holds_metrics


@dataclass(frozen=True)
class Sample:
    """A raw input and what the parser must make of it.

    ``expected`` is the one event it must give; ``None`` (and ``no_event`` false) means the
    input must become a parse_error; ``no_event=True`` means the program must emit no event at
    all (``. = []``: log structure, not data). ``message`` is the raw line (several lines joined
    with ``\\n`` for multiline records); ``input`` overrides the whole input event (metric samples
    shaped as metric_to_log emits them). ``host`` is the node name put into the input event.
    """

    message: str = ""
    expected: Mapping[str, Any] | None = None
    input: Mapping[str, Any] | None = None
    host: str = "web-1"
    note: str = ""
    no_event: bool = False
    #: the service settings it is read under, over the service's defaults (a log time zone…)
    settings: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.no_event and self.expected is not None:
            raise ValueError("a Sample expects an event or no event, not both")

    @property
    def expects_parse_error(self) -> bool:
        return self.expected is None and not self.no_event

    def input_event(self) -> dict[str, Any]:
        if self.input is not None:
            return dict(self.input)
        return {"message": self.message, "host": self.host}


@dataclass(frozen=True)
class Multiline:
    """Vector's file source ``multiline`` settings for logs whose records span lines."""

    start_pattern: str
    condition_pattern: str
    mode: Literal["halt_before", "halt_with", "continue_through", "continue_past"] = "halt_before"
    timeout_ms: int = 1000


@dataclass(frozen=True)
class Source:
    """A Vector source of a service.

    ``kind`` is Vector's source type (``file``, ``host_metrics``, ``postgresql_metrics``,
    ``nginx_metrics``, ``apache_metrics``). ``id`` is the stable component id (Vector keeps
    checkpoints per id, so it never changes). ``options`` holds Vector options; a string value
    of the form ``"{setting}"`` is filled from the service's settings in dendro.yaml.
    ``parser`` names the :class:`Parser` that turns its events into Dendro events. ``when``
    ``(setting, value)``: the source runs only while that setting has that value (a service that
    reads the same logs from one of two places, e.g. syslog from a file or from the journal).
    """

    id: str
    kind: str
    parser: str
    options: Mapping[str, Any] = field(default_factory=dict)
    multiline: Multiline | None = None
    when: tuple[str, str] | None = None

    def active(self, settings: Mapping[str, Any]) -> bool:
        """Whether a node with these service settings runs this source."""
        return self.when is None or settings.get(self.when[0]) == self.when[1]


#: ``max_line_bytes`` of the file sources of database statement logs. Vector's file source
#: DISCARDS a line longer than this (default 100 KiB), and a slow statement is logged on one
#: line unless its SQL has line breaks (an ORM's IN list or multi-row INSERT easily exceeds
#: 100 KiB). The event carries the statement twice (``message`` and ``statement``) and a
#: Firehose record holds at most 1,000 KiB, so 256 KiB keeps the JSON event of one line under
#: that limit with room for escaping; a longer line is still discarded by Vector.
STATEMENT_LINE_BYTES = 256 * 1024


def log_file(
    source_id: str,
    parser: str,
    setting: str,
    multiline: Multiline | None = None,
    max_line_bytes: int | None = None,
) -> Source:
    """A file source read from the end, its paths from the service's ``setting``."""
    options: dict[str, Any] = {"include": "{" + setting + "}", "read_from": "end"}
    if max_line_bytes is not None:
        options["max_line_bytes"] = max_line_bytes
    return Source(id=source_id, kind="file", parser=parser, options=options, multiline=multiline)


@dataclass(frozen=True)
class Parser:
    """A VRL program with the samples that prove it (the samples are its tests)."""

    id: str
    vrl: str
    samples: tuple[Sample, ...]
    metrics: bool = False  # True: input goes through metric_to_log before the program
    #: the program for a node's service settings, when it depends on them (the abbreviations of
    #: the configured log time zone); None: ``vrl`` whatever they are. ``vrl`` is the defaults' one.
    configured: Callable[[Mapping[str, Any]], str] | None = None

    def program(self, settings: Mapping[str, Any] | None = None) -> str:
        """The VRL program a node with these service settings runs (``vrl`` without settings)."""
        if self.configured is None or settings is None:
            return self.vrl
        return self.configured(settings)


@dataclass(frozen=True)
class Red:
    """How a table maps onto Rate / Errors / Duration.

    HTTP tables set ``status``; database tables set ``level`` and ``error_levels``.
    ``duration`` is in seconds.
    """

    table: str
    status: str | None = None
    duration: str | None = "duration"
    method: str | None = None
    level: str | None = None
    error_levels: tuple[str, ...] = ()

    @property
    def is_http(self) -> bool:
        return self.status is not None


@dataclass(frozen=True)
class AlertEvent:
    """An event worth an alert on its own (a 5xx, a postgres FATAL…).

    ``where`` is a condition over the table's columns in SQL (both stores understand it), and
    ``match`` the same as field → accepted values for code that sees single events (the
    loader). Thresholds live in the alert rules, not here.
    """

    name: str
    table: str
    where: str
    match: Mapping[str, tuple[Any, ...]]
    summary: str
    severity: Literal["critical", "warning", "info"] = "warning"
    status_at_least: int | None = None  # for HTTP: status >= this value


def known_zone(name: object) -> bool:
    """Whether ``name`` is an IANA time zone name (``UTC``, ``Asia/Shanghai``) Python's zoneinfo knows."""
    if not isinstance(name, str) or not name or name != name.strip() or name.startswith(("/", ".")):
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        return False
    return True


@dataclass(frozen=True)
class Setting:
    """A follow-up question of ``dendro configure`` and its key in dendro.yaml."""

    key: str
    prompt: str
    default: Any
    kind: Literal["str", "path", "url", "list", "int", "choice", "timezone"] = "str"
    choices: tuple[str, ...] = ()  # kind "choice": the values allowed
    #: the default for the node ``dendro configure`` runs on, when it can tell (e.g. whether a
    #: log file exists), given the service's settings known so far; ``default`` stays the value
    #: of a node nobody asked
    detect: Callable[[Mapping[str, Any]], Any] | None = None
    #: ``(setting, value)``: asked only when that setting of the service has that value
    when: tuple[str, str] | None = None

    def check(self, service: str, value: Any) -> None:
        """Raise ValueError naming the key when ``value`` is not one of the choices (or no time zone)."""
        if self.kind == "choice" and value not in self.choices:
            allowed = " or ".join(self.choices)
            raise ValueError(f"services.{service}.{self.key}: expected {allowed}, got {value!r}")
        if self.kind == "timezone" and not known_zone(value):
            raise ValueError(f"services.{service}.{self.key}: {value!r} is not a time zone"
                             " (an IANA name such as UTC, Europe/Paris or Asia/Shanghai)")

    def suggested(self, known: Mapping[str, Any] | None = None) -> Any:
        """The default ``dendro configure`` offers on this node."""
        return self.detect(known or {}) if self.detect is not None else self.default


@dataclass(frozen=True)
class Gauge:
    """A metric of a metrics table that Dendro keeps: ``name`` is its value in the table's ``name``
    column. ``counter``: it only grows (until a restart), so it is shown as a rate per second.
    Charts sum a host's series of the metric (a database's backends over its databases), except
    over ``split``, a tag whose values are parts that do not add up and are drawn apart (Apache's
    workers busy and idle, its connections in total and by state)."""

    name: str
    title: str
    unit: GaugeUnit = "count"
    counter: bool = False
    split: str | None = None


@dataclass(frozen=True)
class Metrics:
    """The metrics of one table (one row per metric sample: ``name``, ``value`` and tags) that the
    exporter keeps and exposes and the console charts; ``tags`` are the columns that tell the
    series of one name apart on one host (a device, a mount point, a proxy…)."""

    table: str
    gauges: tuple[Gauge, ...]
    tags: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(g.name for g in self.gauges)


#: ``(rng, now, scene, host)`` → one raw line as the service writes it on that node at ``now``
LineMaker = Callable[[random.Random, datetime, Scene, str], str]
#: ``(rng, now, scene, host)`` → input events as the source emits them on that node (a scrape)
InputMaker = Callable[[random.Random, datetime, Scene, str], list[dict[str, Any]]]
#: lines a second a feed writes on a node in a scene
RateOf = Callable[[Scene], float]


@dataclass(frozen=True)
class DemoFeed:
    """How ``dendro up --demo`` feeds one source of a service: raw lines (``line``, ``rate`` lines a
    second on a node: a number is the rate at the node's average load and follows its load, a
    function of the :class:`~dendro.services.scene.Scene` decides itself, e.g. more error lines
    during an incident) or input events (``inputs``, once a scrape interval)."""

    source: str
    line: LineMaker | None = None
    rate: float | RateOf = 0.0
    inputs: InputMaker | None = None

    def __post_init__(self) -> None:
        if (self.line is None) == (self.inputs is None):
            raise ValueError(f"demo feed {self.source}: give line or inputs, not both or neither")

    def lines_per_second(self, scene: Scene) -> float:
        """How many lines a second the feed writes on a node in ``scene``."""
        if callable(self.rate):
            return max(0.0, float(self.rate(scene)))
        return float(self.rate) * scene.load


@dataclass(frozen=True)
class LogPanel:
    """A panel of the logs explorer dashboard: one Timestream query over ``table``.

    In ``sql``, ``{table}`` stands for the table in the dashboard's database and ``{where}`` for
    the dashboard's time range and hosts; ``columns`` are the query's columns in order. ``kind``:
    ``table``, ``bars`` (one bar per row) or ``timeseries_bars`` (a count per interval);
    ``width`` in grid columns of 24 (None: the panel's default)."""

    title: str
    description: str
    unit: str
    table: str
    sql: str
    columns: tuple[str, ...]
    kind: Literal["table", "bars", "timeseries_bars"] = "table"
    width: int | None = None


@dataclass(frozen=True)
class LogPanels:
    """A row of the logs explorer: its title, what it shows, and its panels."""

    title: str
    description: str
    panels: tuple[LogPanel, ...]


#: how the logs explorer reads a log table (see :func:`log_view`): the column holding a record's
#: raw line or text, the columns its level may be in (the first the table has), and the level
#: words of an error record where no RED mapping says (an error log's level, a syslog severity)
LINE_COLUMN = "message"
LEVEL_COLUMNS = ("level", "severity")
ERROR_WORDS = ("error", "err", "crit", "critical", "alert", "emerg", "fatal", "panic")


@dataclass(frozen=True)
class LogView:
    """What the logs explorer needs of one log table: where its line, level or HTTP status are,
    which columns its text query searches, and the RED mapping that says what an error is."""

    table: Table
    line: str | None
    level: str | None
    status: str | None
    search: tuple[str, ...]
    red: Red | None = None


def log_view(table: Table, red: Red | None = None) -> LogView:
    """The logs explorer's view of ``table``, from its columns and its RED mapping (if any)."""
    names = [c.name for c in table.columns]
    level = next((n for n in LEVEL_COLUMNS if n in names), None)
    return LogView(
        table=table,
        line=LINE_COLUMN if LINE_COLUMN in names else None,
        level=level,
        status=red.status if red is not None else None,
        search=tuple(c.name for c in table.columns if c.searched),
        red=red,
    )


@dataclass(frozen=True)
class Example:
    """An example query of the console's query page (as datasette's canned queries), offered when
    the store has every one of ``tables``; ``{db}`` in ``sql`` stands for the quoted database."""

    title: str
    sql: str
    tables: tuple[str, ...]

    def render(self, quoted_database: str) -> str:
        return self.sql.replace("{db}", quoted_database)


@dataclass(frozen=True)
class Service:
    """Everything Dendro knows about one integration."""

    name: str
    title: str
    sources: tuple[Source, ...]
    parsers: tuple[Parser, ...]
    tables: tuple[Table, ...]
    settings: tuple[Setting, ...] = ()
    red: tuple[Red, ...] = ()
    alert_events: tuple[AlertEvent, ...] = ()
    server_config: str = ""  # log_format / LogFormat to add so request duration is logged
    server_config_help: str = ""
    role: Role = "events"
    #: the metrics tables' kept metrics (what the exporter exposes and the console charts)
    metrics: tuple[Metrics, ...] = ()
    #: how ``dendro up --demo`` makes traffic for it (a ``database`` runs on the demo's database
    #: node, any other role on its web nodes)
    demo: tuple[DemoFeed, ...] = ()
    log_panels: tuple[LogPanels, ...] = ()
    examples: tuple[Example, ...] = ()
    #: alert kinds of dendro.alerts.kinds that apply to the service as a whole (host: cpu, disk…),
    #: besides those its RED mapping and alert events give
    alert_kinds: tuple[str, ...] = ()
    #: other names ``dendro configure --service`` accepts for it
    aliases: tuple[str, ...] = ()

    def parser(self, parser_id: str) -> Parser:
        for p in self.parsers:
            if p.id == parser_id:
                return p
        raise KeyError(f"service {self.name} has no parser {parser_id!r}")

    @property
    def log_views(self) -> tuple[LogView, ...]:
        """The logs explorer's view of every log table of the service."""
        reds = {r.table: r for r in self.red}
        return tuple(log_view(t, reds.get(t.name)) for t in self.tables if t.is_log)

    def table(self, name: str) -> Table:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(f"service {self.name} has no table {name!r}")

    def defaults(self) -> dict[str, Any]:
        return {s.key: s.default for s in self.settings}

    def active_sources(self, settings: Mapping[str, Any]) -> tuple[Source, ...]:
        """The sources a node with these settings runs (raises ValueError on a bad choice)."""
        for setting in self.settings:
            if setting.key in settings:
                setting.check(self.name, settings[setting.key])
        return tuple(source for source in self.sources if source.active(settings))
