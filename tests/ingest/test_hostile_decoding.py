"""Issue 15, items 2, 6 and 7: one decoder for both backends. The same hostile bodies go to the
local ingest (over HTTP) and to the AWS loader (a Firehose object), and both must accept exactly
the same ones: the ingest refuses a body whole (400), the loader sends the same bad record to
``rejected/`` with its reason and loads the others. Before, the loader stored ``NaN`` (host
"nan") and ``Infinity`` where the ingest refused them, stored only the first gzip member's
events, and failed the whole invocation on a line nested 1,000 deep (RecursionError).

A property test then shows the ingest's fast path (orjson) and the strict standard-library
reading (the only one the Lambda has) agree on every body.
"""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dendro.ingest.server import IngestServer, IngestSettings
from dendro.pipeline.loader import rejected_key
from dendro.store import wire
from dendro.store.local import LocalStore
from tests.loader.helpers import TABLES, access, fake_loader

TOKEN = "decoding"
KEY = "raw/2026/11/26/12/dendro-1-2026-11-26-12-00-05-abc"


def line(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode()


GOOD = [line(access(second=s, path=f"/p{s}")) for s in range(3)]
TEMPLATE = line(access(second=9, path="/bad"))


def bad(fragment: bytes) -> bytes:
    """A good event with one more field whose value is ``fragment`` (raw JSON text)."""
    return TEMPLATE[:-1] + b', "extra": ' + fragment + b"}"


def deep(levels: int) -> bytes:
    """An event whose objects nest ``levels`` deep (the event object is the first level)."""
    return bad(b'{"a":' * (levels - 1) + b"1" + b"}" * (levels - 1))


GZ = gzip.compress(b"\n".join(GOOD[:2]) + b"\n")
#: name → (body, accepted, events the loader writes): the ingest writes all of an accepted body
#: and none of a refused one; the loader writes a refused body's good records and rejects the rest
BODIES: dict[str, tuple[bytes, bool, int]] = {
    "plain": (b"\n".join(GOOD), True, 3),
    "blank-lines-crlf": (GOOD[0] + b"\r\n\r\n" + GOOD[1] + b"\n  \n" + GOOD[2], True, 3),
    "back-to-back": (GOOD[0] + GOOD[1] + b"\n" + GOOD[2], True, 3),
    "NaN": (b"\n".join([GOOD[0], bad(b"NaN"), GOOD[1]]), False, 2),
    "Infinity": (b"\n".join([GOOD[0], bad(b"Infinity")]), False, 1),
    "-Infinity": (b"\n".join([GOOD[0], bad(b"-Infinity")]), False, 1),
    "1e400": (b"\n".join([GOOD[0], bad(b"1e400")]), False, 1),
    "lone-surrogate": (b"\n".join([GOOD[0], bad(b'"\\ud800"')]), False, 1),
    "surrogate-pair": (b"\n".join([GOOD[0], bad(b'"\\ud83d\\ude00"')]), True, 2),
    "invalid-utf8": (b"\n".join([GOOD[0], bad(b'"\xff\xfe"')]), False, 1),
    "bom": (b"\xef\xbb\xbf" + b"\n".join(GOOD), False, 3),  # the loader skips to the next "{"
    "control-char": (b"\n".join([GOOD[0], bad(b'"\x01"')]), False, 1),
    "trailing-comma": (b"\n".join([GOOD[0], TEMPLATE[:-1] + b",}"]), False, 1),
    "form-feed-after": (b"\n".join(GOOD) + b"\x0c", False, 3),
    "depth-64": (b"\n".join([GOOD[0], deep(wire.MAX_DEPTH)]), True, 2),
    "depth-65": (b"\n".join([GOOD[0], deep(wire.MAX_DEPTH + 1)]), False, 1),
    "depth-1000": (b"\n".join([GOOD[0], deep(1000), GOOD[1]]), False, 2),
    "arrays-1000": (b"\n".join([GOOD[0], bad(b"[" * 1000 + b"]" * 1000)]), False, 1),
    "gzip": (GZ, True, 2),
    "gzip-two-members": (GZ + gzip.compress(GOOD[2]), True, 3),
    "gzip-nul-padding": (GZ + b"\0" * 32, True, 2),
    "gzip-no-trailer": (GZ[:-8], False, 2),
    "gzip-cut-length": (GZ[:-3], False, 2),
    "gzip-junk": (GZ + b"junk", False, 2),
    "gzip-second-member-cut": (GZ + gzip.compress(GOOD[2])[:-8], False, 3),
}


@pytest.fixture(scope="module")
def ingest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, LocalStore]]:
    path: Path = tmp_path_factory.mktemp("decoding") / "dendro.duckdb"
    store = LocalStore(path, "dendro", TABLES)
    server = IngestServer(store, IngestSettings(TOKEN, 1 << 20), host="127.0.0.1", port=0)
    server.start()
    yield f"http://127.0.0.1:{server.port}/ingest", store
    server.stop()
    store.close()


