"""The `context` object the root model uses: lines, characters, search, chunks, sources, time."""

from __future__ import annotations

import os
import re
import time
from datetime import datetime, timezone

import pytest

from rlm_cli.errors import StoreError
from rlm_cli.store.context import Context, required_literal

LINES = [
    "2026-11-23T04:00:00Z node01 boot ok",
    "2026-11-23T04:05:00Z node02 ERROR fan FAN1 low",
    "continuation without time",
    "2026-11-23T03:59:00Z node03 late line (out of order)",
    "2026-11-23T04:10:00Z node01 error again",
    "Error Error twice on one line",
]
RAW = "".join(f"{x}\n" for x in LINES).encode()


@pytest.fixture
def ctx(make_context) -> Context:
    return make_context({"a.log": RAW})


def test_len_lines_and_negative(ctx):
    assert ctx.line_count == 6
    assert len(ctx) == len(RAW.decode())
    assert list(ctx.lines(2, 3)) == LINES[1:3]
    assert list(ctx.lines(-2, -1)) == LINES[-2:]
    assert list(ctx.lines(5, 100)) == LINES[4:]
    assert list(ctx.lines(4, 3)) == []
    assert ctx.line(-1) == LINES[-1]
    with pytest.raises(IndexError):
        ctx.line(7)
    assert str(ctx.lines(1, 2)).splitlines()[1] == f"2: {LINES[1]}"
    assert list(ctx.head(2)) == LINES[:2] and list(ctx.tail(1)) == LINES[-1:]
    assert list(ctx.around(3, before=1, after=1)) == LINES[1:4]
    assert list(ctx) == LINES


def test_char_slicing(ctx):
    text = RAW.decode()
    assert ctx[0:10] == text[0:10]
    assert ctx[-5:] == text[-5:]
    assert ctx[5] == text[5]
    with pytest.raises(ValueError):
        ctx[0:10:2]


def test_grep_count_and_cap(ctx, capsys):
    hits = ctx.grep("error", ignore_case=True)
    assert [n for n, _ in hits] == [2, 5, 6]
    assert ctx.count("Error") == 1  # lines, not occurrences
    assert ctx.count("error", ignore_case=True) == 3
    capped = ctx.grep("node", max=2)
    assert len(capped) == 2 and capped.truncated
    assert "more than 2 matching lines" in capsys.readouterr().out
    full = ctx.grep("node", max=None)
    assert len(full) == 4 and not full.truncated
    assert str(hits).splitlines()[0] == f"2: {LINES[1]}"


def test_grep_also_keeps_the_lines_a_second_regex_matches_too(ctx):
    """grep P | grep H: the lines of one host that say something, in one call."""
    both = ctx.grep("error", ignore_case=True, also="node0[12]")
    assert both and all(
        "error" in line.lower() and re.search("node0[12]", line) for _, line in both
    )
    assert [n for n, _ in both] == [
        n for n, line in ctx.grep("error", ignore_case=True) if re.search("node0[12]", line)
    ]
    assert len(ctx.grep("node", also="node", max=1)) == 1  # max counts kept lines
    with pytest.raises(ValueError, match="bad regex"):
        ctx.grep("node", also="(")


def test_a_slice_of_hits_says_it_is_a_sample(ctx):
    """The 1.5B model printed len(hits), then hits[:2], and answered 2."""
    hits = ctx.grep("error", ignore_case=True)
    assert str(hits[:2]).splitlines() == ["[2 of 3 hits shown]", f"2: {LINES[1]}", f"5: {LINES[4]}"]
    assert str(hits[:2][:1]).splitlines()[0] == "[1 of 3 hits shown]"
    assert str(hits[:5]) == str(hits) and str(hits[:0]) == "[0 of 3 hits shown]"
    assert hits[1] == (5, LINES[4]) and isinstance(hits[:1], list)
    capped = ctx.grep("node", max=2)  # more than 2: a cap cut it
    assert str(capped[:1]).splitlines()[0] == "[1 of 2+ hits shown]"


def test_bad_regex_is_a_value_error(ctx):
    with pytest.raises(ValueError, match="bad regex"):
        ctx.grep("(")


