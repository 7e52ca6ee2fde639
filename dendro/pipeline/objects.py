"""Read a Firehose object as a stream of input records, in bounded memory.

Firehose writes the records Vector sends one after the other: newline-delimited when the
AppendDelimiterToRecord processor is on, JSON objects concatenated with nothing between them
when it is not, gzip-compressed or not. :func:`read_records` takes the object's byte chunks
and yields :class:`Piece` values in input order: each is either a decoded JSON object or a raw
text that is not one (with the reason), so that every input record is accounted for.

Memory stays bounded whatever the object size: the body is read in chunks, decompression
output is capped per step, and a record larger than :data:`MAX_RECORD_CHARS` (Firehose's own
record limit is 1,000 KiB) is cut off and reported instead of being buffered forever.
Invalid UTF-8 is replaced (U+FFFD), as Vector's file source does.
"""

from __future__ import annotations

import codecs
import json
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

CHUNK_BYTES = 1 << 20
MAX_RECORD_CHARS = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"
MAX_RAW_CHARS = 64 * 1024  # raw text kept with a rejection (the start of an oversized record)

_decoder = json.JSONDecoder()
_WHITESPACE = " \t\r\n"


@dataclass(frozen=True)
class Piece:
    """One input record: its raw text, and the event, or why there is none."""

    raw: str
    event: dict[str, Any] | None = None
    error: str | None = None


def decompressed(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The bytes of a possibly gzip-compressed stream (several members allowed), in chunks.

    A truncated or corrupt stream yields what could be decoded and then raises
    :class:`CorruptStream` with the reason.
    """
    stream = iter(chunks)
    head = b""
    for chunk in stream:
        head += chunk
        if len(head) >= 2:
            break
    if not head.startswith(GZIP_MAGIC):
        if head:
            yield head
        yield from stream
        return
    yield from _gunzip(head, stream)


class CorruptStream(Exception):
    """The compressed stream ended early or is damaged; ``str()`` says how."""


def _gunzip(head: bytes, stream: Iterator[bytes]) -> Iterator[bytes]:
    inflater: Any = None  # the current member's decompressor; None between members
    pending = head
    while True:
        while pending:
            if inflater is None:
                inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            try:
                out = inflater.decompress(pending, CHUNK_BYTES)
            except zlib.error as error:
                raise CorruptStream(f"gzip data is corrupt ({error})") from None
            if out:
                yield out
            if inflater.eof:
                pending = inflater.unused_data
                inflater = None
                if not pending.strip(b"\0"):  # NUL padding after the last member
                    pending = b""
            else:
                pending = inflater.unconsumed_tail
        chunk = next(stream, None)
        if chunk is None:
            break
        pending = chunk
    if inflater is not None:
        tail = inflater.flush()
        if tail:
            yield tail
        raise CorruptStream("gzip stream is truncated")


def read_records(chunks: Iterable[bytes]) -> Iterator[Piece]:
    """Every input record of the stream, in order (see the module docstring)."""
    text_decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
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
    text = line.strip(_WHITESPACE)
    if not text:
        return
    try:
        value = json.loads(text)
    except ValueError:
        yield from _concatenated(text)
        return
    yield _piece(text, value)


def _piece(raw: str, value: Any) -> Piece:
    if isinstance(value, dict):
        return Piece(raw=raw, event=value)
    return Piece(raw=raw[:MAX_RAW_CHARS], error=f"record is a JSON {type(value).__name__}, not an object")


def _concatenated(text: str) -> Iterator[Piece]:
    """JSON values back to back (Firehose without a delimiter); garbage between them is kept."""
    pos, end = 0, len(text)
    while pos < end:
        try:
            value, stop = _decoder.raw_decode(text, pos)
        except json.JSONDecodeError as error:
            stop = _resync(text, pos + 1)
            yield Piece(raw=text[pos:stop][:MAX_RAW_CHARS], error=f"not JSON: {error.msg}")
        else:
            yield _piece(text[pos:stop], value)
        pos = _skip_space(text, stop)


def _split_long(pending: str) -> tuple[list[Piece], str]:
    """Records of a long text without newlines; returns them and the incomplete remainder."""
    pieces: list[Piece] = []
    pos, end = _skip_space(pending, 0), len(pending)
    while pos < end:
        try:
            value, stop = _decoder.raw_decode(pending, pos)
        except json.JSONDecodeError as error:
            if not _incomplete(error, end):
                stop = _resync(pending, pos + 1)
                pieces.append(Piece(raw=pending[pos:stop][:MAX_RAW_CHARS], error=f"not JSON: {error.msg}"))
            elif end - pos > MAX_RECORD_CHARS:
                stop = _resync(pending, pos + MAX_RECORD_CHARS)
                reason = f"record longer than {MAX_RECORD_CHARS} characters"
                pieces.append(Piece(raw=pending[pos : pos + MAX_RAW_CHARS], error=reason))
            else:
                break  # the record goes on in the next chunk
        else:
            pieces.append(_piece(pending[pos:stop], value))
        pos = _skip_space(pending, stop)
    return pieces, pending[pos:]


def _incomplete(error: json.JSONDecodeError, end: int) -> bool:
    """Whether a decode failed only because the text stopped (more input may complete it)."""
    return error.pos >= end or error.msg.startswith("Unterminated string")


def _resync(text: str, start: int) -> int:
    """Where the next record may begin after garbage: the next ``{`` (or the end)."""
    found = text.find("{", start)
    return len(text) if found < 0 else found


def _skip_space(text: str, pos: int) -> int:
    end = len(text)
    while pos < end and text[pos] in _WHITESPACE:
        pos += 1
    return pos
