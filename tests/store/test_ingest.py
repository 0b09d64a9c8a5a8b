"""Ingest: formats, line ends, encodings, compression, folders, dedupe, bad input."""

from __future__ import annotations

import bz2
import errno
import gzip
import io
import lzma
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rlm_cli.errors import InputError, StoreError
from rlm_cli.store import contexts as contexts_mod
from rlm_cli.store.contexts import ContextStore
from rlm_cli.store.ingest import ContextWriter, _store_error
from rlm_cli.store.inputs import InputFile, expand_inputs, open_input

REPO = Path(__file__).resolve().parents[2]


def stored(ctx) -> bytes:
    return (ctx.path / "data").read_bytes()


def test_plain_file_round_trip(make_context):
    ctx = make_context({"a.log": b"one\ntwo\nthree\n"})
    assert stored(ctx) == b"one\ntwo\nthree\n"
    assert ctx.line_count == 3 and len(ctx) == 14
    assert list(ctx.lines(1, 3)) == ["one", "two", "three"]


@pytest.mark.parametrize(
    "raw, want",
    [
        (b"a\r\nb\r\nc\r\n", b"a\nb\nc\n"),
        (b"a\rb\rc", b"a\nb\nc\n"),
        (b"a\r\n\r\nb", b"a\n\nb\n"),
        (b"a\r", b"a\n"),
        (b"last line without newline", b"last line without newline\n"),
    ],
)
@pytest.mark.parametrize("path", ["copy", "stream"])
def test_line_ends_normalised(make_context, monkeypatch, raw, want, path):
    if path == "stream":
        monkeypatch.setattr(contexts_mod, "_plain_fd", lambda stream: None)
    assert stored(make_context({"x.log": raw})) == want


@pytest.mark.parametrize("path", ["copy", "stream"])
def test_crlf_split_across_read_chunks(make_context, small_blocks, monkeypatch, path):
    if path == "stream":
        monkeypatch.setattr(contexts_mod, "_plain_fd", lambda stream: None)
    # READ_CHUNK is 50: put \r as byte 50 and \n as byte 51, for many chunks; plain
    # LF chunks between them (copied as they are) and a mixed tail.
    line = b"x" * 48 + b"\r\n"
    plain = (b"p" * 49 + b"\n") * 6  # whole chunks copied in the kernel before the first CR
    raw = plain + line * 40 + b"y" * 49 + b"\n" + b"z" * 200 + b"\n" + line * 3 + b"end\r"
    ctx = make_context({"x.log": raw, "second.log": b"two\n"})
    want = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    assert stored(ctx) == want + b"two\n"
    assert ctx.line_count == want.count(b"\n") + 1
    assert ctx.line(-1) == "two" and ctx.line(-2) == "end"
    assert ctx.sources()[1]["first_line"] == want.count(b"\n") + 1


def test_final_newline_flag_and_source_stats(make_context):
    ctx = make_context({"a.log": b"1\n2", "b.log": b"3\n"})
    a, b = ctx.sources()
    assert (a["lines"], a["first_line"], a["last_line"], a["final_newline"]) == (2, 1, 2, False)
    assert (b["lines"], b["first_line"], b["last_line"], b["final_newline"]) == (1, 3, 3, True)
    assert stored(ctx) == b"1\n2\n3\n"


def test_invalid_utf8_kept_as_bytes(make_context):
    raw = b"ok \xff\xfe bad\ncaf\xc3\xa9\n"
    ctx = make_context({"x.log": raw})
    assert stored(ctx) == raw
    assert ctx.line(1) == "ok \ufffd\ufffd bad"
    assert ctx.line(2) == "café"
    assert len(ctx) == len(raw.decode("utf-8", "replace"))


def test_nul_refused_unless_binary(make_context, store):
    with pytest.raises(InputError, match="NUL byte.*--binary"):
        make_context({"b.bin": b"abc\x00def\n"})
    assert not list(store.root.glob(".tmp-*"))
    ctx = make_context({"b2.bin": b"abc\x00def\n"}, allow_binary=True)
    assert stored(ctx) == b"abc\x00def\n"


def _zstd(data: bytes) -> bytes:
    zstandard = pytest.importorskip("zstandard")
    return zstandard.ZstdCompressor().compress(data)


