"""The Flask web console: home, charts, query, logs, alerts and agents."""
