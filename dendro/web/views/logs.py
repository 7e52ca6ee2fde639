"""Logs: the explorer over the stored events of every log table, and Dendro's own logs.

``/logs`` searches the events the services sent (:mod:`dendro.analysis.logsearch`): a text
query ``q``, ``service``, ``table`` (``parse_error`` and ``rejected`` too: the pipeline's own
problems, with their reasons), ``host``, ``level`` (``errors``, a status class, a status or a
level's value) and the time range (``range`` as on the charts, or ``custom`` with ``start`` and
``end``), newest first, paged, under a histogram of the matches (errors in red; drag across it to
narrow the range); each row opens to all its fields and its raw line, and the page links to the
same search as SQL on the query page. ``?source=dendro`` shows Dendro's own logs:
the data dir's log files locally (``ingest.log``: ``?file=``), the loader's CloudWatch log
streams on AWS (``?stream=``, ``?token=``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, render_template, request, url_for

from dendro.analysis import logsearch, ranges
from dendro.analysis.ranges import epoch
from dendro.services.base import Column, ColumnType, Table, log_view
from dendro.services.internal import PARSE_ERROR
from dendro.web import logs
from dendro.web.state import Console, console
from dendro.web.views.common import attempt, page_number

blueprint = Blueprint("logs", __name__)
PAGE_ROWS = 50
#: the service the pipeline's own tables (parse errors, rejected events) are listed under
PIPELINE = "dendro"
#: the level filter's suggestions (any level's value is accepted)
LEVELS = ("errors", "5xx", "4xx", "3xx", "2xx", "error", "warning", "notice", "info", "fatal")
OWN_LOG_ARGS = ("file", "stream", "token")
TYPES: dict[str, ColumnType] = {"BIGINT": "BIGINT", "INTEGER": "BIGINT", "DOUBLE": "DOUBLE",
                                "BOOLEAN": "BOOLEAN", "TIMESTAMP": "TIMESTAMP"}


def _client(c: Console) -> Any:
    return c.logs_client() if c.logs_client else logs.logs_client(c.config.aws.region)


@blueprint.get("/logs")
def index() -> str:
    c = console()
    if request.args.get("source") == PIPELINE or any(request.args.get(k) for k in OWN_LOG_ARGS):
        return _aws(c) if c.on_aws else _files(c)
    return _explorer(c)


def _store_table(c: Console, name: str) -> Table:
    """A table the store keeps of its own (``rejected``), described by the store."""
    columns = tuple(
        Column(col.name, TYPES.get(col.type.upper(), "VARCHAR"))
        for col in c.store.describe(name) if col.name != "time"
    )
    return Table(name, columns)


def sources(c: Console, existing: set[str]) -> list[logsearch.Source]:
    """Every log table the pipeline has: the services' log tables, then its own (``rejected``
    where the store keeps one). The search reads those ``existing`` in the store."""
    found = [logsearch.Source(s.name, view) for s in c.services() for view in s.log_views]
    found.append(logsearch.Source(PIPELINE, log_view(PARSE_ERROR)))
    if logs.REJECTED in existing:
        found.append(logsearch.Source(PIPELINE, log_view(_store_table(c, logs.REJECTED))))
    return found


def _chosen(every: list[logsearch.Source], service: str, table: str) -> list[logsearch.Source]:
    """The tables a search reads: the one named (whatever the service), or the service's, or all."""
    if table:
        chosen = [s for s in every if s.table == table]
        if not chosen:
            known = ", ".join(sorted({s.table for s in every}))
            abort(404, description=f"no log table {table!r} in this pipeline (log tables: {known})")
        return chosen
    chosen = [s for s in every if not service or s.service == service]
    if not chosen:
        names = ", ".join(sorted({s.service for s in every}))
        abort(404, description=f"no service {service!r} with log tables in this pipeline (services: {names})")
    return chosen


def _range() -> tuple[str, ranges.Range | None, str]:
    """The range key, the range (None when the asked one makes no sense) and why not."""
    key = request.args.get("range") or ("custom" if request.args.get("start") else "1h")
    try:
        return key, ranges.parse(key, request.args.get("start"), request.args.get("end")), ""
    except ranges.RangeError as error:
        return key, None, str(error)


