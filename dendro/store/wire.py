"""Event bodies on the wire, decoded one way for both backends: gzip members and strict JSON.

The local ingest (:mod:`dendro.ingest.app`) and the AWS loader (:mod:`dendro.pipeline.objects`)
read the same bodies Vector sends (NDJSON, gzip or not) and must accept exactly the same ones,
so both decode through this module. Standard library only: the Lambda zip carries it.

gzip (:func:`gunzip`): every member is decoded in turn, and each must end with its trailer
(CRC and length): a body cut before a trailer is truncated, never a partial batch. Only NUL
bytes may follow the last member (the padding ``gzip`` and Python's ``gzip`` skip); any other
trailing byte is refused. An optional limit stops inflating past a size (no gzip bombs).

JSON (:func:`records`, :func:`events`): RFC 8259 and nothing more, whichever parser reads it:

- ``NaN``, ``Infinity``, ``-Infinity`` and numbers beyond a double (``1e400``) are refused;
- an integer outside 64 bits (below -2**63 or above 2**64-1) is read as a double, as orjson
  reads it;
- text must be valid UTF-8 and strings hold no lone surrogate (``"\\ud800"``);
- a value nested deeper than :data:`MAX_DEPTH` arrays and objects is refused with that reason,
  never a ``RecursionError``;
- duplicate keys: the last one wins (as both parsers do);
- whitespace between records is JSON's own (space, tab, CR, LF); one line may hold several
  records back to back (Firehose without its newline delimiter).

:func:`events` takes a fast decoder (the ingest passes ``orjson.loads``) for the usual body and
falls back to the strict standard-library reading for anything it refuses, so the acceptance is
the strict reading's; a test proves the two agree on every line the fast one accepts.
"""

from __future__ import annotations

import json
import math
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import repeat
from typing import Any

#: the field holding the id the agent gives each event before its sink (``uuid_v4()`` in the
#: ``dendro_outgoing`` remap of vector.yaml): a batch Vector sends again carries the same ids, so
#: a copy is known as one (docs/loader.md); the stores keep no column of it
EVENT_ID = "dendro_id"

#: deepest nesting of arrays and objects a record may have (an event object alone is depth 1)
MAX_DEPTH = 64
#: bytes inflated per step (bounded memory whatever the compression ratio)
CHUNK_BYTES = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"
JSON_WHITESPACE = " \t\r\n"
MAX_RAW_CHARS = 64 * 1024  # raw text kept with a refused record
_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1

_SURROGATE = re.compile("[\ud800-\udfff]")  # in raw text: bytes that were not UTF-8
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


class BadGzip(ValueError):
    """The gzip stream is corrupt, truncated or followed by other bytes; ``str()`` says which."""


class Oversize(ValueError):
    """The body inflates past the limit."""


class BadBody(ValueError):
    """A body the ingest refuses whole; ``str()`` names the line and the reason."""


# -- gzip ---------------------------------------------------------------------------------------


def gunzip(chunks: Iterable[bytes], limit: int | None = None) -> Iterator[bytes]:
    """The inflated bytes of a gzip stream of one or more members, in bounded chunks.

    Raises :class:`BadGzip` (after yielding what decoded) for a corrupt or truncated stream or
    trailing bytes other than NUL padding; :class:`Oversize` once more than ``limit`` bytes came out.
    """
    inflater: Any = None  # the current member's decompressor; None between members
    padding = False  # past the last member: only NUL bytes may follow
    produced = 0
    pending = b""
    for chunk in chunks:
        pending += chunk
        while pending:
            if inflater is None:
                start = _member_start(pending, padding, produced)
                if start != "member":
                    padding = padding or start == "padding"
                    pending = b"" if start == "padding" else pending
                    break
                inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            step = CHUNK_BYTES if limit is None else min(CHUNK_BYTES, limit - produced + 1)
            try:
                out = inflater.decompress(pending, step)
            except zlib.error as error:
                raise BadGzip(f"gzip data is corrupt ({error})") from None
            produced += len(out)
            if limit is not None and produced > limit:
                raise Oversize(f"body is over {limit} bytes once decompressed")
            if out:
                yield out
            if inflater.eof:
                pending, inflater = inflater.unused_data, None
            else:
                pending = inflater.unconsumed_tail
    if inflater is not None or pending:
        raise BadGzip("gzip stream is truncated (a member has no trailer)")