@pytest.mark.parametrize(
    "kind, compress",
    [("gzip", gzip.compress), ("bz2", bz2.compress), ("xz", lzma.compress), ("zstd", _zstd)],
)
def test_compression_detected_by_magic_not_name(make_context, kind, compress):
    data = b"".join(b"line %d\r\n" % i for i in range(1000))
    ctx = make_context({"plain-looking.log": compress(data)})
    assert stored(ctx) == data.replace(b"\r\n", b"\n")
    assert ctx.sources()[0]["compression"] == kind


def test_truncated_gzip_is_an_input_error(make_context, store):
    blob = gzip.compress(os.urandom(200_000))
    with pytest.raises(InputError, match="cannot read"):
        make_context({"cut.gz": blob[: len(blob) // 2]})
    assert not list(store.root.glob(".tmp-*"))


def test_folder_recursive_with_include_exclude(tmp_path, store):
    root = tmp_path / "logs"
    (root / "sub" / "deep").mkdir(parents=True)
    (root / "a.log").write_bytes(b"a\n")
    (root / "sub" / "b.log").write_bytes(b"b\n")
    (root / "sub" / "deep" / "c.log.gz").write_bytes(gzip.compress(b"c\n"))
    (root / "sub" / "debug.log").write_bytes(b"debug\n")
    (root / "notes.txt").write_bytes(b"txt\n")
    items = expand_inputs([str(root)], include=["*.log", "*.gz"], exclude=["debug*"])
    names = [Path(i.name).relative_to(root).as_posix() for i in items]
    assert names == ["a.log", "sub/b.log", "sub/deep/c.log.gz"]
    meta = store.ingest(items)
    assert (store.root / meta["id"] / "data").read_bytes() == b"a\nb\nc\n"


def test_glob_argument(tmp_path):
    for n in ("x1.log", "x2.log", "y.log"):
        (tmp_path / n).write_bytes(b"1\n")
    items = expand_inputs([str(tmp_path / "x*.log")])
    assert [Path(i.name).name for i in items] == ["x1.log", "x2.log"]
    with pytest.raises(InputError, match="no files match"):
        expand_inputs([str(tmp_path / "z*.log")])


def test_stdin(monkeypatch, store):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"from\nstdin\n")))
    meta = store.ingest(expand_inputs([]))
    assert meta["sources"][0]["path"] == "<stdin>"
    assert meta["lines"] == 2


def test_empty_stdin(monkeypatch, store):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    with pytest.raises(InputError, match="stdin was empty"):
        store.ingest(expand_inputs(["-"]))
    assert not list(store.root.glob(".tmp-*"))


def test_zero_byte_file(tmp_path, store):
    (tmp_path / "empty.log").write_bytes(b"")
    with pytest.raises(InputError, match="file is empty"):
        store.ingest(expand_inputs([str(tmp_path / "empty.log")]))
    assert not list(store.root.iterdir())


def test_zero_byte_file_among_others_is_skipped_with_a_warning(tmp_path, store):
    (tmp_path / "empty.log").write_bytes(b"")
    (tmp_path / "full.log").write_bytes(b"x\n")
    warnings: list[str] = []
    meta = store.ingest(
        expand_inputs([str(tmp_path / "empty.log"), str(tmp_path / "full.log")]),
        warn=warnings.append,
    )
    assert [s["path"] for s in meta["sources"]] == [str(tmp_path / "full.log")]
    assert any("empty" in w for w in warnings)
    assert any("empty" in s for s in meta["skipped"])