def _stamp(value: Any) -> str:
    return datetime.fromtimestamp(epoch(value), UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


@dataclass
class Found:
    """A page of a search: its rows, whether older ones exist, the SQL link, what went wrong."""

    hits: list[logsearch.Hit] = field(default_factory=list)
    more: bool = False
    sql_link: str | None = None
    error: str = ""
    nothing: str = ""
    volume: dict[str, Any] | None = None


def _volume(c: Console, chosen: list[logsearch.Source], search: logsearch.Search, rng: ranges.Range
            ) -> tuple[dict[str, Any] | None, str]:
    """The histogram of the matches: per bin of the range, how many and how many errors."""
    sql = logsearch.volume_sql(c.database, chosen, search, rng.step)
    result, error = attempt(lambda: c.store.query(sql)) if sql else (None, "")
    if result is None:
        return None, error
    bins = rng.bins()
    index = {b: i for i, b in enumerate(bins)}
    counts, errors = [0] * len(bins), [0] * len(bins)
    for row in result.dicts():
        slot = index.get(int(epoch(row["t"])) // rng.step * rng.step)
        if slot is not None:
            counts[slot], errors[slot] = int(row["n"]), int(row["errors"] or 0)
    return {"x": bins, "n": counts, "errors": errors, "step": rng.step}, ""


def _search(c: Console, chosen: list[logsearch.Source], search: logsearch.Search, page: int) -> Found:
    if not chosen:
        return Found(nothing="No event yet: the store has none of these tables yet.")
    sql = logsearch.search_sql(c.database, chosen, search, PAGE_ROWS + 1, (page - 1) * PAGE_ROWS)
    if sql is None:
        why = "this level" if search.level else "a host column" if search.host else "a column to search"
        return Found(nothing=f"No table of this choice can match: none has {why}.")
    first = logsearch.search_sql(c.database, chosen, search, PAGE_ROWS) or ""
    result, error = attempt(lambda: c.store.query(sql))
    hits = logsearch.hits(result.dicts() if result else [], chosen)
    for hit in hits:
        hit.time = _stamp(hit.time)
    return Found(hits[:PAGE_ROWS], len(hits) > PAGE_ROWS, url_for("query.editor", sql=first), error)


def _explorer(c: Console) -> str:
    args = {k: request.args.get(k, "").strip() for k in ("q", "service", "table", "host", "level")}
    existing, error = attempt(lambda: set(c.store.tables()))
    every = sources(c, existing or set())
    chosen = [s for s in _chosen(every, args["service"], args["table"]) if s.table in (existing or set())]
    key, rng, range_error = _range()
    page = page_number()
    found, searched = Found(error=error or range_error), []
    if rng is not None and not error:
        search = logsearch.Search(rng.start, rng.end, args["q"], args["host"], args["level"])
        found, searched = _search(c, chosen, search, page), logsearch.matching(chosen, search)
        if not found.nothing and not found.error:
            found.volume, found.error = _volume(c, chosen, search, rng)
    return render_template(
        "logs_explorer.html", args=args, every=every, services=_service_names(every), found=found,
        searched=searched, page=page, presets=list(ranges.PRESETS), range_key=key, rng=rng,
        kept={k: v for k, v in request.args.items() if k != "page" and v}, levels=LEVELS,
        hosts=sorted({h.host for h in found.hits if h.host}), on_aws=c.on_aws,
    )


def _service_names(every: list[logsearch.Source]) -> list[str]:
    names: list[str] = []
    for source in every:
        if source.service not in names:
            names.append(source.service)
    return names


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


def _files(c: Console) -> str:
    files = logs.log_files(c.log_dir)
    wanted = request.args.get("file")
    by_name = {f.name: f for f in files}
    if wanted and wanted not in by_name:
        abort(404, description=f"no log file {wanted!r} in {c.log_dir}")
    chosen = by_name[wanted] if wanted else (files[0] if files else None)
    file_page = logs.read_file_page(chosen, page_number()) if chosen else None
    return render_template(
        "logs_local.html", files=files, chosen=chosen, file_page=file_page, log_dir=c.log_dir
    )