def _member_start(pending: bytes, padding: bool, produced: int) -> str:
    """What the bytes after a member are: ``"member"`` (a next one starts), ``"padding"`` (NUL
    bytes only), ``"more"`` (too few bytes to tell); BadGzip for anything else."""
    if padding or not pending.strip(b"\0"):
        if pending.strip(b"\0"):
            raise BadGzip("bytes follow the last gzip member")
        return "padding"
    if len(pending) < len(GZIP_MAGIC) and GZIP_MAGIC.startswith(pending):
        return "more"
    if not pending.startswith(GZIP_MAGIC):
        raise BadGzip("bytes follow the last gzip member" if produced else "the body is not gzip")
    return "member"


def maybe_gunzip(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The bytes of a stream, inflated when it starts with the gzip magic (the loader's objects)."""
    stream = iter(chunks)
    head = b""
    for chunk in stream:
        head += chunk
        if len(head) >= 2:
            break
    if head.startswith(GZIP_MAGIC):
        yield from gunzip(_prepend(head, stream))
        return
    if head:
        yield head
    yield from stream


def _prepend(head: bytes, stream: Iterator[bytes]) -> Iterator[bytes]:
    yield head
    yield from stream


def inflate(body: bytes, limit: int) -> bytes:
    """A whole gzip body inflated (the ingest's request body); BadGzip or Oversize if not."""
    return b"".join(gunzip([body], limit))


# -- strict JSON --------------------------------------------------------------------------------


class _Refused(ValueError):
    """Raised by the decoder's hooks for a value JSON does not have."""


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON value")


def _float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _Refused(f"number {text[:40]} is beyond a double")
    return value


def _int(text: str) -> int | float:
    if len(text) <= 20:
        value = int(text)
        if _INT_MIN <= value <= _INT_MAX:
            return value
    return _float(text)


_strict = json.JSONDecoder(parse_constant=_constant, parse_float=_float, parse_int=_int)
_lenient = json.JSONDecoder()  # only to find where a refused record ends


@dataclass(frozen=True)
class Record:
    """One input record: its raw text, and its value, or why there is none."""

    raw: str
    value: Any = None
    error: str | None = None


def depth(value: Any) -> int:
    """How deep arrays and objects nest in ``value`` (a scalar is 0, ``{}`` is 1)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


def _lone_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _checked(raw: str, value: Any, max_depth: int = MAX_DEPTH) -> str | None:
    """Why a decoded record is refused, or None."""
    if raw.count("{") + raw.count("[") > max_depth and depth(value) > max_depth:
        return f"the record nests deeper than {MAX_DEPTH} levels"
    if _ESCAPED_SURROGATE.search(raw) and _lone_surrogate(value):
        return "a string holds a lone UTF-16 surrogate (not Unicode text)"
    return None


def scan(text: str, pos: int) -> tuple[Any, int]:
    """The strict record starting at ``pos`` and where it ends; json.JSONDecodeError when it is
    not JSON (its ``pos`` says where), :class:`_Refused` (a ValueError) when it is not allowed."""
    try:
        return _strict.raw_decode(text, pos)
    except RecursionError:
        raise _Refused(f"the record nests deeper than {MAX_DEPTH} levels") from None


def _raw(text: str) -> str:
    return _SURROGATE.sub("\ufffd", text[:MAX_RAW_CHARS])


def _record(raw: str, value: Any, max_depth: int) -> Record:
    reason = _checked(raw, value, max_depth)
    return Record(raw, value) if reason is None else Record(_raw(raw), error=reason)


def records(line: str, max_depth: int = MAX_DEPTH) -> Iterator[Record]:
    """The records of one line of text: one JSON value, or several back to back.

    Bytes that were not UTF-8 are expected as lone surrogates (``errors="surrogateescape"``);
    a record holding one is refused. Garbage between records becomes a refused record of its own
    (the next record is looked for at the next ``{``).
    """
    text = line.strip(JSON_WHITESPACE)
    if not text:
        return
    if _SURROGATE.search(text):
        yield Record(_raw(text), error="the record is not valid UTF-8")
        return
    pos, end = 0, len(text)
    while pos < end:
        try:
            value, stop = scan(text, pos)
        except json.JSONDecodeError as error:
            stop = resync(text, pos + 1)
            yield Record(_raw(text[pos:stop]), error=f"not JSON: {error.msg}")
        except _Refused as error:
            stop = _extent(text, pos)
            yield Record(_raw(text[pos:stop]), error=str(error))
        else:
            yield _record(text[pos:stop], value, max_depth)
        pos = skip_space(text, stop)


def _extent(text: str, pos: int) -> int:
    """Where a refused record ends: a lenient reading finds it; else the end of the line."""
    try:
        return int(_lenient.raw_decode(text, pos)[1])
    except (ValueError, RecursionError):
        return len(text)


def resync(text: str, start: int) -> int:
    """Where the next record may begin after garbage: the next ``{`` (or the end)."""
    found = text.find("{", start)
    return len(text) if found < 0 else found


def skip_space(text: str, pos: int) -> int:
    end = len(text)
    while pos < end and text[pos] in JSON_WHITESPACE:
        pos += 1
    return pos


def events(body: bytes, fast: Callable[[bytes], Any] | None = None) -> list[Any]:
    """Every record of an NDJSON body, in order; :class:`BadBody` naming the first bad line.

    ``fast`` (orjson.loads) decodes the usual body, a record a line, in C; a body it refuses, or
    one that may nest too deep, is read again by the strict decoder, whose verdict stands.
    """
    text = body.strip(b" \t\r\n")
    if not text:
        return []
    if text.startswith(b"["):
        return _array(text, fast)
    lines = text.split(b"\n")
    if fast is not None:
        try:
            values = list(map(fast, lines))
        except Exception:  # any refusal (RecursionError too): the strict reading says why
            pass
        else:
            if _shallow(text, values):
                return values
    found: list[Any] = []
    for number, line in enumerate(lines, start=1):
        for record in records(line.decode("utf-8", "surrogateescape")):
            if record.error is not None:
                raise BadBody(f"line {number}: {record.error}")
            found.append(record.value)
    return found


def _array(text: bytes, fast: Callable[[bytes], Any] | None) -> list[Any]:
    """The records of a body that is one JSON array of them (the ingest also takes this form)."""
    value: Any = None
    if fast is not None:
        try:
            value = fast(text)
        except Exception:
            value = None
    if value is None or (not _shallow(text, [value]) and depth(value) > MAX_DEPTH + 1):
        found = list(records(text.decode("utf-8", "surrogateescape"), MAX_DEPTH + 1))
        if len(found) != 1 or found[0].error is not None:
            reason = found[0].error if len(found) == 1 else "several values"
            raise BadBody(f"body is not a JSON array of events ({reason})")
        value = found[0].value
    if not isinstance(value, list):
        raise BadBody("body is not a JSON array of events")
    return value


def _shallow(body: bytes, values: list[Any]) -> bool:
    """Whether no record of the body nests deeper than MAX_DEPTH, cheaply for the usual body.

    A record nests no deeper than it has brackets, and every container record has one of its
    own, so a body with few brackets beyond one per container needs no walk (strings holding
    brackets only make the bound looser).
    """
    brackets = body.count(b"{") + (body.count(b"[") if b"[" in body else 0)
    containers = sum(map(isinstance, values, repeat(dict | list)))
    if brackets - containers + 1 <= MAX_DEPTH:
        return True
    return max(map(depth, values), default=0) <= MAX_DEPTH
