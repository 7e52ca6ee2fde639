"""The console's JSON API (documented in docs/console.md); the pages' scripts use it too.

Every answer is JSON; an error is ``{"error": message}`` with a 4xx/5xx status. Times are epoch
seconds (UTC). A POST with a JSON body needs no CSRF token (a script sends the console's bearer
token where the console has one); a form's body needs the page's (see :mod:`dendro.web.auth`).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, abort, jsonify, request, url_for

from dendro.alerts.model import AlertConfigError, rules
from dendro.alerts.state import states as alert_states
from dendro.analysis import charts, overview, ranges
from dendro.store import result_json
from dendro.store.base import QueryError, StoreError
from dendro.web import logs, results
from dendro.web.state import console
from dendro.web.views.agents import silent_seconds
from dendro.web.views.common import page_number
from dendro.web.views.query import run

blueprint = Blueprint("api", __name__, url_prefix="/api")


def _error(message: str, status: int) -> Response:
    response = jsonify({"error": message})
    response.status_code = status
    return response


@blueprint.errorhandler(StoreError)
def _store_error(error: StoreError) -> Response:
    return _error(str(error), 400 if isinstance(error, QueryError) else 503)


@blueprint.get("/services")
def services() -> Response:
    c = console()
    existing = set(c.store.tables())
    return jsonify(
        [
            {
                "name": s.name,
                "title": s.title,
                "tables": [t.name for t in s.tables],
                "tables_present": [t.name for t in s.tables if t.name in existing],
                "charts": url_for("charts.service", name=s.name),
            }
            for s in c.services()
        ]
    )


@blueprint.get("/home")
def home() -> Response:
    c = console()
    summary = overview.home(c.store, c.config, c.services())
    return jsonify(
        {
            "backend": c.config.backend,
            "database": c.database,
            "services": [s.name for s in summary.services],
            "tables": [asdict(t) for t in summary.tables],
            "last_event": summary.last_event,
            "rejected_last_hour": summary.rejected_1h,
            "parse_errors_last_hour": summary.parse_errors_1h,
            "missing_tables": summary.missing_tables,
            "quarantined": [{**q, "day": str(q["day"]), "noted_at": str(q["noted_at"])}
                            for q in summary.quarantined],
        }
    )


@blueprint.get("/charts/<name>")
def service_charts(name: str) -> Response:
    c = console()
    service = c.service(name)
    if service is None:
        abort(404, description=f"no service {name!r} in this pipeline")
    try:
        rng = ranges.parse(request.args.get("range"), request.args.get("start"), request.args.get("end"))
    except ranges.RangeError as error:
        return _error(str(error), 400)
    drawn = charts.service_charts(c.store, c.database, service, rng, set(c.store.tables()))
    return jsonify(
        {
            "service": name,
            "range": rng.to_json(),
            "refresh_seconds": c.refresh_seconds,
            "backend": c.config.backend,
            "charts": drawn,
        }
    )


def _json(value: Any) -> Any:
    plain = value is None or isinstance(value, int | float | str | bool)
    return value if plain else result_json.json_value(value)


def _result_json(stored: results.StoredResult, page: int) -> dict[str, Any]:
    rows = stored.result.rows
    pages = max(1, -(-len(rows) // results.PAGE_ROWS))
    page = min(page, pages)
    chunk = rows[(page - 1) * results.PAGE_ROWS : page * results.PAGE_ROWS]
    return {
        "id": stored.id,
        "sql": stored.sql,
        **result_json.head(stored.result),
        "rows": [[_json(v) for v in row] for row in chunk],
        "page": page,
        "pages": pages,
        "total_rows": len(rows),
        "export": {fmt: url_for("query.export", result_id=stored.id, fmt=fmt) for fmt in results.RENDERERS},
    }


@blueprint.post("/query")
def query() -> Response:
    body = request.get_json(silent=True) or {}
    sql = body.get("sql") if isinstance(body, dict) else None
    if not isinstance(sql, str):
        return _error('send {"sql": "SELECT …"} as JSON', 400)
    return jsonify(_result_json(run(sql), 1))


@blueprint.get("/query/<result_id>")
def query_page(result_id: str) -> Response:
    stored = console().results.get(result_id)
    if stored is None:
        return _error("this result is no longer kept: run the query again", 404)
    return jsonify(_result_json(stored, page_number()))


@blueprint.get("/agents")
def agents() -> Response:
    c = console()
    rows = overview.hosts(c.store, c.database, silent_seconds())
    return jsonify(
        {
            "days": overview.AGENT_DAYS,
            "silent_after_seconds": silent_seconds(),
            "hosts": [r.to_json() for r in rows],
        }
    )


@blueprint.get("/alerts")
def alerts() -> Response:
    c = console()
    try:
        all_rules = rules(c.config, c.services())
    except AlertConfigError as error:
        return _error(str(error), 400)
    return jsonify(
        [
            {
                "name": s.rule.name,
                "service": s.rule.service,
                "kind": s.rule.kind,
                "severity": s.rule.severity,
                "threshold": s.rule.threshold,
                "threshold_text": s.rule.threshold_text(),
                "for_seconds": s.rule.for_s,
                "enabled": s.rule.enabled,
                "state": s.state,
                "detail": s.detail,
                "values": s.values,
                "cause": s.cause,
            }
            for s in alert_states(c.store, c.config, all_rules)
        ]
    )


@blueprint.get("/logs")
def log_list() -> Response:
    c = console()
    if c.on_aws:
        client = c.logs_client() if c.logs_client else logs.logs_client(c.config.aws.region)
        group = logs.loader_log_group(c.config.pipeline)
        stream = request.args.get("stream")
        token = request.args.get("token") or None
        if stream:
            return jsonify(asdict(logs.stream_events(client, group, stream, token)))
        return jsonify(asdict(logs.list_streams(client, group, token)))
    files = logs.log_files(c.log_dir)
    if not files:
        return jsonify(
            {
                "files": [],
                "note": "the local ingest writes no log file; see /logs for the store's"
                " rejected and parse_error rows",
            }
        )
    chosen = next((f for f in files if f.name == request.args.get("file")), files[0])
    page = logs.read_file_page(chosen, page_number())
    return jsonify(
        {
            "files": [f.name for f in files],
            "file": chosen.name,
            "lines": page.lines,
            "page": page.page,
            "pages": page.pages,
            "total_lines": page.total,
            "partial": page.partial,
        }
    )
