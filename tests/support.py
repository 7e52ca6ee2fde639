"""Helpers every test area shares: free ports, waiting for servers, finding real binaries.

A test that needs a real component (nginx, postgres, mariadb, apache2, prometheus, promtool,
chromium) calls :func:`require_binary`: a missing binary fails the test with the package to
install; it never skips silently.
"""

from __future__ import annotations

import shutil
import socket
import time
from pathlib import Path

#: real log lines from many server versions, copied with their sources and licence (README.md there)
SHARED_SAMPLES = Path(__file__).resolve().parent / "samples"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 20.0, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


def require_binary(name: str, package: str, *candidates: str) -> str:
    """Path of a real binary, or a failing test naming the Debian package to install."""
    for candidate in (name, *candidates):
        found = shutil.which(candidate) or (candidate if Path(candidate).is_file() else None)
        if found:
            return found
    raise AssertionError(f"{name} is required: apt-get install {package} (.ci/run installs it)")


def shared_samples() -> Path:
    if not SHARED_SAMPLES.is_dir():
        raise AssertionError(f"shared samples not found at {SHARED_SAMPLES}")
    return SHARED_SAMPLES
