"""The one shape of the local cloud's HTTP servers (inference, Slack webhooks, custom resource
answers, function URLs): a threaded server on 127.0.0.1 on a free port, served from a daemon
thread, started and stopped as a context manager.
"""

import ssl
import sys
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Self

SHUTDOWN_POLL_SECONDS = 0.02  # how soon a server notices a stop request


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-answer (a load generator stopping) is not an error of the server."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class LoopbackServer:
    """Base of a loopback server: a subclass names its thread and gives its request handler class,
    and calls :meth:`_listen` at the end of its ``__init__`` (optionally with a TLS context)."""

    THREAD_NAME: ClassVar[str]

    def _request_handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def _listen(self, tls: ssl.SSLContext | None = None) -> None:
        self._server = _Server(("127.0.0.1", 0), self._request_handler())
        self._scheme = "http"
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
            self._scheme = "https"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            args=(SHUTDOWN_POLL_SECONDS,),
            name=self.THREAD_NAME,
            daemon=True,
        )

    @property
    def base_url(self) -> str:
        """``http(s)://127.0.0.1:{port}``, without a trailing slash."""
        host, port = self._server.server_address[:2]
        return f"{self._scheme}://{host!s}:{port}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def answer(
    handler: BaseHTTPRequestHandler, status: int, body: bytes = b"", headers: Mapping[str, str] | None = None
) -> None:
    """Send a complete HTTP answer from ``handler``: status, headers, Content-Length and body."""
    handler.send_response(status)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
