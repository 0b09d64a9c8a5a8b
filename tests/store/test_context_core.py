"""The context store's core: line ends, characters, lines, search, sources, dedupe."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest

from rlm_cli.errors import InputError
from rlm_cli.store.context import Context
from rlm_cli.store.ingest import ContextWriter, ingest_streams


def _build(root: Path, *sources: tuple[str, bytes]) -> Context:
    meta = ingest_streams(root, [(n, io.BytesIO(b), None) for n, b in sources])
    return Context(root / meta["id"])


def _expected_text(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


def test_crlf_lone_cr_no_final_newline_and_invalid_utf8(tmp_path: Path) -> None:
    ctx = _build(tmp_path, ("a.log", b"one\r\ntwo\rthree"), ("b.log", b"\xff\xfebad\nok\n"))
    assert ctx.line_count == 5
    assert list(ctx) == ["one", "two", "three", "\ufffd\ufffdbad", "ok"]
    a, b = ctx.sources()
    assert (a["first_line"], a["last_line"], a["final_newline"]) == (1, 3, False)
    assert (b["first_line"], b["last_line"]) == (4, 5)
    assert ctx.source_of(4) == ("b.log", 1)


def test_lines_chars_and_slices_match_a_plain_string(tmp_path: Path) -> None:
    rnd = random.Random(1)
    lines = [
        f"{i} " + "".join(rnd.choice("abcé€ xyz") for _ in range(rnd.randrange(0, 200)))
        for i in range(6000)
    ]
    ctx = _build(tmp_path, ("x.log", "\n".join(lines).encode()))
    text = _expected_text(lines)
    assert len(ctx) == len(text)
    for n in (1, 2, 999, 3000, 5999, 6000, -1):
        assert ctx.line(n) == lines[n - 1 if n > 0 else n]
    assert ctx.lines(10, 20) == lines[9:20]
    assert ctx.lines(-3, -1) == lines[-3:]
    assert str(ctx.lines(1, 2)).startswith("1: 0 ")
    for _ in range(500):
        a = rnd.randrange(len(text))
        b = a + rnd.randrange(400)
        assert ctx[a:b] == text[a:b]
    assert ctx[-5:] == text[-5:]
    assert ctx[7] == text[7]


def test_grep_count_and_caps(tmp_path: Path) -> None:
    lines = [f"node{i % 12:02d} event {'ECC' if i % 5 == 0 else 'fan'} {i}" for i in range(2000)]
    ctx = _build(tmp_path, ("x.log", "\n".join(lines).encode()))
    hits = ctx.grep("node03 .*ECC")
    assert [n for n, _ in hits] == [
        i + 1 for i, ln in enumerate(lines) if ln.startswith("node03") and "ECC" in ln
    ]
    assert all(lines[n - 1] == t for n, t in hits)
    assert ctx.count("ECC") == sum("ECC" in ln for ln in lines)
    assert ctx.count("ecc", ignore_case=True) == ctx.count("ECC")
    assert ctx.count("^node01 ") == sum(ln.startswith("node01 ") for ln in lines)
    assert len(ctx.grep("event", max=10)) == 10
    with pytest.raises(ValueError, match="bad regex"):
        ctx.grep("(unclosed")


def test_chunks_cover_every_line_once(tmp_path: Path) -> None:
    lines = [f"line {i} " + "x" * (i % 70) for i in range(3000)]
    ctx = _build(tmp_path, ("x.log", "\n".join(lines).encode()))
    for chunks in (ctx.chunks(lines=700), ctx.chunks(tokens=1500)):
        covered = [n for c in chunks for n in range(c.start, c.end + 1)]
        assert covered == list(range(1, 3001))
    over = ctx.chunks(lines=100, overlap=10)
    assert over[1].start == over[0].end - 9
    assert over[0].text.splitlines() == lines[:100]


def test_same_input_is_stored_once(tmp_path: Path) -> None:
    a = _build(tmp_path, ("x.log", b"a\nb\n"))
    b = _build(tmp_path, ("x.log", b"a\nb\n"))
    assert a.id == b.id
    assert [p.name for p in tmp_path.iterdir()] == [a.id]


def test_nul_bytes_refused_and_nothing_left_behind(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="binary"):
        ingest_streams(tmp_path, [("core", io.BytesIO(b"ok\n\x00bad"), None)])
    assert list(tmp_path.iterdir()) == []


def test_empty_input_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="stdin was empty"), ContextWriter(tmp_path) as w:
        w.add("<stdin>", io.BytesIO(b""))
        w.finish(empty_message="no input: stdin was empty")
    assert list(tmp_path.iterdir()) == []
