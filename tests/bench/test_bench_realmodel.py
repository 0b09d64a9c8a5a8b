"""Real-model tier of the bench (``python -m pytest -m realmodel``): skipped, saying how to
fetch the model, when the GGUF files are absent; left out of the default run."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import isolated_env, run_rlm

from rlm_cli.testing.eval_models import find_eval_model, missing_reason

pytestmark = pytest.mark.realmodel


def _model(name: str) -> Path:
    pytest.importorskip("llama_cpp")
    path = find_eval_model(name)
    if path is None:
        pytest.skip(missing_reason(name))
    return path


def test_small_model_answers_a_needle_task_and_everything_is_recorded(tmp_path: Path) -> None:
    """The 0.5B model on the smallest needle task in rlm mode: the harness records the run
    whatever the verdict (quality is data); the table and history say what happened."""
    model = _model("qwen2.5-coder-0.5b")
    r = run_rlm(
        ["bench", "builtin", "-m", str(model), "--tasks", "needle-0.5x", "--mode", "rlm",
         "--max-iterations", "4", "--json", "--threads", "2"],
        tmp_path,
        timeout=900,
    )  # fmt: skip
    assert r.code == 0, r.stderr
    doc = r.json()
    (row,) = doc["results"]
    assert row["task"] == "needle-0.5x" and row["mode"] == "rlm" and row["error"] is None
    assert row["turns"] >= 1 and row["root_turns"] >= row["turns"]
    assert row["prompt_tokens_evaluated"] > 500 and row["answer"].strip()
    assert row["ended_by"] in ("final", "max_iterations", "repeating", "max_tokens", "timeout")
    assert isinstance(row["correct"], bool)
    record = run_rlm(["runs", "show", row["run_id"], "--json"], tmp_path).json()
    assert record["bench"]["task"] == "needle-0.5x" and record["trajectory"]
    assert (tmp_path / "data" / "bench" / f"{doc['id']}.json").is_file()


@pytest.mark.parametrize("name", ["qwen2.5-coder-0.5b", "gemma-3-270m"])
def test_half_window_logs_fit_the_direct_prompt(tmp_path: Path, name: str, monkeypatch) -> None:
    """0.5x means "fits": every 0.5x builtin log fits the direct prompt of an 8192-token
    window, counted with the real tokenizer (no generation, so this is quick)."""
    model_path = _model(name)
    for key, value in isolated_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    from rlm_cli.actions.ask import model_options
    from rlm_cli.bench.runner import prepare_task
    from rlm_cli.bench.suite import load_suite, resolve
    from rlm_cli.config import Settings
    from rlm_cli.engine.direct import fit_lines
    from rlm_cli.llm.spec import ModelLoader

    s = Settings(n_ctx=8192)
    model = ModelLoader(model_options(s), {}).load(str(model_path), "root")
    try:
        suite = load_suite("builtin")
        for task in (t for t in suite.tasks if t.size == 0.5):
            prepared = prepare_task(resolve(task, suite, s.n_ctx))
            room = s.n_ctx - s.root_max_tokens - 400  # the direct prompt's own text
            n = fit_lines(model, prepared.context, room)
            assert n == prepared.context.line_count, f"{task.id}: {n} lines fit"
    finally:
        model.close()
