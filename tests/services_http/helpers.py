"""Shared by the HTTP service tests: run a catalog parser on lines, group multiline records."""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from dendro.services import runner
from dendro.services.base import Service, Source


def source_of(service: Service, parser_id: str) -> Source:
    return next(s for s in service.sources if s.parser == parser_id)


def lines_of(path: Path) -> list[str]:
    """A log file's lines as Vector's file source reads them (invalid UTF-8 replaced)."""
    text = runner.decode_line(path.read_bytes())
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final newline ends the last line; a file without one still has it
    return lines


def records(source: Source, lines: list[str]) -> list[str]:
    """Lines joined into records the way the source's multiline rule (halt_before) joins them."""
    if source.multiline is None:
        return list(lines)
    start = re.compile(source.multiline.start_pattern)
    joined: list[str] = []
    for line in lines:
        if start.search(line) or not joined:
            joined.append(line)
        else:
            joined[-1] += "\n" + line
    return joined


def parse_all(service: Service, parser_id: str, messages: list[str]) -> list[dict[str, Any]]:
    parser = service.parser(parser_id)
    source = source_of(service, parser_id).id
    return [runner.run(parser, {"message": m, "host": "web-1"}, source=source) for m in messages]


def call(url: str, method: str = "GET") -> tuple[int, float]:
    """Status and elapsed seconds of one request (4xx/5xx are answers, not failures)."""
    data = b"x=1" if method == "POST" else None
    request = urllib.request.Request(url, data=data, method=method)
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
            status = int(response.status)
    except urllib.error.HTTPError as error:
        error.read()
        status = int(error.code)
    return status, time.monotonic() - started


def wait_for_lines(path: Path, count: int, timeout: float = 10.0) -> list[str]:
    """The file's lines once it has at least ``count`` (servers log after answering)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = lines_of(path) if path.exists() else []
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.02)


def wait_for_text(path: Path, text: str, timeout: float = 10.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        lines = lines_of(path) if path.exists() else []
        if any(text in line for line in lines) or time.monotonic() > deadline:
            return lines
        time.sleep(0.02)
