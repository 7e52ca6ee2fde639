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

import random
import zlib
from datetime import datetime
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
)
from dendro.services.scene import DISK_FILLING, SLOW_QUERIES, Scene

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

# -- demo: a node's host metrics, as Vector's host_metrics source collects them ---------------------

GIB = 1024**3
#: the demo nodes' hardware (CPUs, memory GiB, root filesystem GB) and the share of that filesystem
#: in use on a normal day, one picked by the node's name (eight, so that the demo's four differ)
_HARDWARE = ((2, 8, 80), (2, 4, 40), (4, 16, 160), (4, 16, 200), (2, 8, 100), (8, 32, 500), (4, 8, 120),
             (2, 4, 60))
_BASE_FILL = (0.56, 0.41, 0.48, 0.63, 0.52, 0.35, 0.44, 0.58)
#: a filling filesystem goes from its normal fill to this share at the end of the incident
FULLEST = 0.985
#: CPU shares (per CPU) of each mode at an idle moment and for each unit of load
_CPU_IDLE = {"user": 0.02, "system": 0.01, "iowait": 0.002}
_CPU_LOAD = {"user": 0.16, "system": 0.05, "iowait": 0.01}


def hardware(host: str) -> tuple[int, int, int, float]:
    """(CPUs, memory bytes, filesystem bytes, normal fill) of a demo node: fixed for its name."""
    index = zlib.crc32(host.encode()) % len(_HARDWARE)
    cpus, memory, disk = _HARDWARE[index]
    return cpus, memory * GIB, disk * 1000**3, _BASE_FILL[index]


def disk_fill(scene: Scene, normal: float) -> float:
    """The share of the root filesystem in use: its normal fill, rising to :data:`FULLEST` over a
    filling incident (logs and WAL piling up), back to normal once someone cleaned up."""
    if not scene.during(DISK_FILLING):
        return normal
    return normal + (FULLEST - normal) * scene.progress(DISK_FILLING)


def _wobble(host: str, cpu: int, mode: str, uptime: float, amplitude: float) -> float:
    """Seconds a mode's counter is ahead of its smooth course: its rate wobbles by up to
    ``amplitude`` from minute to minute (``amplitude`` × (h(m) − h(m−1)) in minute m, h a hash in
    [0, 1)), and the wobble's integral is ``amplitude`` × 60 × h(m−1) plus the minute's part so far,
    so it stays bounded, and the counter only grows while its smooth rate is at least
    ``amplitude``."""
    minute, within = divmod(uptime, 60.0)

    def h(m: float) -> float:
        return zlib.crc32(f"{host}/{cpu}/{mode}/{int(m)}".encode()) / 2**32

    before, now = h(minute - 1), h(minute)
    return amplitude * (60.0 * before + within * (now - before))


def _cpu(scene: Scene, cpus: int, host: str) -> list[tuple[str, dict[str, str], float]]:
    """cpu_seconds_total per CPU and mode: seconds of each mode since boot, from what was served
    (a storm of slow statements adds iowait; the first CPU takes a larger share, as interrupts and
    the main processes land there), wobbling from minute to minute, idle the rest; each only grows."""
    stormy = scene.spent.get(SLOW_QUERIES, 0.0)
    weights = [1.5 if cpu == 0 else 1.0 for cpu in range(cpus)]
    rows = []
    for cpu in range(cpus):
        share = weights[cpu] * cpus / sum(weights)
        busy = 0.0
        for mode, idle_share in _CPU_IDLE.items():
            seconds = idle_share * scene.uptime + share * _CPU_LOAD[mode] * scene.served * 2 / cpus
            seconds += {"iowait": 0.35, "user": 0.25}.get(mode, 0.0) * stormy
            seconds += _wobble(host, cpu, mode, scene.uptime, idle_share)
            busy += seconds
            rows.append(("cpu_seconds_total", {"collector": "cpu", "cpu": str(cpu), "mode": mode}, seconds))
        rows.append(("cpu_seconds_total", {"collector": "cpu", "cpu": str(cpu), "mode": "idle"},
                     max(0.0, scene.uptime - busy)))
    return rows


def demo_metrics(rng: random.Random, now: datetime, scene: Scene, host: str) -> list[dict[str, Any]]:
    """One scrape of the node: CPU seconds and network bytes that only grow, memory and a root
    filesystem of a fixed size, load averages that follow the load."""
    cpus, memory, disk, normal = hardware(host)
    used_memory = memory * (0.35 + 0.1 * min(scene.load, 1.5)) * rng.uniform(0.98, 1.02)
    fill = disk_fill(scene, normal) + rng.uniform(-0.0005, 0.0005)
    storm = 0.6 if scene.during(SLOW_QUERIES) else 0.0
    running = cpus * (0.05 + 0.22 * scene.load) + storm * cpus
    fs = {"collector": "filesystem", "device": "sda1", "mountpoint": "/", "filesystem": "ext4"}
    net = {"collector": "network", "device": "eth0"}
    rows: list[tuple[str, dict[str, str], float]] = [
        *_cpu(scene, cpus, host),
        ("memory_total_bytes", {"collector": "memory"}, float(memory)),
        ("memory_used_bytes", {"collector": "memory"}, used_memory),
        ("memory_available_bytes", {"collector": "memory"}, memory - used_memory * 1.08),
        ("filesystem_total_bytes", fs, float(disk)),
        ("filesystem_used_bytes", fs, disk * fill),
        ("filesystem_free_bytes", fs, disk * (1 - fill)),
        ("filesystem_used_ratio", fs, fill),
        ("load1", {"collector": "load"}, running * rng.uniform(0.8, 1.2)),
        ("load5", {"collector": "load"}, running * rng.uniform(0.9, 1.1)),
        ("load15", {"collector": "load"}, running),
        ("network_receive_bytes_total", net, scene.counter(2_400.0) + scene.uptime * 300),
        ("network_transmit_bytes_total", net, scene.counter(21_000.0) + scene.uptime * 200),
    ]
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return [
        {"name": name, "namespace": "host", "tags": {**tags, "host": host}, "kind": "absolute",
         ("counter" if name.endswith("_total") else "gauge"): {"value": round(value, 3)}, "timestamp": stamp}
        for name, tags, value in rows
    ]


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
    demo=(DemoFeed("host_metrics", inputs=demo_metrics),),
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
