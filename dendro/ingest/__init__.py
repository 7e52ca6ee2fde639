"""The local HTTP ingest for Vector's http sink, backfill of existing log files, demo traffic."""
