"""Render the Vector configuration (vector.yaml) of a node from dendro.yaml.

The topology, for every catalog source the node runs::

    <source> ─(metrics only: <source>_to_log, metric_to_log)─ <source>_parse (remap) ─┐
                                        <source>_parse.dropped ─ parse_errors (remap) ─┼─ sink
    dendro_agent_metrics ─ dendro_agent_filter ─ dendro_agent_to_log ─                 │
        dendro_agent_parse ─ dendro_agent_merge (reduce: one heartbeat per host) ──────┘

Component ids are stable (Vector keeps file checkpoints per source id). Every remap fails closed
(``drop_on_error``, ``drop_on_abort``) and reroutes what it drops, so a line that does not parse
becomes a ``parse_error`` event with the raw line instead of vanishing. The sink is Firehose for
the aws backend (credentials come from the environment, a profile or the instance role) or
Dendro's local ingest over HTTP (NDJSON, bearer token read from an environment variable); both
wait for acknowledgements and keep a disk buffer that blocks when full. No secret is written.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import yaml

from dendro.config import Config, ConfigError
from dendro.services.base import TIMESTAMP_FORMAT, Service, Source
from dendro.services.internal import AGENT_MERGE, AGENT_METRICS, AGENT_VRL
from dendro.services.zones import TIMEZONE
from dendro.store import wire

DEFAULT_DATA_DIR = "/var/lib/vector"
AGENT_SOURCE = "dendro_agent_metrics"
PARSE_ERRORS = "parse_errors"
FIREHOSE_SINK = "dendro_firehose"
INGEST_SINK = "dendro_ingest"
AGENT_MERGE_ID = "dendro_agent_merge"
#: the last transform before the sink, through which every event goes out
OUTGOING = "dendro_outgoing"
#: PutRecordBatch takes records of at most 1,000 KiB (AWS Firehose API reference, Record.Data) and
#: refuses the whole call for one larger; Vector neither checks nor splits it (vectordotdev/vector
#: src/sinks/aws_kinesis/firehose/, v0.57.0), and a record its file source joined from many lines
#: (multiline) has no size limit. An event whose JSON is longer than this has each of its strings
#: of more than :data:`FIELD_CAP_CHARS` characters cut to that many, with :data:`CUT` after them.
EVENT_CAP_BYTES = 900_000
FIELD_CAP_CHARS = 50_000
CUT = "…[truncated by the agent]"
#: every event gets its id, so that a batch Vector sends again (a partial refusal by Firehose, a
#: timeout after the ingest wrote it) is known as a copy, and a size Firehose and the ingest take
OUTGOING_VRL = f"""
.{wire.EVENT_ID} = uuid_v4()
if length(encode_json(.)) > {EVENT_CAP_BYTES} {{
  . = map_values(.) -> |value| {{
    if is_string(value) && length(string!(value)) > {FIELD_CAP_CHARS} {{
      truncate(string!(value), {FIELD_CAP_CHARS}, suffix: "{CUT}")
    }} else {{
      value
    }}
  }}
}}
"""

#: Vector's smallest disk buffer; ``block`` makes the sources wait instead of dropping events
BUFFER = {"type": "disk", "max_size": 268435488, "when_full": "block"}
#: PutRecordBatch takes at most 500 records and 4 MiB per call
FIREHOSE_BATCH = {"max_events": 500, "max_bytes": 4_000_000, "timeout_secs": 5}

_PLACEHOLDER = re.compile(r"^\{([a-z_][a-z0-9_]*)\}$")

#: turns an event a remap rerouted to its ``dropped`` output into a parse_error event (the same
#: shape as dendro.services.runner.parse_error_event). Vector puts the reason under
#: ``.metadata.dropped`` (legacy log namespace, the default) or ``%vector.dropped``.
PARSE_ERROR_VRL = f"""
dropped = {{}}
if is_object(.metadata.dropped) {{
  dropped = object!(.metadata.dropped)
}} else if is_object(%vector.dropped) {{
  dropped = object!(%vector.dropped)
}}
node = string(.host) ?? ""
if node == "" {{ node = "unknown" }}
. = {{
  "type": "parse_error",
  "host": node,
  "timestamp": format_timestamp!(now(), "{TIMESTAMP_FORMAT}", timezone: "UTC"),
  "source": string(dropped.component_id) ?? "unknown",
  "error": string(dropped.message) ?? "the parser failed",
  "message": string(.message) ?? ""
}}
"""


def escape(value: Any) -> Any:
    """Every ``$`` doubled: Vector reads ``$NAME`` / ``${NAME}`` anywhere in its config file as an
    environment variable and ``$$`` as a literal ``$`` (VRL regexes end in ``$``)."""
    if isinstance(value, str):
        return value.replace("$", "$$")
    if isinstance(value, dict):
        return {key: escape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [escape(item) for item in value]
    return value


def unescape(text: str) -> str:
    """A string of the config as Vector sees it after interpolation (``$$`` is ``$``)."""
    return text.replace("$$", "$")


class SettingMissing(Exception):
    """A source's option names a setting whose value is empty: the source is left out."""


