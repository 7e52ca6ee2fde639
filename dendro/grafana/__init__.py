"""Grafana dashboards as code (grafanalib), the Timestream target, provisioning writers."""
