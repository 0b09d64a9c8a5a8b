"""Real-model tier (``python -m pytest -m realmodel``): the turn grammar lets each real model
end its turn at the closing fence, with its own tokenizer. Skipped, saying how to fetch the
model, when the GGUF files are absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlm_cli.testing.eval_models import EVAL_MODELS, find_eval_model, missing_reason

pytestmark = pytest.mark.realmodel

SAMPLE = Path(__file__).resolve().parents[2] / "sample_logs" / "bmc_cluster.log"


@pytest.mark.parametrize("name", sorted(EVAL_MODELS))
def test_first_turn_under_the_grammar_ends_cleanly(name: str, tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp")
    path = find_eval_model(name)
    if path is None:
        pytest.skip(missing_reason(name))
    from rlm_cli.actions.ask import prepare_brief
    from rlm_cli.config import Settings
    from rlm_cli.engine.grammar import turn_grammar
    from rlm_cli.engine.loop import RlmEngine
    from rlm_cli.engine.parse import parse_reply
    from rlm_cli.llm.base import GenerationParams
    from rlm_cli.llm.llama import LlamaModel, LlamaOptions
    from rlm_cli.store.contexts import ContextStore
    from rlm_cli.store.inputs import expand_inputs

    store = ContextStore(tmp_path / "contexts")
    ctx = store.open(store.ingest(expand_inputs([str(SAMPLE)]))["id"])
    model = LlamaModel(path, LlamaOptions(n_ctx=8192, n_threads=2))
    try:
        brief = prepare_brief(ctx, model, Settings(), lambda _m: None)
        messages = RlmEngine(model, model, ctx, brief=brief).first_messages("which node will fail")
        c = model.complete(
            messages, GenerationParams(max_tokens=400, seed=0, grammar=turn_grammar())
        )
    finally:
        model.close()
    parsed = parse_reply(c.text)
    assert c.finish_reason == "stop", c.text
    assert len(parsed.code_blocks) == 1 or parsed.final is not None, c.text
    assert c.completion_tokens < 400
