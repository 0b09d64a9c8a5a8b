"""Stream inputs into a new context folder, never holding the whole input in memory.

The writer reads ``READ_CHUNK`` bytes at a time, normalises CRLF and lone CR to LF,
refuses NUL bytes unless told otherwise, hashes what it writes, and records a block
index entry at the first line start after every ``BLOCK_BYTES``. Everything goes to a
temporary folder that is renamed to ``contexts/<id>`` only when complete; any failure
removes it, so a half-written context never exists.
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
        }


@dataclass
class _Counters:
    pos: int = 0  # bytes written to data
    lines: int = 0  # newlines written
    chars: int = 0  # characters written (UTF-8, invalid bytes as U+FFFD)
    next_block: int = BLOCK_BYTES
    blocks: array = field(default_factory=lambda: array("Q", [0, 0, 0]))


class ContextWriter:
    """Builds one context from one or more byte streams.

    Use as a context manager; call :meth:`add` per source, then :meth:`finish`.
    """

    def __init__(self, contexts_root: Path, *, allow_binary: bool = False) -> None:
        self.root = contexts_root
        self.allow_binary = allow_binary
        self.root.mkdir(parents=True, exist_ok=True)
        self.tmp = self.root / f".tmp-{uuid.uuid4().hex}"
        self.tmp.mkdir()
        self._data = open(self.tmp / DATA_FILE, "wb")  # noqa: SIM115 - closed in finish/abort
        self._hash = hashlib.sha256()
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._c = _Counters()
        self.sources: list[SourceStats] = []
        self.skipped: list[str] = []
        self._done = False

    def __enter__(self) -> ContextWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self._done:
            self.abort()

    # -- writing -----------------------------------------------------------------

    def add(self, name: str, stream: BinaryIO, *, compression: str | None = None) -> SourceStats:
        """Append one source. Raises InputError on NUL bytes (unless allow_binary)."""
        stats = SourceStats(path=name, first_line=self._c.lines + 1, compression=compression)
        carry_cr = False
        last_byte = b""
        while True:
            try:
                chunk = stream.read(READ_CHUNK)
            except (OSError, EOFError, lzma.LZMAError, zlib.error) as e:
                reason = getattr(e, "strerror", None) or str(e) or type(e).__name__
                raise InputError(f"cannot read {name}: {reason}") from e
            if not chunk:
                break
            stats.bytes_read += len(chunk)
            if carry_cr:
                chunk = b"\r" + chunk
                carry_cr = False
            if chunk.endswith(b"\r"):
                chunk = chunk[:-1]
                carry_cr = True
            if not self.allow_binary:
                nul = chunk.find(b"\0")
                if nul >= 0:
                    raise InputError(
                        f"{name} looks binary (NUL byte near offset {stats.bytes_read - len(chunk) + nul}); "
                        "use --binary to keep it"
                    )
            if b"\r" in chunk:
                chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            if chunk:
                self._write(chunk)
                stats.bytes += len(chunk)
                last_byte = chunk[-1:]
        if carry_cr:
            self._write(b"\n")
            stats.bytes += 1
            last_byte = b"\n"
        if stats.bytes and last_byte != b"\n":
            stats.final_newline = False
            self._write(b"\n")
            stats.bytes += 1
        stats.lines = self._c.lines - stats.first_line + 1
        stats.last_line = self._c.lines
        if stats.bytes == 0:
            stats.first_line = stats.last_line = 0
            self.skipped.append(f"{name}: empty")
        else:
            self.sources.append(stats)
        return stats

    def _write(self, chunk: bytes) -> None:
        c = self._c
        try:
            self._data.write(chunk)
        except OSError as e:
            if e.errno == errno.ENOSPC:
                raise StoreError(f"disk full while storing the context in {self.root}") from e
            raise StoreError(f"cannot write the context: {e.strerror or e}") from e
        self._hash.update(chunk)
        ascii_fast = chunk.isascii() and not self._decoder.getstate()[0]
        seg_start = 0
        end = c.pos + len(chunk)
        while c.next_block < end:
            nl = chunk.find(b"\n", max(seg_start, c.next_block - c.pos - 1))
            if nl < 0:
                break
            cut = nl + 1
            c.lines += chunk.count(b"\n", seg_start, cut)
            c.chars += (
                cut - seg_start if ascii_fast else len(self._decoder.decode(chunk[seg_start:cut]))
            )
            seg_start = cut
            abs_start = c.pos + cut
            c.blocks.extend((abs_start, c.lines, c.chars))
            c.next_block = abs_start + BLOCK_BYTES
        c.lines += chunk.count(b"\n", seg_start)
        c.chars += (
            len(chunk) - seg_start if ascii_fast else len(self._decoder.decode(chunk[seg_start:]))
        )
        c.pos = end

    # -- finishing -----------------------------------------------------------------

    def abort(self) -> None:
        """Remove everything written so far."""
        self._done = True
        try:
            self._data.close()
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
            self._data.flush()
            os.fsync(self._data.fileno())
            self._data.close()
            blocks = self._c.blocks
            # The last entry may point at the very end of the data; keep it only if inside.
            while len(blocks) > 3 and blocks[-3] >= self._c.pos:
                del blocks[-3:]
            with open(self.tmp / BLOCKS_FILE, "wb") as f:
                blocks.tofile(f)
            ctx_id = self._context_id()
            meta = {
                "version": FORMAT_VERSION,
                "id": ctx_id,
                "bytes": self._c.pos,
                "lines": self._c.lines,
                "chars": self._c.chars,
                "sources": [s.to_json() for s in self.sources],
                "skipped": self.skipped,
                "created": time.time(),
            }
            (self.tmp / META_FILE).write_bytes(orjson.dumps(meta, option=orjson.OPT_INDENT_2))
            final = self.root / ctx_id
            if final.exists():
                shutil.rmtree(self.tmp, ignore_errors=True)
                meta = orjson.loads((final / META_FILE).read_bytes())
            else:
                os.rename(self.tmp, final)
            self._done = True
            return meta
        except OSError as e:
            self.abort()
            if e.errno == errno.ENOSPC:
                raise StoreError(f"disk full while storing the context in {self.root}") from e
            raise StoreError(f"cannot store the context: {e.strerror or e}") from e
        except BaseException:
            self.abort()
            raise

    def _context_id(self) -> str:
        h = hashlib.sha256(self._hash.digest())
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
