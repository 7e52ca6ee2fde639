"""Group log lines into records the way Vector's file source applies a ``multiline`` rule.

Vector joins the lines of one record with ``\\n`` before the parser sees them; the backfill of
log files (``dendro ingest``) and the tests must cut files into the same records, so this module
follows Vector's line aggregator exactly, mode by mode:

- with no record open, a line matching ``start_pattern`` opens one; any other line is a record
  of its own;
- with a record open, ``condition_pattern`` decides: ``continue_through`` keeps matching lines
  and ends before the first other one, ``continue_past`` keeps matching lines plus the first
  other one, ``halt_before`` keeps other lines and ends before a matching one, ``halt_with``
  keeps other lines up to and including a matching one. A line that ends a record without
  joining it is then handled again, so it may open the next record.

Vector also flushes a record after ``timeout_ms`` without a new line; a file read at once has
no such pauses, so the timeout plays no part here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from dendro.services.base import Multiline


def records(lines: Iterable[str], rule: Multiline | None) -> Iterator[str]:
    """The records ``lines`` make under ``rule`` (each line alone when there is no rule).

    Trailing line breaks (``\\n``, as Vector's line delimiter) are removed from each line.
    """
    if rule is None:
        for line in lines:
            yield line.rstrip("\n")
        return
    start = re.compile(rule.start_pattern)
    condition = re.compile(rule.condition_pattern)
    buffer: list[str] | None = None
    for raw in lines:
        line = raw.rstrip("\n")
        while True:  # runs twice when a line ends a record and must be handled again
            if buffer is None:
                if start.search(line):
                    buffer = [line]
                else:
                    yield line
                break
            matched = condition.search(line) is not None
            if _continues(rule.mode, matched):
                buffer.append(line)
                break
            if _ends_with_line(rule.mode):
                buffer.append(line)
                yield "\n".join(buffer)
                buffer = None
                break
            yield "\n".join(buffer)
            buffer = None
    if buffer is not None:
        yield "\n".join(buffer)


def _continues(mode: str, matched: bool) -> bool:
    if mode in ("continue_through", "continue_past"):
        return matched
    return not matched  # halt_before, halt_with


def _ends_with_line(mode: str) -> bool:
    """Whether the line that ends a record belongs to it (else it is handled again)."""
    return mode in ("continue_past", "halt_with")
