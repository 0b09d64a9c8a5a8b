"""``GenerationParams.should_stop``: each backend abandons a call under way when told.

llama.cpp with the tiny random-weight GGUF (stopped between prompt batches and between
tokens, and usable again after), the OpenAI backend against a real server on 127.0.0.1
that stalls (the socket is shut, the call does not wait for the server).
"""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from rlm_cli.llm.base import GenerationParams, GenerationStopped
from rlm_cli.llm.openai_compat import OpenAICompatModel
from rlm_cli.llm.retry import Backoff
from rlm_cli.testing.fake_openai_server import FakeOpenAIServer, Reply, Stall

USER = [{"role": "user", "content": "hello there " * 40}]


class StopAfter:
    """should_stop that says yes from its ``n``-th poll on; counts the polls."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.polls = 0

    def __call__(self) -> bool:
        self.polls += 1
        return self.polls >= self.n


@pytest.fixture(scope="module")
def llama(tiny_gguf):
    from rlm_cli.llm.llama import LlamaModel, LlamaOptions

    m = LlamaModel(tiny_gguf, LlamaOptions(n_ctx=2048, n_threads=1, n_batch=32))
    yield m
    m.close()


def test_llama_stops_between_prompt_batches(llama) -> None:
    tokens, _ = llama.tokenize_chat(USER)
    assert len(tokens) > 3 * 32  # several prompt batches of 32
    stop = StopAfter(2)  # the second batch never starts
    with pytest.raises(GenerationStopped):
        llama.complete(USER, GenerationParams(max_tokens=8, should_stop=stop))
    assert stop.polls == 2
    assert llama._llm.n_tokens < len(tokens)  # noqa: SLF001 - the prompt was not all evaluated


def test_llama_stops_between_tokens_and_answers_again_after(llama) -> None:
    tokens, _ = llama.tokenize_chat(USER)
    batches = -(-len(tokens) // 32)
    stop = StopAfter(batches + 4)  # the prompt, then a few tokens
    params = GenerationParams(max_tokens=64, temperature=0.0, seed=1)
    with pytest.raises(GenerationStopped):
        llama.complete(USER, replace(params, should_stop=stop))
    assert stop.polls == batches + 4
    whole = llama.complete(USER, params)  # the model is usable again, same answer as fresh
    assert whole.completion_tokens > 4
    assert llama.complete(USER, params).text == whole.text


def test_openai_request_is_abandoned_while_the_server_stalls() -> None:
    with FakeOpenAIServer(script=[Stall(30), Reply("late")]) as srv:
        model = OpenAICompatModel(srv.url, "fake-model", api_key="", retry=Backoff(base_s=0.01))
        deadline = time.monotonic() + 0.5
        t0 = time.monotonic()
        with pytest.raises(GenerationStopped):
            model.complete(
                USER,
                GenerationParams(max_tokens=8, should_stop=lambda: time.monotonic() > deadline),
            )
        assert time.monotonic() - t0 < 5  # not the 30 s stall, nor a retry after it


def test_openai_stream_is_abandoned_mid_answer() -> None:
    pieces = [f" w{i}" for i in range(100)]
    reply = Reply("".join(pieces), chunks=pieces, chunk_delay=0.1)
    with FakeOpenAIServer(script=[reply]) as srv:
        model = OpenAICompatModel(srv.url, "fake-model", api_key="", retry=Backoff(base_s=0.01))
        seen: list[str] = []
        deadline = time.monotonic() + 0.6
        t0 = time.monotonic()
        with pytest.raises(GenerationStopped):
            model.complete(
                USER,
                GenerationParams(max_tokens=8, should_stop=lambda: time.monotonic() > deadline),
                on_text=seen.append,
            )
        assert time.monotonic() - t0 < 5  # not the 10 s the whole stream takes
        assert 0 < len(seen) < 100
