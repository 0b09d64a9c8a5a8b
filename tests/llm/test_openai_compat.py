"""OpenAICompatModel against a real HTTP server on 127.0.0.1 (rlm_cli.testing.fake_openai_server)."""

from __future__ import annotations

import socket
import time

import pytest

from rlm_cli.errors import ModelError, PromptTooLong, UsageError
from rlm_cli.llm.base import GenerationParams
from rlm_cli.llm.openai_compat import OpenAICompatModel, iter_sse, parse_openai_spec
from rlm_cli.llm.retry import Backoff
from rlm_cli.testing.fake_openai_server import FakeOpenAIServer, Reply, Stall, Status

PARAMS = GenerationParams(max_tokens=32)
USER = [{"role": "user", "content": "hello there"}]


def make(srv: FakeOpenAIServer, **kw) -> OpenAICompatModel:
    kw.setdefault("retry", Backoff(base_s=0.01))
    kw.setdefault("api_key", "")
    return OpenAICompatModel(srv.url, "fake-model", **kw)


def test_parse_spec() -> None:
    assert parse_openai_spec("openai:http://h:8080/v1#qwen3") == ("http://h:8080/v1", "qwen3")
    assert parse_openai_spec("openai:https://h/v1/") == ("https://h/v1", "")
    with pytest.raises(UsageError):
        parse_openai_spec("openai:ftp://h/v1#x")
    with pytest.raises(UsageError):
        parse_openai_spec("openai:nohost#x")


def test_from_spec() -> None:
    with FakeOpenAIServer() as srv:
        model = OpenAICompatModel.from_spec(f"openai:{srv.url}#fake-model", api_key="")
        assert model.spec == f"openai:{srv.url}#fake-model"
        assert model.model_name == "fake-model" and model.concurrency == 4
        assert model.complete(USER, PARAMS).text == "echo: hello there"


def test_streaming_deltas_arrive_in_order_and_as_they_come() -> None:
    pieces = ["The", " node", " c3", " will", " fail"]
    with FakeOpenAIServer(script=[Reply("".join(pieces), chunks=pieces, chunk_delay=0.1)]) as srv:
        model = make(srv)
        seen: list[tuple[float, str]] = []
        start = time.monotonic()
        comp = model.complete(USER, PARAMS, on_text=lambda t: seen.append((time.monotonic(), t)))
        end = time.monotonic()
    assert [t for _, t in seen] == pieces
    assert comp.text == "The node c3 will fail"
    # the first delta reached us long before the reply was finished: truly streamed
    assert seen[0][0] - start < (end - start) - 0.25
    assert comp.meta["streamed"] is True
    assert comp.prompt_tokens == 2 and comp.completion_tokens == 5
    assert "usage_estimated" not in comp.meta
    body = srv.chat_requests()[0].body
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["model"] == "fake-model" and body["max_tokens"] == 32


def test_usage_estimated_when_server_sends_none() -> None:
    with FakeOpenAIServer(send_usage=False) as srv:
        comp = make(srv).complete(USER, PARAMS)
    assert comp.text == "echo: hello there"
    assert comp.meta["usage_estimated"] is True
    assert comp.completion_tokens == 3  # one per streamed delta
    assert comp.prompt_tokens >= 1


def test_non_streaming_mode() -> None:
    with FakeOpenAIServer(script=[Reply("a b c", finish_reason="length")]) as srv:
        got: list[str] = []
        comp = make(srv, stream=False).complete(USER, PARAMS, on_text=got.append)
    assert comp.text == "a b c" and got == ["a b c"]
    assert comp.finish_reason == "length"
    assert comp.meta["streamed"] is False
    assert srv.chat_requests()[0].body["stream"] is False


def test_retry_on_429_honours_retry_after_bounded() -> None:
    slept: list[float] = []
    script = [Status(429, {"error": {"message": "slow down"}}, {"Retry-After": "30"}), Reply("ok")]
    with FakeOpenAIServer(script=script) as srv:
        model = make(
            srv,
            retry=Backoff(max_retry_after_s=0.05),
            sleep=lambda s: (slept.append(s), time.sleep(s)),
        )
        comp = model.complete(USER, PARAMS)
    assert comp.text == "ok"
    assert comp.meta["attempts"] == 2
    assert slept == [0.05]  # the server's 30 s, bounded by max_retry_after
    assert len(srv.chat_requests()) == 2


def test_retry_after_used_when_small() -> None:
    slept: list[float] = []
    script = [Status(503, "busy", {"Retry-After": "0.02"}), Reply("ok")]
    with FakeOpenAIServer(script=script) as srv:
        model = make(srv, sleep=slept.append)
        assert model.complete(USER, PARAMS).text == "ok"
    assert slept == [0.02]


