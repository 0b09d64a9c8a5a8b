"""Length-prefixed orjson frames between the engine and the REPL worker.

Each frame is a 4-byte big-endian length followed by one JSON object. The parent
reads with a timeout (``select``) so a hung worker can never hang the CLI.
"""

from __future__ import annotations

import os
import select
import struct
import time

import orjson

MAX_FRAME = 64 * 1024 * 1024
"""Larger than any frame a sound peer sends (answers and prompts are capped at 4 M
characters), small enough that a broken peer cannot make the reader hold gigabytes."""


class ChannelClosed(EOFError):
    """The other side closed its end (the worker died or exited)."""


class Channel:
    """One duplex channel over two raw file descriptors."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self.read_fd = read_fd
        self.write_fd = write_fd

    def send(self, obj: dict) -> None:
        """Write one frame."""
        data = orjson.dumps(obj, default=str)
        buf = memoryview(struct.pack(">I", len(data)) + data)
        while buf:
            try:
                n = os.write(self.write_fd, buf)
            except BrokenPipeError as e:
                raise ChannelClosed("peer closed the channel") from e
            buf = buf[n:]

    def recv(self, timeout: float | None = None) -> dict:
        """Read one frame; raises TimeoutError after ``timeout`` seconds, ChannelClosed on EOF."""
        deadline = None if timeout is None else time.monotonic() + timeout
        head = self._read_exact(4, deadline)
        (size,) = struct.unpack(">I", head)
        if size > MAX_FRAME:
            raise ChannelClosed(f"frame of {size} bytes is over the limit")
        try:
            msg = orjson.loads(self._read_exact(size, deadline))
        except orjson.JSONDecodeError as e:
            raise ChannelClosed(f"garbled frame ({e})") from e
        if not isinstance(msg, dict):
            raise ChannelClosed("garbled frame (not a JSON object)")
        return msg

    def _read_exact(self, n: int, deadline: float | None) -> bytes:
        parts, got = [], 0
        while got < n:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                ready, _, _ = select.select([self.read_fd], [], [], left)
                if not ready:
                    raise TimeoutError
            chunk = os.read(self.read_fd, min(n - got, 1 << 20))
            if not chunk:
                raise ChannelClosed("peer closed the channel")
            parts.append(chunk)
            got += len(chunk)
        return b"".join(parts)
