"""Alert events seen by the loader: structured log lines and SNS messages.

This is the AWS pipeline's evaluator of the catalog's alert events; it sits with the alert
model because :mod:`dendro.alerts.cloudwatch` filters the log lines it writes, and the loader
(:mod:`dendro.pipeline.loader`) runs it. Standard library only: it is zipped into the Lambda.

The catalog declares which single events deserve an alert (an HTTP 5xx, a postgres FATAL…,
see :class:`dendro.services.base.AlertEvent`). For each loaded object the loader folds the
matching events per alert kind:

- one structured log line per alert kind and host (JSON, on stdout so CloudWatch Logs keeps it
  as is), with the number of events in ``count``; CloudWatch metric filters match them with
  :func:`metric_filter` and sum ``$.count``, so an alarm's threshold counts events exactly;
- at most one SNS message per alert kind per object, when a topic is configured: the subject
  names the service, host and kind; the body carries the log entry itself (the event's
  ``message``, which is the raw line for HTTP 5xx), its time, and how many similar events were
  folded into it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dendro.services.base import AlertEvent, Service

LOG_MARKER = "alert"  # value of the "dendro" field of alert log lines
SUBJECT_LIMIT = 100  # SNS subjects: at most 100 printable ASCII characters
ENTRY_LIMIT = 200_000  # SNS messages are at most 256 KB


def metric_filter(alert: str) -> dict[str, str]:
    """The CloudWatch Logs metric filter pattern and value that count ``alert``'s events."""
    pattern = f'{{ $.dendro = "{LOG_MARKER}" && $.alert = "{alert}" }}'
    return {"filterPattern": pattern, "metricValue": "$.count"}


@dataclass(frozen=True)
class AlertRule:
    """An alert event of the catalog with the service it belongs to."""

    service: str
    event: AlertEvent
    status_field: str = "status"

    def matches(self, row: Mapping[str, Any]) -> bool:
        for name, accepted in self.event.match.items():
            value = row.get(name)
            if value is None:
                return False
            if value not in accepted and not (isinstance(value, str) and value.lower() in accepted):
                return False
        threshold = self.event.status_at_least
        if threshold is not None:
            status = row.get(self.status_field)
            if isinstance(status, bool) or not isinstance(status, int | float) or status < threshold:
                return False
        return True


def rules_by_table(services: Iterable[Service], tables: Iterable[str]) -> dict[str, list[AlertRule]]:
    """The alert rules of these services for the tables the loader writes."""
    wanted = set(tables)
    rules: dict[str, list[AlertRule]] = {}
    for service in services:
        status_of = {red.table: red.status for red in service.red if red.status}
        for alert in service.alert_events:
            if alert.table in wanted:
                rule = AlertRule(service.name, alert, status_of.get(alert.table) or "status")
                rules.setdefault(alert.table, []).append(rule)
    return rules


def _rfc3339(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return str(value)


def entry_of(row: Mapping[str, Any], raw: str) -> str:
    """The log entry an alert shows: the event's raw ``message`` when it has one, else its JSON."""
    message = row.get("message")
    text = message if isinstance(message, str) and message else raw
    return text[:ENTRY_LIMIT]


@dataclass
class Folded:
    """The first event of an alert kind in an object, and how many more there were."""

    rule: AlertRule
    host: str
    time: str
    entry: str
    last_time: str
    count: int = 0
    hosts: Counter[str] = field(default_factory=Counter)


class AlertCollector:
    """Folds the alert events of one object; then logs them and publishes them."""

    def __init__(self, rules: Mapping[str, list[AlertRule]], bucket: str, key: str) -> None:
        self.rules = rules
        self.bucket = bucket
        self.key = key
        self.folded: dict[str, Folded] = {}

    def check(self, table: str, row: Mapping[str, Any], raw: str) -> None:
        for rule in self.rules.get(table, ()):
            if not rule.matches(row):
                continue
            host = str(row.get("host") or "unknown")
            when = _rfc3339(row.get("time"))
            folded = self.folded.get(rule.event.name)
            if folded is None:
                folded = Folded(rule, host, when, entry_of(row, raw), when)
                self.folded[rule.event.name] = folded
            folded.count += 1
            folded.hosts[host] += 1
            folded.last_time = max(folded.last_time, when)

    def log_lines(self) -> list[str]:
        """One JSON line per alert kind and host, for CloudWatch metric filters."""
        lines = []
        for name, folded in sorted(self.folded.items()):
            for host, count in sorted(folded.hosts.items()):
                line = {
                    "dendro": LOG_MARKER,
                    "alert": name,
                    "service": folded.rule.service,
                    "table": folded.rule.event.table,
                    "severity": folded.rule.event.severity,
                    "host": host,
                    "count": count,
                    "time": folded.time if host == folded.host else folded.last_time,
                    "entry": folded.entry[:4000] if host == folded.host else None,
                    "object": f"s3://{self.bucket}/{self.key}",
                }
                lines.append(json.dumps(line, ensure_ascii=False))
        return lines

    def messages(self) -> list[tuple[str, str]]:
        """(subject, body) of the one SNS message per alert kind."""
        return [(subject(f), body(f, self.bucket, self.key)) for _, f in sorted(self.folded.items())]

    def publish(self, sns: Any, topic_arn: str, log: Callable[[str], None]) -> int:
        """Publish every message; a failure is logged, not raised (the data is already stored)."""
        sent = 0
        for text_subject, text_body in self.messages():
            try:
                sns.publish(TopicArn=topic_arn, Subject=text_subject, Message=text_body)
                sent += 1
            except Exception as error:  # botocore raises many kinds; the alert line is logged anyway
                log(json.dumps({"dendro": "error", "what": "sns publish", "error": str(error)}))
        return sent


def subject(folded: Folded) -> str:
    """``[dendro] nginx web-1: nginx_5xx (+4 more)`` within SNS's subject rules."""
    more = f" (+{folded.count - 1} more)" if folded.count > 1 else ""
    text = f"[dendro] {folded.rule.service} {folded.host}: {folded.rule.event.name}{more}"
    printable = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text)
    return printable[:SUBJECT_LIMIT]


def body(folded: Folded, bucket: str, key: str) -> str:
    alert = folded.rule.event
    lines = [
        f"{alert.summary}.",
        "",
        f"Service: {folded.rule.service}   Host: {folded.host}   Kind: {alert.name}   "
        f"Severity: {alert.severity}",
        f"Time: {folded.time}",
        "",
        "Log entry:",
        folded.entry,
        "",
    ]
    others = folded.count - 1
    if others:
        hosts = ", ".join(f"{host} ×{n}" for host, n in sorted(folded.hosts.items()))
        lines.append(
            f"{others} similar event{'s' if others != 1 else ''} folded into this message "
            f"(until {folded.last_time}; by host: {hosts})."
        )
    else:
        lines.append("No similar event was folded into this message.")
    lines.append(f"Table: {alert.table}   Object: s3://{bucket}/{key}")
    return "\n".join(lines)