def test_503_retries_exhausted_raise_model_error() -> None:
    slept: list[float] = []
    script = [Status(503, {"error": {"message": "loading model"}})] * 3
    with FakeOpenAIServer(script=script) as srv:
        model = make(srv, retry=Backoff(attempts=3, base_s=0.1), sleep=slept.append)
        with pytest.raises(ModelError) as info:
            model.complete(USER, PARAMS)
    msg = str(info.value)
    assert "503" in msg and "loading model" in msg and "3 attempts" in msg
    assert "\n" not in msg
    assert len(srv.chat_requests()) == 3
    # exponential backoff with jitter: attempt n waits in [0.5, 1] x base x 2^(n-1)
    assert len(slept) == 2
    assert 0.05 <= slept[0] <= 0.1 and 0.1 <= slept[1] <= 0.2


def test_timeout_is_retried() -> None:
    with FakeOpenAIServer(script=[Stall(5.0)]) as srv:
        model = make(srv, timeout=0.3)
        start = time.monotonic()
        comp = model.complete(USER, PARAMS)
        took = time.monotonic() - start
    assert comp.text == "echo: hello there"
    assert comp.meta["attempts"] == 2
    # without the 0.3 s timeout the first attempt alone would take 5 s; the margin is wide
    # enough for a loaded 2-core machine
    assert took < 4.0


def test_connection_refused_reports_host() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    model = OpenAICompatModel(
        f"http://127.0.0.1:{port}/v1", "m", retry=Backoff(attempts=2, base_s=0.01), api_key=""
    )
    with pytest.raises(ModelError, match=f"127.0.0.1:{port}: connection refused"):
        model.complete(USER, PARAMS)


TOO_LONG_OPENAI = {  # llama_cpp.server / vLLM / OpenAI shape
    "error": {
        "message": "This model's maximum context length is 2048 tokens. However, you "
        "requested 5000 tokens (4968 in the messages, 32 in the completion).",
        "code": "context_length_exceeded",
    }
}
TOO_LONG_LLAMA_SERVER = {  # llama.cpp llama-server shape
    "error": {
        "code": 400,
        "message": "the request exceeds the available context size, try increasing it",
        "type": "exceed_context_size_error",
        "n_prompt_tokens": 5000,
        "n_ctx": 2048,
    }
}


@pytest.mark.parametrize(
    ("body", "tokens"), [(TOO_LONG_OPENAI, 4968), (TOO_LONG_LLAMA_SERVER, 5000)]
)
def test_too_long_raises_prompt_too_long(body: dict, tokens: int) -> None:
    with FakeOpenAIServer(script=[Status(400, body)]) as srv, pytest.raises(PromptTooLong) as info:
        make(srv).complete(USER, PARAMS)
    assert info.value.limit == 2048 and info.value.tokens == tokens
    assert len(srv.chat_requests()) == 1  # never retried


def test_other_4xx_is_one_line_model_error() -> None:
    body = {"error": {"message": "unknown field\n  'frobnicate'"}}
    with FakeOpenAIServer(script=[Status(400, body)]) as srv, pytest.raises(ModelError) as info:
        make(srv).complete(USER, PARAMS)
    assert not isinstance(info.value, PromptTooLong)
    assert str(info.value).endswith("HTTP 400: unknown field 'frobnicate'")
    assert len(srv.chat_requests()) == 1


def test_complete_many_is_truly_parallel() -> None:
    n, delay, conc = 16, 0.4, 4
    with FakeOpenAIServer(delay=delay) as srv:
        model = make(srv, concurrency=conc)
        convs = [[{"role": "user", "content": f"q{i}"}] for i in range(n)]
        start = time.monotonic()
        results = model.complete_many(convs, PARAMS)
        took = time.monotonic() - start
    assert [r.text for r in results] == [f"echo: q{i}" for i in range(n)]
    # Exactly `conc` requests were in flight at once: no client-side serialisation. The
    # wall-clock target (<= 1.2x of server time) is measured by benchmarks/bench_llm.py;
    # here only a bound a loaded CI machine cannot break: far below one-at-a-time.
    assert srv.max_in_flight == conc
    serial = n * delay
    assert took < 0.6 * serial, f"{took:.2f}s: close to the {serial:.2f}s of one at a time"


def test_complete_many_raises_first_failure_in_order() -> None:
    with FakeOpenAIServer(reply_fn=lambda b: b["messages"][0]["content"]) as srv:
        srv.script = [Reply("first"), Status(404, {"error": {"message": "no such model"}})]
        model = make(srv, concurrency=1)
        with pytest.raises(ModelError, match="no such model"):
            model.complete_many([USER, USER, USER], PARAMS)


