"""The exporter's metric names and labels: one place that the exporter, the alert rules and the
dashboards all read, so a rename cannot leave a rule or a panel behind.

Conventions: ``dendro_`` prefix, base units (seconds, bytes, ratios 0–1), ``_total`` for
counters, bounded labels only (``code`` is a status class such as ``5xx``).
"""

from __future__ import annotations

# RED, HTTP access tables. Labels: service (nginx, apache…), host, method, code (2xx…)
HTTP_REQUESTS = "dendro_http_requests_total"
HTTP_DURATION = "dendro_http_request_duration_seconds"  # histogram, labels service, host

# database logs. Labels: service (postgres, mysql), host, level
DB_ERRORS = "dendro_db_errors_total"
DB_STATEMENT_DURATION = "dendro_db_statement_duration_seconds"  # histogram, labels service, host

# host gauges (from Vector host_metrics). Label host (+ mountpoint, device where named)
HOST_CPU = "dendro_host_cpu_utilisation_ratio"
HOST_MEMORY = "dendro_host_memory_used_ratio"
HOST_FILESYSTEM = "dendro_host_filesystem_used_ratio"  # + mountpoint
HOST_FILESYSTEM_FREE = "dendro_host_filesystem_free_bytes"  # + mountpoint
HOST_LOAD1 = "dendro_host_load1"
HOST_LOAD5 = "dendro_host_load5"
HOST_LOAD15 = "dendro_host_load15"
HOST_NET_RX = "dendro_host_network_receive_bytes_total"  # + device
HOST_NET_TX = "dendro_host_network_transmit_bytes_total"  # + device



def service_metric(service: str, name: str, counter: bool = False) -> str:
    """The exporter's name of a metric a service keeps (``Service.metrics``, every role but host
    metrics): ``dendro_<service>_<name>``, a name that starts with the service's own keeping it
    once (``haproxy_server_status`` → ``dendro_haproxy_server_status``), a counter's ending in
    ``_total``. Label ``host`` and the metrics' tags."""
    base = f"dendro_{service}_{name.removeprefix(service + '_')}"
    return base if not counter or base.endswith("_total") else base + "_total"


# liveness and pipeline. Labels: table, host
LAST_EVENT = "dendro_last_event_timestamp_seconds"
EVENTS = "dendro_events_total"  # every stored event, labels table, host
LATE_EVENTS = "dendro_late_events_total"  # label table: arrived after the delay, not counted
#: events refused by the local store or the AWS loader (the local ``rejected`` table, the bucket's
#: ``rejected/`` prefix); label table: the table meant, or UNKNOWN_TABLE when the type matched none
REJECTED_EVENTS = "dendro_rejected_events_total"
UNKNOWN_TABLE = "unknown"

# the exporter itself
EXPORTER_UP = "dendro_exporter_up"
POLL_DURATION = "dendro_exporter_poll_duration_seconds"
EXPORTER_WATERMARK = "dendro_exporter_watermark_timestamp_seconds"  # events before it are counted
STORE_QUERIES = "dendro_store_queries_total"
STORE_QUERY_ERRORS = "dendro_store_query_errors_total"
STORE_BYTES_SCANNED = "dendro_store_bytes_scanned_total"
S3_REQUESTS = "dendro_s3_requests_total"

#: histogram buckets (seconds) for web latencies and statement durations
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
DB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0)
