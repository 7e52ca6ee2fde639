"""The pipeline's own logs: the loader's CloudWatch log streams on AWS, log files locally.

AWS: the loader Lambda logs to ``/aws/lambda/<pipeline>-loader``; streams are listed newest
first and events read newest first, both paged with CloudWatch's own tokens (passed back in the
page's links). The client honours ``AWS_ENDPOINT_URL``.

Local: the ``*.log`` files of the data directory, newest lines first, paged: ``dendro up``
writes the ingest's own log there (``ingest.log``: refused requests, rejected events, a summary
a minute). The store's ``rejected`` and ``parse_error`` rows, where the pipeline's problems end
up, are searched by the logs explorer like every other table.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: lines read from the end of a large log file (older lines are left to `less`)
TAIL_BYTES = 8 * 1024 * 1024
PAGE_LINES = 200
STREAMS_PER_PAGE = 25
EVENTS_PER_PAGE = 100
#: the local store's table of the events that fit no table (with the reason and the raw event)
REJECTED = "rejected"


def loader_log_group(pipeline: str) -> str:
    from dendro.pipeline.models import Names

    return Names(pipeline, "000000000000", "us-east-1").log_group


def log_files(log_dir: Path | None) -> list[Path]:
    if log_dir is None or not log_dir.is_dir():
        return []
    return sorted(p for p in log_dir.glob("*.log") if p.is_file())


@dataclass
class FilePage:
    path: Path
    lines: list[str]
    page: int
    pages: int
    total: int
    partial: bool  # only the end of a large file was read


def read_file_page(path: Path, page: int, per_page: int = PAGE_LINES) -> FilePage:
    """Lines of ``path`` newest first: page 1 holds the last ``per_page`` lines."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        if size > TAIL_BYTES:
            handle.seek(size - TAIL_BYTES)
            handle.readline()  # skip the partial first line
        data = handle.read()
    lines = data.decode("utf-8", errors="replace").splitlines()
    lines.reverse()
    pages = max(1, -(-len(lines) // per_page))
    page = min(max(page, 1), pages)
    chunk = lines[(page - 1) * per_page : page * per_page]
    return FilePage(path, chunk, page, pages, len(lines), size > TAIL_BYTES)


@dataclass
class StreamList:
    group: str
    streams: list[dict[str, Any]]
    next_token: str | None
    error: str = ""


@dataclass
class EventPage:
    group: str
    stream: str
    events: list[dict[str, Any]]
    older_token: str | None
    newer_token: str | None
    error: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def logs_client(region: str) -> Any:
    import boto3

    return boto3.client("logs", region_name=region, endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)


def _problem(error: Exception, group: str) -> str:
    code = (
        getattr(error, "response", {}).get("Error", {}).get("Code", "") if hasattr(error, "response") else ""
    )
    if code == "ResourceNotFoundException":
        return f"log group {group} does not exist yet: deploy the pipeline (dendro deploy) first"
    return f"CloudWatch Logs could not be read ({type(error).__name__}: {error})"


def list_streams(client: Any, group: str, token: str | None) -> StreamList:
    args: dict[str, Any] = {
        "logGroupName": group,
        "orderBy": "LastEventTime",
        "descending": True,
        "limit": STREAMS_PER_PAGE,
    }
    if token:
        args["nextToken"] = token
    try:
        answer = client.describe_log_streams(**args)
    except Exception as error:  # botocore's ClientError, EndpointConnectionError, NoCredentialsError…
        return StreamList(group, [], None, _problem(error, group))
    streams = [
        {
            "name": s["logStreamName"],
            "last_event": (s.get("lastEventTimestamp") or 0) / 1000 or None,
            "first_event": (s.get("firstEventTimestamp") or 0) / 1000 or None,
        }
        for s in answer.get("logStreams", [])
    ]
    return StreamList(group, streams, answer.get("nextToken"))


def stream_events(client: Any, group: str, stream: str, token: str | None) -> EventPage:
    """Events of one stream, newest page first; ``token`` moves to older (or newer) pages."""
    args: dict[str, Any] = {
        "logGroupName": group,
        "logStreamName": stream,
        "limit": EVENTS_PER_PAGE,
        "startFromHead": False,
    }
    if token:
        args["nextToken"] = token
    try:
        answer = client.get_log_events(**args)
    except Exception as error:  # as above
        return EventPage(group, stream, [], None, None, _problem(error, group))
    events = [
        {"time": e["timestamp"] / 1000, "message": e.get("message", "")} for e in answer.get("events", [])
    ]
    events.reverse()
    older = answer.get("nextBackwardToken")
    newer = answer.get("nextForwardToken")
    if not events:  # CloudWatch hands back the same token at the end: stop there
        older = None
    return EventPage(group, stream, events, older if older != token else None, newer if token else None)
