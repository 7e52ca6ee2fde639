"""The vocabulary of the service catalog: what one integration declares about itself.

Every integration module in ``dendro.services`` builds one :class:`Service` from these inert,
frozen dataclasses. Everything else in Dendro (the Vector config, the store's tables, the
loader's record mapping, the exporter's RED queries, dashboards and alert rules) is derived
from them, so adding an integration touches one module.

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

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ColumnType = Literal["VARCHAR", "BIGINT", "DOUBLE", "BOOLEAN", "TIMESTAMP"]

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


@dataclass(frozen=True)
class Setting:
    """A follow-up question of ``dendro configure`` and its key in dendro.yaml."""

    key: str
    prompt: str
    default: Any
    kind: Literal["str", "path", "url", "list", "int", "choice"] = "str"
    choices: tuple[str, ...] = ()  # kind "choice": the values allowed
    #: the default for the node ``dendro configure`` runs on, when it can tell (e.g. whether a
    #: log file exists), given the service's settings known so far; ``default`` stays the value
    #: of a node nobody asked
    detect: Callable[[Mapping[str, Any]], Any] | None = None
    #: ``(setting, value)``: asked only when that setting of the service has that value
    when: tuple[str, str] | None = None

    def check(self, service: str, value: Any) -> None:
        """Raise ValueError naming the key when ``value`` is not one of the choices."""
        if self.kind == "choice" and value not in self.choices:
            allowed = " or ".join(self.choices)
            raise ValueError(f"services.{service}.{self.key}: expected {allowed}, got {value!r}")

    def suggested(self, known: Mapping[str, Any] | None = None) -> Any:
        """The default ``dendro configure`` offers on this node."""
        return self.detect(known or {}) if self.detect is not None else self.default


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

    def parser(self, parser_id: str) -> Parser:
        for p in self.parsers:
            if p.id == parser_id:
                return p
        raise KeyError(f"service {self.name} has no parser {parser_id!r}")

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
