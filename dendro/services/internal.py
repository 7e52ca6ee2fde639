"""Tables every pipeline has whatever its services: parse errors and agent heartbeats.

``parse_error`` keeps every line a VRL program could not parse, with the raw line and the
reason, so nothing is dropped silently. ``agent`` receives each Vector agent's heartbeat
(its ``uptime_seconds`` internal metric), which tells which agents are alive. The local store
adds a ``rejected`` table of its own for events that fit no table (see dendro.store).
"""

from __future__ import annotations

from dendro.services.base import Column, Parser, Sample, Table

PARSE_ERROR = Table(
    name="parse_error",
    description="Lines a parser could not parse, kept raw with the reason.",
    columns=(
        Column("host", "VARCHAR", dimension=True),
        Column("source", "VARCHAR", dimension=True, description="Vector component id"),
        Column("error", "VARCHAR", description="why the line did not parse"),
        Column("message", "VARCHAR", description="the raw line"),
    ),
)

AGENT = Table(
    name="agent",
    description="Heartbeats of the Vector agents (internal_metrics uptime_seconds).",
    columns=(
        Column("host", "VARCHAR", dimension=True),
        Column("version", "VARCHAR", dimension=True),
        Column("uptime", "DOUBLE", description="seconds since the agent started"),
    ),
)

INTERNAL_TABLES = (PARSE_ERROR, AGENT)

#: turns Vector's internal ``uptime_seconds`` metric (after metric_to_log) into an agent event
AGENT_VRL = r"""
.type = "agent"
.host = string(.tags.host) ?? string(.host) ?? "unknown"
.version = string(.tags.version) ?? ""
.uptime = to_float!(.gauge.value)
ts = timestamp(.timestamp) ?? parse_timestamp!(string!(.timestamp), "%+")
.timestamp = format_timestamp!(ts, "%Y-%m-%dT%H:%M:%S%.6fZ", timezone: "UTC")
del(.tags)
del(.gauge)
del(.name)
del(.namespace)
del(.kind)
"""

AGENT_PARSER = Parser(
    id="agent_heartbeat",
    vrl=AGENT_VRL,
    metrics=True,
    samples=(
        Sample(
            input={
                "name": "uptime_seconds",
                "namespace": "vector",
                "tags": {"host": "web-1", "version": "0.42.0"},
                "kind": "absolute",
                "gauge": {"value": 120.5},
                "timestamp": "2026-11-26T12:00:00.250Z",
            },
            expected={
                "type": "agent",
                "host": "web-1",
                "version": "0.42.0",
                "uptime": 120.5,
                "timestamp": "2026-11-26T12:00:00.250000Z",
            },
        ),
    ),
)
