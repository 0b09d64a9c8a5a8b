"""Fixtures for store tests: a private RLM_HOME and a small-block store."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlm_cli.store import ingest as ingest_mod
from rlm_cli.store.context import Context
from rlm_cli.store.contexts import ContextStore
from rlm_cli.store.inputs import expand_inputs


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh RLM_HOME for this test."""
    h = tmp_path / "home"
    monkeypatch.setenv("RLM_HOME", str(h))
    return h


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiny blocks and read chunks, so small inputs cross many boundaries."""
    monkeypatch.setattr(ingest_mod, "BLOCK_BYTES", 64)
    monkeypatch.setattr(ingest_mod, "READ_CHUNK", 50)
    monkeypatch.setattr(ingest_mod, "COPY_CHUNK", 50)


@pytest.fixture
def store(home: Path) -> ContextStore:
    return ContextStore()


@pytest.fixture
def make_context(tmp_path: Path, store: ContextStore):
    """Write ``{name: bytes}`` files, ingest them (in order) and open the context."""

    def make(files: dict[str, bytes], **kw) -> Context:
        paths = []
        for name, data in files.items():
            p = tmp_path / "in" / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
            paths.append(str(p))
        meta = store.ingest(expand_inputs(paths), **kw)
        return store.open(meta["id"])

    return make
