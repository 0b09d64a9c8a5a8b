"""Read a stored context without loading it: characters, lines, search, sources.

This is the object the root model sees as ``context`` in the REPL. The data file is
memory-mapped; the block index maps line numbers and character offsets to byte
offsets, so any line is found with one bisect and a short scan. Line numbers are
1-based and ranges inclusive, like ``grep -n`` and ``sed -n a,bp``.
"""

from __future__ import annotations

import bisect
import itertools
import mmap
import os
import re
import time
from array import array
from collections.abc import Iterator
from datetime import timezone
from pathlib import Path

import orjson

from rlm_cli.errors import StoreError
from rlm_cli.store.layout import BLOCK_BYTES, BLOCKS_FILE, DATA_FILE, META_FILE, TIME_DIR
from rlm_cli.store.timeindex import TimeIndex
from rlm_cli.store.timestamps import TimestampParser, parse_time_expr

_REGEX_META = set(".^$*+?{}[]\\|()")
WINDOW_MAX = 1000
"""Default cap on the lines ``window()`` returns (it says so when it cuts)."""
LOG_CHARS_PER_TOKEN = 2.0
"""Log text is dense in tokens: 1.7-2.2 characters a token measured on the sample logs, the
builtin bench logs and Loghub's with the Qwen2.5 and Gemma-3 tokenizers (digits, IPs and hex
split finely), not the 4 of prose. Used where no model has measured the log."""
DEFAULT_CHUNK_TOKENS = 2000
"""``chunks()`` with no size, where the run has not set one (its sub-model's piece)."""


class LineList(list):
    """A list of lines that prints with line numbers (``n: text``)."""

    def __init__(self, items=(), start: int = 1) -> None:
        super().__init__(items)
        self.start = start

    def __str__(self) -> str:
        return "\n".join(f"{self.start + i}: {line}" for i, line in enumerate(self))

    __repr__ = __str__


class Hits(list):
    """``(line number, line)`` pairs that print like ``grep -n``.

    ``truncated`` is True when a cap cut the result; ``total`` is how many there were
    (when known).
    """

    truncated = False
    total: int | None = None
    sliced_from: int | None = None
    """For a slice (``hits[:2]``): how many hits the list it was cut from held."""
    sliced_more = False
    """For a slice: the list it was cut from was itself cut by a cap (there were more)."""

    def __str__(self) -> str:
        lines = "\n".join(f"{n}: {line}" for n, line in self)
        if self.sliced_from is not None and len(self) < self.sliced_from:
            # the 1.5B model printed len(hits), then hits[:2], and answered 2: a sample
            # says it is one
            of = f"{self.sliced_from}+" if self.sliced_more else str(self.sliced_from)
            return f"[{len(self)} of {of} hits shown]" + ("\n" + lines if lines else "")
        return lines

    __repr__ = __str__

    def __getitem__(self, key):
        got = super().__getitem__(key)
        if not isinstance(key, slice):
            return got
        part = Hits(got)
        part.sliced_from = self.sliced_from or len(self)
        part.sliced_more = self.sliced_more or self.truncated
        return part


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

    def __str__(self) -> str:
        """Its text, so ``f"...{chunk}"`` carries the lines (the repr names the range)."""
        return self.text

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
    "window",
    "time_of",
)
"""The names the model's code may use on ``context`` (see :class:`rlm_cli.repl.view.ContextView`).
Add a method here to give it to the model, and document it in prompts/root.yaml."""


TEMPLATE_WILDCARD = "<*>"
"""How the log map writes a variable part of a template (``Memory #<*> | Correctable ECC``)."""


def template_regex(template: str) -> str:
    """A regex matching the lines of a log-map template: the text between ``<*>`` wildcards
    is literal (``|``, ``(``, ``#`` mean themselves), each wildcard matches anything on the
    line, and a run of spaces matches any run of whitespace."""
    parts = [re.escape(p) for p in template.split(TEMPLATE_WILDCARD)]
    body = ".*?".join(re.sub(r"(?:\\ )+", r"\\s+", p) for p in parts)
    return body


