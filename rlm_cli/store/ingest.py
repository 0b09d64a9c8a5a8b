"""Stream inputs into a new context folder, never holding the whole input in memory.

The writer takes ``READ_CHUNK`` bytes at a time, normalises CRLF and lone CR to LF,
refuses NUL bytes unless told otherwise, and records a block index entry at the first line
start after every ``BLOCK_BYTES``. Uncompressed regular files are copied in the kernel
(``copy_file_range``, as ``cp`` does) and each chunk is read back from the stored copy;
other input is written by a background thread. SHA-256 runs in another thread
(``hashlib`` and file I/O release the GIL), so it overlaps with the line counting done
here: ingest costs about one ``bytes.count`` pass plus one SHA-256 pass per byte, in C.
Everything goes to a temporary folder that is renamed to ``contexts/<id>`` only when
complete; any failure (disk full, file size limit, unreadable input) removes it, so a
half-written context never exists. The data file is not fsynced (that would cost the
disk's write time, which ``cp`` does not pay either); :class:`Context` checks its size
against the metadata on open, and ``rlm contexts gc`` removes a damaged one.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import lzma
import os
import queue
import shutil
import threading
import time
import uuid
import zlib
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import orjson

from rlm_cli.errors import InputError, StoreError
from rlm_cli.store.layout import (
    BLOCK_BYTES,
    BLOCKS_FILE,
    DATA_FILE,
    FORMAT_VERSION,
    META_FILE,
    READ_CHUNK,
)


@dataclass
class SourceStats:
    """What one input contributed to a context."""

    path: str
    bytes_read: int = 0
    bytes: int = 0
    lines: int = 0
    first_line: int = 0
    last_line: int = 0
    final_newline: bool = True
    compression: str | None = None
    offset: int = 0  # byte offset of its first line in the data file
    first_time: str | None = None
    last_time: str | None = None

    def to_json(self) -> dict:
        """The form stored in meta.json and printed by ``rlm ingest --json``."""
        return {
            "path": self.path,
            "bytes": self.bytes,
            "bytes_read": self.bytes_read,
            "lines": self.lines,
            "first_line": self.first_line,
            "last_line": self.last_line,
            "final_newline": self.final_newline,
            "compression": self.compression,
            "first_time": self.first_time,
            "last_time": self.last_time,
        }


@dataclass
class _Counters:
    pos: int = 0  # bytes written to data
    lines: int = 0  # newlines written
    chars: int = 0  # characters written (UTF-8, invalid bytes as U+FFFD)
    next_block: int = BLOCK_BYTES
    blocks: array = field(default_factory=lambda: array("Q", [0, 0, 0]))


def _store_error(e: Exception, root: Path) -> StoreError:
    """The operator's message for a failed write into the store."""
    if not isinstance(e, OSError):
        return StoreError(f"cannot write the context in {root}: {e}; nothing was kept")
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return StoreError(f"disk full while storing the context in {root}; nothing was kept")
    if e.errno == errno.EFBIG:
        return StoreError(
            f"file size limit reached while storing the context in {root} "
            "(ulimit -f or the file system's limit); nothing was kept"
        )
    return StoreError(f"cannot write the context in {root}: {e.strerror or e}; nothing was kept")


class _Sink:
    """Hashes and writes chunks in two background threads (a pipeline), in order.

    ``hashlib`` and file writes release the GIL, so this work overlaps with the line
    counting in the caller's thread. Read buffers come from a small pool (:meth:`buffer`)
    and go back to it once written, so memory stays at ``POOL`` chunks whatever the input
    size and no fresh pages are faulted in per chunk. A write error is re-raised at the
    next ``put`` or at ``close``.
    """

    POOL = 8

    def __init__(self, path: Path) -> None:
        self._f = open(path, "w+b", buffering=0)  # noqa: SIM115 - closed in close()/abort()
        self._hash = hashlib.sha256()
        self._to_hash: queue.Queue = queue.Queue()
        self._to_write: queue.Queue = queue.Queue()
        self._free: queue.Queue[bytearray] = queue.Queue()
        for _ in range(self.POOL):
            self._free.put(bytearray(READ_CHUNK))
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
        """A free read buffer of ``READ_CHUNK`` bytes (waits for the writer if none)."""
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
        """Wait for every chunk, close the file; returns the SHA-256 digest of all data."""
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


