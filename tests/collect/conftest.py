"""Fixtures of the collect tests.

``dendro configure`` decides whether syslog comes from a file or from the journal by looking
for the syslog files on the machine it runs on; these tests describe nodes, not this machine, so
every syslog file "exists" unless a test says otherwise (``no_syslog_file``). For the same
reason the node's time zone, which ``dendro configure`` offers as the services' ``timezone``, is
Europe/Paris whatever this machine's is (``NODE_ZONE``).
"""

from __future__ import annotations

import glob
from types import SimpleNamespace

import pytest

from dendro.services import syslog, zones

#: the time zone of the node the tests describe
NODE_ZONE = "Europe/Paris"


@pytest.fixture(autouse=True)
def syslog_files_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(syslog, "glob", SimpleNamespace(glob=lambda pattern: [pattern]))


@pytest.fixture(autouse=True)
def node_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zones, "node_zone", lambda *args, **kwargs: NODE_ZONE)


@pytest.fixture
def real_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Detection looks at the real file system again (tests then point the paths at tmp_path)."""
    monkeypatch.setattr(syslog, "glob", glob)
