"""A loopback stand-in for Slack's incoming webhooks, so notifications can be read back in tests."""

import json
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

WEBHOOK_PATH = "/services/T00000000/B00000000/local"
SHUTDOWN_POLL_SECONDS = 0.02  # how soon the server notices a stop request


class SlackWebhookReceiver:
    """Accepts JSON POSTs on 127.0.0.1 like a Slack webhook (answers `ok`) and keeps every payload."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._request_handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            args=(SHUTDOWN_POLL_SECONDS,),
            name="slack-webhooks",
            daemon=True,
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{WEBHOOK_PATH}"

    def __enter__(self) -> "SlackWebhookReceiver":
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _record(self, payload: dict[str, Any]) -> None:
        with self._lock:
            self.messages.append(payload)

    def _request_handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class SlackWebhookHandler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = None
                if not isinstance(payload, dict):
                    self._answer(HTTPStatus.BAD_REQUEST, "invalid_payload")
                    return
                receiver._record(payload)
                self._answer(HTTPStatus.OK, "ok")

            def _answer(self, status: HTTPStatus, text: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text.encode())

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the payloads are in `messages`."""

        return SlackWebhookHandler
