"""Fill a rule's ``{placeholders}`` for one target's templating.

Known at emit time (service, threshold, window…): the text itself. Per alert: Prometheus writes
``{{ $labels.host }}`` and ``{{ $value | humanize… }}``, Grafana the same over the threshold's
input ``$values.B.Value``; CloudWatch has no per-alert templating, so labels read ``<host>``.
"""

from __future__ import annotations

import re

from dendro.alerts.kinds import Rule, Target

_PLACEHOLDER = re.compile(r"\{(\w+)\}")

#: Prometheus/Grafana template function that shows a value in the unit of the kind
HUMANIZE = {
    "percent": "humanizePercentage",
    "seconds": "humanizeDuration",
    "horizon": "humanizeDuration",
    "count": "humanize",
    "zscore": "humanize",
}

#: the refId whose value Grafana's threshold compares (see dendro.alerts.grafana)
GRAFANA_VALUE_REF = "B"


def render(text: str, rule: Rule, target: Target) -> str:
    context = rule.context()
    function = HUMANIZE[rule.spec.unit]

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in context:
            return context[name]
        if target == "cloudwatch":
            return f"<{name}>"
        if name == "value":
            value = "$value" if target == "prometheus" else f"$values.{GRAFANA_VALUE_REF}.Value"
            return "{{ " + value + " | " + function + " }}"
        return "{{ $labels." + name + " }}"

    return _PLACEHOLDER.sub(fill, text)


def annotations_of(rule: Rule, target: Target) -> dict[str, str]:
    result = {
        "summary": render(rule.summary, rule, target),
        "description": render(rule.description, rule, target),
    }
    if rule.runbook_url:
        result["runbook_url"] = rule.runbook_url
    return result


def labels_of(rule: Rule) -> dict[str, str]:
    return {"severity": rule.severity, "service": rule.service, **dict(rule.labels)}
