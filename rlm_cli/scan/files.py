"""Find the files of a scan and stream only their new bytes into a context."""

from __future__ import annotations

import lzma
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rlm_cli.errors import InputError
from rlm_cli.scan.rotation import FileOnDisk, ReadPlan, open_file, rotation_base
from rlm_cli.scan.state import HEAD_BYTES, Cursor, head_sha, now
from rlm_cli.store.ingest import ContextWriter
from rlm_cli.store.inputs import InputFile, _is_glob, expand_inputs, open_input

_CHUNK = 1 << 20
SETTLE_S = 300.0
"""A line still being written (no newline yet) waits for the next run, unless the file has
not changed for this long (its writer is gone: rotated away, or crashed mid-line)."""


def discover(
    targets: list[str],
    *,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    allow_binary: bool = False,
    remembered: list[str] | None = None,
    warn: Callable[[str], None] | None = None,
) -> list[FileOnDisk]:
    """Open every file of the scan, sorted by path.

    Paths are made absolute (cursors must not depend on cron's working folder). Folders
    are walked recursively (rotated files inside are scanned too). The rotated siblings
    (``NAME.1``, ``NAME.2.gz`` ...) of every scanned or ``remembered`` file come along as
    candidates that are read only to finish what the last run started, so a named file or
    an ``--include`` glob that misses the rotated names loses nothing. Files that look
    binary (a NUL byte in their head) are skipped unless ``allow_binary``.
    """
    tracked: dict[str, bool] = {}
    for t in (os.path.abspath(t) for t in targets):
        p = Path(t)
        if p.is_dir():
            try:
                found = expand_inputs([t], include=include, exclude=exclude, warn=warn)
            except InputError:
                found = []  # nothing (matching) in the folder yet: nothing new, not an error
            tracked.update((str(item.path), True) for item in found)
        elif p.is_file():
            tracked[str(p)] = True
        elif p.exists() or _is_glob(t) or not p.parent.is_dir():
            for item in expand_inputs([t], include=include, exclude=exclude, warn=warn):
                tracked[str(item.path)] = True
        elif t not in (remembered or []):
            raise InputError(f"{t}: no such file")
        # else: rotated away since the last run; its siblings below still hold its tail
    families = {(os.path.dirname(x), rotation_base(x)) for x in [*tracked, *(remembered or [])]}
    families |= {(os.path.dirname(t), os.path.basename(t)) for t in map(os.path.abspath, targets)}
    for folder in sorted({d for d, _ in families}):
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        for name in names:
            full = os.path.join(folder, name)
            if (folder, rotation_base(name)) in families and os.path.isfile(full):
                tracked.setdefault(full, False)
    files = []
    for path in sorted(tracked):
        f = open_file(path, tracked=tracked[path])
        if f is None:
            if warn and tracked[path]:
                warn(f"skipping {path}: cannot be read")
            continue
        if not allow_binary and b"\0" in f.head:
            f.close()
            if warn and tracked[path]:
                warn(f"skipping {path}: looks binary (NUL byte in its first bytes)")
            continue
        files.append(f)
    return files


class _Counting:
    """Wraps a byte stream; counts the bytes and newlines read through it."""

    def __init__(self, read: Callable[[int], bytes]) -> None:
        self._read = read
        self.bytes = 0
        self.newlines = 0
        self.last = b""

    def read(self, n: int = -1) -> bytes:
        chunk = self._read(n if n and n > 0 else _CHUNK)
        if chunk:
            self.bytes += len(chunk)
            self.newlines += chunk.count(b"\n")
            self.last = chunk[-1:]
        return chunk


def _range_reader(fd: int, start: int, end: int) -> Callable[[int], bytes]:
    pos = [start]

    def read(n: int) -> bytes:
        n = min(n, end - pos[0])
        if n <= 0:
            return b""
        chunk = os.pread(fd, n, pos[0])
        pos[0] += len(chunk)
        return chunk

    return read


def _settled(f: FileOnDisk) -> bool:
    """Untouched for :data:`SETTLE_S`: a last line without a newline is complete after all."""
    return now() - f.mtime >= SETTLE_S


def _complete_lines_end(fd: int, start: int, end: int) -> int:
    """The end of the last whole line in [start, end): a line still being written waits."""
    pos = end
    while pos > start:
        lo = max(start, pos - 65536)
        block = os.pread(fd, pos - lo, lo)
        nl = block.rfind(b"\n")
        if nl >= 0:
            return lo + nl + 1
        pos = lo
    return start


@dataclass
class FileRead:
    """What one file contributed this run."""

    plan: ReadPlan
    start: int
    new_bytes: int
    new_lines: int
    cursor: Cursor | None
    """Where the next run starts (None for siblings that are not tracked)."""

    def summary(self) -> dict:
        """The ``scanned`` entry of ``--json``."""
        p = self.plan
        d = {
            "path": p.file.path,
            "new_bytes": self.new_bytes,
            "new_lines": self.new_lines,
            "from_byte": self.start,
            "how": p.how,
        }
        if p.cursor is not None and p.cursor.path != p.file.path:
            d["continues"] = p.cursor.path
        if p.file.compression:
            d["compression"] = p.file.compression
        if p.lost:
            d["lost_before_truncation"] = True
        return d


def read_new(plans: list[ReadPlan], writer: ContextWriter) -> list[FileRead]:
    """Stream each plan's new bytes into ``writer``; returns per-file counts and next cursors."""
    out = []
    for plan in plans:
        f = plan.file
        stats = None
        if f.compression is not None and _unchanged_archive(plan):
            stream = _Counting(lambda n: b"")
            total = plan.start
        elif f.compression is None:
            end = f.size if _settled(f) else _complete_lines_end(f.fh.fileno(), plan.start, f.size)
            stream = _Counting(_range_reader(f.fh.fileno(), plan.start, end))
            if end > plan.start:
                stats = writer.add(f.path, stream)
            total = max(end, plan.start)
        else:
            raw, _ = open_input(InputFile(f.path, Path(f.path)))
            try:
                skipped = _skip(raw, plan.start, f.path)
                stream = _Counting(raw.read)
                stats = writer.add(f.path, stream, compression=f.compression)
            finally:
                raw.close()
            total = skipped + stream.bytes
        new_lines = stats.lines if stats is not None and stream.bytes else 0
        cursor = None
        if f.tracked:
            head_len = min(total, len(f.head), HEAD_BYTES)
            cursor = Cursor(
                path=f.path,
                dev=f.dev,
                ino=f.ino,
                offset=total,
                lines=plan.line_base + stream.newlines,
                head_len=head_len,
                head_sha=head_sha(f.head[:head_len]),
                compression=f.compression,
                raw_size=f.size,
                updated=now(),
            )
        out.append(FileRead(plan, plan.start, stream.bytes, new_lines, cursor))
    return out


def _unchanged_archive(plan: ReadPlan) -> bool:
    """A compressed file already read to its end and untouched since: no need to inflate it."""
    c = plan.cursor
    f = plan.file
    return (
        c is not None
        and c.path == f.path
        and (c.dev, c.ino) == (f.dev, f.ino)
        and c.compression == f.compression
        and c.raw_size == f.size
    )


def _skip(stream, n: int, name: str) -> int:
    """Read and drop ``n`` bytes of a decompressed stream; returns how many there were."""
    done = 0
    try:
        while done < n:
            chunk = stream.read(min(_CHUNK, n - done))
            if not chunk:
                break
            done += len(chunk)
    except (OSError, EOFError, zlib.error, lzma.LZMAError) as e:
        raise InputError(f"cannot read {name}: {e}") from e
    return done
