"""``rlm_cli.atomic.atomic_write``: all or nothing, durable, no leftovers."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from rlm_cli.atomic import atomic_write


def test_replaces_whole_and_leaves_nothing_beside(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    atomic_write(target, b"old")
    atomic_write(target, "new ünïcode")
    assert target.read_text("utf-8") == "new ünïcode"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_fsyncs_the_file_then_the_folder(tmp_path: Path, monkeypatch) -> None:
    synced: list[str] = []
    real = os.fsync

    def spy(fd: int) -> None:
        synced.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    atomic_write(tmp_path / "x", b"data")
    assert synced == ["file", "dir"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temp(
    tmp_path: Path, monkeypatch
) -> None:
    target = tmp_path / "registry.json"
    atomic_write(target, b"old")

    def broken(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(OSError, match="No space"):
        atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["registry.json"]
