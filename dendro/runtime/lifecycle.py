"""The one loop every long-running verb ends in: start, report, wait for Ctrl-C or SIGTERM, stop.

``dendro up``, ``dendro exporter`` and ``dendro start server`` run what they start through
:func:`run_until_stopped`; SIGTERM (what ``kill``, systemd and docker send) stops it as cleanly as
Ctrl-C does, and the previous SIGTERM handler is put back afterwards.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Protocol, TypeVar


class Runnable(Protocol):
    """What runs: ``start()`` returns once it runs, ``stop()`` once it has ended."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


class Component(Runnable, Protocol):
    """A part of a running process, with the URLs it serves (none for a background thread)."""

    @property
    def name(self) -> str: ...

    @property
    def urls(self) -> list[str]: ...


C = TypeVar("C", bound=Runnable)


def run_until_stopped(component: C, ready: Callable[[C], None] | None = None) -> None:
    """Start ``component``, call ``ready``, block until Ctrl-C or SIGTERM, then stop it.

    A component that fails to start is stopped too (it may have started parts of itself).
    """
    stopping = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        component.start()
        if ready is not None:
            ready(component)
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        component.stop()
