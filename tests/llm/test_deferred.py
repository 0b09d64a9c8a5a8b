"""DeferredModel: the sub-model that is the root's own file loads at its first call."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from rlm_cli.errors import ModelError
from rlm_cli.llm.base import Completion, GenerationParams, Model
from rlm_cli.llm.deferred import DeferredModel


class _Counting(Model):
    """A model that counts tokens as words and answers with its name."""

    def __init__(self, name: str) -> None:
        self.spec, self.n_ctx, self.thinking, self.closed = name, 2048, None, False

    replies: list[str] = []

    def complete(self, messages, params, on_text=None) -> Completion:
        text = self.replies.pop(0) if self.replies else self.spec
        return Completion(text=text, prompt_tokens=1, completion_tokens=1)

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def identity(self) -> str:
        return f"id:{self.spec}"

    def set_thinking(self, enabled: bool) -> bool:
        self.thinking = enabled
        return True

    def close(self) -> None:
        self.closed = True


def test_loads_once_at_first_call_and_asks_the_twin_before() -> None:
    twin, loads = _Counting("root.gguf"), []

    def load() -> Model:
        loads.append(1)
        time.sleep(0.2)  # a real load takes seconds: calls arriving meanwhile must wait for it
        return _Counting("sub.gguf")

    sub = DeferredModel(load, twin)
    assert (sub.spec, sub.n_ctx, sub.identity(), sub.count_tokens("a b c")) == (
        "root.gguf",
        2048,
        "id:root.gguf",
        3,
    )
    sub.set_thinking(False)  # remembered for the load; the twin is not touched
    assert not sub.loaded and loads == [] and twin.thinking is None
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: sub.complete([], GenerationParams()).text, range(4)))
    assert answers == ["sub.gguf"] * 4 and loads == [1] and sub.loaded
    assert sub.model().thinking is False
    sub.close()
    assert not twin.closed  # the root is closed by its owner
    with pytest.raises(ModelError, match="closed"):
        sub.complete([], GenerationParams())  # not a copy nobody would close


def test_a_failed_load_is_not_tried_again() -> None:
    tries = []

    def load() -> Model:
        tries.append(1)
        raise ModelError("llama.cpp could not load sub.gguf: out of memory")

    sub = DeferredModel(load, _Counting("root.gguf"))
    for _ in range(3):
        with pytest.raises(ModelError, match="out of memory"):
            sub.complete([], GenerationParams())
    assert tries == [1]


def test_a_run_that_makes_no_sub_call_never_loads_it(tmp_path: Path, monkeypatch) -> None:
    """The point of it: a search answers, and the second copy is never read."""
    from rlm_cli.engine.loop import EngineConfig, RlmEngine
    from rlm_cli.store.contexts import ContextStore
    from rlm_cli.store.inputs import expand_inputs

    monkeypatch.setenv("RLM_HOME", str(tmp_path / "home"))
    log = tmp_path / "a.log"
    log.write_text("node01 ok\nnode02 ECC error\nnode02 ECC error\n")
    store = ContextStore()
    context = store.open(store.ingest(expand_inputs([str(log)]))["id"])
    root = _Counting("root.gguf")
    root.replies = ["Count.\n```repl\nprint(context.count('ECC'))\n```", 'FINAL("node02")']
    sub = DeferredModel(lambda: pytest.fail("the sub-model was loaded"), root)
    result = RlmEngine(root, sub, context, EngineConfig()).run("which node?", "r1")
    assert result.answer == "node02" and not sub.loaded


def test_never_loaded_closes_nothing() -> None:
    sub = DeferredModel(lambda: pytest.fail("loaded"), _Counting("root.gguf"))
    assert sub.drain_notes() == [] and "first sub-call" in sub.describe()
    sub.close()


def test_gguf_root_gets_a_deferred_sub_that_answers_like_it(
    tiny_gguf: Path, tmp_path: Path, monkeypatch
) -> None:
    pytest.importorskip("llama_cpp")
    from rlm_cli.llm.llama import LlamaOptions
    from rlm_cli.llm.spec import ModelLoader, ModelOptions

    monkeypatch.setenv("RLM_HOME", str(tmp_path / "home"))
    llama = LlamaOptions(n_ctx=2048, prompt_cache=True, prompt_cache_dir=tmp_path / "pcache")
    loader = ModelLoader(ModelOptions(llama=llama))
    root = loader.load(str(tiny_gguf), "root")
    try:
        sub = loader.load_sub(None, str(tiny_gguf), root, "off")
        assert isinstance(sub, DeferredModel) and not sub.loaded
        text = "node07 kernel: Machine check events logged"
        assert sub.count_tokens(text) == root.count_tokens(text)
        assert sub.identity() == root.identity()
        system = "You answer questions about log pieces. " * 20
        evaluated, loaded = sub.warm(system)  # the root fills the cache the copy will read
        assert evaluated > 0 and loaded == 0 and not sub.loaded
        done = sub.complete([{"role": "user", "content": "hi"}], GenerationParams(max_tokens=2))
        assert sub.loaded and done.completion_tokens >= 1
        assert sub.model() is not root
        evaluated, loaded = sub.warm(system)  # the copy reads what the root saved
        assert evaluated == 0 and loaded > 0
        sub.close()
    finally:
        root.close()
