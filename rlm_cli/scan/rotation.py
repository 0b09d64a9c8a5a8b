"""Match the files on disk now to the cursors of the last run: append, rotation, truncation.

A file is recognised in four passes, most certain first:

1. same path, same (device, inode), its head still hashes to the cursor's fingerprint and it
   is at least as long as the cursor's offset → it grew: read from the offset;
2. another path with that (device, inode) and fingerprint → renamed (rename-and-create
   rotation moved ``app.log`` to ``app.log.1``): read the rest of it from the offset;
3. a file in the same folder with the same rotation base (``app.log.1``, ``app.log.2.gz``,
   ``app.log-20260101.gz`` all have base ``app.log``) whose (decompressed) head hashes to
   the fingerprint → a copy of the old file (copytruncate, or compressed after rotation):
   read it from the offset;
4. a fingerprint match with a cursor already claimed → a second copy of the same bytes
   (``app.log.1`` and ``app.log.1.gz`` side by side): read only past the offset.

A cursor of a file that was empty (no head to compare) matches only its own path and inode,
last: inode numbers are reused, and the head is what proves identity. Anything else is new
and read from its start. A cursor's own path that no longer matches
(same inode but shorter, or another head) was truncated or copy-truncated and is read
from its start; whatever was written after the last run and before a truncation that left
no copy is gone, and the plan says so.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from rlm_cli.scan.state import HEAD_BYTES, Cursor, head_sha
from rlm_cli.store.inputs import MAGIC, InputFile, open_input

_COMPRESSED_SUFFIX = re.compile(r"\.(gz|bz2|xz|zst|zstd)$")
_ROTATION_SUFFIX = re.compile(r"(\.\d{1,4}|[.-](\d{8}|\d{10}|\d{4}-\d{2}-\d{2}))$")
"""logrotate's names: ``.1`` .. ``.9999``, dateext ``-YYYYMMDD`` (or ``-YYYYMMDDHH``, ``-YYYY-MM-DD``)."""


def rotation_base(name: str) -> str:
    """The live file a rotated name belongs to: ``app.log.2.gz`` → ``app.log``.

    ``node-01.log`` stays itself: per-node files are not rotations of each other.
    """
    base = os.path.basename(name)
    base = _COMPRESSED_SUFFIX.sub("", base)
    return _ROTATION_SUFFIX.sub("", base)


def detect_compression(head: bytes) -> str | None:
    """The compression named by a file's magic bytes (as the store detects it)."""
    for magic, kind in MAGIC:
        if head.startswith(magic):
            return kind
    return None


@dataclass
class FileOnDisk:
    """A file seen this run, held open so a rotation during the run cannot swap it."""

    path: str
    fh: BinaryIO
    dev: int
    ino: int
    size: int
    compression: str | None
    head: bytes
    """The first :data:`HEAD_BYTES` of its content (decompressed)."""
    mtime: float = 0.0
    tracked: bool = True
    """False for siblings of a named file: read only to finish a rotated cursor."""

    def matches(self, c: Cursor, *, need_head: bool) -> bool:
        """Does this file start with the bytes the cursor read, and is it long enough?"""
        if c.head_len == 0:
            return not need_head
        if len(self.head) < c.head_len or head_sha(self.head[: c.head_len]) != c.head_sha:
            return False
        return self.compression is not None or self.size >= c.offset

    def close(self) -> None:
        """Close the held file."""
        self.fh.close()


def open_file(path: str, *, tracked: bool = True) -> FileOnDisk | None:
    """Open and identify one file; None when it vanished or cannot be read."""
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed by FileOnDisk.close
    except OSError:
        return None
    try:
        st = os.fstat(fh.fileno())
        raw = os.pread(fh.fileno(), HEAD_BYTES, 0)
        compression = detect_compression(raw[:8])
        head = raw if compression is None else decompressed_head(path)
    except Exception:  # noqa: BLE001 - an unreadable file is skipped, never fatal
        fh.close()
        return None
    return FileOnDisk(
        path, fh, st.st_dev, st.st_ino, st.st_size, compression, head, st.st_mtime, tracked
    )


