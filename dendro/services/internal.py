"""Tables every pipeline has whatever its services: parse errors and agent heartbeats.

``parse_error`` keeps every line a VRL program could not parse, with the raw line and the
reason, so nothing is dropped silently. ``agent`` receives each Vector agent's heartbeat, which
tells which agents are alive and what they run. Vector's heartbeat sets two internal gauges at
once: ``uptime_seconds`` (no tag of its own) and ``build_info`` (value 1, tags ``version``,
``arch``, ``revision``…; vectordotdev/vector src/internal_events/heartbeat.rs). The agent program
turns each into a partial ``agent`` event (uptime or version) and the Vector config merges the
two of one scrape into one row (:data:`AGENT_MERGE`, a ``reduce`` by host). The local store adds
a ``rejected`` table of its own for events that fit no table (see dendro.store).
"""

from __future__ import annotations

from typing import Any

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
    description="Heartbeats of the Vector agents (internal_metrics uptime_seconds and build_info).",
    columns=(
        Column("host", "VARCHAR", dimension=True),
        Column("version", "VARCHAR", dimension=True, description="Vector's version (build_info)"),
        Column("uptime", "DOUBLE", description="seconds since the agent started"),
    ),
)

INTERNAL_TABLES = (PARSE_ERROR, AGENT)

#: the internal metrics the heartbeat reads
AGENT_METRICS = ("uptime_seconds", "build_info")

#: turns one of Vector's heartbeat gauges (after metric_to_log) into a partial agent event:
#: ``uptime_seconds`` gives ``uptime``, ``build_info`` gives ``version`` (its tag)
AGENT_VRL = r"""
name = string!(.name)
if name != "uptime_seconds" && name != "build_info" { abort }
ts = timestamp(.timestamp) ?? parse_timestamp!(string!(.timestamp), "%+")
event = {
  "type": "agent",
  "host": string(.tags.host) ?? string(.host) ?? "unknown",
  "timestamp": format_timestamp!(ts, "%Y-%m-%dT%H:%M:%S%.6fZ", timezone: "UTC")
}
version = string(.tags.version) ?? ""
if version != "" { event.version = version }
if name == "uptime_seconds" { event.uptime = to_float!(.gauge.value) }
. = event
"""

#: how Vector's ``reduce`` merges the two partial events of one scrape into the agent row: by
#: host, flushed as soon as both arrived (``max_events``) or 10 s after the first alone (a scrape
#: every 60 s never meets the next one); the version is the one event's that has it, the uptime
#: the larger (there is one)
MERGE_STRATEGIES = {"type": "discard", "timestamp": "discard", "version": "retain", "uptime": "max"}
AGENT_MERGE = {
    "group_by": ["host"],
    "max_events": len(AGENT_METRICS),
    "expire_after_ms": 10_000,
    "merge_strategies": MERGE_STRATEGIES,
}



def merge_heartbeats(partials: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The agent events the config's ``reduce`` (:data:`AGENT_MERGE`) makes of one scrape's partial
    events, for code that runs the agent program without Vector (the demo): one per host, each
    field by its merge strategy (``discard``: the first value, ``retain``: the last, ``max``)."""
    strategies = MERGE_STRATEGIES
    merged: dict[str, dict[str, Any]] = {}
    for event in partials:
        into = merged.setdefault(str(event.get("host")), {})
        for key, value in event.items():
            strategy = strategies.get(key, "discard")
            if key not in into or strategy == "retain":
                into[key] = value
            elif strategy == "max":
                into[key] = max(into[key], value)
    return list(merged.values())


_STAMP = "2026-11-26T12:00:00.250Z"

AGENT_PARSER = Parser(
    id="agent_heartbeat",
    vrl=AGENT_VRL,
    metrics=True,
    samples=(
        Sample(
            input={
                "name": "uptime_seconds",
                "namespace": "vector",
                "tags": {"host": "web-1"},
                "kind": "absolute",
                "gauge": {"value": 120.5},
                "timestamp": _STAMP,
            },
            expected={
                "type": "agent",
                "host": "web-1",
                "uptime": 120.5,
                "timestamp": "2026-11-26T12:00:00.250000Z",
            },
            note="uptime_seconds carries no version",
        ),
        Sample(
            input={
                "name": "build_info",
                "namespace": "vector",
                "tags": {
                    "host": "web-1",
                    "version": "0.57.0",
                    "arch": "x86_64",
                    "debug": "false",
                    "rust_version": "1.89",
                },
                "kind": "absolute",
                "gauge": {"value": 1.0},
                "timestamp": _STAMP,
            },
            expected={
                "type": "agent",
                "host": "web-1",
                "version": "0.57.0",
                "timestamp": "2026-11-26T12:00:00.250000Z",
            },
            note="build_info: the version is its tag, its value (1) is no uptime",
        ),
    ),
)
