"""A static file server on 127.0.0.1 for download tests: Range support, faults, a request log."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from rlm_cli.testing.local_http import LocalServer, QuietHandler


@dataclass
class Served:
    path: str
    range: str | None
    status: int
    bytes_sent: int


@dataclass
class FileServer(LocalServer):
    """Serves ``files`` (URL path -> bytes). Use ``with FileServer({...}) as srv:``.

    ``honour_range=False`` answers every request with 200 and the whole file.
    ``cut_after`` (a byte count) makes the next N requests close the connection after
    sending that many body bytes; ``cut_times`` says how many requests are cut.
    """

    files: dict[str, bytes]
    honour_range: bool = True
    cut_after: int | None = None
    cut_times: int = 1
    log: list[Served] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._serve(self._handler())

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                data = server.files.get(self.path)
                rng = self.headers.get("Range")
                if data is None:
                    self._send(404, b"not found", rng)
                    return
                m = re.match(r"bytes=(\d+)-$", rng or "")
                if not (m and server.honour_range):
                    self._send(200, data, rng)
                    return
                start = int(m.group(1))
                if start >= len(data):
                    extra = {"Content-Range": f"bytes */{len(data)}"}
                    self._send(416, b"", rng, extra)
                    return
                extra = {"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"}
                self._send(206, data[start:], rng, extra)

            def _send(self, code: int, body: bytes, rng: str | None, extra=None) -> None:
                with server._lock:
                    cut = server.cut_after is not None and server.cut_times > 0 and code < 300
                    if cut:
                        server.cut_times -= 1
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Accept-Ranges", "bytes")
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                if cut:
                    self.send_header("Connection", "close")
                self.end_headers()
                sent = body[: server.cut_after] if cut else body
                self.wfile.write(sent)
                self.wfile.flush()
                with server._lock:
                    server.log.append(Served(self.path, rng, code, len(sent)))
                if cut:
                    self.close_connection = True

        return Handler
