"""Stable uids of the Grafana datasources Dendro provisions.

Alert rules and dashboards refer to datasources by uid, so the uids are constants shared by the
alert emitters and the dashboard writers; a rename here moves every reference at once.
"""

from __future__ import annotations

#: the Prometheus that scrapes the Dendro exporter
PROMETHEUS_UID = "dendro-prometheus"
#: the Amazon Timestream datasource over the pipeline's database
TIMESTREAM_UID = "dendro-timestream"
#: Grafana's server-side expressions (math, reduce, threshold) are a pseudo-datasource
EXPRESSION_UID = "__expr__"
