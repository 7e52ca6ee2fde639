"""The ingest's own log: refusals, rejections and a summary line, in DATA_DIR/ingest.log."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest

from dendro.config import Config
from dendro.ingest import app
from dendro.runtime.datadir import DataDir
from dendro.runtime.up import Up, UpOptions
from dendro.store.remote import post_events
from tests.support import free_port

GOOD = {"type": "agent", "host": "web-1", "timestamp": "2026-11-26T12:00:00Z", "version": "1", "uptime": 5}


def test_refusals_rejections_and_summary_are_logged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app, "SUMMARY_SECONDS", 0.0)  # a summary after every batch
    config = Config(services={"nginx": {}})
    up = Up(config, UpOptions(tmp_path / "data", free_port(), free_port(), free_port(), bind="127.0.0.1"))
    up.start()
    try:
        assert up.server is not None
        url = up.server.urls[0]
        request = urllib.request.Request(url, data=b"{}", headers={"Authorization": "Bearer wrong"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 401
        answer = post_events(url, up.token, [GOOD, {"type": "ftp", "host": "web-1"}])
        assert answer == {"written": 1, "rejected": 1}
    finally:
        up.stop()
    lines = (tmp_path / "data" / DataDir.INGEST_LOG).read_text().splitlines()
    assert any("WARNING 127.0.0.1 /ingest refused (401): missing or wrong bearer token" in ln for ln in lines)
    rejected = "127.0.0.1: 1 event(s) rejected, the first for: unknown event type 'ftp'"
    assert any(rejected in ln for ln in lines)
    assert any("INFO last" in ln and "1 batch(es) from 1 agent(s), 1 event(s) written, 1 rejected" in ln
               for ln in lines)
