"""One scan at a time per state folder: ``fcntl.flock`` on ``<state dir>/lock``.

The kernel drops the lock when its holder dies (kill -9 included), so a crash never
leaves a stale lock behind. The holder writes its pid into the file for the message
the next run prints.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from rlm_cli.errors import RlmError

LOCK_FILE = "lock"


class ScanBusy(RlmError):
    """Another scan holds the state folder's lock."""


class ScanLock:
    """Hold the lock of ``state_dir`` for a ``with`` block; wait up to ``wait_s`` for it."""

    def __init__(self, state_dir: Path, wait_s: float = 0.0, poll_s: float = 0.1) -> None:
        self.path = state_dir / LOCK_FILE
        self.wait_s = max(0.0, wait_s)
        self.poll_s = poll_s
        self.fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`ScanBusy` once ``wait_s`` has passed."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _read_holder(fd)
                    os.close(fd)
                    waited = f"waited {self.wait_s:g}s" if self.wait_s else "did not wait"
                    raise ScanBusy(
                        f"another rlm scan{holder} is running on {self.path.parent}; {waited}",
                        hint="pass --wait SECONDS to wait for it",
                    ) from None
                time.sleep(self.poll_s)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd

    def release(self) -> None:
        """Let the next scan in."""
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> ScanLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _read_holder(fd: int) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode().strip()
    except OSError:
        return ""
    return f" (pid {pid})" if pid.isdigit() else ""