def _brute(lines: list[str], pattern: str, flags: int = 0) -> list[int]:
    rx = re.compile(pattern, flags)
    return [i + 1 for i, line in enumerate(lines) if rx.search(line)]


@pytest.mark.parametrize(
    "pattern",
    [
        "node0[12]",  # regex with a required literal (prefilter path)
        "FAN1",  # plain literal
        "^2026",  # anchored
        "low$",
        r"ok\s+2026",  # must not match across the line end
        r"(ERROR|error)",  # alternation: no required literal
        "",  # empty pattern matches every line
        r"\d{2}:\d{2}:00Z node0[13]",
        "(?i)Node01 BOOT",  # inline case folding
        "fan fan1",
    ],
)
def test_search_agrees_with_per_line_regex(make_context, small_blocks, monkeypatch, pattern):
    monkeypatch.setattr(Context, "FOLD_STEP", 97)  # case-insensitive scans cross many steps
    lines = [LINES[i % len(LINES)] + f" #{i}" for i in range(300)]
    ctx = make_context({"big.log": "".join(x + "\n" for x in lines).encode()})
    assert [n for n, _ in ctx.search(pattern)] == _brute(lines, pattern)
    assert ctx.count(pattern) == len(_brute(lines, pattern))
    got = [(n, raw.decode()) for n, raw in ctx.search(pattern, ignore_case=True)]
    assert got == [(n, lines[n - 1]) for n in _brute(lines, pattern, re.IGNORECASE)]


def test_required_literal():
    def lit(p: str, flags: int = 0):
        return required_literal(re.compile(p.encode(), flags))

    assert lit(r"Temperature CPU\d Temp.*Critical") == (b"Temperature CPU", False)
    assert lit(r"ab|cd") is None
    assert lit(r"(?i)abCDef") == (b"abcdef", True)
    assert lit(r"abCDef", re.IGNORECASE) == (b"abcdef", True)
    assert lit(r"x\d+y") is None  # runs shorter than 2 bytes are not worth it


def test_chunks_by_lines_and_tokens(make_context):
    lines = [f"line {i:04d} " + "x" * (i % 30) for i in range(1, 201)]
    ctx = make_context({"a.log": "".join(x + "\n" for x in lines).encode()})
    chunks = ctx.chunks(lines=50, overlap=10)
    assert [(c.start, c.end) for c in chunks[:2]] == [(1, 50), (41, 90)]
    assert chunks[-1].end == 200
    assert chunks[0].text.splitlines() == lines[:50]
    by_tokens = ctx.chunks(tokens=100)
    covered = [n for c in by_tokens for n in range(c.start, c.end + 1)]
    assert covered == list(range(1, 201))  # every line once, in order
    assert all(len(c.text) <= 400 or c.start == c.end for c in by_tokens)
    with pytest.raises(ValueError):
        ctx.chunks(lines=10, overlap=10)


def test_sources_and_source_of(make_context):
    ctx = make_context({"a.log": b"a1\na2\n", "b.log": b"b1\nb2\nb3\n"})
    srcs = ctx.sources()
    assert [(s["first_line"], s["last_line"]) for s in srcs] == [(1, 2), (3, 5)]
    path, n = ctx.source_of(4)
    assert path.endswith("b.log") and n == 2
    assert ctx.source_of(-1)[1] == 3
    with pytest.raises(IndexError):
        ctx.source_of(6)


def test_window_on_unsorted_lines(ctx):
    w = ctx.window("2026-11-23 03:58", "2026-11-23T04:01:00Z")
    assert [n for n, _ in w] == [1, 4]
    assert w.total == 2 and not w.truncated
    t = datetime(2026, 11, 23, 4, 5, tzinfo=timezone.utc).timestamp()
    assert [n for n, _ in ctx.window(t, None)] == [2, 5]
    assert [n for n, _ in ctx.window(None, datetime(2026, 11, 23, 3, 59))] == [4]  # naive = UTC
    assert ctx.time_of(3) is None and ctx.time_of(1) == pytest.approx(t - 300)
    assert str(w).splitlines()[0] == f"1: {LINES[0]}"
    assert (ctx.path / "timeindex" / "time.json").exists()  # cached for the next open
    with pytest.raises(ValueError):
        ctx.window("2026-11-23 05:00", "2026-11-23 04:00")
    with pytest.raises(ValueError, match="cannot read"):
        ctx.window("yesterday-ish", None)


