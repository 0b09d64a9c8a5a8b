"""What ingest needs to know about the lines of one chunk, computed without shared state.

:func:`scan_lines` is a pure function of a chunk and its offset in the data file, so
chunks can be scanned in any order on any thread; the writer then applies the results in
order (``ContextWriter._account``). The block index puts an entry at the first line start
at or after every multiple of ``block`` bytes (a fixed grid), which is what lets a chunk
know its candidate entries without knowing the chunks before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rlm_cli.store.newlines import is_ascii, newline_counter


@dataclass
class LineScan:
    """Newlines, ASCII-ness and candidate block-index entries of one chunk."""

    lines: int = 0
    ascii: bool = True
    cuts: list[int] = field(default_factory=list)
    """Line starts (offsets in the chunk) that may start a block: the first line start,
    then the first at or after each grid point, increasing."""
    before: list[int] = field(default_factory=list)
    """Newlines in the chunk before each cut."""


def scan_lines(buf, start: int, block: int, lo: int = 0, hi: int | None = None) -> LineScan:
    """Scan the chunk ``buf[lo:hi]`` (bytes, bytearray or mmap), which sits at byte
    ``start`` of the data file, on a ``block`` grid. Cuts are relative to ``lo``."""
    hi = len(buf) if hi is None else hi
    count = newline_counter(buf, lo, hi)
    scan = LineScan(ascii=is_ascii(buf, lo, hi))
    n, find = hi - lo, buf.find
    counted_to = seen = 0

    def add(cut: int) -> None:
        nonlocal counted_to, seen
        seen += count(counted_to, cut)
        counted_to = cut
        scan.cuts.append(cut)
        scan.before.append(seen)

    nl = find(b"\n", lo, hi) - lo
    if nl >= 0:
        add(nl + 1)
    grid = (start // block + 1) * block
    while grid <= start + n:
        nl = find(b"\n", lo + grid - 1 - start, hi) - lo
        if nl < 0:
            break
        if nl + 1 != scan.cuts[-1]:
            add(nl + 1)
        grid = ((start + nl + 1) // block + 1) * block
    scan.lines = seen + count(counted_to, n)
    return scan
