"""Plan the Timestream database and its tables (retention is the only setting that changes)."""

from __future__ import annotations

from dendro.pipeline.models import Database, Instruction, TimestreamTable
from dendro.pipeline.plan.base import NOT_FOUND, Context
from dendro.pipeline.resources import table_properties, tag_list

SERVICE = "timestream-write"


def database(ctx: Context, db: Database) -> list[Instruction]:
    found = ctx.reader.get(SERVICE, "describe_database", NOT_FOUND, DatabaseName=db.name)
    if found is None:
        params = {"DatabaseName": db.name, "Tags": tag_list(db.tags)}
        return [ctx.create(db, SERVICE, "create_database", params=params)]
    ctx.check_tags(db, SERVICE, "list_tags_for_resource", ResourceARN=found["Database"]["Arn"])
    return []


def table(ctx: Context, table: TimestreamTable) -> list[Instruction]:
    assert table.database is not None and table.bucket is not None
    props = table_properties(table)
    ids = {"DatabaseName": table.database.name, "TableName": table.name}
    found = None
    if not ctx.is_new(table.database):
        found = ctx.reader.get(SERVICE, "describe_table", NOT_FOUND, **ids)
    if found is None:
        params = {**ids, **props, "Tags": tag_list(table.tags)}
        return [ctx.create(table, SERVICE, "create_table", params=params)]
    current = found["Table"]
    ctx.check_tags(table, SERVICE, "list_tags_for_resource", ResourceARN=current["Arn"])
    if all(current.get(k) == v for k, v in props.items()):
        return []
    description = f"update {table.label} retention"
    return [ctx.call(table, SERVICE, "update_table", params={**ids, **props}, description=description)]
