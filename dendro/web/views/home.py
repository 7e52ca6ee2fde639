"""Home: what is firing and pending (with the newest line behind each), the services monitored,
each table's recent events, and the pipeline's health."""

from __future__ import annotations

from flask import Blueprint, render_template

from dendro.analysis import overview
from dendro.web.state import Console, console
from dendro.web.views.alerts import active_states
from dendro.web.views.common import attempt

blueprint = Blueprint("home", __name__)


@blueprint.get("/")
def index() -> str:
    c = console()
    summary, error = attempt(lambda: overview.home(c.store, c.config, c.services()))
    alerts, alerts_error = active_states(c)
    return render_template(
        "home.html", summary=summary, error=error, backend=c.config.backend, database=c.database,
        alerts=alerts, alerts_error=alerts_error, on_aws=c.on_aws, backend_name=BACKEND_NAMES[_store_kind(c)],
    )


#: how the home page names where the events are
BACKEND_NAMES = {"local": "Local DuckDB", "timestream": "AWS Timestream", "athena": "AWS S3 + Athena"}


def _store_kind(c: Console) -> str:
    return c.config.aws.store if c.on_aws else "local"
