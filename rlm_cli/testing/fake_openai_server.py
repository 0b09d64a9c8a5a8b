"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests: scripted, threaded, recorded.

Each POST to ``/v1/chat/completions`` takes the next scripted action (``Reply``,
``Status``, ``Stall``) or, when the script is empty, replies with ``reply_fn(body)``
(by default ``"echo: <last user message>"``). Streaming replies use chunked transfer
and SSE like uvicorn-based servers do. Every request is recorded with its headers.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from rlm_cli.testing.local_http import LocalServer, QuietHandler


@dataclass
class Reply:
    """Answer with ``text``, streamed in ``chunks`` (default: one per word) when asked to stream."""

    text: str
    chunks: list[str] | None = None
    usage: bool = True
    finish_reason: str = "stop"
    chunk_delay: float = 0.0
    stream_error: dict | None = None
    truncate: bool = False
    """When set, the stream stops after the chunks with no finish_reason and no [DONE]."""
    """When set, the stream ends with ``data: {"error": stream_error}`` after the chunks."""


@dataclass
class Status:
    """Answer with an HTTP error status and a JSON (or raw) body."""

    code: int
    body: dict | str = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Stall:
    """Sleep ``seconds`` before answering normally (lets a client time out)."""

    seconds: float


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict


def _echo(body: dict) -> str:
    users = [m.get("content", "") for m in body.get("messages", []) if m.get("role") == "user"]
    return f"echo: {users[-1] if users else ''}"


class FakeOpenAIServer(LocalServer):
    """Start with ``with FakeOpenAIServer() as srv:``; ``srv.url`` is the ``/v1`` base URL."""

    def __init__(
        self,
        *,
        script: list | None = None,
        reply_fn: Callable[[dict], str] = _echo,
        delay: float = 0.0,
        n_ctx: int | None = None,
        tokenize: bool = False,
        send_usage: bool = True,
    ) -> None:
        self.script = list(script or [])
        self.reply_fn = reply_fn
        self.delay = delay
        self.n_ctx = n_ctx
        self.tokenize = tokenize
        self.send_usage = send_usage
        self.requests: list[Recorded] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._serve(self._handler())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def chat_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def _next_action(self, body: dict) -> object:
        with self._lock:
            if self.script:
                return self.script.pop(0)
        return Reply(self.reply_fn(body))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(QuietHandler):
            def _json(self, code: int, data: object, headers: dict | None = None) -> None:
                raw = (data if isinstance(data, str) else json.dumps(data)).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                if self.path == "/v1/models":
                    self._json(200, {"object": "list", "data": [{"id": "fake-model"}]})
                elif self.path == "/props" and server.n_ctx:
                    self._json(200, {"default_generation_settings": {"n_ctx": server.n_ctx}})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                headers = {k.lower(): v for k, v in self.headers.items()}
                with server._lock:
                    server.requests.append(Recorded(self.path, headers, body))
                if self.path == "/tokenize" and server.tokenize:
                    self._json(200, {"tokens": list(range(len(body["content"].split())))})
                    return
                if self.path != "/v1/chat/completions":
                    self._json(404, {"error": {"message": "not found"}})
                    return
                self._chat(body)

            def _work(self, body: dict) -> Reply | Status:
                """The server's thinking time: counted in flight, and over before any byte of
                the reply is written (a client that starts its next request the moment it reads
                a reply must not overlap this one in the count)."""
                with server._lock:
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    action = server._next_action(body)
                    if server.delay:
                        time.sleep(server.delay)
                    if isinstance(action, Stall):
                        time.sleep(action.seconds)
                        action = Reply(server.reply_fn(body))
                    return action
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def _chat(self, body: dict) -> None:
                action = self._work(body)
                if isinstance(action, Status):
                    self._json(action.code, action.body, action.headers)
                    return
                assert isinstance(action, Reply)
                usage = {
                    "prompt_tokens": sum(len(m["content"].split()) for m in body["messages"]),
                    "completion_tokens": len(action.text.split()),
                }
                usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
                send_usage = server.send_usage and action.usage
                if not body.get("stream"):
                    msg = {"role": "assistant", "content": action.text}
                    data = {"choices": [{"message": msg, "finish_reason": action.finish_reason}]}
                    if send_usage:
                        data["usage"] = usage
                    self._json(200, data)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                pieces = action.chunks
                if pieces is None:
                    words = action.text.split(" ")
                    pieces = [w if i == 0 else " " + w for i, w in enumerate(words)]
                for piece in pieces:
                    if action.chunk_delay:
                        time.sleep(action.chunk_delay)
                    delta = {"choices": [{"delta": {"content": piece}, "finish_reason": None}]}
                    self._chunk(f"data: {json.dumps(delta)}\n\n")
                if action.truncate:
                    self.wfile.write(b"0\r\n\r\n")
                    return
                if action.stream_error is not None:
                    self._chunk(f"data: {json.dumps({'error': action.stream_error})}\n\n")
                    self.wfile.write(b"0\r\n\r\n")
                    return
                final = {"choices": [{"delta": {}, "finish_reason": action.finish_reason}]}
                self._chunk(f"data: {json.dumps(final)}\n\n")
                wants_usage = (body.get("stream_options") or {}).get("include_usage")
                if send_usage and wants_usage:
                    self._chunk(f"data: {json.dumps({'choices': [], 'usage': usage})}\n\n")
                self._chunk("data: [DONE]\n\n")
                self.wfile.write(b"0\r\n\r\n")

            def _chunk(self, text: str) -> None:
                raw = text.encode()
                self.wfile.write(f"{len(raw):x}\r\n".encode() + raw + b"\r\n")
                self.wfile.flush()

        return Handler