def test_missing_path(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        expand_inputs([str(tmp_path / "nope.log")])


def test_unreadable_file_in_folder_is_skipped(tmp_path, store, monkeypatch):
    root = tmp_path / "logs"
    root.mkdir()
    (root / "a.log").write_bytes(b"a\n")
    (root / "locked.log").write_bytes(b"secret\n")
    (root / "z.log").write_bytes(b"z\n")
    real_open = open_input

    def refusing(item: InputFile):
        if item.name.endswith("locked.log"):
            raise InputError(f"{item.name}: Permission denied")
        return real_open(item)

    monkeypatch.setattr(contexts_mod, "open_input", refusing)
    warnings: list[str] = []
    meta = store.ingest(expand_inputs([str(root)]), warn=warnings.append)
    assert (store.root / meta["id"] / "data").read_bytes() == b"a\nz\n"
    assert any("locked.log" in w and "Permission denied" in w for w in warnings)
    # Named explicitly, the same file stops the ingest.
    with pytest.raises(InputError, match="Permission denied"):
        store.ingest(expand_inputs([str(root / "locked.log")]))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_in_folder_real_permissions(tmp_path, store):
    root = tmp_path / "logs"
    root.mkdir()
    (root / "a.log").write_bytes(b"a\n")
    locked = root / "locked.log"
    locked.write_bytes(b"secret\n")
    locked.chmod(0)
    warnings: list[str] = []
    meta = store.ingest(expand_inputs([str(root)], warn=warnings.append), warn=warnings.append)
    assert meta["lines"] == 1
    assert any("locked.log" in w for w in warnings)


class _Sabotage(io.RawIOBase):
    """A file reader that truncates or deletes its file after the first read."""

    def __init__(self, path: Path, action: str) -> None:
        self._f = open(path, "rb", buffering=0)  # noqa: SIM115
        self.path, self.action, self.reads = path, action, 0

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._f.fileno()

    def readinto(self, b) -> int:
        n = self._f.readinto(b)
        self.reads += 1
        if self.reads == 1:
            if self.action == "truncate":
                os.truncate(self.path, 100)
            else:
                os.unlink(self.path)
        return n

    def close(self) -> None:
        self._f.close()
        super().close()


@pytest.mark.parametrize("path", ["stream", "copy"])
@pytest.mark.parametrize("action", ["truncate", "delete"])
def test_file_changed_while_read(tmp_path, store, monkeypatch, small_blocks, action, path):
    p = tmp_path / "moving.log"
    p.write_bytes(b"".join(b"line %04d\n" % i for i in range(100)))  # 1000 bytes
    if path == "stream":
        monkeypatch.setattr(contexts_mod, "_plain_fd", lambda stream: None)
        monkeypatch.setattr(contexts_mod, "open_input", lambda item: (_Sabotage(p, action), None))
    else:
        real_copy = os.copy_file_range
        calls = []

        def copy(src, dst, count, offset_src=None, offset_dst=None):
            n = real_copy(src, dst, count, offset_src, offset_dst)
            calls.append(n)
            if len(calls) == 1:
                os.truncate(p, 100) if action == "truncate" else os.unlink(p)
            return n

        monkeypatch.setattr(os, "copy_file_range", copy)
    warnings: list[str] = []
    meta = store.ingest([InputFile(str(p), p)], warn=warnings.append)
    if path == "copy":
        assert calls and calls[0] == 50  # the kernel copy really ran
    if action == "truncate":
        # The first read got 50 bytes (READ_CHUNK), then the file was cut to 100.
        assert meta["bytes"] == 100
        assert any("shrank while being read" in w for w in warnings)
    else:
        assert meta["bytes"] == 1000  # an unlinked file stays readable to its reader
        assert any("deleted while being read" in w for w in warnings)
    ctx = store.open(meta["id"])
    assert list(ctx.lines(1, 2)) == ["line 0000", "line 0001"]
    # The copy path reserves the source's size first: none of that may be left behind.
    assert (ctx.path / "data").stat().st_size == meta["bytes"]


def test_same_input_twice_is_stored_once(tmp_path, store):
    p = tmp_path / "a.log"
    p.write_bytes(b"hello\nworld\n")
    m1 = store.ingest(expand_inputs([str(p)]))
    m2 = store.ingest(expand_inputs([str(p)]))
    assert m1["id"] == m2["id"]
    assert [d.name for d in store.root.iterdir()] == [m1["id"]]
    p.write_bytes(b"hello\nworld!\n")
    assert store.ingest(expand_inputs([str(p)]))["id"] != m1["id"]


def test_block_index_matches_lines(make_context, small_blocks):
    import random

    rng = random.Random(5)
    lines = [("é" if i % 7 == 0 else "") + "x" * rng.randrange(0, 90) for i in range(500)]
    raw = "".join(line + "\n" for line in lines).encode()
    ctx = make_context({"a.log": raw})
    assert len(ctx._boff) > 100  # many blocks
    for n in [1, 2, 250, 499, 500, *rng.sample(range(1, 501), 60)]:
        assert ctx.line(n) == lines[n - 1]
    text = raw.decode()
    assert len(ctx) == len(text)
    for _ in range(60):
        a = rng.randrange(0, len(text))
        b = rng.randrange(a, min(len(text), a + 300) + 1)
        assert ctx[a:b] == text[a:b]
        assert ctx[a] == text[a]


def test_first_and_last_time_in_meta(make_context):
    ctx = make_context(
        {
            "a.log": b"2026-11-23T04:00:00Z start\nno time here\n2026-11-23T05:00:00Z end\n",
            "b.log": b"plain\n2026-11-24 06:30:00 later\n",
        }
    )
    assert ctx.meta["first_time"] == "2026-11-23T04:00:00Z"
    assert ctx.meta["last_time"] == "2026-11-24T06:30:00Z"
    a, b = ctx.sources()
    assert (a["first_time"], a["last_time"]) == ("2026-11-23T04:00:00Z", "2026-11-23T05:00:00Z")
    assert b["first_time"] == b["last_time"] == "2026-11-24T06:30:00Z"


def test_no_timestamps_gives_none(make_context):
    ctx = make_context({"a.log": b"alpha\nbeta\n"})
    assert ctx.meta["first_time"] is None and ctx.meta["last_time"] is None


def test_write_errors_map_to_store_errors(tmp_path):
    root = tmp_path / "c"
    assert "disk full" in str(_store_error(OSError(errno.ENOSPC, "No space"), root))
    assert "file size limit" in str(_store_error(OSError(errno.EFBIG, "File too large"), root))


class _FullDisk:
    """A data file whose writes fail with ENOSPC after ``room`` bytes."""

    def __init__(self, room: int) -> None:
        self.room = room

    def write(self, b) -> int:
        if len(b) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(b)
        return len(b)

    def close(self) -> None:
        pass


def test_disk_full_while_ingesting_leaves_nothing(tmp_path, monkeypatch, small_blocks):
    from rlm_cli.store import sink as sink_mod

    monkeypatch.setattr(sink_mod, "open", lambda *a, **k: _FullDisk(500), raising=False)
    root = tmp_path / "contexts"
    with pytest.raises(StoreError, match="disk full"), ContextWriter(root) as w:
        w.add("x", io.BytesIO(b"abc\n" * 1000))
        w.finish()
    assert list(root.iterdir()) == []


def test_writer_thread_failure_is_a_store_error(tmp_path):
    root = tmp_path / "contexts"
    with pytest.raises(StoreError, match="cannot write"), ContextWriter(root) as w:
        w._sink._f.close()  # every write now fails (ValueError in the thread)
        w.add("x", io.BytesIO(b"abc\n" * 1000))
        w.finish()
    assert list(root.iterdir()) == []


def test_file_size_limit_during_ingest(tmp_path):
    """RLIMIT_FSIZE stands in for a full disk: exit 2, one clear line, nothing left."""
    big = tmp_path / "big.log"
    big.write_bytes(
        b"".join(b"2026-11-23T04:00:00Z node%03d event\n" % (i % 1000) for i in range(60_000))
    )
    home = tmp_path / "home"
    code = textwrap.dedent(
        """
        import resource, sys
        resource.setrlimit(resource.RLIMIT_FSIZE, (300_000, 300_000))
        sys.argv = ["rlm", "ingest", sys.argv[1]]
        from rlm_cli.cli import main
        main()
        """
    )
    env = {**os.environ, "RLM_HOME": str(home), "PYTHONPATH": str(REPO)}
    r = subprocess.run(
        [sys.executable, "-c", code, str(big)], env=env, capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 2, r.stderr
    assert "file size limit" in r.stderr and "nothing was kept" in r.stderr
    assert r.stderr.count("\n") == 1, r.stderr
    assert list((home / "contexts").iterdir()) == []
    assert ContextStore(home / "contexts").list() == []


def test_unreadable_subfolder_is_reported(tmp_path, monkeypatch):
    from rlm_cli.store import inputs as inputs_mod

    (tmp_path / "a.log").write_bytes(b"a\n")
    real_walk = os.walk

    def walk(top, onerror=None):
        onerror(PermissionError(13, "Permission denied", str(tmp_path / "locked")))
        yield from real_walk(top, onerror=onerror)

    monkeypatch.setattr(inputs_mod.os, "walk", walk)
    warnings: list[str] = []
    items = expand_inputs([str(tmp_path)], warn=warnings.append)
    assert [Path(i.name).name for i in items] == ["a.log"]
    assert warnings == [f"skipping {tmp_path / 'locked'}: Permission denied"]
