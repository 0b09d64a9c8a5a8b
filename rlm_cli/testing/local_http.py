"""What the test HTTP servers share: a threaded server on 127.0.0.1 (a free port), run
in a daemon thread while the ``with`` block lasts, and a handler that logs nothing."""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 (keep-alive), and no request lines on stderr."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    """A client that hangs up mid-answer (a cancelled download, a stopped stream) is what
    the tests do on purpose: not a traceback on stderr, which a handler thread could write
    after its test, into the next one's captured output."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class LocalServer:
    """Call ``self._serve(handler_class)`` once from ``__init__``; then ``with srv:``."""

    def _serve(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._httpd = _Server(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def __enter__(self) -> Any:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
