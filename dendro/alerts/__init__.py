"""Alert rules: one model, emitted as Grafana alerting, Prometheus rules and CloudWatch alarms."""
