"""The Store protocol and its two implementations: DuckDB locally, Timestream on AWS."""
