"""Prompt-reading progress from the llama.cpp backend (the tiny GGUF, real llama.cpp)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("llama_cpp")

from rlm_cli.llm.base import GenerationParams  # noqa: E402
from rlm_cli.llm.llama import LlamaModel, LlamaOptions  # noqa: E402

GREEDY = GenerationParams(max_tokens=12, temperature=0.0)
CONV = [
    {"role": "system", "content": "You inspect logs."},
    {"role": "user", "content": "which node fails first? " + "node07 ECC error disk " * 40},
]


def test_progress_reports_each_batch_and_changes_nothing(tiny_gguf: Path) -> None:
    m = LlamaModel(tiny_gguf, LlamaOptions(n_ctx=2048, n_threads=1, n_batch=64))
    try:
        plain = m.complete(CONV, GREEDY)
        m._llm.reset()  # noqa: SLF001 - read the whole prompt again
        seen: list[tuple[int, int]] = []
        m.on_prompt_progress = lambda done, total: seen.append((done, total))
        c = m.complete(CONV, GREEDY)
    finally:
        m.close()
    total = c.prompt_tokens_evaluated
    assert total > 64 * 3 and c.prompt_tokens_reused == 0
    assert seen[0] == (0, total) and seen[-1] == (total, total)
    steps = [d for d, _ in seen]
    assert steps == sorted(steps) and len(seen) == 1 + -(-total // 64)  # one per batch
    assert all(t == total for _, t in seen)
    # slicing the prompt into the batches llama.cpp would make anyway changes no output
    assert (c.text, c.completion_tokens) == (plain.text, plain.completion_tokens)


def test_no_callback_no_slicing(tiny_gguf: Path) -> None:
    m = LlamaModel(tiny_gguf, LlamaOptions(n_ctx=2048, n_threads=1, n_batch=64))
    try:
        assert m.on_prompt_progress is None
        c = m.complete(CONV, GREEDY)
        assert m._eval_sizes[0] == c.prompt_tokens_evaluated  # noqa: SLF001 - one eval call
    finally:
        m.close()
