"""The interval loop: every ``interval`` seconds, one poll of the source into the state.

A poll either succeeds as a whole (its increments are added, ``dendro_exporter_up`` is 1) or
fails as a whole (nothing is added, ``up`` is 0, the error is counted by the source, the last
values stay exposed); the source keeps its position, so the next successful poll catches up.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from dendro.exporter.state import State
from dendro.metrics.aggregates import Aggregate

log = logging.getLogger(__name__)


@dataclass
class PollResult:
    aggregate: Aggregate
    late: Counter[str]  # table → events that arrived after their window was read
    watermark: float  # epoch seconds: events before this time are settled


class UsageRecorder(Protocol):
    def __call__(self, *, queries: int = 0, errors: int = 0, bytes_scanned: int = 0,
                 s3: Mapping[str, int] | None = None) -> None: ...


class Source(Protocol):
    def poll(self) -> PollResult: ...


class Poller:
    """Runs ``source.poll()`` into ``state`` once now and then every ``interval`` seconds."""

    def __init__(self, source: Source, state: State, interval: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.source = source
        self.state = state
        self.interval = interval
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None

    def poll_once(self) -> bool:
        """One poll; True when it succeeded."""
        started = self.clock()
        try:
            result = self.source.poll()
            self.state.apply(result.aggregate, result.late)
        except Exception as error:  # the loop must outlive any store or network failure
            self.last_error = f"{type(error).__name__}: {error}"
            log.warning("exporter poll failed: %s", self.last_error)
            self.state.record_poll(ok=False, duration=self.clock() - started, watermark=None)
            return False
        self.last_error = None
        self.state.record_poll(ok=True, duration=self.clock() - started, watermark=result.watermark)
        return True

    def run(self) -> None:
        """Poll until :meth:`stop` is called."""
        while not self._stop.is_set():
            started = self.clock()
            self.poll_once()
            self._stop.wait(max(0.0, self.interval - (self.clock() - started)))

    def start(self) -> threading.Thread:
        self._thread = threading.Thread(target=self.run, name="dendro-exporter-poller", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float | None = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
