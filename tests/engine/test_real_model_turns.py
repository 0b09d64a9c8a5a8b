"""Real-model tier (``python -m pytest -m realmodel``): the turn grammar lets each real model
end its turn at the closing fence, with its own tokenizer. Skipped, saying how to fetch the
model, when the GGUF files are absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlm_cli.testing.eval_models import EVAL_MODELS, find_eval_model, missing_reason

pytestmark = pytest.mark.realmodel

SAMPLE = Path(__file__).resolve().parents[2] / "sample_logs" / "bmc_cluster.log"


SEEDS = (0, 1, 2)
CLEAN_AT_LEAST = {"gemma-3-270m": 1}
"""How many of the seeds must end cleanly (all, unless named here). A trapped grammar ends
none: the model cannot write the closing fence. A 270M model also loops inside its code
block on some seeds, and which ones moves with any change to the first message: measured
over six seeds on gemma-3-270m, 5 of 6 ended cleanly and 1 of 6 with the first message's
sample lines at three and five (a brief whose later entities took one line each), then 3 of
6 and 6 of 6 (the brief as it is). The two Qwen models end cleanly on every seed."""


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
        replies = [
            model.complete(
                messages, GenerationParams(max_tokens=400, seed=seed, grammar=turn_grammar())
            )
            for seed in SEEDS
        ]
    finally:
        model.close()
    clean = [
        c
        for c in replies
        if c.finish_reason == "stop"
        and c.completion_tokens < 400
        and (len((p := parse_reply(c.text)).code_blocks) == 1 or p.final is not None)
    ]
    assert len(clean) >= CLEAN_AT_LEAST.get(name, len(SEEDS)), [c.text for c in replies]
