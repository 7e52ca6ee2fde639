"""Agents: every host that sent events, what it sends and when it was last seen."""

from __future__ import annotations

from flask import Blueprint, render_template

from dendro.analysis import overview
from dendro.web.state import console
from dendro.web.views.common import attempt, page_number, paginate

blueprint = Blueprint("agents", __name__)
PER_PAGE = 50


@blueprint.get("/agents")
def index() -> str:
    c = console()
    rows, error = attempt(lambda: overview.hosts(c.store, c.database, silent_seconds()))
    shown, page, pages = paginate(rows or [], page_number(), PER_PAGE)
    silent = sum(1 for r in rows or [] if r.silent)
    return render_template(
        "agents.html",
        hosts=shown,
        page=page,
        pages=pages,
        total=len(rows or []),
        silent=silent,
        error=error,
        silent_after=silent_seconds(),
        days=overview.AGENT_DAYS,
    )


def silent_seconds() -> float:
    """The agent_silent rule's threshold (dendro.yaml may tune it)."""
    from dendro.alerts.model import rules

    c = console()
    try:
        found = [r for r in rules(c.config, c.services()) if r.kind == "agent_silent"]
    except ValueError:
        found = []
    return found[0].threshold if found else overview.DEFAULT_SILENT_SECONDS
