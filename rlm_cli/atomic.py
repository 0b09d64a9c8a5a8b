"""One durable atomic write for every small file the tool keeps (state, registry, config,
caches, the Prometheus textfile).

A reader sees the old file or the new one, never a mix, and after a crash or power loss
the new one is there only if it was written whole: a unique temp file in the same folder
is written and fsynced, renamed over the target, and the folder fsynced so the rename
itself is on disk.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def atomic_write(path: Path, data: bytes | str, *, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data`` (str is written as UTF-8) all at once, durably.

    The folder must exist. Raises OSError (the temp file removed) when it cannot be done;
    callers turn that into their own error.
    """
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
