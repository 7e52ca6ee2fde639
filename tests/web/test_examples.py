"""The query page's example queries come from the catalog's declarations (``Service.examples``)."""

from __future__ import annotations

from dendro.analysis.queries import examples
from dendro.services import catalog
from dendro.services.base import Column, Example, Service, Table

CACHE = Service(
    name="cache",
    title="Cache",
    sources=(),
    parsers=(),
    tables=(Table("cache", (Column("host", "VARCHAR", dimension=True),)),),
    examples=(Example("Cache lines", 'SELECT * FROM {db}."cache" LIMIT 5', ("cache",)),
              Example("Cache and more", 'SELECT * FROM {db}."cache", {db}."other"', ("cache", "other"))),
)


def test_an_example_shows_once_the_store_has_its_tables() -> None:
    assert examples("shop", [], [CACHE]) == [("Tables of the store", "SHOW TABLES")]
    assert examples("shop", ["cache"], [CACHE]) == [
        ("Cache lines", 'SELECT * FROM "shop"."cache" LIMIT 5'), ("Tables of the store", "SHOW TABLES")]
    assert [title for title, _ in examples("shop", ["cache", "other"], [CACHE])] == [
        "Cache lines", "Cache and more", "Tables of the store"]


def test_every_declared_example_is_offered_with_every_table() -> None:
    tables = [t.name for s in catalog().values() for t in s.tables]
    offered = examples("dendro", tables)
    declared = [e for s in catalog().values() for e in s.examples]
    assert [title for title, _ in offered] == [e.title for e in declared] + ["Tables of the store"]
    assert all("{db}" not in sql and '"dendro".' in sql for sql, _ in ((s, t) for t, s in offered[:-1]))