def post(url: str, body: bytes) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    if body.startswith(wire.GZIP_MAGIC):
        headers["Content-Encoding"] = "gzip"
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def load(body: bytes) -> tuple[int, list[dict[str, Any]]]:
    loader, s3, _ = fake_loader({("b", KEY): body})
    summary = loader.load_object("b", KEY)
    return summary.written, s3.lines("b", rejected_key(KEY))


@pytest.mark.parametrize("name", list(BODIES))
def test_the_ingest_and_the_loader_accept_exactly_the_same_bodies(
    ingest: tuple[str, LocalStore], name: str
) -> None:
    body, accepted, loaded = BODIES[name]
    url, store = ingest
    before = store.query("SELECT count(*) FROM nginx_access").rows[0][0]
    status, answer = post(url, body)
    written, rejected = load(body)
    if accepted:
        assert status == 200, answer
        assert rejected == []
        assert answer == {"written": written, "rejected": 0}
    else:
        assert status == 400, answer
        assert len(rejected) >= 1
        assert store.query("SELECT count(*) FROM nginx_access").rows[0][0] == before
    assert written == loaded, rejected


def test_the_reasons_name_the_problem() -> None:
    _, rejected = load(BODIES["depth-1000"][0])
    assert [r["reason"] for r in rejected] == [f"the record nests deeper than {wire.MAX_DEPTH} levels"]
    _, rejected = load(BODIES["NaN"][0])
    assert [r["reason"] for r in rejected] == ["NaN is not a JSON value"]
    _, rejected = load(BODIES["gzip-junk"][0])
    assert "bytes follow the last gzip member" in rejected[-1]["reason"]
    _, rejected = load(BODIES["invalid-utf8"][0])
    assert rejected[0]["reason"] == "the record is not valid UTF-8" and "\ufffd" in rejected[0]["raw"]


def test_the_lambda_zip_carries_the_decoder() -> None:
    from dendro.pipeline.package import build

    assert "dendro.store.wire" in build().modules


# -- the fast path and the strict reading agree -----------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=10,
)
TOKENS = [b"NaN", b"Infinity", b"1e400", b"-", b"\\ud800", b"\xff", b"\x00", b"{", b"[", b"]", b"}", b",",
          b'"', b"\n", b"\r", b" ", b"\x0c", b"01", b"1.", b"\xef\xbb\xbf", b"}{"]


@st.composite
def bodies(draw: Any) -> bytes:
    lines = [json.dumps(v, allow_nan=True).encode() for v in draw(st.lists(values, max_size=4))]
    body = bytearray(b"\n".join(lines))
    for _ in range(draw(st.integers(0, 3))):
        where = draw(st.integers(0, len(body)))
        body[where:where] = draw(st.sampled_from(TOKENS))
    if draw(st.booleans()):
        levels = draw(st.integers(wire.MAX_DEPTH - 2, wire.MAX_DEPTH + 2))
        body += b"\n" + b"[" * levels + b"]" * levels
    return bytes(body)


def outcome(body: bytes, fast: Any) -> tuple[str, Any]:
    try:
        return "ok", wire.events(body, fast)
    except wire.BadBody:
        return "refused", None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies())
def test_the_fast_path_and_the_strict_reading_agree(body: bytes) -> None:
    fast, strict = outcome(body, orjson.loads), outcome(body, None)
    assert fast[0] == strict[0]
    if fast[0] == "ok":
        assert orjson.dumps(fast[1]) == orjson.dumps(strict[1])


@settings(max_examples=200, deadline=None)
@given(st.lists(values, max_size=5))
def test_json_the_encoder_wrote_is_read_back_by_both(items: list[Any]) -> None:
    body = b"\n".join(json.dumps(v, allow_nan=True).encode() for v in items if not _nonfinite(v))
    fast, strict = outcome(body, orjson.loads), outcome(body, None)
    assert fast == strict


def _nonfinite(value: Any) -> bool:
    return "NaN" in json.dumps(value, allow_nan=True) or "Infinity" in json.dumps(value, allow_nan=True)
