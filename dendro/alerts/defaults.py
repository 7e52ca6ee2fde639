"""The default rules of a set of services, derived from the catalog.

- every HTTP RED mapping (a status field): 5xx ratio, p95 latency, request-rate and latency
  anomalies;
- every alert event: ``log_events`` (a count above a threshold; Prometheus and Grafana too when
  the exporter counts those levels as database errors) or, for HTTP status events,
  ``status_events`` (CloudWatch only: the ratio rule is the better signal where metrics exist);
- every alert kind a service declares for itself (``Service.alert_kinds``: the host metrics'
  CPU, memory, disk and the disk-full forecast);
- always: ``agent_silent``, a node that sends nothing.

Rule names are ``<service>_<kind>`` (``nginx_error_ratio``, ``host_cpu``); an alert event's rule
keeps the event's name (``nginx_5xx``, ``postgres_fatal``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from dendro.alerts.kinds import KINDS, Rule
from dendro.services.base import AlertEvent, Red, Service

#: the pseudo-service of rules about the agents themselves (the internal ``agent`` table)
AGENT = "agent"
HTTP_KINDS = ("error_ratio", "latency_p95", "rate_anomaly", "latency_anomaly")


def _rule(kind: str, name: str, service: str, title: str, **overrides: object) -> Rule:
    spec = KINDS[kind]
    fields: dict[str, object] = {
        "name": name,
        "kind": kind,
        "service": service,
        "title": title,
        "severity": spec.severity,
        "summary": spec.summary,
        "description": spec.description,
        "threshold": spec.threshold,
        "for_s": spec.for_s,
        "window_s": spec.window_s,
        "min_rate": spec.min_rate,
    }
    fields.update(overrides)
    return Rule(**fields)  # type: ignore[arg-type]


def _loader_placeholders(text: str) -> str:
    """Alert events write ``{{host}}`` for the loader; rules write ``{host}``."""
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", r"{\1}", text)


def _event_levels(event: AlertEvent, red: Red | None) -> tuple[str, ...]:
    """The exporter's ``level`` label values that count this event, or () when it has none."""
    if red is None or red.level is None or red.is_http:
        return ()
    values = event.match.get(red.level)
    if not values:
        return ()
    levels = tuple(str(v).lower() for v in values)  # the exporter lowercases levels
    counted = {lv.lower() for lv in red.error_levels}
    return levels if set(levels) <= counted else ()


def _event_rule(service: Service, event: AlertEvent) -> Rule:
    red = next((r for r in service.red if r.table == event.table), None)
    kind = "status_events" if event.status_at_least is not None else "log_events"
    overrides: dict[str, object] = {"severity": event.severity, "event": event}
    if kind == "log_events":
        levels = _event_levels(event, red)
        summary = _loader_placeholders(event.summary)
        # a summary naming fields that are no metric labels only reads well in CloudWatch's text
        if not levels or set(re.findall(r"\{(\w+)\}", summary)) <= {"host", "service", "level"}:
            overrides["summary"] = summary
        overrides["levels"] = levels
    return _rule(kind, event.name, service.name, service.title, **overrides)


def service_rules(service: Service) -> list[Rule]:
    rules: list[Rule] = []
    for red in service.red:
        if red.is_http:
            kinds = HTTP_KINDS if red.duration else HTTP_KINDS[:1] + HTTP_KINDS[2:3]
            rules += [_rule(k, f"{service.name}_{k}", service.name, service.title) for k in kinds]
    rules += [_rule(k, f"{service.name}_{k}", service.name, service.title) for k in service.alert_kinds]
    rules += [_event_rule(service, event) for event in service.alert_events]
    return rules


def default_rules(services: Iterable[Service]) -> list[Rule]:
    """The default rules of these services, then the agent rule, in a stable order."""
    rules: list[Rule] = []
    for service in services:
        rules += service_rules(service)
    rules.append(_rule("agent_silent", f"{AGENT}_silent", AGENT, "Dendro agents"))
    return rules
