"""What every page of one console shares: the config, the store, the log dir, the result cache.

Kept on ``app.extensions["dendro"]``; views reach it with :func:`console`. Tests build one over a
store of known data and inject the AWS clients (CloudWatch Logs, CloudWatch) they need.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app

from dendro.config import Config
from dendro.services import catalog
from dendro.services.base import Service
from dendro.store.base import Store
from dendro.web.results import ResultCache

#: seconds between chart refreshes: a local query is free, a Timestream query is billed
LOCAL_REFRESH = 15
TIMESTREAM_REFRESH = 60


@dataclass
class Console:
    config: Config
    store: Store
    log_dir: Path | None  # the directory whose *.log files the Logs page shows (local backend)
    results: ResultCache = field(default_factory=ResultCache)
    logs_client: Callable[[], Any] | None = None  # CloudWatch Logs client factory (AWS)

    @property
    def database(self) -> str:
        return self.config.database

    @property
    def on_aws(self) -> bool:
        return self.config.backend == "aws"

    @property
    def refresh_seconds(self) -> int:
        return TIMESTREAM_REFRESH if self.on_aws else LOCAL_REFRESH

    def services(self) -> list[Service]:
        """The configured services; every built-in one when dendro.yaml names none (``dendro up``)."""
        return self.config.enabled_services() or list(catalog().values())

    def service(self, name: str) -> Service | None:
        return next((s for s in self.services() if s.name == name), None)


def console() -> Console:
    return current_app.extensions["dendro"]