def compile_pattern(pattern: str, ignore_case: bool = False) -> re.Pattern[bytes]:
    """Compile a user or model regex for searching the raw bytes, line by line.

    A pattern holding ``<*>`` is a template copied from the log map, not a regex (as a
    regex ``<*>`` means "any '<' then '>'", which never is what was meant): it is turned
    into one with :func:`template_regex`.
    """
    flags = re.MULTILINE | (re.IGNORECASE if ignore_case else 0)
    if TEMPLATE_WILDCARD in pattern:
        pattern = template_regex(pattern)
    try:
        return re.compile(pattern.encode("utf-8", "surrogateescape"), flags)
    except re.error as e:
        raise ValueError(
            f"bad regex {pattern!r}: {e} (escape special characters, e.g. re.escape(text))"
        ) from None


def required_literal(rx: re.Pattern[bytes]) -> tuple[bytes, bool] | None:
    """The longest run of plain bytes every match of ``rx`` must contain, and whether the
    pattern ignores case (the run is then lower-cased); None when there is none.

    Only the top level of the pattern is looked at (a concatenation), so the run is
    certainly required; alternations and groups give nothing. Finding it with ``find``
    and running the regex only on the lines that contain it is how grep is fast, too.
    """
    try:
        try:
            from re import _constants as sre_c  # type: ignore[attr-defined]
            from re import _parser as sre_p  # type: ignore[attr-defined]
        except ImportError:  # Python 3.10
            import sre_constants as sre_c  # type: ignore[no-redef]
            import sre_parse as sre_p  # type: ignore[no-redef]
        parsed = sre_p.parse(rx.pattern, rx.flags)
        folded = bool((rx.flags | parsed.state.flags) & sre_c.SRE_FLAG_IGNORECASE)
        best, run = b"", bytearray()
        for op, arg in parsed:
            if op == sre_c.LITERAL:
                run.append(arg)
                continue
            if len(run) > len(best):
                best = bytes(run)
            run.clear()
        if len(run) > len(best):
            best = bytes(run)
    except Exception:  # noqa: BLE001 - a private parser: any surprise just disables the shortcut
        return None
    if len(best) < 2 or b"\n" in best:
        return None
    return (best.lower() if folded else best), folded


def to_epoch(t) -> float | None:
    """Epoch seconds from a number, a ``datetime``, a time expression string, or None."""
    if t is None:
        return None
    if isinstance(t, bool):
        raise ValueError("a time must be a number, a string or a datetime")
    if isinstance(t, (int, float)):
        return float(t)
    if hasattr(t, "timestamp"):
        if getattr(t, "tzinfo", 1) is None:  # naive datetime: UTC, like zone-less strings
            t = t.replace(tzinfo=timezone.utc)
        return float(t.timestamp())
    return parse_time_expr(str(t))


