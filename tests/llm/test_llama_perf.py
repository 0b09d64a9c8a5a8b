"""llama.cpp backend speed features on the tiny GGUF: exact KV reuse accounting, batched sub-calls."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("llama_cpp")

import llama_cpp  # noqa: E402

from rlm_cli.errors import ModelError, PromptTooLong  # noqa: E402
from rlm_cli.llm.base import GenerationParams  # noqa: E402
from rlm_cli.llm.llama import LlamaModel, LlamaOptions  # noqa: E402

GREEDY = GenerationParams(max_tokens=24, temperature=0.0)


@pytest.fixture(scope="module")
def model(tiny_llama) -> LlamaModel:
    return tiny_llama(n_ctx=2048)


@pytest.fixture(scope="module")
def solo(tiny_llama) -> LlamaModel:
    """A second instance that answers one at a time (its own KV cache)."""
    return tiny_llama(n_ctx=2048, batch_seqs=1)


def _prompts(n: int) -> list[list[dict]]:
    return [
        [
            {"role": "system", "content": "Answer briefly."},
            {"role": "user", "content": f"part {i}: " + "node error memory disk " * (3 * i + 1)},
        ]
        for i in range(n)
    ]


def test_reuse_accounting_matches_what_llama_cpp_decoded(model: LlamaModel) -> None:
    """Per call, prompt_tokens_evaluated equals llama.cpp's own count of prompt tokens decoded."""
    ctx = model._llm._ctx.ctx  # noqa: SLF001
    conv = [
        {"role": "system", "content": "You inspect logs."},
        {"role": "user", "content": "which node fails first"},
    ]
    seen = []
    for turn in range(3):
        llama_cpp.llama_perf_context_reset(ctx)
        c = model.complete(conv, GenerationParams(max_tokens=12, temperature=0.0))
        perf = llama_cpp.llama_perf_context(ctx)
        # multi-token decodes are counted as prompt evaluation by llama.cpp (n_p_eval)
        assert c.prompt_tokens_evaluated == perf.n_p_eval, turn
        assert c.prompt_tokens_evaluated + c.prompt_tokens_reused == c.prompt_tokens
        seen.append(c)
        conv = conv + [
            {"role": "assistant", "content": c.text},
            {"role": "user", "content": f"and then what, step {turn}"},
        ]
    assert seen[0].prompt_tokens_reused == 0  # nothing cached before the first turn
    for c in seen[1:]:
        assert c.prompt_tokens_reused > 0
        assert c.prompt_tokens_evaluated < c.prompt_tokens // 2


def test_same_prompt_again_evaluates_at_most_one_token(model: LlamaModel) -> None:
    conv = [{"role": "user", "content": "exactly the same prompt twice"}]
    model.complete(conv, GREEDY)
    again = model.complete(conv, GREEDY)
    assert again.prompt_tokens_evaluated <= 1


def test_batched_answers_equal_one_at_a_time(model: LlamaModel, solo: LlamaModel) -> None:
    convs = _prompts(5)
    one_by_one = [solo.complete(c, GREEDY) for c in convs]
    batched = model.complete_many(convs, GREEDY)
    assert [c.meta.get("batched") for c in batched] == [5] * 5
    assert [c.text for c in batched] == [c.text for c in one_by_one]
    assert [c.finish_reason for c in batched] == [c.finish_reason for c in one_by_one]
    assert [c.completion_tokens for c in batched] == [c.completion_tokens for c in one_by_one]
    assert [c.prompt_tokens for c in batched] == [c.prompt_tokens for c in one_by_one]


