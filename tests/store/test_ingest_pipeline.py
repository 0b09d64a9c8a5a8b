"""Ingest's fast path: kernel copy + mapped scan, against the plain read path, byte for byte.

Both paths must build the same data file, the same block index and the same metadata for
any input and any chunking; the copy path must stop at the first carriage return or NUL
byte wherever it falls; and a content-hash collision must never return another log.
"""

from __future__ import annotations

import random
from array import array
from pathlib import Path

import pytest

from rlm_cli.errors import InputError
from rlm_cli.store import contexts as contexts_mod
from rlm_cli.store import ingest as ingest_mod
from rlm_cli.store.contexts import ContextStore
from rlm_cli.store.inputs import expand_inputs
from rlm_cli.store.linescan import scan_lines


def _random_log(seed: int, n: int = 400) -> bytes:
    """Lines of mixed length: empty, short, longer than a block, with non-ASCII text."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        width = rng.choice([0, 1, 5, 40, 90, 300])
        text = "x" * width
        if i % 9 == 0:
            text = "é€" + text  # 2- and 3-byte characters
        out.append(text + "\n")
    return "".join(out).encode()


def _ingest(tmp_path: Path, name: str, raw: bytes, *, copy: bool, monkeypatch) -> tuple:
    """(data, block index, meta) of ``raw`` ingested by the copy or the read path."""
    with monkeypatch.context() as m:
        if not copy:
            m.setattr(contexts_mod, "_plain_fd", lambda stream: None)
        p = tmp_path / "in" / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(raw)
        store = ContextStore(tmp_path / f"home-{copy}-{name}")
        meta = store.ingest(expand_inputs([str(p)]))
        folder = store.root / meta["id"]
        blocks = array("Q")
        blocks.frombytes((folder / "blocks.idx").read_bytes())
        return (folder / "data").read_bytes(), list(blocks), meta


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize(
    "copy_chunk, scan_chunk", [(50, 50), (4096, 64), (4097, 1000), (1 << 20, 1 << 16)]
)
def test_copy_and_read_paths_build_the_same_context(
    tmp_path, monkeypatch, seed, copy_chunk, scan_chunk
):
    monkeypatch.setattr(ingest_mod, "BLOCK_BYTES", 256)
    monkeypatch.setattr(ingest_mod, "READ_CHUNK", 333)
    monkeypatch.setattr(ingest_mod, "COPY_CHUNK", copy_chunk)
    monkeypatch.setattr(ingest_mod, "SCAN_CHUNK", scan_chunk)
    raw = _random_log(seed)
    copied = _ingest(tmp_path, "a.log", raw, copy=True, monkeypatch=monkeypatch)
    read = _ingest(tmp_path, "a.log", raw, copy=False, monkeypatch=monkeypatch)
    assert copied[0] == read[0] == raw
    assert copied[1] == read[1]
    for key in ("id", "bytes", "lines", "chars"):
        assert copied[2][key] == read[2][key]
    # Every entry is a line start with the right line and character counts before it.
    blocks = copied[1]
    assert len(blocks) > 30
    text_before = raw.decode()
    for off, lines, chars in zip(blocks[0::3], blocks[1::3], blocks[2::3]):
        assert off == 0 or raw[off - 1 : off] == b"\n"
        assert lines == raw.count(b"\n", 0, off)
        assert chars == len(raw[:off].decode())
    assert copied[2]["chars"] == len(text_before)


def test_scan_lines_grid_entries():
    chunk = b"aaaa\nbb\n" + b"c" * 20 + b"\nd\n"
    scan = scan_lines(chunk, 0, block=8)
    assert scan.lines == 4 and scan.ascii
    # First line start (5), then the first line start at or after each multiple of 8.
    assert scan.cuts == [5, 8, 29]
    assert scan.before == [1, 2, 3]
    # The same bytes inside a bigger buffer, through lo/hi, give the same answer.
    padded = b"zz" + chunk + b"zz"
    assert scan_lines(padded, 0, 8, 2, 2 + len(chunk)) == scan


@pytest.mark.parametrize("where", [0, 1, 77_777, 199_999])
def test_carriage_return_anywhere_falls_back_from_its_chunk(tmp_path, monkeypatch, where):
    monkeypatch.setattr(ingest_mod, "COPY_CHUNK", 4096)
    monkeypatch.setattr(ingest_mod, "SCAN_CHUNK", 1024)
    raw = bytearray(b"".join(b"line %06d\n" % i for i in range(20_000)))  # 220,000 bytes
    raw[where] = ord("\r")
    data, _, meta = _ingest(tmp_path, "cr.log", bytes(raw), copy=True, monkeypatch=monkeypatch)
    want = bytes(raw).replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    assert data == want
    assert meta["lines"] == want.count(b"\n")
    assert meta["sources"][0]["bytes_read"] == len(raw)


@pytest.mark.parametrize("copy", [True, False])
def test_first_nul_is_named_by_its_offset(tmp_path, monkeypatch, copy):
    monkeypatch.setattr(ingest_mod, "COPY_CHUNK", 4096)
    monkeypatch.setattr(ingest_mod, "SCAN_CHUNK", 1000)
    raw = bytearray(b"x" * 9 + b"\n") * 3000
    raw[12_345] = 0
    raw[20_000] = 0
    with pytest.raises(InputError, match="NUL byte near offset 12345"):
        _ingest(tmp_path, "bin.log", bytes(raw), copy=copy, monkeypatch=monkeypatch)
    assert [p.name for p in (tmp_path / f"home-{copy}-bin.log").iterdir()] == []


def test_hash_collision_gets_its_own_context(tmp_path, monkeypatch):
    """Two different logs that hash alike: the second is stored under another id."""
    first = tmp_path / "one" / "app.log"
    second = tmp_path / "two" / "app.log"
    first.parent.mkdir()
    second.parent.mkdir()
    first.write_bytes(b"alpha\nbeta\n")
    second.write_bytes(b"gamma\ndelta\n")
    store = ContextStore(tmp_path / "home")
    real = ingest_mod.ContextWriter._context_id

    def colliding(self, digest, attempt=0):  # every first attempt gets the same id
        return "c011151011000000" if attempt == 0 else real(self, digest, attempt)

    monkeypatch.setattr(ingest_mod.ContextWriter, "_context_id", colliding)
    m1 = store.ingest(expand_inputs([str(first)]))
    m2 = store.ingest(expand_inputs([str(second)]))
    m3 = store.ingest(expand_inputs([str(first)]))
    assert m1["id"] == m3["id"] == "c011151011000000"
    assert m2["id"] != m1["id"]
    assert list(store.open(m1["id"]).lines(1, 2)) == ["alpha", "beta"]
    assert list(store.open(m2["id"]).lines(1, 2)) == ["gamma", "delta"]
    assert sorted(p.name for p in store.root.iterdir()) == sorted([m1["id"], m2["id"]])
