"""The service catalog: one module per integration, each defining ``SERVICE``.

``catalog()`` returns the built-in services by name. The custom application integration is
built per application from dendro.yaml (``dendro.services.custom.build``), and the internal
tables (parse errors, agent heartbeats) live in ``dendro.services.internal``.
"""

from __future__ import annotations

import importlib
from functools import cache

from dendro.services.base import Service, Table

#: built-in integrations, in the order ``dendro configure`` offers them
BUILTIN = ("nginx", "apache", "postgres", "mysql", "syslog", "host", "haproxy", "redis")


@cache
def catalog() -> dict[str, Service]:
    """The built-in services by name."""
    services: dict[str, Service] = {}
    for name in BUILTIN:
        module = importlib.import_module(f"dendro.services.{name}")
        service: Service = module.SERVICE
        services[service.name] = service
    return services


def get(name: str) -> Service:
    try:
        return catalog()[name]
    except KeyError:
        known = ", ".join([*catalog(), "custom"])
        raise KeyError(f"unknown service {name!r} (known: {known})") from None


def tables_of(services: list[Service] | tuple[Service, ...]) -> dict[str, Table]:
    """Every table of these services plus the internal tables, by name."""
    from dendro.services.internal import INTERNAL_TABLES

    tables = {t.name: t for t in INTERNAL_TABLES}
    for service in services:
        for table in service.tables:
            tables[table.name] = table
    return tables


def all_tables() -> dict[str, Table]:
    """The tables of every built-in service plus the internal ones."""
    return tables_of(tuple(catalog().values()))
