"""Query: an SQL editor, example queries, paged results (a time series result also drawn as a
chart under its table), and CSV/JSON export of a result.

Running a query is a POST (with the form's CSRF token): it runs once, its result is kept under
an id, and the browser is sent to ``/query/<id>``, whose pages and exports read the kept result.
Paging never re-runs a query, which matters on Timestream, where every run is billed.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, stream_with_context, url_for

from dendro.analysis import queries, result_chart
from dendro.store.base import QueryError, StoreError
from dendro.web import results
from dendro.web.state import console
from dendro.web.views.common import page_number

blueprint = Blueprint("query", __name__)


def _examples() -> list[tuple[str, str]]:
    c = console()
    try:
        tables = c.store.tables()
    except StoreError:
        tables = []
    return queries.examples(c.database, tables, c.services())  # the configured services' only


def _page(sql: str, **extra: Any) -> str:
    c = console()
    return render_template(
        "query.html", sql=sql, examples=_examples(), on_aws=c.on_aws, database=c.database,
        max_rows=results.MAX_ROWS, max_mb=c.config.console.max_result_mb, **extra
    )


@blueprint.get("/query")
def editor() -> str:
    examples = _examples()
    return _page(request.args.get("sql") or (examples[0][1] if examples else "SHOW TABLES"))


def run(sql: str) -> results.StoredResult:
    """Run one query through the store and keep its result (QueryError/StoreError propagate)."""
    c = console()
    if not sql.strip():
        raise QueryError("the query is empty")
    max_bytes = c.config.console.max_result_mb * 1024 * 1024
    result = c.store.query(sql, max_rows=results.MAX_ROWS, max_bytes=max_bytes)
    return c.results.put(sql, result)


@blueprint.post("/query")
def execute() -> Any:
    sql = request.form.get("sql", "")
    try:
        stored = run(sql)
    except StoreError as error:
        return _page(sql, error=str(error)), 400
    return redirect(url_for("query.result", result_id=stored.id), code=303)


def _stored(result_id: str) -> results.StoredResult:
    stored = console().results.get(result_id)
    if stored is None:
        abort(404, description="this result is no longer kept (results live 30 minutes): run the query again")
    return stored


@blueprint.get("/query/<result_id>")
def result(result_id: str) -> str:
    stored = _stored(result_id)
    rows = stored.result.rows
    pages = max(1, -(-len(rows) // results.PAGE_ROWS))
    page = min(page_number(), pages)
    shown = rows[(page - 1) * results.PAGE_ROWS : page * results.PAGE_ROWS]
    columns = stored.result.columns
    return _page(
        stored.sql, stored=stored, rows=shown, page=page, pages=pages, first=(page - 1) * results.PAGE_ROWS,
        kinds=result_chart.kinds(columns, rows), chart=result_chart.chart(columns, rows),
    )


@blueprint.get("/query/<result_id>.<fmt>")
def export(result_id: str, fmt: str) -> Response:
    if fmt not in results.RENDERERS:
        abort(404, description=f"no export format {fmt!r} (formats: {', '.join(results.RENDERERS)})")
    stored = _stored(result_id)
    render, content_type = results.RENDERERS[fmt]
    options = {"shape": request.args.get("_shape", "objects")} if fmt == "json" else {}
    if options.get("shape") not in (None, "objects", "arrays"):
        abort(400, description="_shape is objects (the default) or arrays")
    # content_type, not mimetype: Flask would add a second charset to a type that has one
    response = Response(stream_with_context(render(stored.result, **options)), content_type=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="dendro-{result_id}.{fmt}"'
    if stored.result.truncated:
        cap = console().config.console.max_result_mb
        response.headers["X-Dendro-Truncated"] = f"true; cut at {results.MAX_ROWS} rows or {cap} MB"
    return response