class Context:
    """A stored log, addressable by characters and by 1-based lines."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder)
        try:
            self.meta: dict = orjson.loads((self.path / META_FILE).read_bytes())
            self._file = open(self.path / DATA_FILE, "rb")  # noqa: SIM115 - lives with the object
            blocks = array("Q")
            blocks.frombytes((self.path / BLOCKS_FILE).read_bytes())
        except (OSError, orjson.JSONDecodeError, ValueError) as e:
            raise StoreError(f"context {self.path.name} cannot be opened: {e}") from e
        self.id: str = self.meta["id"]
        self._size = os.fstat(self._file.fileno()).st_size
        if self._size != self.meta["bytes"]:
            self._file.close()
            raise StoreError(
                f"context {self.id} is damaged (data is {self._size:,} bytes, expected "
                f"{self.meta['bytes']:,}); remove it with: rlm contexts rm {self.id}"
            )
        self._mm = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
        self._boff = blocks[0::3]
        self._bline = blocks[1::3]
        self._bchar = blocks[2::3]
        self._tindex = None
        self.chars_per_token = LOG_CHARS_PER_TOKEN
        """Characters a token of this log for ``chunks(tokens=)``: a run sets its sub-model's
        measured figure."""
        self.chunk_tokens = DEFAULT_CHUNK_TOKENS
        """``chunks()``'s size with no argument: a run sets what fits one sub-call."""

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
        if k <= 0:
            return 0
        b = bisect.bisect_right(self._bline, k) - 1
        return self._advance(self._boff[b], k - self._bline[b])

    def _advance(self, pos: int, k: int) -> int:
        """Byte offset of the line ``k`` lines after the line starting at ``pos``."""
        find = self._mm.find
        for _ in range(k):
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
        n = end - start + 1
        b = self._advance(a, n) if n <= 64 else self._line_start(end)
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

    def _spans(
        self, pattern: str, ignore_case: bool, lo: int = 0, hi: int | None = None
    ) -> Iterator[tuple[int, int]]:
        """Byte spans ``(line start, line end)`` of the lines matching ``pattern``, in order,
        among the lines in bytes ``lo..hi`` (both line starts; default: everything).

        A pattern without regex syntax is found with ``find`` (memchr/two-way in C); a
        regex with a required literal is prefiltered by it and checked on candidate lines
        only; other regexes scan the mapped bytes with ``re``. Matches never span lines.
        """
        mm = self._mm
        hi = self._size if hi is None else hi
        find, rfind = mm.find, mm.rfind
        literal = None
        if not ignore_case and not (_REGEX_META & set(pattern)) and "\n" not in pattern:
            literal = pattern.encode("utf-8", "surrogateescape") or None
        if literal is not None:
            pos = lo
            while True:
                s = find(literal, pos, hi)
                if s < 0:
                    return
                le = find(b"\n", s)
                yield rfind(b"\n", pos, s) + 1 or pos, le
                pos = le + 1
        rx = compile_pattern(pattern, ignore_case)
        found = required_literal(rx)
        search = rx.search
        pos = lo
        if found is not None and found[1]:
            yield from self._spans_folded(rx, found[0], lo, hi)
            return
        if found is not None:
            need = found[0]
            while True:
                s = find(need, pos, hi)
                if s < 0:
                    return
                ls = rfind(b"\n", pos, s) + 1 or pos
                le = find(b"\n", s)
                if search(mm, ls, le) is not None:
                    yield ls, le
                pos = le + 1
        while pos < hi:
            m = search(mm, pos, hi)
            if m is None:
                return
            s = m.start()
            if s >= hi:
                return
            ls = rfind(b"\n", pos, s) + 1 or pos
            le = find(b"\n", s)
            if m.end() <= le or search(mm, ls, le) is not None:
                yield ls, le
            pos = le + 1

    FOLD_STEP = 4 << 20
    """Bytes lower-cased at a time by case-insensitive searches."""

    def _spans_folded(
        self, rx: re.Pattern[bytes], need: bytes, lo: int, hi: int
    ) -> Iterator[tuple[int, int]]:
        """Matching line spans for a case-insensitive ``rx`` that requires ``need``
        (lower case): lower-case the data a few MB at a time, ``find`` the literal there,
        check the regex on the original line."""
        mm, search = self._mm, rx.search
        pos = lo
        while pos < hi:
            end = min(hi, pos + self.FOLD_STEP)
            if end < hi:
                nl = mm.rfind(b"\n", pos, end)
                end = nl + 1 if nl >= 0 else mm.find(b"\n", end) + 1
            low = mm[pos:end].lower()
            i = 0
            while True:
                s = low.find(need, i)
                if s < 0:
                    break
                ls = low.rfind(b"\n", i, s) + 1 or i
                le = low.find(b"\n", s)
                if search(mm, pos + ls, pos + le) is not None:
                    yield pos + ls, pos + le
                i = le + 1
            pos = end

    def search(
        self, pattern: str, *, ignore_case: bool = False, max_hits: int | None = None
    ) -> Iterator[tuple[int, bytes]]:
        """Yield ``(line number, raw line)`` for every line matching ``pattern`` (a regex).

        One scan over the memory-mapped bytes; each matching line is reported once. This
        is the one search behind ``context.grep``, ``context.count`` and ``rlm grep``.
        """
        mm = self._mm
        counted_to, line_no = 0, 0  # line_no: newlines before counted_to
        near = 4 * BLOCK_BYTES
        for hits, (ls, le) in enumerate(self._spans(pattern, ignore_case), 1):
            if ls - counted_to > near:  # far: count from the block that holds ls
                b = bisect.bisect_right(self._boff, ls) - 1
                counted_to, line_no = self._boff[b], self._bline[b]
            if ls > counted_to:
                line_no += mm[counted_to:ls].count(b"\n")
            yield line_no + 1, mm[ls:le]
            counted_to, line_no = le + 1, line_no + 1
            if max_hits is not None and hits >= max_hits:
                return

    def grep(
        self,
        pattern: str,
        ignore_case: bool = False,
        max: int | None = 1000,
        also: str | None = None,
    ) -> Hits:
        """``(line number, line)`` for lines matching the regex ``pattern``.

        At most ``max`` hits (default 1000; ``None`` for all). When the cap is hit, the
        result's ``truncated`` attribute is set and a notice is printed. ``also``: a second
        regex each line must match too, anywhere in it (``also="cn149"``: that host's lines).
        """
        cap = None if max is None else max + 1
        hits = self.search(pattern, ignore_case=ignore_case, max_hits=None if also else cap)
        if also:
            second = compile_pattern(also, ignore_case)
            hits = itertools.islice(((n, raw) for n, raw in hits if second.search(raw)), cap)
        found = Hits((n, raw.decode("utf-8", "replace")) for n, raw in hits)
        if max is not None and len(found) > max:
            del found[max:]
            found.truncated = True
            print(f"[grep: more than {max} matching lines; showing the first {max}; use count()]")
        return found

    PARALLEL_BYTES = 64 << 20
    """Contexts at least this big are counted by several processes (one per CPU)."""

    def count(self, pattern: str, ignore_case: bool = False) -> int:
        """Number of lines matching the regex ``pattern`` (like ``grep -c``).

        Big contexts are split at line starts and counted by forked processes, one per
        available CPU, when the system allows it (not in the sandboxed worker).
        """
        compile_pattern(pattern, ignore_case)  # a bad regex fails here, in this process
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        if self._size >= self.PARALLEL_BYTES and cpus > 1:
            n = self._count_forked(pattern, ignore_case, min(cpus, 16))
            if n is not None:
                return n
        return self._count_range(pattern, ignore_case, 0, self._size)

    def _count_range(self, pattern: str, ignore_case: bool, lo: int, hi: int) -> int:
        n = 0
        for _ in self._spans(pattern, ignore_case, lo, hi):
            n += 1
        return n

    def _count_forked(self, pattern: str, ignore_case: bool, parts: int) -> int | None:
        """Count with ``parts`` processes (this one does the first range); None if no fork."""
        cuts = [0]
        for k in range(1, parts):
            nl = self._mm.find(b"\n", self._size * k // parts)
            cuts.append(max(cuts[-1], nl + 1))
        cuts.append(self._size)
        children: list[tuple[int, int]] = []
        done_here = [(cuts[0], cuts[1])]
        for a, b in zip(cuts[1:-1], cuts[2:]):
            try:
                r, w = os.pipe()
                pid = os.fork()
            except OSError:
                if not children:
                    return None
                done_here.append((a, b))
                continue
            if pid == 0:  # child: count one range, report it, leave at once
                code = 0
                try:
                    os.close(r)
                    os.write(w, str(self._count_range(pattern, ignore_case, a, b)).encode())
                except BaseException:  # noqa: BLE001 - the parent sees no number
                    code = 1
                os._exit(code)
            os.close(w)
            children.append((pid, r))
        total = sum(self._count_range(pattern, ignore_case, a, b) for a, b in done_here)
        failed = False
        for pid, r in children:
            with os.fdopen(r, "rb") as f:
                got = f.read()
            _, status = os.waitpid(pid, 0)
            if os.waitstatus_to_exitcode(status) != 0 or not got:
                failed = True
            else:
                total += int(got)
        if failed:
            raise StoreError("a counting process failed; try again")
        return total

    # -- time ------------------------------------------------------------------------------

    def time_index(self) -> TimeIndex:
        """The per-line time index: loaded from ``<context>/timeindex/``, else built there.

        Year-less stamps (syslog) get the year the context was stored in, rolling over at
        December → January, or the year before when that would put the log's end in the
        future (the same rule as the log map's, which shares the folder). Where the store
        cannot be written (the sandboxed worker), it is built in a temporary folder or, if
        there is none, in memory.
        """
        if self._tindex is None:
            folder = self.path / TIME_DIR
            idx = TimeIndex.load(folder)
            if idx is None:
                if self.line_count > 200_000:  # minutes on big logs: say so, do not go silent
                    print(
                        f"[time index: reading the timestamps of {self.line_count:,} lines once; "
                        "later window() calls are instant]"
                    )
                try:
                    idx = self._build_time_index(folder)
                except OSError:
                    try:
                        import tempfile  # (not importable in the sandbox: then in memory)

                        with tempfile.TemporaryDirectory(prefix="rlm-time-") as d:
                            idx = self._build_time_index(Path(d))
                    except (OSError, ImportError):
                        idx = self._time_index_in_memory()
            self._tindex = idx
        return self._tindex

    def _build_time_index(self, folder: Path) -> TimeIndex:
        created = float(self.meta.get("created") or time.time())
        year = time.gmtime(created).tm_year
        idx = TimeIndex.build(self.iter_bytes_lines(), folder, default_year=year)
        last = idx.span()[1]
        if last is not None and last > created + 2 * 86400:
            idx.close()
            idx = TimeIndex.build(self.iter_bytes_lines(), folder, default_year=year - 1)
        return idx

    def _time_index_in_memory(self) -> TimeIndex:
        """The same index as ``TimeIndex.build`` makes, held in arrays (no files)."""
        created = float(self.meta.get("created") or time.time())
        year = time.gmtime(created).tm_year
        times = self._times_in_memory(year)
        if times and max((t for t in times if t == t), default=0) > created + 2 * 86400:
            times = self._times_in_memory(year - 1)
        timed = [i + 1 for i, t in enumerate(times) if t == t]
        order = array("Q", sorted(timed, key=lambda ln: times[ln - 1]))
        meta = {
            "version": 1,
            "lines": len(times),
            "with_time": len(order),
            "min": times[order[0] - 1] if order else None,
            "max": times[order[-1] - 1] if order else None,
        }
        return TimeIndex(times, order, meta)

    def _times_in_memory(self, year: int) -> array:
        parse = TimestampParser(default_year=year).parse_raw
        nan = float("nan")
        times = array("d")
        for raw in self.iter_bytes_lines():
            r = parse(raw.decode("utf-8", "replace"))
            times.append(r[2] if r is not None and r[2] is not None else nan)
        return times

    def time_of(self, line: int) -> float | None:
        """UTC epoch seconds of line ``line``'s own timestamp, None when it has none."""
        line = self._norm_line(line)
        return self.time_index().time_of(line)

    def window(self, t0=None, t1=None, max: int | None = WINDOW_MAX) -> Hits:
        """``(line number, line)`` for lines whose timestamp lies in ``[t0, t1]``.

        ``t0``/``t1``: epoch seconds, ``datetime``, or strings like ``"2026-11-23 04:00"``
        (zone-less means UTC), ``"2026-11-23"``, ``"30 min ago"``; None leaves an end open.
        Works on logs out of time order (a time index, built on first use). Lines without
        their own timestamp are not included. At most ``max`` lines (None for all); when
        more fall in the window it prints a notice and ``truncated`` is set.
        """
        a, b = to_epoch(t0), to_epoch(t1)
        if a is not None and b is not None and b < a:
            raise ValueError(f"window end {t1!r} is before its start {t0!r}")
        numbers = self.time_index().window(a, b)
        total = len(numbers)
        if max is not None and total > max:
            numbers = numbers[:max]
        out = Hits((n, self.line(n)) for n in numbers)
        out.total = total
        out.truncated = len(out) < total
        if out.truncated:
            print(
                f"[window: {total:,} lines in the window; showing the first {len(out):,}; "
                "narrow the window or pass max=None]"
            )
        return out

    # -- chunks and sources ------------------------------------------------------------------

    def chunks(
        self, lines: int | None = None, tokens: int | None = None, overlap: int = 0
    ) -> list[Chunk]:
        """Split into consecutive line ranges: ``lines`` per chunk, or about ``tokens`` per
        chunk (at ``chars_per_token``; with neither, ``chunk_tokens``: in a run, a piece that
        fits one sub-call); ``overlap`` lines repeat between chunks."""
        if lines is None and tokens is None:
            tokens = self.chunk_tokens
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
        budget = max(1, int(tokens * self.chars_per_token))  # type: ignore[operator]
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
