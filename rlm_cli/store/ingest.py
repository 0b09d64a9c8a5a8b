"""Stream inputs into a new context folder, never holding the whole input in memory.

Uncompressed regular files take the fast path, as ``cp`` does: ``copy_file_range`` copies
them inside the kernel while a :class:`~rlm_cli.store.readback.ReadBack` thread reads
each chunk back from the stored copy, refuses NUL bytes, counts lines (numpy, GIL
released) and records a block index entry at the first line start after every
``BLOCK_BYTES``; the :class:`~rlm_cli.store.sink.ChunkSink` hashes in a third thread.
Other input (stdin, compressed files, and a file from its first carriage return on) is
read ``READ_CHUNK`` bytes at a time, line ends normalised (CRLF and lone CR to LF), and
written by the sink's writer thread.

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
import shutil
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
from rlm_cli.plain import pick
from rlm_cli.store.layout import (
    BLOCK_BYTES,
    BLOCKS_FILE,
    COPY_CHUNK,
    DATA_FILE,
    FORMAT_VERSION,
    META_FILE,
    READ_CHUNK,
    SCAN_CHUNK,
)
from rlm_cli.store.linescan import LineScan, scan_lines
from rlm_cli.store.readback import ReadBack
from rlm_cli.store.sink import ChunkSink

ID_ATTEMPTS = 8
"""Ids tried after content-hash collisions before giving up (one retry is all it takes)."""


@dataclass
class SourceStats:
    """What one input contributed to a context."""

    path: str
    """As given (``-`` for stdin)."""
    bytes_read: int = 0
    """Bytes read from the input, before the store's own changes."""
    bytes: int = 0
    """Bytes it added to the context's text."""
    lines: int = 0
    first_line: int = 0
    last_line: int = 0
    """Its first and last line numbers in the context (1-based)."""
    final_newline: bool = True
    """False when its last line had no newline (the store added one)."""
    compression: str | None = None
    offset: int = 0  # byte offset of its first line in the data file
    first_time: str | None = None
    last_time: str | None = None

    def to_json(self) -> dict:
        """The form stored in meta.json and printed by ``rlm ingest --json``."""
        return pick(
            self,
            "path bytes bytes_read lines first_line last_line final_newline compression"
            " first_time last_time",
        )


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
        self._sink = ChunkSink(self.tmp / DATA_FILE, READ_CHUNK)
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

        ``copy_from``: the descriptor of an uncompressed regular file (``stream`` reads
        the same file, from its start); its bytes are then copied inside the kernel
        (``copy_file_range``, like ``cp``) while another thread reads them back from the
        stored copy to count and hash them. From the first chunk with a carriage return
        on (or when the kernel cannot copy), ``stream`` is read and normalised instead.
        """
        c = self._c
        stats = SourceStats(
            path=name, first_line=c.lines + 1, compression=compression, offset=c.pos
        )
        if copy_from is not None:
            resume = self._add_copied(stats, name, copy_from)
            if resume is None:
                return self._seal(stats)
            if resume:
                stream.seek(resume)
        self._add_stream(stats, name, stream)
        return self._seal(stats)

    def _add_stream(self, stats: SourceStats, name: str, stream: BinaryIO) -> None:
        """Read ``stream`` to its end, normalising line ends, into the data file."""
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
        if last_byte:
            stats.final_newline = last_byte == b"\n"

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

    def _add_copied(self, stats: SourceStats, name: str, src: int) -> int | None:
        """Copy ``src`` in the kernel while a :class:`ReadBack` thread accounts for it.

        Returns None when the whole file is stored, else the source offset from which
        the caller must read and normalise it (0: the kernel cannot copy here).
        """
        sink = self._sink
        try:
            sink.drain()  # earlier sources are written: the data file's offset is c.pos
        except Exception as e:  # noqa: BLE001 - the writer thread's error
            raise _store_error(e, self.root) from e
        dst, base = sink.fileno(), self._c.pos
        back = ReadBack(
            name=name,
            dst=dst,
            base=base,
            block=BLOCK_BYTES,
            chunk_size=SCAN_CHUNK,
            commit=lambda chunk, scan: self._commit(chunk, None, scan, stored=True),
            allow_binary=self.allow_binary,
        )
        size = self._preallocate(src, dst, base)
        src_pos, n = 0, 0
        try:
            while not back.stopped.is_set():
                n = self._copy_range(src, dst, src_pos, name)
                if not n:  # the end, or None: the kernel cannot copy here
                    break
                stats.bytes_read += n
                back.put(src_pos, n)
                src_pos += n
        finally:
            try:
                back.close()
            except OSError as e:
                raise _store_error(e, self.root) from e
        stats.bytes += back.accounted
        if back.last_byte:
            stats.final_newline = back.last_byte == b"\n"
        if src_pos == 0 and n is None:
            self._truncate(dst, base)
            return 0
        if back.stop_at is None:
            if src_pos < size:  # the file shrank while copied: drop the preallocated rest
                self._truncate(dst, base + src_pos)
            return None
        # A carriage return from back.stop_at on: drop the copied bytes from there and
        # let the caller read and normalise the rest of the file.
        stats.bytes_read = back.stop_at
        self._truncate(dst, base + back.stop_at)
        return back.stop_at

    def _preallocate(self, src: int, dst: int, base: int) -> int:
        """Reserve the source's size in the data file; returns that size.

        ext4 then allocates its blocks once instead of as the copy goes, which makes the
        copy about a quarter faster than ``cp``'s, and a full disk fails here, before any
        copying. File systems that cannot preallocate simply copy.
        """
        size = os.fstat(src).st_size
        if size:
            try:
                os.posix_fallocate(dst, base, size)
            except OSError as e:
                if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                    raise _store_error(e, self.root) from e
        return size

    def _truncate(self, dst: int, end: int) -> None:
        """Cut the data file at ``end`` and continue writing there."""
        try:
            os.ftruncate(dst, end)
            os.lseek(dst, end, os.SEEK_SET)
        except OSError as e:
            raise _store_error(e, self.root) from e

    def _copy_range(self, src: int, dst: int, src_pos: int, name: str) -> int | None:
        """One ``copy_file_range`` step: bytes copied, 0 at the end, None if unsupported."""
        try:
            return os.copy_file_range(src, dst, COPY_CHUNK, src_pos)
        except OSError as e:
            if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                raise _store_error(e, self.root) from e
            if src_pos == 0:
                return None  # not supported here: read the stream instead
            raise InputError(f"cannot read {name}: {e.strerror or e}") from e

    def _write(
        self, chunk: bytes | bytearray, pooled: bytearray | None = None, *, stored: bool = False
    ) -> None:
        """Account for ``chunk`` (lines, characters, block index) and hash it; write it
        too unless ``stored`` (already in the data file)."""
        self._commit(chunk, pooled, scan_lines(chunk, self._c.pos, BLOCK_BYTES), stored=stored)

    def _commit(
        self,
        chunk: bytes | bytearray,
        pooled: bytearray | None,
        scan: LineScan,
        *,
        stored: bool = False,
    ) -> None:
        """Apply the :class:`LineScan` of the next chunk in order, then hash (and write,
        unless ``stored``) the chunk."""
        try:
            self._sink.put(chunk, pooled, write=not stored)
        except Exception as e:  # noqa: BLE001 - the writer thread's error, for the operator
            raise _store_error(e, self.root) from e
        c = self._c
        ascii_fast = scan.ascii and not self._decoder.getstate()[0]
        chars, prev = c.chars, 0
        for cut, before in zip(scan.cuts, scan.before):
            if c.pos + cut < c.next_block:  # its newline is before the grid point
                continue
            chars += cut - prev if ascii_fast else len(self._decoder.decode(chunk[prev:cut]))
            abs_start, prev = c.pos + cut, cut
            c.blocks.extend((abs_start, c.lines + before, chars))
            c.next_block = (abs_start // BLOCK_BYTES + 1) * BLOCK_BYTES
        rest = len(chunk) - prev if ascii_fast else len(self._decoder.decode(chunk[prev:]))
        c.chars = chars + rest
        c.lines += scan.lines
        c.pos += len(chunk)

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
            times = [s.first_time for s in self.sources if s.first_time]
            ends = [s.last_time for s in self.sources if s.last_time]
            meta = {
                "version": FORMAT_VERSION,
                "id": None,  # set by the loop below
                "bytes": self._c.pos,
                "lines": self._c.lines,
                "chars": self._c.chars,
                "first_time": min(times) if times else None,
                "last_time": max(ends) if ends else None,
                "sources": [s.to_json() for s in self.sources],
                "skipped": self.skipped,
                "created": time.time(),
            }
            for attempt in range(ID_ATTEMPTS):
                meta["id"] = self._context_id(digest, attempt)
                placed = self._place(meta)
                if placed is not None:
                    break
            else:
                raise StoreError(f"cannot find a free context id in {self.root}")
            meta = placed
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

    def _place(self, meta: dict) -> dict | None:
        """Rename the finished folder to ``contexts/<id>``; returns the metadata kept.

        When that id exists already with the same bytes (the same input again, or another
        ingest of it that won a race), the existing context is kept and this one dropped.
        When it exists with other bytes (a hash collision), returns None: try another id.
        """
        (self.tmp / META_FILE).write_bytes(orjson.dumps(meta, option=orjson.OPT_INDENT_2))
        final = self.root / meta["id"]
        if not (final / META_FILE).exists():
            if final.exists():  # a damaged leftover of the same id: replace it
                shutil.rmtree(final, ignore_errors=True)
            try:
                os.rename(self.tmp, final)
                return meta
            except OSError as e:
                if e.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
        if not _same_bytes(self.tmp / DATA_FILE, final / DATA_FILE):
            return None
        shutil.rmtree(self.tmp, ignore_errors=True)
        return orjson.loads((final / META_FILE).read_bytes())

    def _context_id(self, digest: bytes, attempt: int = 0) -> str:
        """The id: a hash of the content digest and the sources' names and line counts
        (``attempt`` > 0 after a collision)."""
        h = hashlib.sha256(digest)
        for s in self.sources:
            h.update(orjson.dumps([s.path, s.lines]))
        if attempt:
            h.update(b"collision %d" % attempt)
        return h.hexdigest()[:16]


def _same_bytes(a: Path, b: Path) -> bool:
    """Whether two files hold the same bytes (sizes first, then a chunked compare)."""
    try:
        with open(a, "rb", buffering=0) as fa, open(b, "rb", buffering=0) as fb:
            if os.fstat(fa.fileno()).st_size != os.fstat(fb.fileno()).st_size:
                return False
            while True:
                x, y = fa.read(READ_CHUNK), fb.read(READ_CHUNK)
                if x != y:
                    return False
                if not x:
                    return True
    except FileNotFoundError:
        return False


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
