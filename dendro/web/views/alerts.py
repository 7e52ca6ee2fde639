"""Alerts: every rule with its threshold and, where the backend can tell, its current state."""

from __future__ import annotations

from flask import Blueprint, render_template

from dendro.alerts.model import AlertConfigError, rules
from dendro.alerts.state import states as alert_states
from dendro.web.state import console
from dendro.web.views.common import attempt, page_number, paginate

blueprint = Blueprint("alerts", __name__)
PER_PAGE = 50


@blueprint.get("/alerts")
def index() -> str:
    c = console()
    try:
        all_rules = rules(c.config, c.services())
    except AlertConfigError as config_error:
        return render_template("alerts.html", states=[], error=str(config_error), page=1, pages=1, counts={})
    states, error = attempt(lambda: alert_states(c.store, c.config, all_rules))
    states = states or []
    counts = {
        s: sum(1 for x in states if x.state == s) for s in ("firing", "ok", "unknown", "disabled", "error")
    }
    order = {"firing": 0, "error": 1, "unknown": 2, "ok": 3, "disabled": 4}
    states.sort(key=lambda s: (order.get(s.state, 5), s.rule.service, s.rule.name))
    shown, page, pages = paginate(states, page_number(), PER_PAGE)
    return render_template(
        "alerts.html", states=shown, error=error, page=page, pages=pages, counts=counts, on_aws=c.on_aws
    )
