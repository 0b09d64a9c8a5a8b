"""One source of defaults (``config.DEFAULTS``): help text, the window, the brief's cap."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import SAMPLES

from rlm_cli.actions.lifecycle import model_options, prepare_brief
from rlm_cli.config import DEFAULTS, Settings
from rlm_cli.engine.budget import Limits
from rlm_cli.engine.loop import EngineConfig
from rlm_cli.llm.base import DEFAULT_N_CTX
from rlm_cli.llm.scripted import Script, ScriptedModel
from rlm_cli.llm.spec import ModelLoader
from rlm_cli.store.context import Context
from rlm_cli.store.contexts import ContextStore
from rlm_cli.store.inputs import expand_inputs
from rlm_cli.testing.fake_openai_server import FakeOpenAIServer


def test_engine_and_backend_defaults_are_the_settings_defaults() -> None:
    lim, cfg = Limits(), EngineConfig()
    assert lim.max_iterations == DEFAULTS.max_iterations
    assert lim.max_subcalls == DEFAULTS.max_subcalls
    assert cfg.root_params.max_tokens == DEFAULTS.root_max_tokens
    assert cfg.sub_params.max_tokens == DEFAULTS.sub_max_tokens
    assert model_options(DEFAULTS).llama.n_ctx == DEFAULT_N_CTX


def test_help_shows_the_defaults_in_effect(capsys, monkeypatch) -> None:
    from rlm_cli.cli import app

    monkeypatch.setenv("COLUMNS", "400")  # one line per option: no wrapping inside cells

    with pytest.raises(SystemExit):
        app(["ask", "--help"], prog_name="rlm")
    text = " ".join(capsys.readouterr().out.split())
    for fact in (
        f"(default {DEFAULTS.root_max_tokens})",
        f"(default {DEFAULTS.max_iterations})",
        f"(default {DEFAULT_N_CTX} for a GGUF model",
        f"default {DEFAULTS.brief_tokens})",
    ):
        assert fact in text


@pytest.mark.parametrize(("n_ctx", "expected"), [(None, 4096), (2048, 2048)])
def test_n_ctx_reaches_the_openai_backend(n_ctx: int | None, expected: int) -> None:
    with FakeOpenAIServer(n_ctx=4096) as srv:
        loader = ModelLoader(model_options(Settings(n_ctx=n_ctx)))
        model = loader.load(f"openai:{srv.url}#fake-model", "root")
        assert model.n_ctx == expected  # --n-ctx wins; else the server's own window


@pytest.fixture
def context(tmp_path: Path, monkeypatch) -> Context:
    monkeypatch.setenv("RLM_HOME", str(tmp_path / "data"))
    store = ContextStore()
    meta = store.ingest(expand_inputs([str(SAMPLES / "bmc_cluster.log")]))
    return Context(store.root / meta["id"])


@pytest.mark.parametrize("budget", [150, 400])
def test_brief_is_cut_to_brief_tokens(context: Context, tmp_path: Path, budget: int) -> None:
    """--brief-tokens is the cap its help promises, counted by the root model's tokenizer."""
    script = tmp_path / "s.yaml"
    script.write_text("root: ['FINAL(x)']\n")
    root = ScriptedModel(Script(script), "root")
    whole = prepare_brief(context, root, Settings(brief_tokens=100_000), lambda m: None)
    assert root.count_tokens(whole) > 400  # the log's map is bigger than both budgets
    cut = prepare_brief(context, root, Settings(brief_tokens=budget), lambda m: None)
    assert 0 < root.count_tokens(cut) <= budget
