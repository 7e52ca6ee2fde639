"""The Prometheus exporter of RED metrics over the Store."""
