"""Alerts: every rule with its threshold and, where the backend can tell, its current state
(firing, pending until its ``for`` has passed, ok…); the home page shows the active ones."""

from __future__ import annotations

from flask import Blueprint, render_template

from dendro.alerts.model import AlertConfigError, rules
from dendro.alerts.state import RuleState
from dendro.alerts.state import states as alert_states
from dendro.web.state import Console, console
from dendro.web.views.common import attempt, page_number, paginate

blueprint = Blueprint("alerts", __name__)
PER_PAGE = 50
STATES = ("firing", "pending", "error", "unknown", "ok", "disabled")
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


def current_states(c: Console) -> tuple[list[RuleState], str]:
    """Every rule's state now, firing first, then pending…; or the reason there are none."""
    try:
        all_rules = rules(c.config, c.services())
    except AlertConfigError as config_error:
        return [], str(config_error)
    states, error = attempt(lambda: alert_states(c.store, c.config, all_rules))
    found = states or []
    found.sort(key=lambda s: (STATES.index(s.state) if s.state in STATES else len(STATES),
                              SEVERITY_ORDER.get(s.rule.severity, 3), s.rule.service, s.rule.name))
    return found, error


def active_states(c: Console) -> tuple[list[RuleState], str]:
    """The rules firing or pending now (the home page's alerts)."""
    states, error = current_states(c)
    return [s for s in states if s.state in ("firing", "pending")], error


@blueprint.get("/alerts")
def index() -> str:
    c = console()
    states, error = current_states(c)
    counts = {s: sum(1 for x in states if x.state == s) for s in STATES}
    shown, page, pages = paginate(states, page_number(), PER_PAGE)
    return render_template(
        "alerts.html", states=shown, error=error, page=page, pages=pages, counts=counts, on_aws=c.on_aws
    )
