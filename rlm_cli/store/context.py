"""Read a stored context without loading it: characters, lines, search, sources.

This is the object the root model sees as ``context`` in the REPL. The data file is
memory-mapped; the block index maps line numbers and character offsets to byte
offsets, so any line is found with one bisect and a short scan. Line numbers are
1-based and ranges inclusive, like ``grep -n`` and ``sed -n a,bp``.
"""

from __future__ import annotations

import bisect
import mmap
import re
from array import array
from collections.abc import Iterator
from pathlib import Path

import orjson

from rlm_cli.store.layout import BLOCKS_FILE, DATA_FILE, META_FILE

_REGEX_META = set(".^$*+?{}[]\\|()")


class LineList(list):
    """A list of lines that prints with line numbers (``n: text``)."""

    def __init__(self, items=(), start: int = 1) -> None:
        super().__init__(items)
        self.start = start

    def __str__(self) -> str:
        return "\n".join(f"{self.start + i}: {line}" for i, line in enumerate(self))

    __repr__ = __str__


class Hits(list):
    """``(line number, line)`` pairs that print like ``grep -n``."""

    def __str__(self) -> str:
        return "\n".join(f"{n}: {line}" for n, line in self)

    __repr__ = __str__

    def __getitem__(self, key):
        got = super().__getitem__(key)
        return Hits(got) if isinstance(key, slice) else got


class Chunk:
    """A range of lines (inclusive) of a context; ``text`` reads it."""

    __slots__ = ("start", "end", "_context")

    def __init__(self, start: int, end: int, context: Context) -> None:
        self.start = start
        self.end = end
        self._context = context

    @property
    def text(self) -> str:
        """The chunk's lines joined by newlines."""
        return "\n".join(self._context.lines(self.start, self.end))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Chunk) and (self.start, self.end) == (other.start, other.end)

    def __repr__(self) -> str:
        return f"Chunk(lines {self.start}-{self.end})"


MODEL_API = (
    "meta",
    "id",
    "line_count",
    "size_bytes",
    "line",
    "lines",
    "head",
    "tail",
    "around",
    "grep",
    "count",
    "chunks",
    "sources",
    "source_of",
)
"""The names the model's code may use on ``context`` (see :class:`rlm_cli.repl.view.ContextView`).
Add a method here to give it to the model, and document it in prompts/root.yaml."""


def compile_pattern(pattern: str, ignore_case: bool = False) -> re.Pattern[bytes]:
    """Compile a user or model regex for searching the raw bytes, line by line."""
    flags = re.MULTILINE | (re.IGNORECASE if ignore_case else 0)
    try:
        return re.compile(pattern.encode("utf-8", "surrogateescape"), flags)
    except re.error as e:
        raise ValueError(f"bad regex {pattern!r}: {e}") from None


