"""Logs: the loader's CloudWatch log streams on AWS; locally the data dir's log files, or the
store's own record of the pipeline's problems (``rejected``, ``parse_error``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request

from dendro.analysis import queries
from dendro.web import logs
from dendro.web.state import Console, console
from dendro.web.views.common import attempt, page_number

blueprint = Blueprint("logs", __name__)
PROBLEM_ROWS = 50


def _client(c: Console) -> Any:
    return c.logs_client() if c.logs_client else logs.logs_client(c.config.aws.region)


@blueprint.get("/logs")
def index() -> str:
    c = console()
    if c.on_aws:
        return _aws(c)
    return _local(c)


def _aws(c: Console) -> str:
    group = logs.loader_log_group(c.config.pipeline)
    client = _client(c)
    stream = request.args.get("stream")
    token = request.args.get("token") or None
    if stream:
        events = logs.stream_events(client, group, stream, token)
        return render_template("logs_aws.html", group=group, events=events, stream=stream, listing=None)
    listing = logs.list_streams(client, group, token)
    return render_template(
        "logs_aws.html", group=group, listing=listing, stream=None, events=None, token=token
    )


def _local(c: Console) -> str:
    files = logs.log_files(c.log_dir)
    wanted = request.args.get("file")
    if files:
        by_name = {f.name: f for f in files}
        if wanted and wanted not in by_name:
            abort(404, description=f"no log file {wanted!r} in {c.log_dir}")
        chosen = by_name[wanted] if wanted else files[0]
        file_page = logs.read_file_page(chosen, page_number())
        return render_template(
            "logs_local.html", files=files, chosen=chosen, file_page=file_page, log_dir=c.log_dir,
            problems=None,
        )
    table = request.args.get("table", "rejected")
    if table not in logs.PROBLEM_TABLES:
        abort(404, description=f"no problem table {table!r} (tables: {', '.join(logs.PROBLEM_TABLES)})")
    page = page_number()
    exists, error = attempt(lambda: table in c.store.tables())
    rows: list[dict[str, Any]] = []
    if exists:
        sql = queries.recent_rows(
            c.database,
            table,
            logs.problem_columns(table),
            logs.PROBLEM_DAYS,
            PROBLEM_ROWS + 1,
            (page - 1) * PROBLEM_ROWS,
        )
        result, error = attempt(lambda: c.store.query(sql))
        rows = result.dicts() if result else []
    more = len(rows) > PROBLEM_ROWS
    return render_template(
        "logs_local.html",
        files=[],
        chosen=None,
        file_page=None,
        log_dir=c.log_dir,
        problems=rows[:PROBLEM_ROWS],
        table=table,
        page=page,
        more=more,
        error=error,
        columns=logs.problem_columns(table),
        days=logs.PROBLEM_DAYS,
    )
