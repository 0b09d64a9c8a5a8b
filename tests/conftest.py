"""Shared fixtures: a tiny random-weight GGUF written once per test session, models on it."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path to a tiny llama GGUF (ChatML template, byte-fallback vocab), written once."""
    pytest.importorskip("numpy", reason="numpy is needed to write the tiny GGUF")
    pytest.importorskip("gguf", reason="the gguf package (test extra) is needed to write GGUFs")
    from rlm_cli.testing.tiny_gguf import write_tiny_gguf

    return write_tiny_gguf(tmp_path_factory.mktemp("models") / "tiny.gguf", seed=0)


@pytest.fixture(scope="module")
def tiny_llama(tiny_gguf: Path):
    """Open llama.cpp models on the tiny GGUF: ``tiny_llama(n_ctx=512, **LlamaOptions)``,
    one thread unless told; all are closed after the module."""
    pytest.importorskip("llama_cpp")
    from rlm_cli.llm.llama import LlamaModel, LlamaOptions

    opened: list[LlamaModel] = []

    def open_model(**options) -> LlamaModel:
        opened.append(LlamaModel(tiny_gguf, LlamaOptions(**{"n_threads": 1, **options})))
        return opened[-1]

    yield open_model
    for m in opened:
        m.close()


@pytest.fixture
def rlm_here(monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture):
    """Run ``rlm`` in this process: ``rlm_here(args, home, stdin=b"...") -> helpers.Result``."""
    from helpers import InProcess

    return InProcess(monkeypatch, capfd)
