"""A model behind an OpenAI-compatible HTTP server (llama-server, llama_cpp.server, vLLM...).

Spec: ``openai:http://host:port/v1#model-name``. Stdlib HTTP only: one connection per
request, so calls from several threads run truly in parallel. Answers stream over SSE
(``data: {...}`` lines ending with ``data: [DONE]``); transient failures (429, 5xx,
timeouts, dropped connections) are retried with exponential backoff and jitter, and a
prompt the server rejects as too long raises :class:`PromptTooLong`.
"""

from __future__ import annotations

import email.utils
import http.client
import io
import json
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

from rlm_cli.errors import ModelError, PromptTooLong, UsageError
from rlm_cli.llm.base import DEFAULT_N_CTX, Completion, GenerationParams, Message, Model, OnText
from rlm_cli.llm.retry import Backoff

API_KEY_ENVS = ("RLM_OPENAI_API_KEY", "OPENAI_API_KEY")
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_TOO_LONG = re.compile(
    r"context[ _-]?(length|size|window)|maximum context|too many tokens|too long|exceed",
    re.IGNORECASE,
)


def parse_openai_spec(spec: str) -> tuple[str, str]:
    """Split ``openai:http://host:port/v1#model`` into ``(base_url, model_name)``.

    The ``openai:`` prefix is optional; the model name may be empty (the server's
    first model is used). Raises :class:`UsageError` for anything that is not an
    http(s) URL with a host.
    """
    raw = spec[len("openai:") :] if spec.startswith("openai:") else spec
    url, _, name = raw.partition("#")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"bad OpenAI-compatible model spec {spec!r}",
            hint="expected openai:http://host:port/v1#model-name",
        )
    return url.rstrip("/"), name.strip()


def api_key_from_env() -> str | None:
    """The API key from ``RLM_OPENAI_API_KEY`` or ``OPENAI_API_KEY`` (None when unset)."""
    for name in API_KEY_ENVS:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


