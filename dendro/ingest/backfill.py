"""Backfill existing log files (rotated, gzipped) through a service's VRL programs.

``dendro ingest FILE... --service NAME`` picks, for each file, the service's file source whose
``include`` pattern matches the file name (``access.log.2.gz`` matches ``access.log``), cuts the
file into records with that source's multiline rule exactly as Vector would, runs the source's
parser on each record with vrl-python, and writes the events in batches through a sink: the
running ``dendro up`` (POST /ingest) or the store itself. A record the parser cannot parse
becomes a ``parse_error`` event, as on a node; a record the parser recognises as log structure
(a lone slow-log ``# Time:`` line, a server start header) makes no event, as on a node.
"""

from __future__ import annotations

import fnmatch
import gzip
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

from dendro.services import multiline
from dendro.services.base import Service, Source
from dendro.services.runner import decode_line, run_events

BATCH_SIZE = 2000


class BackfillError(ValueError):
    """A file cannot be backfilled as asked; ``str()`` says what to do."""


@dataclass
class BackfillResult:
    files: int = 0
    records: int = 0
    parse_errors: int = 0
    no_event: int = 0  # records that are log structure, not data (the parser emits nothing)
    written: int = 0
    rejected: int = 0
    by_file: dict[str, int] = field(default_factory=dict)


def base_name(path: Path) -> str:
    """The file name without rotation suffixes: ``access.log.2.gz`` → ``access.log``."""
    name = path.name
    for _ in range(2):
        name = re.sub(r"\.gz$", "", name)
        name = re.sub(r"\.\d+$|-\d{8}$", "", name)
    return name


def _patterns(source: Source, settings: Mapping[str, Any]) -> list[str]:
    include = source.options.get("include", [])
    values = include if isinstance(include, list | tuple) else [include]
    patterns: list[str] = []
    for value in values:
        text = str(value)
        if text.startswith("{") and text.endswith("}"):
            filled = settings.get(text[1:-1], [])
            patterns += [str(v) for v in (filled if isinstance(filled, list | tuple) else [filled])]
        else:
            patterns.append(text)
    return patterns


def choose_source(
    service: Service, path: Path, settings: Mapping[str, Any], parser: str | None = None
) -> Source:
    """The file source of ``service`` that reads files such as ``path``."""
    files = [s for s in service.sources if s.kind == "file"]
    if not files:
        raise BackfillError(f"service {service.name} reads no log files")
    if parser:
        for source in files:
            if parser in (source.parser, source.id):
                return source
        known = ", ".join(s.parser for s in files)
        raise BackfillError(f"service {service.name} has no file parser {parser!r} (known: {known})")
    name = base_name(path)
    matching = [s for s in files if any(fnmatch.fnmatch(name, Path(p).name) for p in _patterns(s, settings))]
    if len(matching) == 1:
        return matching[0]
    if not matching and len(files) == 1:
        return files[0]
    known = ", ".join(s.parser for s in files)
    raise BackfillError(f"{path}: cannot tell which {service.name} log this is; pass --parser ({known})")


def _open(path: Path) -> IO[bytes]:
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")


def read_lines(path: Path, progress: Callable[[int], None] | None = None) -> Iterator[str]:
    """The lines of a (possibly gzipped) file as text, reporting bytes of the file read."""
    try:
        handle = _open(path)
    except OSError as error:
        raise BackfillError(f"{path}: cannot be read ({error.strerror})") from None
    with handle:
        raw: Any = handle.fileobj if isinstance(handle, gzip.GzipFile) else handle
        last = 0
        try:
            for line in handle:
                yield decode_line(line)
                if progress is not None:
                    position = raw.tell() if raw is not None else 0
                    progress(position - last)
                    last = position
        except (OSError, EOFError) as error:
            raise BackfillError(f"{path}: cannot be read to the end ({error})") from None


def backfill(
    paths: list[Path],
    service: Service,
    settings: Mapping[str, Any],
    write: Callable[[list[dict[str, Any]]], tuple[int, int]],
    *,
    host: str,
    parser: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> BackfillResult:
    """Parse every file and write its events in batches; ``write`` returns (written, rejected)."""
    sources = {path: choose_source(service, path, settings, parser) for path in paths}
    result = BackfillResult()
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        if batch:
            written, rejected = write(batch)
            result.written += written
            result.rejected += rejected
            batch.clear()

    for path, source in sources.items():
        program = service.parser(source.parser)
        count = 0
        for record in multiline.records(read_lines(path, progress), source.multiline):
            if not record.strip():
                continue
            event = {"message": record, "host": host}  # read as the node's agent reads it (its time zone)
            events = run_events(program, event, source=source.id, settings=settings)
            result.no_event += not events
            result.parse_errors += sum(event.get("type") == "parse_error" for event in events)
            batch += events
            count += 1
            if len(batch) >= BATCH_SIZE:
                flush()
        result.by_file[str(path)] = count
        result.records += count
        result.files += 1
    flush()
    return result
