"""Bearer tokens (the ingest's, the console's): from the environment, or generated once and
kept in the data dir with mode 0600."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

TOKEN_FILE = "ingest-token"
DEFAULT_ENV = "DENDRO_INGEST_TOKEN"


def ingest_token(data_dir: Path, env: str = DEFAULT_ENV) -> str:
    """The bearer token Vector's http sink must send (``$env`` wins over the stored one)."""
    return stored_token(data_dir, TOKEN_FILE, env)


def stored_token(data_dir: Path, filename: str, env: str) -> str:
    """``$env`` if set, else the token stored in ``data_dir/filename``, else a new one stored there."""
    from_env = os.environ.get(env, "").strip()
    if from_env:
        return from_env
    path = data_dir / filename
    try:
        stored = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        stored = ""
    if stored:
        return stored
    data_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    os.chmod(path, 0o600)
    return token
