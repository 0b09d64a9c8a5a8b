"""The grammar gate and the first-token bias on the tiny random-weight GGUF.

Random weights pick tokens the grammar rejects at almost every step, so the gate's slow
path (resample under the grammar) is exercised as much as its fast one."""

from __future__ import annotations

from dataclasses import replace

import pytest

pytest.importorskip("llama_cpp")

from rlm_cli.engine.grammar import final_grammar, turn_grammar  # noqa: E402
from rlm_cli.engine.parse import parse_reply  # noqa: E402
from rlm_cli.errors import ModelError  # noqa: E402
from rlm_cli.llm.base import GenerationParams  # noqa: E402
from rlm_cli.llm.llama import LlamaModel  # noqa: E402
from rlm_cli.llm.llama_sampling import GrammarGate  # noqa: E402

MSGS = [{"role": "user", "content": "go"}]


@pytest.fixture(scope="module")
def gated(tiny_llama) -> LlamaModel:
    return tiny_llama(n_ctx=512)


@pytest.fixture(scope="module")
def whole(tiny_llama) -> LlamaModel:
    """The grammar handed to llama-cpp-python, applied to the whole vocabulary."""
    return tiny_llama(n_ctx=512, grammar_gate=False)


@pytest.mark.parametrize("grammar", [turn_grammar(8), final_grammar()], ids=["turn", "final"])
def test_gate_picks_what_the_whole_vocabulary_grammar_picks_when_greedy(
    gated: LlamaModel, whole: LlamaModel, grammar: str
) -> None:
    for i in range(4):
        msgs = [{"role": "user", "content": f"question {i}: " + "disk error " * i}]
        params = GenerationParams(max_tokens=40, temperature=0.0, grammar=grammar)
        a, b = gated.complete(msgs, params), whole.complete(msgs, params)
        assert a.text == b.text
        assert a.completion_tokens == b.completion_tokens


def test_gate_keeps_sampled_replies_inside_the_grammar(gated: LlamaModel) -> None:
    for seed in range(6):
        params = GenerationParams(max_tokens=60, seed=seed, grammar=turn_grammar(8))
        text = gated.complete(MSGS, params).text
        p = parse_reply(text)
        assert len(p.code_blocks) + (p.final is not None) == 1, text


def test_gate_checks_each_pick_and_resamples_the_rejected(gated: LlamaModel) -> None:
    llm = gated._llm
    gate = GrammarGate(llm._model.vocab, final_grammar(), llm.n_vocab())
    try:
        ids = {llm._model.token_get_text(i): i for i in range(llm.n_vocab())}
        assert gate.allows(ids["FINAL"]) and gate.allows(ids["F"])
        assert not gate.allows(ids["x"]) and not gate.allows(ids["\u2581FINAL"])
        assert gate.checked == 0  # allows() only looks
    finally:
        gate.close()
        gate.close()  # twice is harmless
    seen = []
    original = GrammarGate.settle

    def spy(self, token, ctx, chain, idx):
        out = original(self, token, ctx, chain, idx)
        seen.append((self.checked, self.resampled))
        return out

    GrammarGate.settle = spy
    try:
        gated.complete(MSGS, GenerationParams(max_tokens=20, seed=1, grammar=final_grammar()))
    finally:
        GrammarGate.settle = original
    checked, resampled = seen[-1]
    assert checked == len(seen) and 0 < resampled <= checked


def test_a_grammar_llama_cpp_cannot_parse_is_a_model_error(gated: LlamaModel) -> None:
    with pytest.raises(ModelError, match="GBNF"):
        gated.complete(MSGS, GenerationParams(max_tokens=4, grammar="root ::= ( unclosed"))
    # the model is usable afterwards
    assert gated.complete(MSGS, GenerationParams(max_tokens=2)).completion_tokens >= 0


def test_first_token_bias_leaves_the_logits_as_they_were(gated: LlamaModel) -> None:
    params = GenerationParams(max_tokens=1, seed=3, temperature=0.0, grammar=turn_grammar(8))
    plain = gated.complete(MSGS, params).text
    assert not plain.startswith("F")
    nudged = gated.complete(MSGS, replace(params, opening_bias=("FINAL(", 60.0))).text
    assert nudged.startswith("FINAL")
    # one token long, the prompt's logits are reused as they are by the next call: the bias
    # must not have stayed in them
    assert gated.complete(MSGS, params).text == plain