def _fill(value: Any, settings: dict[str, Any]) -> Any:
    """An option value with its ``"{setting}"`` placeholders replaced by the setting's value."""
    if isinstance(value, str):
        match = _PLACEHOLDER.match(value)
        if not match:
            return value
        filled = settings.get(match.group(1))
        if filled is None or filled == "" or filled == []:
            raise SettingMissing(match.group(1))
        return filled
    if isinstance(value, dict):
        return {key: _fill(item, settings) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_fill(item, settings) for item in value]
    return value


def service_settings(config: Config, service: Service) -> dict[str, Any]:
    if service.name in config.services:  # a built-in service (custom apps have no settings)
        return config.settings(service.name)
    return service.defaults()


def active_sources(config: Config, service: Service) -> tuple[Source, ...]:
    """The service's sources this node runs; ConfigError names a setting with a bad choice."""
    try:
        return service.active_sources(service_settings(config, service))
    except ValueError as error:
        raise ConfigError(str(error)) from None


def source_component(source: Source, settings: dict[str, Any]) -> dict[str, Any] | None:
    """The Vector source of a catalog Source, or None when a setting it needs is empty."""
    try:
        options = _fill(dict(source.options), settings)
    except SettingMissing:
        return None
    component: dict[str, Any] = {"type": source.kind, **options}
    if source.kind == "file":
        include = component.get("include", [])
        component["include"] = [include] if isinstance(include, str) else list(include)
        component.setdefault("read_from", "end")
        if source.multiline is not None:
            m = source.multiline
            component["multiline"] = {
                "start_pattern": m.start_pattern,
                "condition_pattern": m.condition_pattern,
                "mode": m.mode,
                "timeout_ms": m.timeout_ms,
            }
    return component


def remap(inputs: list[str], vrl: str, timezone: str | None = None) -> dict[str, Any]:
    """A remap that fails closed and reroutes what it drops; ``timezone``: the zone its program reads
    times without one in (Vector's remap option; without it, Vector's global ``timezone``)."""
    component: dict[str, Any] = {
        "type": "remap",
        "inputs": inputs,
        "source": vrl.strip() + "\n",
        "drop_on_error": True,
        "drop_on_abort": True,
        "reroute_dropped": True,
    }
    if timezone is not None:
        component["timezone"] = timezone
    return component


def metric_to_log(inputs: list[str]) -> dict[str, Any]:
    return {"type": "metric_to_log", "inputs": inputs, "host_tag": "host"}


def _agent(sources: dict[str, Any], transforms: dict[str, Any]) -> str:
    """The heartbeat: Vector's uptime and version, once a minute, as one ``agent`` event per host.

    Returns the id of the component whose output goes to the sink."""
    sources[AGENT_SOURCE] = {
        "type": "internal_metrics",
        "scrape_interval_secs": 60,
        "tags": {"host_key": "host"},  # the node's name as the metrics' host tag
    }
    transforms["dendro_agent_filter"] = {
        "type": "filter",
        "inputs": [AGENT_SOURCE],
        "condition": " || ".join(f'.name == "{name}"' for name in AGENT_METRICS),
    }
    transforms["dendro_agent_to_log"] = metric_to_log(["dendro_agent_filter"])
    transforms["dendro_agent_parse"] = remap(["dendro_agent_to_log"], AGENT_VRL)
    transforms[AGENT_MERGE_ID] = {"type": "reduce", "inputs": ["dendro_agent_parse"], **AGENT_MERGE}
    return AGENT_MERGE_ID


#: what Vector says when it starts without the token (``${NAME:?message}``: a missing or empty
#: variable fails the config load with this message; no ``}`` or ``$`` may appear in it)
TOKEN_MISSING = "the Dendro ingest token is required (dendro up prints it)"


def token_reference(config: Config) -> str:
    """The token as an environment reference: Vector refuses to start when it is unset or empty."""
    return "${" + config.local.token_env + ":?" + TOKEN_MISSING + "}"


def healthcheck_uri(ingest_url: str) -> str:
    """The ingest's ``/healthz`` beside its ``/ingest`` URL (same scheme, host and path prefix)."""
    return urljoin(ingest_url, "healthz")


