"""The local HTTP ingest for Vector's http sink, and backfill of existing log files."""
