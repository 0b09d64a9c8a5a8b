"""The ingest pipeline's back half: hash and write chunks in background threads, in order.

The content hash is XXH3-128 (``xxhash``): at ~25 GB/s it costs ingest almost nothing,
where SHA-256 (0.6 s per GB here) made it the slowest stage. It is not a cryptographic
hash, so it only *addresses* a context: when an id already exists, ``ContextWriter``
compares the bytes before it reuses one, and a collision (crafted or not) cannot make an
ingest return somebody else's log.
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path

import xxhash


class ChunkSink:
    """Hashes and writes chunks in two background threads (a pipeline), in order.

    The hash and file writes release the GIL, so this work overlaps with the line
    counting in the caller's threads. Read buffers come from a small pool (:meth:`buffer`)
    and go back to it once written, and at most ``PENDING`` chunks wait for the hash (views
    of mapped data included), so memory stays at a few chunks whatever the input size and
    no fresh pages are faulted in per chunk. A write error is re-raised at the
    next ``put`` or at ``close``.
    """

    POOL = 8
    PENDING = 4

    def __init__(self, path: Path, chunk_size: int) -> None:
        self._f = open(path, "w+b", buffering=0)  # noqa: SIM115 - closed in close()/abort()
        self._hash = xxhash.xxh3_128()
        self._to_hash: queue.Queue = queue.Queue(self.PENDING)  # bounds chunks in flight
        self._to_write: queue.Queue = queue.Queue()
        self._free: queue.Queue[bytearray] = queue.Queue()
        for _ in range(self.POOL):
            self._free.put(bytearray(chunk_size))
        self._error: Exception | None = None
        self._threads = [
            threading.Thread(target=self._hash_loop, name="rlm-ingest-hash", daemon=True),
            threading.Thread(target=self._write_loop, name="rlm-ingest-write", daemon=True),
        ]
        for t in self._threads:
            t.start()

    def _hash_loop(self) -> None:
        update, forward = self._hash.update, self._to_write.put
        while True:
            item = self._to_hash.get()
            if item is not None and item[0] is not None and self._error is None:
                try:
                    update(item[0])
                except Exception as e:  # noqa: BLE001 - re-raised in the caller's thread
                    self._error = e
            if item is not None and item[0] is not None and not item[2] and item[1] is None:
                del item  # stored already, no buffer to return: a mapped view, let it go now
                continue
            forward(item)
            if item is None:
                return

    def _write_loop(self) -> None:
        write = self._f.write
        while True:
            item = self._to_write.get()
            if item is None:
                return
            chunk, pooled, do_write = item
            if chunk is None:  # a drain() marker
                pooled.set()
                continue
            if do_write and self._error is None:
                try:
                    view = memoryview(chunk)
                    while view:
                        n = write(view)
                        view = view[n:]
                    del view
                except Exception as e:  # noqa: BLE001 - re-raised in the caller's thread
                    self._error = e
            if pooled is not None:
                self._free.put(pooled)

    def buffer(self) -> bytearray:
        """A free read buffer of ``chunk_size`` bytes (waits for the writer if none)."""
        return self._free.get()

    def release(self, buf: bytearray) -> None:
        """Give back a buffer that was not handed to :meth:`put`."""
        self._free.put(buf)

    def put(
        self, chunk: bytes | bytearray, pooled: bytearray | None = None, write: bool = True
    ) -> None:
        """Queue one chunk to hash and (unless ``write`` is False: the caller stored it)
        write; ``pooled`` goes back to the pool afterwards. Raises the first error so far.
        """
        if self._error is not None:
            if pooled is not None:
                self._free.put(pooled)
            raise self._error
        self._to_hash.put((chunk, pooled, write))

    def drain(self) -> None:
        """Wait until every queued write is done (the data file's offset is then final)."""
        done = threading.Event()
        self._to_hash.put((None, done, False))
        done.wait()
        if self._error is not None:
            raise self._error

    def fileno(self) -> int:
        """The data file's descriptor (read-write)."""
        return self._f.fileno()

    def close(self) -> bytes:
        """Wait for every chunk, close the file; returns the XXH3-128 digest of all data."""
        self._to_hash.put(None)
        for t in self._threads:
            t.join()
        if self._error is not None:
            raise self._error
        self._f.close()
        return self._hash.digest()

    def abort(self) -> None:
        """Stop and close without raising."""
        if self._threads[0].is_alive():
            self._to_hash.put(None)
        for t in self._threads:
            t.join()
        try:
            self._f.close()
        except OSError:
            pass
