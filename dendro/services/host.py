"""Host metrics: Vector's ``host_metrics`` source (CPU, memory, filesystems, load, network).

Vector emits metrics; the generated config turns them into log events with ``metric_to_log``
before this parser, so the input looks like::

    {"name": "cpu_seconds_total", "namespace": "host", "kind": "absolute",
     "tags": {"collector": "cpu", "cpu": "0", "mode": "idle", "host": "web-1"},
     "counter": {"value": 123.4}, "timestamp": "2026-11-26T12:00:00Z"}

Each metric becomes one row of the ``host`` table, keeping Vector's metric name (``name``) and
the tags that tell series apart (``cpu``, ``mode``, ``device``, ``mountpoint``, ``filesystem``).
``kind`` is the metric type: ``counter`` values only grow (chart their rate), ``gauge`` values
are levels. Pseudo filesystems (tmpfs, overlay, proc…) are excluded at the source.
"""

from __future__ import annotations

from typing import Any

from dendro.services.base import (
    METRIC_VALUE_VRL,
    Column,
    DemoFeed,
    Example,
    Gauge,
    Metrics,
    Parser,
    Sample,
    Service,
    Setting,
    Source,
    Table,
    replay,
)

HOST_VRL = METRIC_VALUE_VRL + r"""event = {
  "type": "host",
  "host": string(tags.host) ?? string(.host) ?? "unknown",
  "timestamp": format_timestamp!(ts, "%Y-%m-%dT%H:%M:%S%.6fZ", timezone: "UTC"),
  "name": string!(.name),
  "kind": kind,
  "value": to_float!(value),
  "collector": tags.collector,
  "cpu": tags.cpu,
  "mode": tags.mode,
  "device": tags.device,
  "mountpoint": tags.mountpoint,
  "filesystem": tags.filesystem
}
. = compact(event, string: false)
"""

#: filesystems that hold no user data; their usage is noise (Vector's filesystem collector option)
PSEUDO_FILESYSTEMS = (
    "autofs",
    "binfmt_misc",
    "bpf",
    "cgroup",
    "cgroup2",
    "configfs",
    "debugfs",
    "devpts",
    "devtmpfs",
    "efivarfs",
    "fusectl",
    "hugetlbfs",
    "mqueue",
    "nsfs",
    "overlay",
    "proc",
    "pstore",
    "ramfs",
    "securityfs",
    "squashfs",
    "sysfs",
    "tmpfs",
    "tracefs",
)
PSEUDO_MOUNTPOINTS = ("/proc/*", "/sys/*", "/dev/*", "/run/*", "/snap/*")

TS = "2026-11-26T12:00:00Z"
TS_OUT = "2026-11-26T12:00:00.000000Z"


def _metric(name: str, kind: str, value: float, collector: str, **tags: str) -> dict[str, Any]:
    """An input event as metric_to_log emits it."""
    return {
        "name": name,
        "namespace": "host",
        "tags": {"collector": collector, "host": "web-1", **tags},
        "kind": "absolute",
        kind: {"value": value},
        "timestamp": TS,
    }


def _sample(name: str, kind: str, value: float, collector: str, **tags: str) -> Sample:
    expected = {
        "type": "host",
        "host": "web-1",
        "timestamp": TS_OUT,
        "name": name,
        "kind": kind,
        "value": value,
        "collector": collector,
        **tags,
    }
    return Sample(input=_metric(name, kind, value, collector, **tags), expected=expected, note=name)


FS = {"device": "sda1", "mountpoint": "/", "filesystem": "ext4"}

SAMPLES = (
    _sample("cpu_seconds_total", "counter", 123.4, "cpu", cpu="0", mode="idle"),
    _sample("cpu_seconds_total", "counter", 56.25, "cpu", cpu="1", mode="user"),
    _sample("memory_total_bytes", "gauge", 8_324_055_040.0, "memory"),
    _sample("memory_used_bytes", "gauge", 2_147_483_648.0, "memory"),
    _sample("memory_available_bytes", "gauge", 5_368_709_120.0, "memory"),
    _sample("filesystem_used_bytes", "gauge", 21_474_836_480.0, "filesystem", **FS),
    _sample("filesystem_total_bytes", "gauge", 53_687_091_200.0, "filesystem", **FS),
    _sample("filesystem_used_ratio", "gauge", 0.4, "filesystem", **FS),
    _sample("load1", "gauge", 0.52, "load"),
    _sample("load5", "gauge", 0.31, "load"),
    _sample("load15", "gauge", 0.2, "load"),
    _sample("network_receive_bytes_total", "counter", 987_654_321.0, "network", device="eth0"),
    _sample("network_transmit_bytes_total", "counter", 123_456_789.0, "network", device="eth0"),
    Sample(
        input={
            "name": "load1",
            "namespace": "host",
            "tags": {"collector": "load"},
            "host": "db-2",
            "kind": "absolute",
            "gauge": {"value": 1},
            "timestamp": "2026-11-26T12:00:00.5+01:00",
        },
        expected={
            "type": "host",
            "host": "db-2",
            "timestamp": "2026-11-26T11:00:00.500000Z",
            "name": "load1",
            "kind": "gauge",
            "value": 1.0,
            "collector": "load",
        },
        note="no host tag: the event's host field; integer value becomes a float",
    ),
    Sample(
        input={
            "name": "some_histogram",
            "namespace": "host",
            "tags": {"host": "web-1"},
            "kind": "absolute",
            "aggregated_histogram": {"buckets": [], "count": 0, "sum": 0.0},
            "timestamp": TS,
        },
        expected=None,
        note="neither counter nor gauge: parse_error",
    ),
)