class _Retryable(Exception):
    """A failure worth another attempt; ``retry_after`` is the server's hint in seconds."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class _EmptyStream(Exception):
    """The server sent a 200 stream that ended with nothing in it and no [DONE]."""


@dataclass
class _Response:
    status: int
    headers: dict[str, str]
    body: bytes


class OpenAICompatModel(Model):
    """Chat completions from an OpenAI-compatible server.

    ``n_ctx=None`` asks the server (llama-server ``/props``, vLLM ``max_model_len``),
    falling back to ``DEFAULT_N_CTX``. ``grammar=None`` sends GBNF grammars only to servers detected
    as llama.cpp-based. The API key goes in the ``Authorization`` header and nowhere else.
    """

    def __init__(
        self,
        base_url: str,
        model_name: str = "",
        *,
        api_key: str | None = None,
        concurrency: int = 4,
        n_ctx: int | None = None,
        timeout: float = 600.0,
        connect_timeout: float = 10.0,
        retry: Backoff = Backoff(),
        stream: bool = True,
        grammar: bool | None = None,
        probe: bool = True,
        spec: str = "",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"bad server URL {base_url!r}", hint="expected http://host:port/v1")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._path = parts.path.rstrip("/")
        root = self._path[: -len("/v1")] if self._path.endswith("/v1") else self._path
        self._root_path = root
        self.base_url = base_url.rstrip("/")
        self.model_name = model_name
        self._api_key = api_key if api_key is not None else api_key_from_env()
        self.concurrency = max(1, int(concurrency))
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.retry = retry
        self.stream = stream
        self._grammar_cfg = grammar
        self._sleep = sleep
        self._send_stream_options = True
        self._lock = threading.Lock()
        self._server_kind: str | None = None
        self._tokenize_path: str | None | bool = None  # None: unknown; False: unsupported
        self.spec = spec or f"openai:{self.base_url}#{model_name}"
        self.server_info: dict = {}
        self.n_ctx = int(n_ctx) if n_ctx else DEFAULT_N_CTX
        if probe:
            self._probe(explicit_n_ctx=n_ctx is not None)

    @classmethod
    def from_spec(cls, spec: str, **kwargs: object) -> OpenAICompatModel:
        """Build from ``openai:http://host:port/v1#model``; ``kwargs`` go to the constructor."""
        base_url, name = parse_openai_spec(spec)
        return cls(base_url, name, spec=spec, **kwargs)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"OpenAICompatModel({self.base_url!r}, {self.model_name!r})"

    # -- HTTP ---------------------------------------------------------------

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": "rlm-cli"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        if extra:
            headers.update(extra)
        return headers

    def _connect(self, timeout: float) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        return cls(self._host, self._port, timeout=timeout)

    def _where(self) -> str:
        return f"{self._host}:{self._port}"

    def _open(
        self,
        method: str,
        path: str,
        payload: dict | None,
        timeout: float,
        watch: _StopWatch | None = None,
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        conn = self._connect(timeout)
        if watch is not None:
            watch.conn = conn
        body = json.dumps(payload).encode() if payload is not None else None
        headers = self._headers({"Content-Type": "application/json"} if body else None)
        try:
            conn.request(method, path, body=body, headers=headers)
            return conn, conn.getresponse()
        except BaseException:
            conn.close()
            raise

    def _simple(self, method: str, path: str, payload: dict | None, timeout: float) -> _Response:
        """One request read fully, no retries (probes and tokenize)."""
        conn, resp = self._open(method, path, payload, timeout)
        try:
            return _Response(resp.status, _lower_headers(resp), resp.read())
        finally:
            conn.close()

    # -- probing --------------------------------------------------------------

    def _probe_json(self, path: str) -> dict | None:
        try:
            r = self._simple("GET", path, None, min(self.connect_timeout, 5.0))
        except (OSError, http.client.HTTPException):
            return None
        if r.status != 200:
            return None
        try:
            data = json.loads(r.body)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def _probe(self, *, explicit_n_ctx: bool) -> None:
        """Ask the server for its models and window; silent when it cannot say."""
        models = self._probe_json(f"{self._path}/models")
        props = self._probe_json(f"{self._root_path}/props")
        entries = [m for m in (models or {}).get("data", []) if isinstance(m, dict)]
        chosen = next((m for m in entries if m.get("id") == self.model_name), None)
        if not self.model_name and entries:
            chosen = entries[0]
            self.model_name = str(chosen.get("id", ""))
        found: int | None = None
        source = "default"
        if props:
            self._server_kind = "llama-server"
            settings = props.get("default_generation_settings") or {}
            n = settings.get("n_ctx") or props.get("n_ctx")
            if isinstance(n, int) and n > 0:
                found, source = n, "props"
        if found is None and chosen is not None:
            n = chosen.get("max_model_len")
            if isinstance(n, int) and n > 0:
                found, source = n, "max_model_len"
            meta = chosen.get("meta") or {}
            train = meta.get("n_ctx_train") if isinstance(meta, dict) else None
            if found is None and isinstance(train, int) and train > 0:
                # the training window is an upper bound, not what the server was started with
                found, source = min(self.n_ctx, train), "n_ctx_train"
        self.server_info = {"models": [m.get("id") for m in entries], "n_ctx_source": source}
        if found is not None and not explicit_n_ctx:
            self.n_ctx = found
            self.server_info["n_ctx_source"] = source

    def server_kind(self) -> str:
        """``llama-server``, ``llama-cpp-python`` or ``generic`` (asked once, then cached)."""
        with self._lock:
            if self._server_kind is None:
                kind = "generic"
                if self._probe_json(f"{self._root_path}/props") is not None:
                    kind = "llama-server"
                else:
                    try:
                        r = self._simple("GET", f"{self._root_path}/extras/tokenize", None, 5.0)
                        if r.status in (405, 422):
                            kind = "llama-cpp-python"
                    except (OSError, http.client.HTTPException):
                        pass
                self._server_kind = kind
            return self._server_kind

    def supports_grammar(self) -> bool:
        """True when configured so, or when the server is llama.cpp-based."""
        if self._grammar_cfg is not None:
            return self._grammar_cfg
        return self.server_kind() in ("llama-server", "llama-cpp-python")

    # -- tokens ---------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        """Tokens by the server's tokenizer (``/tokenize`` or ``/extras/tokenize``), else an estimate."""
        if not text:
            return 0
        if self._tokenize_path is not False:
            candidates = (
                [self._tokenize_path]
                if self._tokenize_path
                else [f"{self._root_path}/tokenize", f"{self._root_path}/extras/tokenize"]
            )
            for path in candidates:
                payload = {"content": text, "input": text, "add_special": False}
                if self.model_name:
                    payload["model"] = self.model_name
                try:
                    r = self._simple("POST", path, payload, min(self.timeout, 60.0))
                except (OSError, http.client.HTTPException):
                    self._tokenize_path = False  # not asked again on every count
                    break
                if r.status == 200:
                    try:
                        tokens = json.loads(r.body).get("tokens")
                    except (ValueError, AttributeError):
                        tokens = None
                    if isinstance(tokens, list):
                        self._tokenize_path = path
                        return len(tokens)
            else:
                self._tokenize_path = False
        return super().count_tokens(text)

    def counts_tokens_exactly(self) -> bool:
        return bool(self._tokenize_path)

    # -- completions ----------------------------------------------------------

    def _payload(self, messages: Sequence[Message], params: GenerationParams, stream: bool) -> dict:
        payload: dict = {
            "model": self.model_name or "default",
            "messages": [dict(m) for m in messages],
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "stream": stream,
        }
        if params.seed is not None:
            payload["seed"] = params.seed
        if params.stop:
            payload["stop"] = list(params.stop)
        if params.grammar and self.supports_grammar():
            payload["grammar"] = params.grammar
        if stream and self._send_stream_options:
            payload["stream_options"] = {"include_usage": True}
        return payload

    def complete(
        self,
        messages: Sequence[Message],
        params: GenerationParams,
        on_text: OnText | None = None,
    ) -> Completion:
        """Answer one conversation, streaming deltas to ``on_text``; retries transient failures."""
        start = time.monotonic()
        emitted = [0]

        def emit(piece: str) -> None:
            emitted[0] += len(piece)
            if on_text is not None:
                on_text(piece)

        last: _Retryable | None = None
        for attempt in range(1, self.retry.attempts + 1):
            params.check_stop()
            try:
                result = self._attempt(messages, params, emit)
            except _Retryable as exc:
                last = exc
                if emitted[0] and on_text is not None:
                    raise ModelError(
                        f"{self._where()}: connection lost mid-answer ({exc}); "
                        "not retried because part of the answer was already shown"
                    ) from None
                if attempt == self.retry.attempts:
                    break
                self._sleep(self.retry.delay(attempt, exc.retry_after))
                continue
            result.elapsed_s = time.monotonic() - start
            result.meta["attempts"] = attempt
            return result
        raise ModelError(f"{self._where()}: {last} (gave up after {self.retry.attempts} attempts)")

    def _attempt(
        self, messages: Sequence[Message], params: GenerationParams, emit: Callable[[str], None]
    ) -> Completion:
        if not self.stream:
            return self._request(messages, params, emit, stream=False)
        try:
            return self._request(messages, params, emit, stream=True)
        except _EmptyStream:
            # llama_cpp.server answers 200 and an empty stream when the request fails after
            # the headers went out (an over-long prompt does this): ask once more without
            # streaming, which reports the real error (or the answer)
            comp = self._request(messages, params, emit, stream=False)
            comp.meta["stream_fallback"] = True
            return comp

    def _request(
        self,
        messages: Sequence[Message],
        params: GenerationParams,
        emit: Callable[[str], None],
        *,
        stream: bool,
    ) -> Completion:
        """One request; abandoned (its socket shut) when ``params.should_stop`` says so."""
        watch = _StopWatch(params)
        try:
            return self._request_once(messages, params, emit, stream=stream, watch=watch)
        except (ModelError, _Retryable, _EmptyStream, OSError, http.client.HTTPException):
            if watch.fired:  # the deadline passed: say so, not how the socket broke
                params.check_stop()
            raise
        finally:
            watch.done()

    def _request_once(
        self,
        messages: Sequence[Message],
        params: GenerationParams,
        emit: Callable[[str], None],
        *,
        stream: bool,
        watch: _StopWatch,
    ) -> Completion:
        payload = self._payload(messages, params, stream)
        path = f"{self._path}/chat/completions"
        try:
            conn, resp = self._open("POST", path, payload, self.timeout, watch)
        except TimeoutError:
            raise _Retryable("timed out") from None
        except ConnectionRefusedError:
            raise _Retryable("connection refused (is the server running?)") from None
        except socket.gaierror as exc:
            raise ModelError(f"cannot resolve {self._host}: {exc.strerror or exc}") from None
        except (ConnectionError, http.client.HTTPException, OSError) as exc:
            raise _Retryable(f"connection failed: {_describe(exc)}") from None
        try:
            if resp.status != 200:
                body = _safe_read(resp)
                self._raise_for_status(resp.status, _lower_headers(resp), body, payload)
            ctype = resp.getheader("Content-Type", "") or ""
            if "text/event-stream" in ctype:
                return self._read_stream(resp, messages, emit)
            return self._read_whole(resp.read(), messages, emit)
        except TimeoutError:
            raise _Retryable("timed out waiting for the server") from None
        except (ConnectionError, http.client.HTTPException) as exc:
            raise _Retryable(f"connection lost: {_describe(exc)}") from None
        finally:
            conn.close()

    def _raise_for_status(self, status: int, headers: dict, body: bytes, payload: dict) -> None:
        message = _error_message(body) or http.client.responses.get(status, "error")
        if status in RETRY_STATUSES:
            raise _Retryable(f"HTTP {status}: {message}", _retry_after(headers.get("retry-after")))
        if status in (400, 422) and "stream_options" in message and self._send_stream_options:
            self._send_stream_options = False  # an older server; ask again without it
            raise _Retryable(f"HTTP {status}: server does not accept stream_options", 0.0)
        if status == 413 or (status == 400 and _TOO_LONG.search(message)):
            raise _too_long(message, body)
        if status in (401, 403):
            raise ModelError(
                f"{self._where()} refused the request (HTTP {status}): {message}",
                hint="set RLM_OPENAI_API_KEY",
            )
        raise ModelError(f"{self._where()} answered HTTP {status}: {message}")

    def _read_whole(
        self, body: bytes, messages: Sequence[Message], emit: Callable[[str], None]
    ) -> Completion:
        if body.lstrip().startswith(b"data:"):  # SSE sent with the wrong content type
            return self._read_stream(io.BytesIO(body), messages, emit)
        try:
            data = json.loads(body)
        except ValueError:
            raise ModelError(f"{self._where()} sent a reply that is not JSON") from None
        if isinstance(data, dict) and data.get("error"):
            raise _error_from_chunk(data["error"], self._where())
        try:
            choice = data["choices"][0]
            text = (choice.get("message") or {}).get("content") or choice.get("text") or ""
        except (KeyError, IndexError, TypeError):
            raise ModelError(f"{self._where()} sent a reply without choices") from None
        if text:
            emit(text)
        reasoning = (choice.get("message") or {}).get("reasoning_content") or ""
        comp = Completion(text=text, finish_reason=_finish(choice.get("finish_reason")))
        self._apply_usage(comp, data.get("usage"), data.get("timings"), messages, chunks=0)
        comp.meta["streamed"] = False
        if reasoning:
            comp.meta["reasoning"] = reasoning
        return comp

    def _read_stream(
        self,
        resp: http.client.HTTPResponse | io.BytesIO,
        messages: Sequence[Message],
        emit: Callable[[str], None],
    ) -> Completion:
        parts: list[str] = []
        reasoning: list[str] = []
        finish = None
        usage = timings = None
        chunks = 0
        done = False
        for data in iter_sse(resp):
            if data.strip() == "[DONE]":
                done = True
                break
            try:
                event = json.loads(data)
            except ValueError:
                continue
            if not isinstance(event, dict):
                continue
            if event.get("error"):
                raise _error_from_chunk(event["error"], self._where())
            usage = event.get("usage") or usage
            timings = event.get("timings") or timings
            for choice in event.get("choices") or []:
                delta = choice.get("delta") or {}
                piece = delta.get("content") or choice.get("text") or ""
                if piece:
                    chunks += 1
                    parts.append(piece)
                    emit(piece)
                if delta.get("reasoning_content"):
                    reasoning.append(delta["reasoning_content"])
                finish = choice.get("finish_reason") or finish
        if not done and finish is None:
            if not parts:
                raise _EmptyStream()
            raise _Retryable(f"the stream ended early, after {chunks} pieces")
        comp = Completion(text="".join(parts), finish_reason=_finish(finish))
        self._apply_usage(comp, usage, timings, messages, chunks=chunks)
        comp.meta["streamed"] = True
        if reasoning:
            comp.meta["reasoning"] = "".join(reasoning)
        return comp

    def _apply_usage(
        self,
        comp: Completion,
        usage: dict | None,
        timings: dict | None,
        messages: Sequence[Message],
        *,
        chunks: int,
    ) -> None:
        if isinstance(usage, dict) and usage.get("completion_tokens") is not None:
            comp.prompt_tokens = int(usage.get("prompt_tokens") or 0)
            comp.completion_tokens = int(usage.get("completion_tokens") or 0)
            details = usage.get("prompt_tokens_details") or {}
            cached = details.get("cached_tokens") if isinstance(details, dict) else None
            if cached:
                comp.prompt_tokens_reused = int(cached)
        else:
            # no usage from the server: chars/4 for the prompt, one token per streamed delta
            prompt_chars = sum(len(m.get("content", "")) for m in messages)
            comp.prompt_tokens = max(1, prompt_chars // 4)
            comp.completion_tokens = chunks or (len(comp.text) // 4)
            comp.meta["usage_estimated"] = True
        if isinstance(timings, dict) and timings.get("cache_n") and not comp.prompt_tokens_reused:
            comp.prompt_tokens_reused = int(timings["cache_n"])

    def complete_many(
        self, conversations: Sequence[Sequence[Message]], params: GenerationParams
    ) -> list[Completion]:
        """Answer conversations in parallel, at most ``concurrency`` at once, in input order.

        If any call fails, the first failure (in input order) is raised after all finish.
        """
        if len(conversations) <= 1 or self.concurrency == 1:
            return [self.complete(m, params) for m in conversations]
        workers = min(self.concurrency, len(conversations))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rlm-openai") as pool:
            futures = [pool.submit(self.complete, m, params) for m in conversations]
            return [f.result() for f in futures]


class _StopWatch:
    """Shuts a request's socket once ``params.should_stop`` says so (polled by a small
    thread every 0.1 s): the blocking read fails at once and the call is abandoned."""

    def __init__(self, params: GenerationParams) -> None:
        self.params = params
        self.conn: http.client.HTTPConnection | None = None
        self.fired = False
        self._done = threading.Event()
        if params.should_stop is not None:
            threading.Thread(target=self._watch, name="rlm-stop-watch", daemon=True).start()

    def _watch(self) -> None:
        while not self._done.wait(0.1):
            if self.params.stop_requested():
                self.fired = True
                sock = getattr(self.conn, "sock", None)
                if sock is not None:  # else not connected yet: look again
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return

    def done(self) -> None:
        """The request is over: stop watching."""
        self._done.set()


def iter_sse(resp: http.client.HTTPResponse | io.BytesIO) -> Iterator[str]:
    """Yield the ``data`` of each server-sent event (multi-line data joined with newlines)."""
    lines: list[str] = []
    while True:
        raw = resp.readline()
        if not raw:
            break
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if not line:
            if lines:
                yield "\n".join(lines)
                lines = []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "data":
            lines.append(value)
            if value.strip() == "[DONE]":
                yield "\n".join(lines)
                return
        elif field == "error":  # some servers send errors as their own field
            yield json.dumps({"error": {"message": value}})
    if lines:
        yield "\n".join(lines)


def _lower_headers(resp: http.client.HTTPResponse) -> dict[str, str]:
    return {k.lower(): v for k, v in resp.getheaders()}


def _safe_read(resp: http.client.HTTPResponse) -> bytes:
    try:
        return resp.read(65536)
    except (OSError, http.client.HTTPException):
        return b""


def _describe(exc: BaseException) -> str:
    return type(exc).__name__ if not str(exc) else f"{type(exc).__name__}: {exc}"


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _error_message(body: bytes) -> str:
    """The server's error message on one line (OpenAI, FastAPI and llama.cpp shapes)."""
    text = body.decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except ValueError:
        return _one_line(text)
    if isinstance(data, dict):
        err = data.get("error", data.get("detail", data.get("message")))
        if isinstance(err, dict):
            err = err.get("message") or json.dumps(err)
        elif isinstance(err, list):  # FastAPI validation errors
            err = "; ".join(str(e.get("msg", e)) if isinstance(e, dict) else str(e) for e in err)
        if err:
            return _one_line(str(err))
    return _one_line(text)


def _too_long(message: str, body: bytes) -> PromptTooLong:
    tokens = limit = 0
    try:
        err = json.loads(body).get("error", {})
        tokens = int(err.get("n_prompt_tokens") or 0)
        limit = int(err.get("n_ctx") or 0)
    except (ValueError, AttributeError, TypeError):
        pass
    m = re.search(r"maximum context length is (\d+)", message)
    if m and not limit:
        limit = int(m.group(1))
    m = re.search(r"\((\d+) in (?:the messages|your prompt)", message) or re.search(
        r"requested (\d+) tokens", message
    )
    if m and not tokens:
        tokens = int(m.group(1))
    return PromptTooLong(
        f"prompt too long for the server's window: {message}", tokens=tokens, limit=limit
    )


def _error_from_chunk(err: object, where: str) -> ModelError:
    message = err.get("message") if isinstance(err, dict) else str(err)
    message = _one_line(str(message or err))
    if _TOO_LONG.search(message):
        return _too_long(message, json.dumps({"error": err}).encode())
    return ModelError(f"{where} reported an error: {message}")


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _finish(reason: object) -> str:
    return "length" if reason == "length" else "stop"
