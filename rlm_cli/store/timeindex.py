"""Per-line time index of a context: which lines fall in a time window, on unsorted logs.

Built once, streaming, from the lines of a context (``TimeIndex.build``) and cached in the
context folder; later opened memory-mapped (``TimeIndex.load``). Files, all written to a
temporary name and renamed into place, ``time.json`` last (its presence means "built"):

- ``time.idx``: float64 per line (native byte order), the UTC epoch of the line's own
  timestamp, NaN when it has none (lines without a timestamp inherit nothing, and relative
  stamps such as dmesg's count as none).
- ``time.sorted``: the 1-based line numbers that have a time, ordered by (epoch, line),
  as uint32 (uint64 when a context has 2**32 lines or more).
- ``time.json``: line count, lines with a time, item size, min/max, inversions, kinds.

Logs are not assumed to be in time order (Loghub HPC has over a thousand inversions in 2,000
lines): ``window(t0, t1)`` binary-searches ``time.sorted``. Memory while building is
bounded: lines are parsed and written out as they stream; sort keys are kept for at most
``RUN`` lines at a time (about 16 bytes of arrays plus ~40 bytes of transient Python list
per key, ~30 MB at the default), then sorted runs go to temporary files and are merged
with ``heapq.merge``. Input already in time order skips the sort altogether.
"""

from __future__ import annotations

import heapq
import json
import math
import mmap
import os
import sys
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from pathlib import Path

from rlm_cli.errors import StoreError
from rlm_cli.store.timestamps import TimestampParser, parse_time_expr

IDX_NAME = "time.idx"
SORTED_NAME = "time.sorted"
META_NAME = "time.json"
RUN = 1 << 19
"""Sort keys held in memory at once while building; more lines spill to sorted runs."""
_CHUNK = 1 << 16
_NAN = math.nan


