"""Fixtures of the collect tests.

``dendro configure`` decides whether syslog comes from a file or from the journal by looking
for the syslog files on the machine it runs on; these tests describe nodes, not this machine, so
every syslog file "exists" unless a test says otherwise (``no_syslog_file``).
"""

from __future__ import annotations

import glob
from types import SimpleNamespace

import pytest

from dendro.services import syslog


@pytest.fixture(autouse=True)
def syslog_files_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(syslog, "glob", SimpleNamespace(glob=lambda pattern: [pattern]))


@pytest.fixture
def real_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Detection looks at the real file system again (tests then point the paths at tmp_path)."""
    monkeypatch.setattr(syslog, "glob", glob)