def sink(config: Config, inputs: list[str]) -> tuple[str, dict[str, Any]]:
    """The sink of the configured backend."""
    if config.backend == "aws":
        return FIREHOSE_SINK, {
            "type": "aws_kinesis_firehose",
            "inputs": inputs,
            "stream_name": config.pipeline,
            "region": config.aws.region,
            "encoding": {"codec": "json"},
            "batch": dict(FIREHOSE_BATCH),
            "acknowledgements": {"enabled": True},
            # PutRecordBatch answers 200 even when it refused some records (throttling): Vector
            # then acknowledges the whole batch unless told to resend it, and the refused lines
            # are lost. Resending the batch can write its accepted records twice (docs/loader.md).
            "request_retry_partial": True,
            # the agent's policy grants only PutRecord(Batch); the health check would need
            # DescribeDeliveryStream, so it is off rather than failing at every start
            "healthcheck": {"enabled": False},
            "buffer": dict(BUFFER),
        }
    max_bytes = min(4_000_000, config.local.max_body_mb * 1_000_000 // 2) or 1_000_000
    return INGEST_SINK, {
        "type": "http",
        "inputs": inputs,
        "uri": config.local.url,
        "method": "post",
        "encoding": {"codec": "json"},
        "framing": {"method": "newline_delimited"},
        "compression": "gzip",
        # Vector reads the token from the environment: the file only names the variable
        "auth": {"strategy": "bearer", "token": token_reference(config)},
        "batch": {"max_bytes": max_bytes, "timeout_secs": 1},
        # retries never give up (Vector's default attempts); the disk buffer holds events meanwhile
        "request": {"retry_initial_backoff_secs": 1, "retry_max_duration_secs": 60, "timeout_secs": 60},
        "acknowledgements": {"enabled": True},
        # without a uri the http sink's health check passes without a request; with one, Vector
        # sends HEAD (with the bearer token) when it starts and logs an error unless it gets 200
        "healthcheck": {"enabled": True, "uri": healthcheck_uri(config.local.url)},
        "buffer": dict(BUFFER),
    }


def render(config: Config, data_dir: str = DEFAULT_DATA_DIR) -> dict[str, Any]:
    """The vector.yaml document for a node running ``config``'s services."""
    sources: dict[str, Any] = {}
    transforms: dict[str, Any] = {}
    parsed: list[str] = []
    for service in config.enabled_services():
        settings = service_settings(config, service)
        for source in active_sources(config, service):
            component = source_component(source, settings)
            if component is None:
                continue
            sources[source.id] = component
            parser = service.parser(source.parser)
            upstream = source.id
            if parser.metrics:
                upstream = f"{source.id}_to_log"
                transforms[upstream] = metric_to_log([source.id])
            zone = settings.get(TIMEZONE)  # the service's log time zone, when it has one
            transforms[f"{source.id}_parse"] = remap([upstream], parser.program(settings), zone)
            parsed.append(f"{source.id}_parse")
    agent = _agent(sources, transforms)
    transforms[PARSE_ERRORS] = {
        "type": "remap",
        "inputs": [f"{component}.dropped" for component in [*parsed, "dendro_agent_parse"]],
        "source": PARSE_ERROR_VRL.strip() + "\n",
    }
    transforms[OUTGOING] = {"type": "remap", "inputs": [*parsed, agent, PARSE_ERRORS],
                            "source": OUTGOING_VRL.strip() + "\n"}
    sink_id, sink_component = sink(config, [OUTGOING])
    document: dict[str, Any] = escape(
        {
            "data_dir": data_dir,
            "api": {"enabled": False},
            "sources": sources,
            "transforms": transforms,
            "sinks": {sink_id: sink_component},
        }
    )
    if config.backend == "local":  # the one reference escape() must leave alone
        document["sinks"][sink_id]["auth"]["token"] = token_reference(config)
    return document


class _Dumper(yaml.SafeDumper):
    """Writes multi-line strings (the VRL programs) as literal blocks, readable in the file."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)

#: the oldest Vector this config is known to run on: every VRL function the programs call was
#: checked in VRL 0.21 (shipped with Vector 0.44.0), and the options listed in docs/collect.md in
#: Vector 0.44.0's source; older releases were not checked
MIN_VECTOR = "0.44.0"

HEADER = (
    "# Generated by `dendro configure` from dendro.yaml; regenerate rather than edit.\n"
    f"# Needs Vector {MIN_VECTOR} or later (its VRL functions and options were checked against 0.44.0).\n"
)
RUN_LOCAL = "# Run: {token_env}=<the ingest token> vector --config vector.yaml\n"
RUN_AWS = "# Run: vector --config vector.yaml (AWS credentials: environment, profile or instance role)\n"


def to_yaml(config: Config, data_dir: str = DEFAULT_DATA_DIR) -> str:
    document = render(config, data_dir)
    body = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000)
    run = RUN_AWS if config.backend == "aws" else RUN_LOCAL.format(token_env=config.local.token_env)
    return HEADER + run + body


def write(config: Config, path: Path, data_dir: str = DEFAULT_DATA_DIR) -> None:
    path.write_text(to_yaml(config, data_dir), encoding="utf-8")