class TimeIndex:
    """Line → epoch lookups and time-window queries over one context's lines."""

    def __init__(self, times, order, meta: dict, keep: list | None = None) -> None:
        self._times = times  # sequence of float, index = line - 1
        self._order = order  # sequence of int line numbers sorted by time
        self.meta = meta
        self._keep = keep or []  # open mmaps / files backing the views

    # ------------------------------------------------------------------ build
    @classmethod
    def build(
        cls, lines: Iterable[str], folder: Path, default_year: int | None = None
    ) -> TimeIndex:
        """Index ``lines`` (line number = position + 1) and write the files into ``folder``.

        Raises :class:`~rlm_cli.errors.StoreError` when the files cannot be written.
        """
        folder = Path(folder)
        try:
            return cls._build(lines, folder, default_year)
        except OSError as e:
            raise StoreError(f"cannot write the time index in {folder}: {e.strerror or e}") from e

    @classmethod
    def _build(cls, lines: Iterable[str], folder: Path, default_year: int | None) -> TimeIndex:
        folder.mkdir(parents=True, exist_ok=True)
        tag = f".tmp{os.getpid()}"
        idx_tmp = folder / (IDX_NAME + tag)
        sorted_tmp = folder / (SORTED_NAME + tag)
        meta_tmp = folder / (META_NAME + tag)
        parser = TimestampParser(default_year=default_year)
        parse = parser.parse_raw
        run_paths: list[tuple[Path, Path]] = []
        kinds: dict[str, int] = {}
        n = with_time = relative = inversions = 0
        prev = -math.inf
        lo, hi = math.inf, -math.inf
        buf = array("d")
        run_e = array("d")
        run_l = array("Q")
        try:
            with open(idx_tmp, "wb") as idx_f:
                for line in lines:
                    n += 1
                    if isinstance(line, (bytes, bytearray)):
                        line = line.decode("utf-8", "replace")
                    r = parse(line)
                    if r is None:
                        buf.append(_NAN)
                    else:
                        kind = r[4]
                        kinds[kind] = kinds.get(kind, 0) + 1
                        e = r[2]
                        if e is None:
                            relative += 1
                            buf.append(_NAN)
                        else:
                            buf.append(e)
                            with_time += 1
                            run_e.append(e)
                            run_l.append(n)
                            if e < prev:
                                inversions += 1
                            prev = e
                            if e < lo:
                                lo = e
                            if e > hi:
                                hi = e
                            if len(run_e) >= RUN:
                                run_paths.append(
                                    _write_run(
                                        folder, tag, len(run_paths), run_e, run_l, inversions > 0
                                    )
                                )
                                run_e, run_l = array("d"), array("Q")
                    if len(buf) >= _CHUNK:
                        buf.tofile(idx_f)
                        buf = array("d")
                buf.tofile(idx_f)
            itemsize = 4 if n < 2**32 else 8
            with open(sorted_tmp, "wb") as out:
                if not run_paths:
                    ordered = _sort_run(run_e, run_l, inversions > 0)[1]
                    _write_lines(out, ordered, itemsize)
                else:
                    if run_e:
                        run_paths.append(
                            _write_run(folder, tag, len(run_paths), run_e, run_l, inversions > 0)
                        )
                    run_e, run_l = array("d"), array("Q")
                    _merge_runs(run_paths, out, itemsize, sorted_in_order=inversions == 0)
            meta = {
                "version": 1,
                "lines": n,
                "with_time": with_time,
                "relative": relative,
                "itemsize": itemsize,
                "byteorder": sys.byteorder,
                "min": lo if with_time else None,
                "max": hi if with_time else None,
                "inversions": inversions,
                "kinds": kinds,
            }
            meta_tmp.write_text(json.dumps(meta, sort_keys=True))
            # readers trust the data files only beside a time.json: drop the old one first
            (folder / META_NAME).unlink(missing_ok=True)
            os.replace(idx_tmp, folder / IDX_NAME)
            os.replace(sorted_tmp, folder / SORTED_NAME)
            os.replace(meta_tmp, folder / META_NAME)
        finally:
            for p in [idx_tmp, sorted_tmp, meta_tmp, *(q for pair in run_paths for q in pair)]:
                try:
                    p.unlink()
                except FileNotFoundError:
                    pass
        loaded = cls.load(folder)
        assert loaded is not None
        return loaded

    # ------------------------------------------------------------------- load
    @classmethod
    def load(cls, folder: Path) -> TimeIndex | None:
        """Open a built index (memory-mapped), or None when it is missing or incomplete."""
        folder = Path(folder)
        try:
            meta = json.loads((folder / META_NAME).read_text())
        except (FileNotFoundError, ValueError):
            return None
        if meta.get("version") != 1:
            return None
        n, k, itemsize = meta["lines"], meta["with_time"], meta["itemsize"]
        try:
            if (folder / IDX_NAME).stat().st_size != 8 * n:
                return None
            if (folder / SORTED_NAME).stat().st_size != itemsize * k:
                return None
        except FileNotFoundError:
            return None
        keep: list = []
        swap = meta.get("byteorder", sys.byteorder) != sys.byteorder
        times = _open_view(folder / IDX_NAME, "d", keep, swap)
        order = _open_view(folder / SORTED_NAME, "I" if itemsize == 4 else "Q", keep, swap)
        return cls(times, order, meta, keep)

    def close(self) -> None:
        """Release the memory maps (the object is unusable afterwards)."""
        for v in (self._times, self._order):
            if isinstance(v, memoryview):
                v.release()
        for obj in self._keep:
            obj.close()
        self._keep = []

    def __enter__(self) -> TimeIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- queries
    @property
    def lines(self) -> int:
        """Number of lines indexed."""
        return self.meta["lines"]

    def time_of(self, line: int) -> float | None:
        """UTC epoch of ``line`` (1-based), None when the line has no absolute timestamp."""
        if not 1 <= line <= self.meta["lines"]:
            raise IndexError(f"line {line} is outside 1..{self.meta['lines']}")
        v = self._times[line - 1]
        return None if v != v else v

    def window(self, t0: float | str | None, t1: float | str | None) -> list[int]:
        """Line numbers (ascending) whose time is in [t0, t1]; None leaves that end open.

        Bounds are epoch seconds, or strings read by
        :func:`~rlm_cli.store.timestamps.parse_time_expr` (``"2026-11-23 04:00"``,
        ``"2h ago"``), which raises ValueError for text it cannot read.
        """
        if isinstance(t0, str):
            t0 = parse_time_expr(t0)
        if isinstance(t1, str):
            t1 = parse_time_expr(t1)
        order, times = self._order, self._times

        def key(ln: int) -> float:
            return times[ln - 1]

        lo = 0 if t0 is None else bisect_left(order, t0, key=key)
        hi = len(order) if t1 is None else bisect_right(order, t1, key=key)
        if hi <= lo:
            return []
        return sorted(order[lo:hi].tolist() if isinstance(order, memoryview) else order[lo:hi])

    def span(self) -> tuple[float | None, float | None]:
        """Earliest and latest time in the context (None, None when no line has one)."""
        return self.meta["min"], self.meta["max"]

    def count_with_time(self) -> int:
        """How many lines carry an absolute timestamp."""
        return self.meta["with_time"]


