"""Cheap first/last timestamps of a stretch of log, read from its edges only.

Ingest records when each source starts and ends without parsing every line: it reads the
first and the last ``EDGE_LINES`` lines (at most ``EDGE_BYTES`` each) and takes the
earliest time at the head and the latest at the tail. On a log far out of time order
this is an estimate; ``context.window()`` uses the full time index instead.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import BinaryIO

from rlm_cli.store.timestamps import TimestampParser

EDGE_LINES = 300
EDGE_BYTES = 64 * 1024


def iso_utc(epoch: float) -> str:
    """``2026-11-23T04:12:55Z`` (fractions kept to the microsecond when present)."""
    dt = datetime.fromtimestamp(epoch, tz=timezone.utc)
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if dt.microsecond:
        text += f".{dt.microsecond:06d}".rstrip("0")
    return text + "Z"


def _lines(f: BinaryIO, a: int, b: int, head: bool) -> list[str]:
    if b <= a:
        return []
    if head:
        raw = os.pread(f.fileno(), min(EDGE_BYTES, b - a), a)
        parts = raw.split(b"\n")
        if a + len(raw) < b:
            parts = parts[:-1]  # the last piece is cut
        parts = parts[:EDGE_LINES]
    else:
        start = max(a, b - EDGE_BYTES)
        raw = os.pread(f.fileno(), b - start, start)
        parts = raw.split(b"\n")
        if start > a:
            parts = parts[1:]  # the first piece is cut
        parts = parts[-EDGE_LINES - 1 :]
    return [p.decode("utf-8", "replace") for p in parts if p]


def edge_times(
    f: BinaryIO, start: int, end: int, *, default_year: int | None = None
) -> tuple[str | None, str | None]:
    """(first, last) time as ISO 8601 UTC strings for bytes ``start..end`` of ``f``."""
    parser = TimestampParser(default_year=default_year)
    first = last = None
    for line in _lines(f, start, end, head=True):
        r = parser.parse_raw(line)
        if r is not None and r[2] is not None:
            first = r[2] if first is None else min(first, r[2])
    for line in _lines(f, start, end, head=False):
        r = parser.parse_raw(line)
        if r is not None and r[2] is not None:
            last = r[2] if last is None else max(last, r[2])
    if first is None and last is None:
        return None, None
    if first is None:
        first = last
    if last is None:
        last = first
    return iso_utc(first), iso_utc(last)  # type: ignore[arg-type]