def decompressed_head(path: str, n: int = HEAD_BYTES) -> bytes:
    """The first ``n`` bytes of a compressed file's content."""
    stream, _ = open_input(InputFile(path, Path(path)))
    try:
        out = b""
        while len(out) < n:
            chunk = stream.read(n - len(out))
            if not chunk:
                break
            out += chunk
        return out
    finally:
        stream.close()


@dataclass
class ReadPlan:
    """What to read from one file this run."""

    file: FileOnDisk
    start: int
    how: str
    """new · append · renamed · rotated copy · duplicate copy · truncated · copytruncated"""
    line_base: int = 0
    cursor: Cursor | None = None
    """The cursor this file continues, if any."""
    lost: bool = False
    """True when bytes written before a truncation could not be found anywhere."""


def plan_reads(
    cursors: dict[str, Cursor], files: list[FileOnDisk]
) -> tuple[list[ReadPlan], list[str]]:
    """Decide where to start in every file; returns the plans and notes for the operator."""
    match: dict[str, tuple[Cursor, str]] = {}
    claimed: dict[str, str] = {}

    def take(f: FileOnDisk, c: Cursor, how: str) -> None:
        match[f.path] = (c, how)
        claimed.setdefault(c.path, f.path)

    # 1. grew in place (the head proves it is the same file, not a reused inode)
    for f in files:
        c = cursors.get(f.path)
        if c and (c.dev, c.ino) == (f.dev, f.ino) and f.matches(c, need_head=True):
            take(f, c, "append")
    # 2. renamed (same inode and head elsewhere)
    by_inode = {(c.dev, c.ino): c for c in cursors.values()}
    for f in files:
        if f.path in match:
            continue
        c = by_inode.get((f.dev, f.ino))
        if c and c.path not in claimed and f.matches(c, need_head=True):
            take(f, c, "renamed")
    # 3. and 4. copies recognised by their head, within the same rotation family
    for pass_claimed in (False, True):
        for f in files:
            if f.path in match:
                continue
            fam = (os.path.dirname(f.path), rotation_base(f.path))
            options = [
                c
                for c in cursors.values()
                if (c.path in claimed) == pass_claimed
                and (os.path.dirname(c.path), rotation_base(c.path)) == fam
                and f.matches(c, need_head=True)
            ]
            if options:
                best = max(options, key=lambda c: (c.head_len, c.offset))
                take(f, best, "duplicate copy" if pass_claimed else "rotated copy")
    # 5. a file that was empty last time (no head to compare): still itself, read from 0
    for f in files:
        c = cursors.get(f.path)
        if f.path not in match and c and c.head_len == 0 and (c.dev, c.ino) == (f.dev, f.ino):
            take(f, c, "append")

    plans: list[ReadPlan] = []
    notes: list[str] = []
    for f in files:
        if f.path in match:
            c, how = match[f.path]
            plans.append(ReadPlan(f, c.offset, how, c.lines, c))
            continue
        if not f.tracked:
            continue  # a sibling that continues nothing: not ours to read
        old = cursors.get(f.path)
        if old and (old.dev, old.ino) == (f.dev, f.ino):
            if old.path in claimed:
                plans.append(ReadPlan(f, 0, "copytruncated"))
            else:
                plans.append(ReadPlan(f, 0, "truncated", lost=old.offset > 0))
                notes.append(
                    f"{f.path} was truncated and no rotated copy was found; "
                    "reading it from the start (lines written just before the truncation may be lost)"
                )
        elif old and old.path in claimed:
            plans.append(ReadPlan(f, 0, "new (after rotation)"))
        else:
            plans.append(ReadPlan(f, 0, "new"))
    for c in cursors.values():
        live_name = os.path.basename(c.path) == rotation_base(c.path)
        if live_name and c.path not in claimed and not any(p.file.path == c.path for p in plans):
            # (old rotated files are deleted by logrotate all the time: not worth a word)
            notes.append(f"{c.path} is gone and no rotated copy of it was found; forgetting it")
    return plans, notes
