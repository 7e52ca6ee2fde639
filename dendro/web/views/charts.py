"""Charts: per service, RED and host metrics over a time range, refreshed by the page itself.

The page is a shell; its script fetches ``/api/charts/<service>`` (see :mod:`dendro.web.api`) and
draws with uPlot, so a refresh re-reads only the data.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from dendro.analysis import ranges
from dendro.web.state import console

blueprint = Blueprint("charts", __name__)


@blueprint.get("/charts")
def index() -> str:
    c = console()
    return render_template("charts_index.html", services=c.services())


@blueprint.get("/charts/<name>")
def service(name: str) -> str:
    c = console()
    chosen = c.service(name)
    if chosen is None:
        abort(404, description=f"no service {name!r} in this pipeline")
    key = request.args.get("range", "1h")
    if key not in ranges.PRESETS and key != "custom":
        key = "1h"
    return render_template(
        "charts.html",
        service=chosen,
        services=c.services(),
        presets=list(ranges.PRESETS),
        range_key=key,
        start=request.args.get("start", ""),
        end=request.args.get("end", ""),
        refresh=c.refresh_seconds,
        on_aws=c.on_aws,
    )
