"""A loopback stand-in for Slack's incoming webhooks, so notifications can be read back in tests."""

import json
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any

from mlops_local.loopback import LoopbackServer, answer

WEBHOOK_PATH = "/services/T00000000/B00000000/local"


class SlackWebhookReceiver(LoopbackServer):
    """Accepts JSON POSTs on 127.0.0.1 like a Slack webhook (answers `ok`) and keeps every payload."""

    THREAD_NAME = "slack-webhooks"

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._listen()

    @property
    def url(self) -> str:
        return self.base_url + WEBHOOK_PATH

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
                answer(self, status, text.encode(), {"Content-Type": "text/plain"})

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the payloads are in `messages`."""

        return SlackWebhookHandler


class ScriptedWebhook(LoopbackServer):
    """A loopback Slack webhook that answers each POST with the next ``(status, headers)`` of
    ``script``, then with ``otherwise``, and counts the requests: how Slack's failures (429 with
    Retry-After, 5xx) are shown to a sender."""

    THREAD_NAME = "scripted-slack-webhook"
    BODIES = {HTTPStatus.OK: "ok", HTTPStatus.TOO_MANY_REQUESTS: "rate_limited"}

    def __init__(
        self,
        script: list[tuple[int, dict[str, str]]] | None = None,
        *,
        otherwise: tuple[int, dict[str, str]] = (HTTPStatus.OK, {}),
    ) -> None:
        self.script = list(script or [])
        self.otherwise = otherwise
        self.requests = 0
        self._lock = threading.Lock()
        self._listen()

    @property
    def url(self) -> str:
        return self.base_url + "/services/T0/B0/scripted"

    def _next_answer(self) -> tuple[int, dict[str, str]]:
        with self._lock:
            self.requests += 1
            return self.script.pop(0) if self.script else self.otherwise

    def _request_handler(self) -> type[BaseHTTPRequestHandler]:
        webhook = self

        class ScriptedHandler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, headers = webhook._next_answer()
                body = ScriptedWebhook.BODIES.get(HTTPStatus(status), "error").encode()
                answer(self, status, body, {"Content-Type": "text/plain", **headers})

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the requests are counted."""

        return ScriptedHandler
