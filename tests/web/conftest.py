"""Fixtures of the console's tests: one local store of known data per session, its app, a client."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from dendro.config import Config, from_dict
from dendro.runtime.datadir import DataDir
from dendro.runtime.stores import open_store
from dendro.store.base import Store
from dendro.web.app import create_app
from tests.web import data


@dataclass
class Known:
    now: datetime
    events: list[dict[str, Any]]
    store: Store
    config: Config
    data_dir: Path

    def count(self, table: str, seconds: float, **match: Any) -> int:
        from datetime import timedelta

        return data.count(self.events, self.now, table, timedelta(seconds=seconds), **match)

    def count_now(self, table: str, seconds: float, **match: Any) -> int:
        """Events of the last ``seconds`` counted from now, as a page asked now counts them: a
        session's tests run long after the data was written, and a steady series a minute always
        has a point near a window's edge."""
        from datetime import timedelta

        return data.count(self.events, datetime.now(UTC), table, timedelta(seconds=seconds), **match)


@pytest.fixture(scope="session")
def known(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Known]:
    directory = tmp_path_factory.mktemp("console-store")
    config = from_dict(
        {"services": {"nginx": {}, "postgres": {}, "host": {}}, "local": {"data_dir": str(directory)}}
    )
    store = open_store(config, DataDir(directory))
    now = datetime.now(UTC)
    items = data.events(now)
    result = store.write(items)
    assert len(result.rejected) == 1  # the event of an unknown type, kept in `rejected`
    yield Known(now, items, store, config, directory)
    store.close()


@pytest.fixture(scope="session")
def app(known: Known) -> Flask:
    return create_app(known.config, known.store, log_dir=known.data_dir)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf(client: FlaskClient, page: str = "/query") -> str:
    """The session's CSRF token, as a page hands it to its forms."""
    client.get(page)
    with client.session_transaction() as session:
        return str(session["csrf"])