# ---------------------------------------------------------------- helpers
def _open_view(path: Path, code: str, keep: list, swap: bool):
    size = path.stat().st_size
    if size == 0:
        return array(code)
    if swap:
        arr = array(code)
        with open(path, "rb") as f:
            arr.frombytes(f.read())
        arr.byteswap()
        return arr
    f = open(path, "rb")  # noqa: SIM115 - kept open for the mmap's lifetime
    mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    keep.extend([mm, f])
    return memoryview(mm).cast(code)


def _sort_run(run_e: array, run_l: array, needs_sort: bool) -> tuple[array, array]:
    """(epochs, lines) of one run ordered by (epoch, line); a stable sort keeps line order."""
    if not needs_sort:
        return run_e, run_l
    perm = sorted(range(len(run_e)), key=run_e.__getitem__)
    return array("d", (run_e[i] for i in perm)), array("Q", (run_l[i] for i in perm))


def _write_run(
    folder: Path, tag: str, i: int, run_e: array, run_l: array, needs_sort: bool
) -> tuple[Path, Path]:
    e, ln = _sort_run(run_e, run_l, needs_sort)
    pe = folder / f"time.run{i}.e{tag}"
    pl = folder / f"time.run{i}.l{tag}"
    with open(pe, "wb") as f:
        e.tofile(f)
    with open(pl, "wb") as f:
        ln.tofile(f)
    return pe, pl


def _write_lines(out, lines: array, itemsize: int) -> None:
    if itemsize == 8:
        lines.tofile(out)
    else:
        for i in range(0, len(lines), _CHUNK):
            array("I", lines[i : i + _CHUNK]).tofile(out)


def _read_run(pe: Path, pl: Path) -> Iterator[tuple[float, int]]:
    with open(pe, "rb") as fe, open(pl, "rb") as fl:
        while True:
            e, ln = array("d"), array("Q")
            e.frombytes(fe.read(8 * _CHUNK))
            ln.frombytes(fl.read(8 * _CHUNK))
            if not e:
                return
            yield from zip(e, ln, strict=True)


def _merge_runs(runs: list[tuple[Path, Path]], out, itemsize: int, sorted_in_order: bool) -> None:
    """Write the line numbers of all runs, merged by (epoch, line), to ``out``."""
    code = "I" if itemsize == 4 else "Q"
    buf = array(code)
    if sorted_in_order:
        merged: Iterable[tuple[float, int]] = (x for r in runs for x in _read_run(*r))
    else:
        merged = heapq.merge(*(_read_run(*r) for r in runs))
    for _, ln in merged:
        buf.append(ln)
        if len(buf) >= _CHUNK:
            buf.tofile(out)
            buf = array(code)
    buf.tofile(out)