def test_api_key_in_header_and_never_in_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-test-SECRET-123"
    monkeypatch.setenv("RLM_OPENAI_API_KEY", secret)
    script = [Reply("ok"), Status(401, {"error": {"message": "bad key"}})]
    script += [Status(503, "down")] * 2
    with FakeOpenAIServer(script=script) as srv:
        model = OpenAICompatModel(srv.url, "fake-model", retry=Backoff(attempts=2, base_s=0.01))
        model.complete(USER, PARAMS)
        errors = []
        for _ in range(2):
            with pytest.raises(ModelError) as info:
                model.complete(USER, PARAMS)
            errors.append(info.value)
    assert srv.chat_requests()[0].headers["authorization"] == f"Bearer {secret}"
    assert "RLM_OPENAI_API_KEY" in str(errors[0])  # the hint names the variable...
    for err in errors:
        assert secret not in str(err) and secret not in repr(err)  # ...never the value
    assert secret not in repr(model)


def test_probe_reads_n_ctx_and_model_name() -> None:
    with FakeOpenAIServer(n_ctx=4096) as srv:
        model = OpenAICompatModel(srv.url, "", api_key="")
        assert model.n_ctx == 4096
        assert model.model_name == "fake-model"
        assert model.supports_grammar() is True  # /props answered: llama-server
        explicit = OpenAICompatModel(srv.url, "x", n_ctx=1000, api_key="")
        assert explicit.n_ctx == 1000
    with FakeOpenAIServer() as srv:
        model = OpenAICompatModel(srv.url, "fake-model", api_key="")
        assert model.n_ctx == 8192
        assert model.supports_grammar() is False


def test_grammar_sent_only_when_supported() -> None:
    params = GenerationParams(max_tokens=8, grammar='root ::= "yes" | "no"')
    with FakeOpenAIServer() as srv:
        make(srv, grammar=True).complete(USER, params)
        make(srv, grammar=False).complete(USER, params)
        bodies = [r.body for r in srv.chat_requests()]
    assert bodies[0]["grammar"] == params.grammar
    assert "grammar" not in bodies[1]


def test_count_tokens_uses_server_tokenizer_or_estimates() -> None:
    with FakeOpenAIServer(tokenize=True) as srv:
        assert make(srv).count_tokens("one two three four five six seven") == 7
    with FakeOpenAIServer() as srv:
        model = make(srv)
        assert model.count_tokens("x" * 40) == 10  # estimate
        assert model.count_tokens("x" * 40) == 10
        tokenize_calls = [r for r in srv.requests if "tokenize" in r.path]
    assert len(tokenize_calls) == 2  # probed once per endpoint, then remembered


def test_stream_options_dropped_for_servers_that_refuse_it() -> None:
    script = [Status(422, {"detail": [{"msg": "extra field stream_options not permitted"}]})]
    with FakeOpenAIServer(script=script) as srv:
        comp = make(srv).complete(USER, PARAMS)
        bodies = [r.body for r in srv.chat_requests()]
    assert comp.text == "echo: hello there"
    assert "stream_options" in bodies[0] and "stream_options" not in bodies[1]


def test_iter_sse_handles_comments_multiline_and_missing_blank_line() -> None:
    import io

    raw = b": keep-alive\n\ndata: a\ndata: b\n\nevent: x\ndata: c\r\n\r\ndata: d"
    assert list(iter_sse(io.BytesIO(raw))) == ["a\nb", "c", "d"]


def test_error_inside_stream_is_reported() -> None:
    script = [
        Reply(
            "",
            chunks=[],
            stream_error={"message": "the request exceeds the available context size"},
        ),
        Reply("ab", chunks=["a", "b"], stream_error={"message": "slot crashed"}),
    ]
    with FakeOpenAIServer(script=script) as srv:
        model = make(srv)
        with pytest.raises(PromptTooLong):
            model.complete(USER, PARAMS)
        with pytest.raises(ModelError, match="reported an error: slot crashed"):
            model.complete(USER, PARAMS)


def test_empty_stream_falls_back_to_a_plain_request() -> None:
    # llama_cpp.server sends 200 and an empty stream when the prompt is too long
    script = [Reply("", chunks=[], truncate=True), Status(400, TOO_LONG_OPENAI)]
    with FakeOpenAIServer(script=script) as srv:
        with pytest.raises(PromptTooLong):
            make(srv).complete(USER, PARAMS)
        bodies = [r.body for r in srv.chat_requests()]
    assert [b["stream"] for b in bodies] == [True, False]
    with FakeOpenAIServer(script=[Reply("", chunks=[], truncate=True), Reply("fine")]) as srv:
        comp = make(srv).complete(USER, PARAMS)
    assert comp.text == "fine" and comp.meta["stream_fallback"] is True


def test_stream_cut_mid_answer() -> None:
    cut = Reply("ab", chunks=["a", "b"], truncate=True)
    with FakeOpenAIServer(script=[cut, Reply("whole")]) as srv:
        assert make(srv).complete(USER, PARAMS).text == "whole"  # nothing shown yet: retried
        srv.script = [cut]
        shown: list[str] = []
        with pytest.raises(ModelError, match="mid-answer"):
            make(srv).complete(USER, PARAMS, on_text=shown.append)
    assert shown == ["a", "b"]
