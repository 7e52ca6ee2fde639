"""Services built for the alert tests: one of each shape the catalog has (HTTP, database, host,
log-only), so the tests do not depend on which catalog modules exist yet."""

from __future__ import annotations

from dendro.config import Config
from dendro.services.base import AlertEvent, Column, Red, Service, Table

WEB = Service(
    name="nginx",
    title="nginx",
    sources=(),
    parsers=(),
    tables=(Table("nginx_access", (Column("host", "VARCHAR", dimension=True), Column("status", "BIGINT"))),),
    red=(Red(table="nginx_access", status="status", duration="duration", method="method"),),
    alert_events=(
        AlertEvent(
            name="nginx_5xx",
            table="nginx_access",
            where="status >= 500",
            match={},
            status_at_least=500,
            summary="nginx answered a request with a 5xx status",
            severity="critical",
        ),
    ),
)

DB = Service(
    name="postgres",
    title="PostgreSQL",
    sources=(),
    parsers=(),
    tables=(
        Table("postgres", (Column("host", "VARCHAR", dimension=True), Column("level", "VARCHAR", True))),
    ),
    red=(Red(table="postgres", level="level", error_levels=("ERROR", "FATAL", "PANIC")),),
    alert_events=(
        AlertEvent(
            name="postgres_fatal",
            table="postgres",
            where="level IN ('FATAL', 'PANIC')",
            match={"level": ("FATAL", "PANIC")},
            summary="PostgreSQL on {{host}} logged a FATAL or PANIC",
            severity="critical",
        ),
    ),
)

HOST = Service(
    name="host",
    title="Host metrics",
    sources=(),
    parsers=(),
    tables=(Table("host", (Column("host", "VARCHAR", dimension=True),)),),
    role="host_metrics",
    alert_kinds=("cpu", "memory", "disk", "disk_forecast"),
)

SYSLOG = Service(
    name="syslog",
    title="Syslog",
    sources=(),
    parsers=(),
    tables=(Table("syslog", (Column("host", "VARCHAR", dimension=True),)),),
    alert_events=(
        AlertEvent(
            name="syslog_critical",
            table="syslog",
            where="severity IN ('crit')",
            match={"severity": ("crit",)},
            summary="A critical syslog message on {{host}} from {{program}}",
            severity="critical",
        ),
    ),
)

SERVICES = (WEB, DB, HOST, SYSLOG)


def config(alerts: dict | None = None, backend: str = "aws", pipeline: str = "dendro") -> Config:
    """A config whose services are the fixtures (pass SERVICES to the functions under test)."""
    return Config(
        pipeline=pipeline, backend=backend, services={s.name: {} for s in SERVICES}, alerts=alerts or {}
    )