class ContextWriter:
    """Builds one context from one or more byte streams.

    Use as a context manager; call :meth:`add` per source, then :meth:`finish`.
    """

    def __init__(self, contexts_root: Path, *, allow_binary: bool = False) -> None:
        self.root = contexts_root
        self.allow_binary = allow_binary
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self.tmp = self.root / f".tmp-{uuid.uuid4().hex}"
            self.tmp.mkdir()
        except OSError as e:
            raise StoreError(
                f"cannot create the context store in {self.root}: {e.strerror or e}"
            ) from e
        self._sink = _Sink(self.tmp / DATA_FILE)
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._c = _Counters(next_block=BLOCK_BYTES)  # read at run time (tests shrink it)
        self.sources: list[SourceStats] = []
        self.skipped: list[str] = []
        self._done = False

    def __enter__(self) -> ContextWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self._done:
            self.abort()

    # -- writing -----------------------------------------------------------------

    def add(
        self,
        name: str,
        stream: BinaryIO,
        *,
        compression: str | None = None,
        copy_from: int | None = None,
    ) -> SourceStats:
        """Append one source. Raises InputError on NUL bytes (unless allow_binary).

        ``copy_from``: the descriptor of an uncompressed regular file; its bytes are then
        copied inside the kernel (``copy_file_range``, like ``cp``) and read back from the
        stored copy for counting and hashing, which costs far less than writing them from
        Python. Falls back to reading ``stream`` when the kernel cannot copy.
        """
        c = self._c
        stats = SourceStats(
            path=name, first_line=c.lines + 1, compression=compression, offset=c.pos
        )
        if copy_from is not None and self._add_copied(stats, name, copy_from):
            return self._seal(stats)
        carry_cr = False
        last_byte = b""
        readinto = getattr(stream, "readinto", None)
        sink = self._sink
        while True:
            pooled: bytearray | None = sink.buffer()
            try:
                if readinto is not None:
                    n = readinto(pooled)
                    chunk = pooled if n == READ_CHUNK else bytes(memoryview(pooled)[:n])
                else:
                    chunk = stream.read(READ_CHUNK)
                    n = len(chunk)
            except (OSError, EOFError, lzma.LZMAError, zlib.error) as e:
                sink.release(pooled)
                reason = getattr(e, "strerror", None) or str(e) or type(e).__name__
                raise InputError(f"cannot read {name}: {reason}") from e
            if not n:
                sink.release(pooled)
                break
            stats.bytes_read += n
            if carry_cr:
                chunk = b"\r" + chunk
                carry_cr = False
            if chunk[-1:] == b"\r":
                chunk = chunk[:-1]
                carry_cr = True
            if not self.allow_binary and b"\0" in chunk:
                nul = chunk.find(b"\0")
                sink.release(pooled)
                raise InputError(
                    f"{name} looks binary (NUL byte near offset {stats.bytes_read - len(chunk) + nul}); "
                    "use --binary to keep it"
                )
            if b"\r" in chunk:
                chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            if chunk is not pooled:  # a copy was made: the buffer is free again
                sink.release(pooled)
                pooled = None
            if chunk:
                last_byte = chunk[-1:]
                self._write(chunk, pooled)
                stats.bytes += len(chunk)
            elif pooled is not None:
                sink.release(pooled)
        if carry_cr:
            self._write(b"\n")
            stats.bytes += 1
            last_byte = b"\n"
        stats.final_newline = last_byte == b"\n"
        return self._seal(stats)

    def _seal(self, stats: SourceStats) -> SourceStats:
        """Finish one source: end it with a newline, record its line range."""
        c = self._c
        if stats.bytes and not stats.final_newline:
            self._write(b"\n")
            stats.bytes += 1
        elif not stats.bytes:
            stats.final_newline = True
        stats.lines = c.lines - stats.first_line + 1
        stats.last_line = c.lines
        if stats.bytes == 0:
            stats.first_line = stats.last_line = 0
            self.skipped.append(f"{stats.path}: empty")
        else:
            self.sources.append(stats)
        return stats

    def _add_copied(self, stats: SourceStats, name: str, src: int) -> bool:
        """Copy ``src`` in the kernel; False (nothing done) when the kernel cannot."""
        sink = self._sink
        try:
            sink.drain()  # earlier sources are written: the data file's offset is c.pos
        except Exception as e:  # noqa: BLE001 - the writer thread's error
            raise _store_error(e, self.root) from e
        dst = sink.fileno()
        src_pos = 0
        carry_cr = False
        last_byte = b""
        while True:
            start = self._c.pos
            try:
                n = os.copy_file_range(src, dst, READ_CHUNK, src_pos)
            except OSError as e:
                if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                    raise _store_error(e, self.root) from e
                if src_pos == 0:
                    return False  # not supported here: read the stream instead
                raise InputError(f"cannot read {name}: {e.strerror or e}") from e
            if not n:
                break
            src_pos += n
            stats.bytes_read += n
            pooled: bytearray | None = sink.buffer()
            view = memoryview(pooled)[:n]
            try:
                got = os.preadv(dst, [view], start)
            except OSError as e:
                del view
                sink.release(pooled)
                raise _store_error(e, self.root) from e
            if got != n:
                del view
                sink.release(pooled)
                raise StoreError(f"the context in {self.root} changed while it was written")
            chunk = pooled if got == READ_CHUNK else bytes(view[:got])
            del view
            if chunk is not pooled:
                sink.release(pooled)
                pooled = None
            if not self.allow_binary and b"\0" in chunk:
                if pooled is not None:
                    sink.release(pooled)
                offset = stats.bytes_read - n + chunk.find(b"\0")
                raise InputError(
                    f"{name} looks binary (NUL byte near offset {offset}); use --binary to keep it"
                )
            if carry_cr or b"\r" in chunk:  # rewrite this chunk with normalised line ends
                fixed = bytes(chunk)
                if pooled is not None:
                    sink.release(pooled)
                if carry_cr:
                    fixed = b"\r" + fixed
                carry_cr = fixed.endswith(b"\r")
                if carry_cr:
                    fixed = fixed[:-1]
                fixed = fixed.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
                self._rewrite(dst, start, fixed)
                if fixed:
                    last_byte = fixed[-1:]
                    self._write(fixed, None, stored=True)
                    stats.bytes += len(fixed)
                continue
            last_byte = chunk[-1:]
            self._write(chunk, pooled, stored=True)
            stats.bytes += len(chunk)
        if carry_cr:
            self._write(b"\n")
            stats.bytes += 1
            last_byte = b"\n"
        stats.final_newline = last_byte == b"\n"
        return True

    def _rewrite(self, fd: int, start: int, data: bytes) -> None:
        """Replace everything from ``start`` on in the data file with ``data``."""
        try:
            os.ftruncate(fd, start)
            os.lseek(fd, start, os.SEEK_SET)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        except OSError as e:
            raise _store_error(e, self.root) from e

    def _write(
        self, chunk: bytes | bytearray, pooled: bytearray | None = None, *, stored: bool = False
    ) -> None:
        """Account for ``chunk`` (lines, characters, block index) and hash it; write it
        too unless ``stored`` (already in the data file)."""
        c = self._c
        try:
            self._sink.put(chunk, pooled, write=not stored)
        except Exception as e:  # noqa: BLE001 - the writer thread's error, for the operator
            raise _store_error(e, self.root) from e
        ascii_fast = chunk.isascii() and not self._decoder.getstate()[0]
        end = c.pos + len(chunk)
        if c.next_block >= end:  # common case: no block boundary in this chunk
            c.lines += chunk.count(b"\n")
            c.chars += len(chunk) if ascii_fast else len(self._decoder.decode(chunk))
            c.pos = end
            return
        seg_start = 0
        count, find, extend = chunk.count, chunk.find, c.blocks.extend
        while c.next_block < end:
            nl = find(b"\n", max(seg_start, c.next_block - c.pos - 1))
            if nl < 0:
                break
            cut = nl + 1
            c.lines += count(b"\n", seg_start, cut)
            c.chars += (
                cut - seg_start if ascii_fast else len(self._decoder.decode(chunk[seg_start:cut]))
            )
            seg_start = cut
            abs_start = c.pos + cut
            extend((abs_start, c.lines, c.chars))
            c.next_block = abs_start + BLOCK_BYTES
        c.lines += count(b"\n", seg_start)
        c.chars += (
            len(chunk) - seg_start if ascii_fast else len(self._decoder.decode(chunk[seg_start:]))
        )
        c.pos = end

    # -- finishing -----------------------------------------------------------------

    def abort(self) -> None:
        """Remove everything written so far."""
        self._done = True
        try:
            self._sink.abort()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def finish(self, *, empty_message: str = "no input: nothing to analyse") -> dict:
        """Seal the context: write its index and metadata, then rename it into place.

        Returns the metadata. Ingesting the same input again returns the existing
        context (content addressing) and writes nothing new.
        """
        try:
            if self._c.pos == 0:
                raise InputError(empty_message)
            self._c.chars += len(self._decoder.decode(b"", final=True))
            try:
                digest = self._sink.close()
            except Exception as e:  # noqa: BLE001 - the writer thread's error
                raise _store_error(e, self.root) from e
            blocks = self._c.blocks
            # The last entry may point at the very end of the data; keep it only if inside.
            while len(blocks) > 3 and blocks[-3] >= self._c.pos:
                del blocks[-3:]
            with open(self.tmp / BLOCKS_FILE, "wb") as f:
                blocks.tofile(f)
            self._stamp_times()
            ctx_id = self._context_id(digest)
            times = [s.first_time for s in self.sources if s.first_time]
            ends = [s.last_time for s in self.sources if s.last_time]
            meta = {
                "version": FORMAT_VERSION,
                "id": ctx_id,
                "bytes": self._c.pos,
                "lines": self._c.lines,
                "chars": self._c.chars,
                "first_time": min(times) if times else None,
                "last_time": max(ends) if ends else None,
                "sources": [s.to_json() for s in self.sources],
                "skipped": self.skipped,
                "created": time.time(),
            }
            (self.tmp / META_FILE).write_bytes(orjson.dumps(meta, option=orjson.OPT_INDENT_2))
            final = self.root / ctx_id
            if (final / META_FILE).exists():
                shutil.rmtree(self.tmp, ignore_errors=True)
                meta = orjson.loads((final / META_FILE).read_bytes())
            else:
                if final.exists():  # a damaged leftover of the same id: replace it
                    shutil.rmtree(final, ignore_errors=True)
                try:
                    os.rename(self.tmp, final)
                except OSError as e:
                    if e.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                        raise
                    # Another ingest of the same input won the race: use its context.
                    shutil.rmtree(self.tmp, ignore_errors=True)
                    meta = orjson.loads((final / META_FILE).read_bytes())
            self._done = True
            return meta
        except OSError as e:
            self.abort()
            raise _store_error(e, self.root) from e
        except BaseException:
            self.abort()
            raise

    def _stamp_times(self) -> None:
        """First/last timestamp of each source, from its first and last lines only."""
        from rlm_cli.store.timespan import edge_times

        with open(self.tmp / DATA_FILE, "rb") as f:
            for s in self.sources:
                s.first_time, s.last_time = edge_times(f, s.offset, s.offset + s.bytes)

    def _context_id(self, digest: bytes) -> str:
        h = hashlib.sha256(digest)
        for s in self.sources:
            h.update(orjson.dumps([s.path, s.lines]))
        return h.hexdigest()[:16]


def ingest_streams(
    contexts_root: Path,
    streams: Iterable[tuple[str, BinaryIO, str | None]],
    *,
    allow_binary: bool = False,
    empty_message: str = "no input: nothing to analyse",
) -> dict:
    """Store ``(name, stream, compression)`` triples as one context; returns its metadata."""
    with ContextWriter(contexts_root, allow_binary=allow_binary) as w:
        for name, stream, compression in streams:
            w.add(name, stream, compression=compression)
        return w.finish(empty_message=empty_message)
