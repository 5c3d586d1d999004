"""The ticket key: given, read from its file, or made once and kept in that file.

Instances behind one load balancer, and a server restarted on the same
machine, accept each other's resume tickets only with the same key
(docs/protocol.md, "Resuming after a dropped socket").
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from server.config import ServerConfig
from server.core import texts


def ticket_key(config: ServerConfig) -> bytes:
    """`ticket_key`, else the key in `ticket_key_file` (made if missing), else one for this process."""
    if config.ticket_key is not None:
        return config.ticket_key.encode()
    if config.ticket_key_file is None:
        return secrets.token_bytes(32)  # library use and tests: tickets last as long as the process
    path = Path(config.ticket_key_file)
    try:
        return _read_or_make(path)
    except OSError as exc:
        raise RuntimeError(texts.TICKET_KEY_FILE_BAD.format(path=path, error=exc)) from exc


def _read_or_make(path: Path) -> bytes:
    try:
        key = path.read_bytes().strip()
    except FileNotFoundError:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = secrets.token_urlsafe(32).encode()
        try:
            # O_EXCL: of two instances starting at once, one makes the key and the other reads it.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return _read_or_make(path)
        with os.fdopen(fd, "wb") as file:
            file.write(key + b"\n")
        return key
    if len(key) < 16:
        raise OSError(texts.TICKET_KEY_SHORT)
    return key
