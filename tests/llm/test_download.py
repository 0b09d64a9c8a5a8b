"""download(): full, resumed, Range ignored, checksum, unreachable, mirror; all on 127.0.0.1."""

from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path

import pytest

from rlm_cli.errors import ModelError
from rlm_cli.llm.download import apply_mirror, download
from rlm_cli.llm.retry import Backoff
from rlm_cli.testing.file_server import FileServer

DATA = b"GGUF" + os.urandom(3 * 1024 * 1024 + 123)  # spans several 1 MiB blocks
SHA = hashlib.sha256(DATA).hexdigest()


@pytest.fixture(autouse=True)
def _no_env_mirror(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RLM_MODEL_MIRROR", raising=False)


def test_full_download_with_checksum(tmp_path: Path) -> None:
    with FileServer({"/m.gguf": DATA}) as srv:
        out = download(srv.url("/m.gguf"), tmp_path / "m.gguf", sha256=SHA, progress=False)
    assert out == tmp_path / "m.gguf" and out.read_bytes() == DATA
    assert not (tmp_path / "m.gguf.part").exists()
    assert [(e.range, e.status) for e in srv.log] == [(None, 200)]


def test_resume_asks_only_for_missing_bytes(tmp_path: Path) -> None:
    have = 1_000_000
    (tmp_path / "m.gguf.part").write_bytes(DATA[:have])
    with FileServer({"/m.gguf": DATA}) as srv:
        download(srv.url("/m.gguf"), tmp_path / "m.gguf", sha256=SHA, progress=False)
    assert (tmp_path / "m.gguf").read_bytes() == DATA
    assert [(e.range, e.status) for e in srv.log] == [(f"bytes={have}-", 206)]
    assert srv.log[0].bytes_sent == len(DATA) - have


def test_interrupted_transfer_resumes_automatically(tmp_path: Path) -> None:
    with FileServer({"/m.gguf": DATA}, cut_after=500_000) as srv:
        download(srv.url("/m.gguf"), tmp_path / "m.gguf", sha256=SHA, progress=False)
    assert (tmp_path / "m.gguf").read_bytes() == DATA
    assert [e.range for e in srv.log] == [None, "bytes=500000-"]
    assert sum(e.bytes_sent for e in srv.log) == len(DATA)


def test_interruptions_beyond_attempts_keep_the_part(tmp_path: Path) -> None:
    with FileServer({"/m.gguf": DATA}, cut_after=100_000, cut_times=5) as srv:
        with pytest.raises(ModelError, match="interrupted.*run the same command again"):
            download(
                srv.url("/m.gguf"),
                tmp_path / "m.gguf",
                progress=False,
                retry=Backoff(attempts=2, base_s=0.01),
            )
        assert (tmp_path / "m.gguf.part").stat().st_size == 200_000
        srv.cut_times = 0
        download(srv.url("/m.gguf"), tmp_path / "m.gguf", sha256=SHA, progress=False)
    assert (tmp_path / "m.gguf").read_bytes() == DATA


def test_server_ignoring_range_restarts_cleanly(tmp_path: Path) -> None:
    (tmp_path / "m.gguf.part").write_bytes(b"stale bytes that must not survive")
    with FileServer({"/m.gguf": DATA}, honour_range=False) as srv:
        download(srv.url("/m.gguf"), tmp_path / "m.gguf", sha256=SHA, progress=False)
    assert (tmp_path / "m.gguf").read_bytes() == DATA
    assert [e.status for e in srv.log] == [200]


def test_part_already_complete_416(tmp_path: Path) -> None:
    (tmp_path / "m.gguf.part").write_bytes(DATA)
    with FileServer({"/m.gguf": DATA}) as srv:
        download(srv.url("/m.gguf"), tmp_path / "m.gguf", sha256=SHA, progress=False)
    assert (tmp_path / "m.gguf").read_bytes() == DATA
    assert [e.status for e in srv.log] == [416]


def test_checksum_mismatch_deletes_part(tmp_path: Path) -> None:
    with FileServer({"/m.gguf": DATA}) as srv, pytest.raises(ModelError) as info:
        download(srv.url("/m.gguf"), tmp_path / "m.gguf", sha256="0" * 64, progress=False)
    assert "checksum mismatch" in str(info.value) and SHA in str(info.value)
    assert not (tmp_path / "m.gguf").exists()
    assert not (tmp_path / "m.gguf.part").exists()


def test_http_404_is_model_error(tmp_path: Path) -> None:
    with FileServer({}) as srv, pytest.raises(ModelError, match="HTTP 404"):
        download(srv.url("/nope.gguf"), tmp_path / "x.gguf", progress=False)
    assert not (tmp_path / "x.gguf").exists()


def test_connection_refused_says_cannot_reach(tmp_path: Path) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(ModelError) as info:
        download(f"http://127.0.0.1:{port}/m.gguf", tmp_path / "m.gguf", progress=False)
    assert str(info.value) == f"cannot reach 127.0.0.1:{port}: offline? (connection refused)"


def test_mirror_substitution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hf = "https://huggingface.co/org/repo/resolve/main/m.gguf"
    assert apply_mirror(hf, "https://hf-mirror.example/") == (
        "https://hf-mirror.example/org/repo/resolve/main/m.gguf"
    )
    assert apply_mirror("https://example.org/m.gguf", "http://mirror") == (
        "https://example.org/m.gguf"
    )
    assert apply_mirror(hf, None) == hf
    with FileServer({"/hf/org/repo/resolve/main/m.gguf": DATA}) as srv:
        download(hf, tmp_path / "a.gguf", progress=False, mirror=srv.base + "/hf")
        monkeypatch.setenv("RLM_MODEL_MIRROR", srv.base + "/hf/")
        download(hf, tmp_path / "b.gguf", sha256=SHA, progress=False)
    assert (tmp_path / "a.gguf").read_bytes() == DATA == (tmp_path / "b.gguf").read_bytes()
    assert [e.path for e in srv.log] == ["/hf/org/repo/resolve/main/m.gguf"] * 2


def test_existing_dest_is_not_downloaded_again(tmp_path: Path) -> None:
    (tmp_path / "m.gguf").write_bytes(DATA)
    with FileServer({"/m.gguf": DATA}) as srv:
        download(srv.url("/m.gguf"), tmp_path / "m.gguf", sha256=SHA, progress=False)
        with pytest.raises(ModelError, match="does not match"):
            download(srv.url("/m.gguf"), tmp_path / "m.gguf", sha256="1" * 64, progress=False)
    assert srv.log == []


def test_progress_bar_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    import sys

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    with FileServer({"/m.gguf": DATA}) as srv:
        download(srv.url("/m.gguf"), tmp_path / "m.gguf", sha256=SHA, progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "m.gguf" in captured.err and "3.1" in captured.err  # name and size (MB) on stderr
