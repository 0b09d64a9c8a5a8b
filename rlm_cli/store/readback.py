"""The kernel-copy half of ingest: check and account, on another core, what ``cp`` copies.

The caller's thread copies a regular file into the data file with ``copy_file_range`` (in
the kernel, as ``cp`` does) and hands each copied range to :class:`ReadBack`. Its worker
maps the range of the stored copy (no second copy of the bytes), looks for NUL bytes and
carriage returns, and scans the lines a chunk at a time
(:func:`~rlm_cli.store.linescan.scan_lines`, numpy with the GIL released); results are
committed strictly in order, and the committed chunks go on to the hash as views of the
mapping. The copy and the scan run on two cores at once.

A chunk with a carriage return must be rewritten (CRLF and lone CR become LF), which a
kernel copy cannot do: nothing from that chunk on is committed, and
:attr:`ReadBack.stop_at` says from which source offset the caller must go on by reading
and normalising the file itself. A NUL byte (unless binary input is allowed) stops the
ingest with an :class:`InputError` naming the first one.

The data file is only ever cut (after a stop, or when the source shrank) beyond the last
committed byte, so a mapping still being hashed never loses its pages.
"""

from __future__ import annotations

import mmap
import queue
import threading
from collections.abc import Callable

from rlm_cli.errors import InputError
from rlm_cli.store.linescan import LineScan, scan_lines

WORKERS = 1
"""Scanning threads. One keeps up with the kernel copy; more contend for the GIL."""

QUEUE_RANGES = 1024
"""Copied ranges that may wait for a worker. Only their offsets wait (the bytes are in the
data file), so the copy may run far ahead: while the worker imports numpy at the start
the copy goes on at full speed, and the scan catches up."""

Commit = Callable[[memoryview, LineScan], None]


class ReadBack:
    """Maps, checks and scans the ranges copied into ``dst``; commits chunks in order.

    ``dst``: the data file's descriptor; ``base``: its offset where this source starts;
    ``block``: the block-index grid; ``chunk_size``: bytes per scanned chunk.
    ``commit(chunk, scan)``: called for each clean chunk (a view of the mapping), in
    order, under a lock. Errors are re-raised by :meth:`close`.
    """

    def __init__(
        self,
        *,
        name: str,
        dst: int,
        base: int,
        block: int,
        chunk_size: int,
        commit: Commit,
        allow_binary: bool,
    ) -> None:
        self._name, self._dst, self._base, self._block = name, dst, base, block
        self._chunk = chunk_size
        self._commit = commit
        self._allow_binary = allow_binary
        self._todo: queue.Queue[tuple[int, int, int] | None] = queue.Queue(QUEUE_RANGES)
        self._seq = 0  # next range number handed out (the copying thread's)
        self._next = 0  # next range number to commit
        self._ready: dict[int, list] = {}
        self._lock = threading.Lock()
        self.stopped = threading.Event()
        self.stop_at: int | None = None
        """Source offset of the first chunk that needs its line ends rewritten, if any."""
        self.accounted = 0
        self.last_byte = b""
        self._error: BaseException | None = None
        self._threads = [
            threading.Thread(target=self._work, name=f"rlm-ingest-scan{i}", daemon=True)
            for i in range(WORKERS)
        ]
        for t in self._threads:
            t.start()

    def put(self, src_offset: int, n: int) -> None:
        """Queue ``n`` bytes copied from ``src_offset`` of the source (``base + src_offset``
        in the data file)."""
        self._todo.put((self._seq, src_offset, n))
        self._seq += 1

    def close(self) -> None:
        """Wait until every queued range is done; re-raise the first error."""
        for _ in self._threads:
            self._todo.put(None)
        for t in self._threads:
            t.join()
        if self._error is not None:
            raise self._error

    def _work(self) -> None:
        while (item := self._todo.get()) is not None:
            if self.stopped.is_set():
                continue  # drain what the copy queued before it saw the stop
            try:
                self._ready_range(*item)
            except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
                with self._lock:
                    self._error = self._error or e
                    self.stopped.set()
                    self._ready.clear()

    def _ready_range(self, seq: int, src_offset: int, n: int) -> None:
        """Scan one copied range, a mapped chunk at a time; then commit what is next in
        line. Each chunk has a mapping of its own, unmapped once hashed, so the mapped
        memory stays at a few chunks whatever the input size."""
        pieces = []
        for at in range(src_offset, src_offset + n, self._chunk):
            size = min(self._chunk, src_offset + n - at)
            start = self._base + at
            lo = start % mmap.ALLOCATIONGRANULARITY
            hi = lo + size
            mm = mmap.mmap(self._dst, hi, prot=mmap.PROT_READ, offset=start - lo)
            nul = -1 if self._allow_binary else mm.find(b"\0", lo, hi)
            if nul >= 0 or mm.find(b"\r", lo, hi) >= 0:
                pieces.append((at, None, nul - lo if nul >= 0 else -1, None))
                break
            scan = scan_lines(mm, start, self._block, lo, hi)
            pieces.append((at, memoryview(mm)[lo:hi], -1, scan))
        with self._lock:
            self._ready[seq] = pieces
            while self._next in self._ready and not self.stopped.is_set():
                for piece in self._ready.pop(self._next):
                    self._commit_piece(*piece)
                    if self.stopped.is_set():
                        break
                self._next += 1
            if self.stopped.is_set():
                self._ready.clear()

    def _commit_piece(self, at: int, view, nul: int, scan: LineScan | None) -> None:
        """Commit one chunk in order (called under the lock), or stop at it."""
        if scan is None:
            if nul >= 0:
                raise InputError(
                    f"{self._name} looks binary (NUL byte near offset {at + nul}); "
                    "use --binary to keep it"
                )
            self.stop_at = at
            self.stopped.set()
            return
        self.last_byte = bytes(view[-1:])
        self.accounted += len(view)
        self._commit(view, scan)
