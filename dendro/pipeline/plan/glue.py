"""Plan the athena store's Glue database and tables (partition projection on ``date``).

Each table is Parquet under ``s3://<bucket>/tables/<table>/``, partitioned by ``date`` as the
shared layout writes it (:mod:`dendro.store.parquet_layout`), with partition projection
(``projection.date.type = date``, ``yyyy-MM-dd``, from 2020-01-01 to NOW): Athena computes the
partitions from the query's ``date`` predicate, so nothing registers partitions and Glue holds no
partition. Glue tags databases, not tables: a table belongs to the pipeline through its database.
"""

from __future__ import annotations

from typing import Any

from dendro.pipeline.models import TABLES_PREFIX, GlueDatabase, GlueTable, Instruction
from dendro.pipeline.plan.base import Context

SERVICE = "glue"
MISSING = ("EntityNotFoundException",)
PARTITION = "date"
#: the catalog's column types as Hive (Glue) types
HIVE_TYPES = {
    "VARCHAR": "string",
    "BIGINT": "bigint",
    "DOUBLE": "double",
    "BOOLEAN": "boolean",
    "TIMESTAMP": "timestamp",
}
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
FIRST_DAY = "2020-01-01"


def hive_type(column_type: str) -> str:
    return HIVE_TYPES.get(column_type.upper(), "string")


def location(table: GlueTable) -> str:
    assert table.bucket is not None
    return f"s3://{table.bucket.name}/{TABLES_PREFIX}{table.name}/"


def table_input(table: GlueTable) -> dict[str, Any]:
    """The TableInput of create_table and update_table."""
    return {
        "Name": table.name,
        "Description": f"Dendro pipeline {table.pipeline}: {table.name} events (Parquet)",
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {
            "EXTERNAL": "TRUE",
            "classification": "parquet",
            "projection.enabled": "true",
            f"projection.{PARTITION}.type": "date",
            f"projection.{PARTITION}.format": "yyyy-MM-dd",
            f"projection.{PARTITION}.range": f"{FIRST_DAY},NOW",
            f"projection.{PARTITION}.interval": "1",
            f"projection.{PARTITION}.interval.unit": "DAYS",
            "storage.location.template": f"{location(table)}{PARTITION}=${{{PARTITION}}}/",
        },
        "PartitionKeys": [{"Name": PARTITION, "Type": "string"}],
        "StorageDescriptor": {
            "Columns": [{"Name": name, "Type": kind} for name, kind in table.columns],
            "Location": location(table),
            "InputFormat": PARQUET_INPUT,
            "OutputFormat": PARQUET_OUTPUT,
            "SerdeInfo": {"SerializationLibrary": PARQUET_SERDE, "Parameters": {"serialization.format": "1"}},
        },
    }


def database(ctx: Context, db: GlueDatabase) -> list[Instruction]:
    found = ctx.reader.get(SERVICE, "get_database", MISSING, Name=db.name)
    if found is None:
        params = {
            "DatabaseInput": {"Name": db.name, "Description": f"Dendro pipeline {db.pipeline}"},
            "Tags": db.tags,
        }
        return [ctx.create(db, SERVICE, "create_database", params=params)]
    tags = ctx.reader.read(SERVICE, "get_tags", ResourceArn=ctx.names.glue_database_arn)
    ctx.check_owner(db, tags.get("Tags", {}))
    return []


def table(ctx: Context, table: GlueTable) -> list[Instruction]:
    assert table.database is not None
    wanted = table_input(table)
    found = None
    if not ctx.is_new(table.database):
        found = ctx.reader.get(
            SERVICE, "get_table", MISSING, DatabaseName=table.database.name, Name=table.name
        )
    params = {"DatabaseName": table.database.name, "TableInput": wanted}
    if found is None:
        return [ctx.create(table, SERVICE, "create_table", params=params)]
    if _comparable(found["Table"]) == _comparable(wanted):
        return []
    return [
        ctx.call(table, SERVICE, "update_table", params=params, description=f"update {table.label} columns")
    ]


def _comparable(table: dict[str, Any]) -> tuple[Any, ...]:
    storage = table.get("StorageDescriptor", {})
    columns = tuple((c["Name"], c["Type"]) for c in storage.get("Columns", []))
    keys = tuple((k["Name"], k["Type"]) for k in table.get("PartitionKeys", []))
    parameters = {
        k: v for k, v in (table.get("Parameters") or {}).items() if k.startswith(("projection.", "storage."))
    }
    return columns, keys, storage.get("Location"), tuple(sorted(parameters.items()))