def test_batched_stop_strings_cut_like_create_completion(
    model: LlamaModel, solo: LlamaModel
) -> None:
    convs = _prompts(3)
    free = solo.complete(convs[1], GREEDY).text
    stop = free[len(free) // 2 : len(free) // 2 + 3]
    params = GenerationParams(max_tokens=24, temperature=0.0, stop=(stop,))
    one_by_one = [solo.complete(c, params) for c in convs]
    batched = model.complete_many(convs, params)
    assert one_by_one[1].finish_reason == "stop"
    assert [(c.text, c.finish_reason) for c in batched] == [
        (c.text, c.finish_reason) for c in one_by_one
    ]


def test_batch_does_not_disturb_the_instance_kv_cache(model: LlamaModel) -> None:
    conv = [{"role": "user", "content": "a root conversation that keeps growing"}]
    model.complete(conv, GREEDY)
    model.complete_many(_prompts(3), GREEDY)
    again = model.complete(conv + [{"role": "assistant", "content": "x"}], GREEDY)
    assert again.prompt_tokens_reused > 0


def test_grammar_falls_back_to_one_at_a_time(model: LlamaModel) -> None:
    params = GenerationParams(max_tokens=8, temperature=0.0, grammar='root ::= "yes" | "no"')
    out = model.complete_many(_prompts(3), params)
    assert all("batched" not in c.meta for c in out)
    assert all(c.text in ("yes", "no") for c in out)


def test_small_batch_budget_splits_groups(tiny_gguf: Path, solo: LlamaModel) -> None:
    convs = _prompts(3)
    widest = max(len(solo.tokenize_chat(c)[0]) for c in convs) + GREEDY.max_tokens
    m = LlamaModel(tiny_gguf, LlamaOptions(n_ctx=1024, n_threads=1, batch_ctx=2 * widest))
    try:
        out = m.complete_many(convs, GREEDY)
    finally:
        m.close()
    assert [c.meta.get("batched") for c in out] == [2, 2, None]  # two fit, the third runs alone
    assert [c.text for c in out] == [solo.complete(c, GREEDY).text for c in convs]


def test_grouping_arithmetic() -> None:
    m = LlamaModel.__new__(LlamaModel)
    m.options = LlamaOptions(n_ctx=1000, batch_seqs=3, batch_ctx=1000)
    m.n_ctx = 1000
    assert m._groups([100] * 7) == [[0, 1, 2], [3, 4, 5], [6]]
    assert m._groups([400, 400, 400]) == [[0, 1], [2]]
    assert m._groups([900, 100, 100]) == [[0], [1, 2]]


def test_batch_error_falls_back_and_says_so(
    model: LlamaModel, solo: LlamaModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rlm_cli.llm import llama_batch

    def refuse(self, *a, **k):
        raise ModelError("llama_decode failed (test)")

    monkeypatch.setattr(llama_batch.BatchDecoder, "run", refuse)
    convs = _prompts(2)
    out = model.complete_many(convs, GREEDY)
    assert [c.text for c in out] == [solo.complete(c, GREEDY).text for c in convs]
    assert all("llama_decode failed" in c.meta["batch_fallback"] for c in out)


def test_prompt_too_long_is_refused_not_batched(tiny_gguf: Path) -> None:
    m = LlamaModel(tiny_gguf, LlamaOptions(n_ctx=256, n_threads=1))
    try:
        long = [{"role": "user", "content": "node error memory disk " * 200}]
        with pytest.raises(PromptTooLong):
            m.complete_many([_prompts(1)[0], long], GREEDY)
    finally:
        m.close()


def test_gemma_turn_format_for_a_gguf_without_a_chat_template() -> None:
    """Some GGUF conversions drop tokenizer.chat_template; ChatML then reads as noise to
    Gemma (its 270M model wrote '<|im_end|>user' again and again), so the architecture picks
    Gemma's own turn format: no system role, the system text opens the first user turn."""
    pytest.importorskip("llama_cpp")
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    from rlm_cli.llm.llama import FALLBACK_TEMPLATES

    fmt = Jinja2ChatFormatter(
        FALLBACK_TEMPLATES["gemma3"], eos_token="<end_of_turn>", bos_token="<bos>"
    )
    msgs = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "Bye"},
    ]
    assert fmt(messages=msgs).prompt == (
        "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n"
        "<start_of_turn>model\nHello<end_of_turn>\n"
        "<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n"
    )
