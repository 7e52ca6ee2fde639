"""Read a Firehose object as a stream of input records, in bounded memory.

Firehose writes the records Vector sends one after the other: newline-delimited when the
AppendDelimiterToRecord processor is on, JSON objects concatenated with nothing between them
when it is not, gzip-compressed or not. :func:`read_records` takes the object's byte chunks
and yields :class:`Piece` values in input order: each is either a decoded JSON object or a raw
text that is not one (with the reason), so that every input record is accounted for.

Decoding is :mod:`dendro.store.wire`'s, the local ingest's too: every gzip member, each with its
trailer; strict JSON (no ``NaN``, ``Infinity``, numbers beyond a double, lone surrogates, invalid
UTF-8, or nesting deeper than ``wire.MAX_DEPTH``). A record refused for any of these goes to
``rejected/`` with its reason, like any other bad line, and the object's other records load.

Memory stays bounded whatever the object size: the body is read in chunks, decompression
output is capped per step, and a record larger than :data:`MAX_RECORD_CHARS` (Firehose's own
record limit is 1,000 KiB) is cut off and reported instead of being buffered forever.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from dendro.store import wire

MAX_RECORD_CHARS = 1 << 20
MAX_RAW_CHARS = wire.MAX_RAW_CHARS  # raw text kept with a rejection (the start of an oversized record)

#: the gzip stream ended early, is damaged, or is followed by other bytes
CorruptStream = wire.BadGzip
_LENIENT = json.JSONDecoder()  # finds where a refused record ends, nothing more


@dataclass(frozen=True)
class Piece:
    """One input record: its raw text, and the event, or why there is none."""

    raw: str
    event: dict[str, Any] | None = None
    error: str | None = None


def first_copies(pieces: Iterable[Piece], copies: Callable[[], None]) -> Iterator[Piece]:
    """The pieces, less every event whose agent id (:data:`dendro.store.wire.EVENT_ID`) came
    before in the same object (``copies`` is called for each left out): a batch the agent sent
    again after a partial refusal lands in the same Firehose buffer, so in the same object. An
    event without an id (an older agent, a backfill) is always kept."""
    seen: set[str] = set()
    for piece in pieces:
        key = piece.event.get(wire.EVENT_ID) if piece.event is not None else None
        if isinstance(key, str):
            if key in seen:
                copies()
                continue
            seen.add(key)
        yield piece


def decompressed(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The bytes of a possibly gzip-compressed stream (every member, each with its trailer).

    A truncated or corrupt stream yields what could be decoded and then raises
    :class:`CorruptStream` with the reason.
    """
    return wire.maybe_gunzip(chunks)


def read_records(chunks: Iterable[bytes]) -> Iterator[Piece]:
    """Every input record of the stream, in order (see the module docstring)."""
    text_decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
    pending = ""
    try:
        for chunk in decompressed(chunks):
            pending += text_decoder.decode(chunk)
            lines = pending.split("\n")
            pending = lines.pop()
            for line in lines:
                yield from _line(line)
            if len(pending) > MAX_RECORD_CHARS:
                pieces, pending = _split_long(pending)
                yield from pieces
    except CorruptStream as error:
        pieces = list(_line(pending + text_decoder.decode(b"", final=True)))
        last = pieces[-1] if pieces else None
        if last is not None and last.error:
            pieces[-1] = Piece(raw=last.raw, error=f"{error}: {last.error}")
        else:
            pieces.append(Piece(raw="", error=f"{error}: the rest of the object is lost"))
        yield from pieces
        return
    yield from _line(pending + text_decoder.decode(b"", final=True))


def _line(line: str) -> Iterator[Piece]:
    """The records of one newline-delimited segment (one object, or several concatenated)."""
    for record in wire.records(line):
        yield _piece(record)


def _piece(record: wire.Record) -> Piece:
    if record.error is not None:
        return Piece(raw=record.raw, error=record.error)
    if isinstance(record.value, dict):
        return Piece(raw=record.raw, event=record.value)
    kind = type(record.value).__name__
    return Piece(raw=record.raw[:MAX_RAW_CHARS], error=f"record is a JSON {kind}, not an object")


def _split_long(pending: str) -> tuple[list[Piece], str]:
    """Records of a long text without newlines; returns them and the incomplete remainder."""
    pieces: list[Piece] = []
    pos, end = wire.skip_space(pending, 0), len(pending)
    while pos < end:
        try:
            _, stop = wire.scan(pending, pos)
        except json.JSONDecodeError as error:
            if not _incomplete(error, end):
                stop = wire.resync(pending, pos + 1)
                pieces.append(Piece(raw=pending[pos:stop][:MAX_RAW_CHARS], error=f"not JSON: {error.msg}"))
            elif end - pos > MAX_RECORD_CHARS:
                stop = wire.resync(pending, pos + MAX_RECORD_CHARS)
                reason = f"record longer than {MAX_RECORD_CHARS} characters"
                pieces.append(Piece(raw=pending[pos : pos + MAX_RAW_CHARS], error=reason))
            else:
                break  # the record goes on in the next chunk
        except ValueError:  # refused: the strict reading of the whole record says why
            found = _record_end(pending, pos)
            if found is None and end - pos <= MAX_RECORD_CHARS:
                break  # the record goes on in the next chunk
            stop = end if found is None else found
            pieces.extend(_line(pending[pos:stop]))
        else:
            pieces.extend(_line(pending[pos:stop]))
        pos = wire.skip_space(pending, stop)
    return pieces, pending[pos:]


def _record_end(text: str, pos: int) -> int | None:
    """Where a refused record ends (a lenient reading finds it); None if the text stops first."""
    try:
        return int(_LENIENT.raw_decode(text, pos)[1])
    except json.JSONDecodeError as error:
        return None if _incomplete(error, len(text)) else len(text)
    except (ValueError, RecursionError):
        return len(text)


def _incomplete(error: json.JSONDecodeError, end: int) -> bool:
    """Whether a decode failed only because the text stopped (more input may complete it)."""
    return error.pos >= end or error.msg.startswith("Unterminated string")