HOST_TABLE = Table(
    name="host",
    description="Host metrics from Vector's host_metrics source, one row per metric and series.",
    columns=(
        Column("host", "VARCHAR", dimension=True),
        Column("name", "VARCHAR", dimension=True, description="Vector's metric name, e.g. load1"),
        Column("kind", "VARCHAR", dimension=True, description="counter or gauge"),
        Column("collector", "VARCHAR", dimension=True),
        Column("cpu", "VARCHAR", dimension=True),
        Column("mode", "VARCHAR", dimension=True),
        Column("device", "VARCHAR", dimension=True),
        Column("mountpoint", "VARCHAR", dimension=True),
        Column("filesystem", "VARCHAR", dimension=True),
        Column("value", "DOUBLE"),
    ),
)

#: the metrics whose last value the exporter keeps (it derives the CPU, memory and filesystem
#: ratios from them) and the tags that tell their series apart
HOST_METRICS = Metrics(
    table=HOST_TABLE.name,
    gauges=(
        Gauge("cpu_seconds_total", "CPU seconds by mode", "seconds", counter=True),
        Gauge("memory_total_bytes", "Memory", "bytes"),
        Gauge("memory_used_bytes", "Memory used", "bytes"),
        Gauge("memory_available_bytes", "Memory available", "bytes"),
        Gauge("filesystem_used_ratio", "Filesystem used", "ratio"),
        Gauge("filesystem_used_bytes", "Filesystem used", "bytes"),
        Gauge("filesystem_total_bytes", "Filesystem size", "bytes"),
        Gauge("filesystem_free_bytes", "Filesystem free", "bytes"),
        Gauge("load1", "Load average (1 min)"),
        Gauge("load5", "Load average (5 min)"),
        Gauge("load15", "Load average (15 min)"),
        Gauge("network_receive_bytes_total", "Bytes received", "bytes", counter=True),
        Gauge("network_transmit_bytes_total", "Bytes sent", "bytes", counter=True),
    ),
    tags=("cpu", "mode", "device", "mountpoint"),
)

SERVICE = Service(
    name="host",
    title="Host metrics",
    sources=(
        Source(
            id="host_metrics",
            kind="host_metrics",
            parser="host_metrics",
            options={
                "collectors": "{collectors}",
                "scrape_interval_secs": "{scrape_interval_secs}",
                "filesystem": {
                    "filesystems": {"excludes": list(PSEUDO_FILESYSTEMS)},
                    "mountpoints": {"excludes": list(PSEUDO_MOUNTPOINTS)},
                },
            },
        ),
    ),
    parsers=(Parser(id="host_metrics", vrl=HOST_VRL, samples=SAMPLES, metrics=True),),
    tables=(HOST_TABLE,),
    settings=(
        Setting(
            key="collectors",
            prompt="Host metric collectors",
            default=["cpu", "memory", "filesystem", "load", "network"],
            kind="list",
        ),
        Setting(key="scrape_interval_secs", prompt="Seconds between samples", default=15, kind="int"),
    ),
    role="host_metrics",
    metrics=(HOST_METRICS,),
    demo=(DemoFeed("host_metrics", inputs=replay(SAMPLES)),),
    examples=(
        Example(
            "Disk usage per host (last value)",
            "SELECT host, mountpoint, max_by(value, time) AS used_ratio\n"
            "FROM {db}.\"host\"\nWHERE time > ago(1h) AND name = 'filesystem_used_ratio'\n"
            "GROUP BY host, mountpoint\nORDER BY used_ratio DESC",
            ("host",),
        ),
    ),
    alert_kinds=("cpu", "memory", "disk", "disk_forecast"),
    aliases=("host-metrics", "host_metrics"),
)
