"""What a dashboard file is built for: the services of a config, and the values it needs.

``build.py`` sets the selection while it runs a ``<name>.dashboard.py`` file; the file reads it
with :func:`current` and adds rows and panels only for the services that are configured. Run on
its own (grafanalib's ``generate-dashboard``), a file sees every built-in service.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from dendro.alerts.kinds import Rule
from dendro.config import Config, from_dict
from dendro.services import BUILTIN
from dendro.services.base import Red, Service


@dataclass(frozen=True)
class Selection:
    config: Config

    @property
    def database(self) -> str:
        return self.config.database

    @property
    def services(self) -> list[Service]:
        return self.config.enabled_services()

    def has(self, name: str) -> bool:
        return any(s.name == name for s in self.services)

    def http(self) -> list[tuple[Service, Red]]:
        """Services with an HTTP RED mapping (a status field), with it."""
        return [(s, red) for s in self.services for red in s.red if red.is_http]

    def databases(self) -> list[Service]:
        """Services whose RED mapping reads log levels (the databases, custom apps with levels)."""
        return [s for s in self.services if any(r.level and not r.is_http for r in s.red)]

    def host_metrics(self) -> list[Service]:
        """Services of the ``host_metrics`` role (Vector's host metrics)."""
        return [s for s in self.services if s.role == "host_metrics"]

    def kept_metrics(self) -> list[Service]:
        """Services of any other role that keep metrics (``Service.metrics``)."""
        return [s for s in self.services if s.metrics and s.role != "host_metrics"]

    def rules(self) -> list[Rule]:
        from dendro.alerts.model import rules

        return rules(self.config)


def all_services() -> Config:
    """The default config with every built-in service on (what ``provisioning/`` is built for)."""
    return from_dict({"services": list(BUILTIN)})


_current: ContextVar[Selection | None] = ContextVar("dendro_grafana_selection", default=None)


def current() -> Selection:
    selection = _current.get()
    return selection if selection is not None else Selection(all_services())


@contextmanager
def selected(config: Config) -> Iterator[Selection]:
    selection = Selection(config)
    token = _current.set(selection)
    try:
        yield selection
    finally:
        _current.reset(token)
