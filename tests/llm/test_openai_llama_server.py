"""OpenAICompatModel against the real ``python -m llama_cpp.server`` serving a tiny GGUF."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

from rlm_cli.errors import PromptTooLong
from rlm_cli.llm.base import GenerationParams
from rlm_cli.llm.openai_compat import OpenAICompatModel

pytestmark = pytest.mark.slow

N_CTX = 256


def _missing() -> str | None:
    if importlib.util.find_spec("rlm_cli.testing.tiny_gguf") is None:
        return "rlm_cli.testing.tiny_gguf (the tiny GGUF writer) is not in this tree yet"
    for mod in ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context"):
        if importlib.util.find_spec(mod) is None:
            return f"llama-cpp-python[server] is not installed ({mod} missing)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    from rlm_cli.testing.tiny_gguf import write_tiny_gguf

    gguf = write_tiny_gguf(tmp_path_factory.mktemp("gguf") / "tiny.gguf", seed=0)
    port = _free_port()
    log = tmp_path_factory.mktemp("log") / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.endswith("API_KEY")}
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf)]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(N_CTX)]
    cmd += ["--model_alias", "tiny", "--n_threads", "1", "--verbose", "False"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=1) as resp:
                    if json.load(resp).get("data"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server not answering after 60 s: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_completion_and_streaming_against_llama_cpp_server(server: str) -> None:
    model = OpenAICompatModel(server, "tiny", api_key="", concurrency=1)
    assert model.server_kind() == "llama-cpp-python"
    assert model.supports_grammar() is True
    params = GenerationParams(max_tokens=8, temperature=0.0, seed=1)
    messages = [{"role": "user", "content": "which node will fail"}]

    whole = OpenAICompatModel(server, "tiny", api_key="", stream=False, probe=False)
    plain = whole.complete(messages, params)
    assert plain.meta["streamed"] is False
    assert plain.prompt_tokens > 0 and 0 <= plain.completion_tokens <= 8
    assert plain.finish_reason in ("stop", "length")

    pieces: list[str] = []
    streamed = model.complete(messages, params, on_text=pieces.append)
    assert streamed.meta["streamed"] is True
    assert "".join(pieces) == streamed.text
    assert 0 <= streamed.completion_tokens <= 8
    # same seed, temperature 0: the streamed answer equals the plain one
    assert streamed.text == plain.text

    n = model.count_tokens("which node will fail")
    assert model._tokenize_path and model._tokenize_path.endswith("/extras/tokenize")
    assert 0 < n < len("which node will fail")


def test_grammar_constrains_output(server: str) -> None:
    model = OpenAICompatModel(server, "tiny", api_key="")
    params = GenerationParams(max_tokens=8, temperature=0.0, grammar='root ::= "yes" | "no"')
    comp = model.complete([{"role": "user", "content": "ok?"}], params)
    assert comp.text in ("yes", "no")


def test_prompt_too_long_from_real_server(server: str) -> None:
    model = OpenAICompatModel(server, "tiny", api_key="", n_ctx=N_CTX)
    long = " ".join(f"word{i}" for i in range(2000))
    with pytest.raises(PromptTooLong) as info:
        model.complete([{"role": "user", "content": long}], GenerationParams(max_tokens=8))
    assert info.value.limit == N_CTX
    assert info.value.tokens > N_CTX