class Context:
    """A stored log, addressable by characters and by 1-based lines."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder)
        self.meta: dict = orjson.loads((self.path / META_FILE).read_bytes())
        self.id: str = self.meta["id"]
        self._file = open(self.path / DATA_FILE, "rb")  # noqa: SIM115 - lives with the object
        self._mm = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
        blocks = array("Q")
        blocks.frombytes((self.path / BLOCKS_FILE).read_bytes())
        self._boff = blocks[0::3]
        self._bline = blocks[1::3]
        self._bchar = blocks[2::3]
        self._size = len(self._mm)

    # -- size -----------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self.meta["chars"])

    @property
    def line_count(self) -> int:
        """Number of lines."""
        return int(self.meta["lines"])

    @property
    def size_bytes(self) -> int:
        """Size of the stored data in bytes."""
        return self._size

    def __repr__(self) -> str:
        return (
            f"<context {self.id}: {self.line_count:,} lines, {len(self):,} chars, "
            f"{len(self.meta['sources'])} source(s)>"
        )

    # -- lines ------------------------------------------------------------------------

    def _line_start(self, k: int) -> int:
        """Byte offset where 0-based line ``k`` starts (``k == line_count`` gives the end)."""
        if k >= self.line_count:
            return self._size
        b = bisect.bisect_right(self._bline, k) - 1
        pos = self._boff[b]
        find = self._mm.find
        for _ in range(k - self._bline[b]):
            pos = find(b"\n", pos) + 1
        return pos

    def _norm_line(self, n: int) -> int:
        return self.line_count + 1 + n if n < 0 else n

    def line(self, n: int) -> str:
        """Line ``n`` (1-based; negative counts from the end)."""
        n = self._norm_line(n)
        if not 1 <= n <= self.line_count:
            raise IndexError(f"line {n} is outside 1..{self.line_count}")
        return self._raw_lines(n, n)[0]

    def lines(self, start: int, end: int) -> LineList:
        """Lines ``start`` to ``end`` inclusive (1-based; negatives count from the end)."""
        start, end = self._norm_line(start), self._norm_line(end)
        start, end = max(1, start), min(self.line_count, end)
        if end < start:
            return LineList([], start)
        return LineList(self._raw_lines(start, end), start)

    def _raw_lines(self, start: int, end: int) -> list[str]:
        a = self._line_start(start - 1)
        b = self._line_start(end)
        return self._mm[a:b].decode("utf-8", "replace").split("\n")[: end - start + 1]

    def head(self, n: int = 10) -> LineList:
        """The first ``n`` lines."""
        return self.lines(1, n)

    def tail(self, n: int = 10) -> LineList:
        """The last ``n`` lines."""
        return self.lines(max(1, self.line_count - n + 1), self.line_count)

    def around(self, line: int, before: int = 5, after: int = 5) -> LineList:
        """The lines around ``line``, with it in the middle."""
        line = self._norm_line(line)
        return self.lines(max(1, line - before), line + after)

    def __iter__(self) -> Iterator[str]:
        """Every line in order (streams; does not load the file)."""
        mm, pos, size = self._mm, 0, self._size
        while pos < size:
            nl = mm.find(b"\n", pos)
            yield mm[pos:nl].decode("utf-8", "replace")
            pos = nl + 1

    def iter_bytes_lines(self, start: int = 1) -> Iterator[bytes]:
        """Raw lines (without newline) from line ``start`` on, for fast internal scans."""
        mm, pos, size = self._mm, self._line_start(start - 1), self._size
        while pos < size:
            nl = mm.find(b"\n", pos)
            yield mm[pos:nl]
            pos = nl + 1

    # -- characters ----------------------------------------------------------------------

    def _char_to_byte(self, c: int) -> int:
        if c <= 0:
            return 0
        if c >= len(self):
            return self._size
        b = bisect.bisect_right(self._bchar, c) - 1
        pos, rem = self._boff[b], c - self._bchar[b]
        nxt = b + 1
        end = self._boff[nxt] if nxt < len(self._boff) else self._size
        next_char = self._bchar[nxt] if nxt < len(self._bchar) else len(self)
        if next_char - self._bchar[b] == end - pos:  # all-ASCII block
            return pos + rem
        text = self._mm[pos:end].decode("utf-8", "replace")
        return pos + len(text[:rem].encode("utf-8", "surrogatepass"))

    def __getitem__(self, key: int | slice) -> str:
        n = len(self)
        if isinstance(key, slice):
            start, stop, step = key.indices(n)
            if step != 1:
                raise ValueError("context slices take no step; use context[a:b]")
            if stop <= start:
                return ""
            a, b = self._char_to_byte(start), self._char_to_byte(stop)
            return self._mm[a:b].decode("utf-8", "replace")
        if key < 0:
            key += n
        if not 0 <= key < n:
            raise IndexError("context index out of range")
        a = self._char_to_byte(key)
        return self._mm[a : a + 4].decode("utf-8", "replace")[:1]

    # -- search --------------------------------------------------------------------------

    def search(
        self, pattern: str, *, ignore_case: bool = False, max_hits: int | None = None
    ) -> Iterator[tuple[int, bytes]]:
        """Yield ``(line number, raw line)`` for every line matching ``pattern`` (a regex).

        One scan over the memory-mapped bytes; each matching line is reported once.
        """
        mm = self._mm
        literal = None
        if not ignore_case and not (_REGEX_META & set(pattern)):
            literal = pattern.encode("utf-8", "surrogateescape")
            if not literal:
                literal = None
        rx = None if literal else compile_pattern(pattern, ignore_case)
        pos, counted_to, line_no, hits = 0, 0, 0, 0
        size = self._size
        while pos < size:
            if literal is not None:
                s = mm.find(literal, pos)
                if s < 0:
                    return
            else:
                m = rx.search(mm, pos)  # type: ignore[union-attr]
                if m is None:
                    return
                s = m.start()
                if s >= size:
                    return
            ls = mm.rfind(b"\n", 0, s) + 1 if s > 0 else 0
            le = mm.find(b"\n", s)
            if le < 0:
                le = size
            line_no += mm[counted_to:ls].count(b"\n") if ls > counted_to else 0
            counted_to = ls
            yield line_no + 1, mm[ls:le]
            hits += 1
            if max_hits is not None and hits >= max_hits:
                return
            pos = le + 1
            line_no += 1
            counted_to = pos

    def grep(self, pattern: str, ignore_case: bool = False, max: int | None = 1000) -> Hits:
        """``(line number, line)`` for lines matching the regex ``pattern``.

        At most ``max`` hits (default 1000; ``None`` for all). When the cap is hit, the
        result says so in its ``truncated`` attribute and in how it prints.
        """
        found = Hits(
            (n, raw.decode("utf-8", "replace"))
            for n, raw in self.search(
                pattern, ignore_case=ignore_case, max_hits=None if max is None else max + 1
            )
        )
        if max is not None and len(found) > max:
            del found[max:]
            print(f"[grep: more than {max} matching lines; showing the first {max}; use count()]")
        return found

    def count(self, pattern: str, ignore_case: bool = False) -> int:
        """Number of lines matching the regex ``pattern``."""
        return sum(1 for _ in self.search(pattern, ignore_case=ignore_case))

    # -- chunks and sources ------------------------------------------------------------------

    def chunks(
        self, lines: int | None = None, tokens: int | None = None, overlap: int = 0
    ) -> list[Chunk]:
        """Split into consecutive line ranges: ``lines`` per chunk, or about ``tokens``
        (4 characters a token) per chunk; ``overlap`` lines repeat between chunks."""
        if lines is None and tokens is None:
            tokens = 2000
        if lines is not None and lines <= 0 or tokens is not None and tokens <= 0:
            raise ValueError("chunk size must be positive")
        if overlap < 0:
            raise ValueError("overlap must be >= 0")
        out: list[Chunk] = []
        n = self.line_count
        if lines is not None:
            if overlap >= lines:
                raise ValueError("overlap must be smaller than the chunk")
            start = 1
            while start <= n:
                end = min(n, start + lines - 1)
                out.append(Chunk(start, end, self))
                if end == n:
                    break
                start = end + 1 - overlap
            return out
        budget = tokens * 4  # type: ignore[operator]
        start, k = 1, 1
        while start <= n:
            a = self._line_start(start - 1)
            target = a + budget
            if target >= self._size:
                out.append(Chunk(start, n, self))
                break
            end = start + max(0, self._count_newlines(a, target) - 1)
            end = max(start, end)
            out.append(Chunk(start, end, self))
            nxt = end + 1 - overlap
            start = nxt if nxt > start else end + 1
            k += 1
        return out

    def _count_newlines(self, a: int, b: int) -> int:
        return self._mm[a:b].count(b"\n")

    def sources(self) -> list[dict]:
        """The inputs this context was made from, each with its line range."""
        return [dict(s) for s in self.meta["sources"]]

    def source_of(self, line: int) -> tuple[str, int]:
        """``(path, line number in that file)`` for context line ``line``."""
        line = self._norm_line(line)
        firsts = [s["first_line"] for s in self.meta["sources"]]
        i = bisect.bisect_right(firsts, line) - 1
        if i < 0 or not 1 <= line <= self.line_count:
            raise IndexError(f"line {line} is outside 1..{self.line_count}")
        src = self.meta["sources"][i]
        return src["path"], line - src["first_line"] + 1

    def close(self) -> None:
        """Unmap and close the data file."""
        self._mm.close()
        self._file.close()