def test_window_cap_says_so(make_context, capsys):
    base = int(time.time()) - 3600
    lines = [
        datetime.fromtimestamp(base + i, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") + f" e{i}"
        for i in range(50)
    ]
    ctx = make_context({"a.log": "".join(x + "\n" for x in lines).encode()})
    w = ctx.window("2 hours ago", "now", max=10)
    assert len(w) == 10 and w.total == 50 and w.truncated
    assert "50 lines in the window; showing the first 10" in capsys.readouterr().out
    assert len(ctx.window("2 hours ago", None, max=None)) == 50


def test_window_when_the_store_is_read_only(ctx, monkeypatch):
    from rlm_cli.store import timeindex

    real_build = timeindex.TimeIndex.build.__func__
    calls = []

    def build(cls, lines, folder, default_year=None):
        calls.append(folder)
        if folder == ctx.path / "timeindex":
            raise PermissionError(13, "Read-only file system")
        return real_build(cls, lines, folder, default_year)

    monkeypatch.setattr(timeindex.TimeIndex, "build", classmethod(build))
    assert [n for n, _ in ctx.window("2026-11-23 04:05", "2026-11-23 04:05")] == [2]
    assert len(calls) == 2 and not (ctx.path / "timeindex" / "time.json").exists()


def test_random_line_reads_are_fast(make_context):
    lines = [f"{i:08d} " + "y" * (i % 120) for i in range(20_000)]
    ctx = make_context({"a.log": "".join(x + "\n" for x in lines).encode()})
    import random

    rng = random.Random(1)
    picks = [rng.randrange(1, 20_001) for _ in range(500)]
    t = time.process_time()  # CPU time: other jobs on the machine do not count
    for n in picks:
        assert ctx.lines(n, n)[0] == lines[n - 1]
    assert (time.process_time() - t) / 500 < 0.002


def test_damaged_context_is_refused(ctx, store):
    with open(ctx.path / "data", "ab") as f:
        f.write(b"garbage\n")
    with pytest.raises(StoreError, match="damaged"):
        Context(ctx.path)
    assert store.damage(ctx.path) is not None


@pytest.mark.parametrize("pattern", [r"ok\s+2026", r"ok\n2026", r"k$\s^2", "ok\n2026"])
def test_matches_never_span_lines(make_context, pattern):
    ctx = make_context({"a.log": b"boot ok\n2026 next\nok 2026 same line\n"})
    assert [n for n, _ in ctx.search(pattern)] == ([3] if pattern == r"ok\s+2026" else [])


def test_window_with_nowhere_to_write(ctx, monkeypatch):
    from rlm_cli.store import timeindex

    def build(cls, lines, folder, default_year=None):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(timeindex.TimeIndex, "build", classmethod(build))
    assert [n for n, _ in ctx.window("2026-11-23 03:58", "2026-11-23T04:01:00Z")] == [1, 4]
    assert ctx.time_index().span() == (ctx.time_of(4), ctx.time_of(5))


@pytest.mark.parametrize(
    "pattern", ["node0[12]", "FAN1", "^2026", "", r"(ERROR|error)", "fan fan1"]
)
def test_count_split_over_processes(make_context, monkeypatch, pattern):
    lines = [LINES[i % len(LINES)] + f" #{i}" for i in range(999)]
    ctx = make_context({"big.log": "".join(x + "\n" for x in lines).encode()})
    monkeypatch.setattr(Context, "PARALLEL_BYTES", 1)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(5)), raising=False)
    assert ctx.count(pattern) == len(_brute(lines, pattern))
    assert ctx.count(pattern, ignore_case=True) == len(_brute(lines, pattern, re.IGNORECASE))

    def no_fork():
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)  # e.g. the sandbox: counted here instead
    assert ctx.count(pattern) == len(_brute(lines, pattern))
