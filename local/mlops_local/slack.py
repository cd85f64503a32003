"""A loopback stand-in for Slack: its incoming webhooks (so notifications can be read back in tests),
its interactions' ``response_url``, and the signed interaction request Slack sends when someone clicks a
button of a message (Slack API, "Handling user interaction": a ``block_actions`` payload, form-encoded,
signed with the app's signing secret: "Verifying requests from Slack")."""

import itertools
import json
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from mlops_local.loopback import LoopbackServer, answer

WEBHOOK_PATH = "/services/T00000000/B00000000/local"
RESPONSE_URL_PATH = "/actions/T00000000/"  # then a number per interaction


def block_actions_payload(
    message: dict[str, Any], action_id: str, *, user_id: str, user_name: str, response_url: str
) -> dict[str, Any]:
    """What Slack sends when ``user_id`` clicks the button ``action_id`` of ``message`` (a payload the
    notifier sent): the ``block_actions`` interaction, its fields as Slack's reference shows them."""
    buttons = [
        element
        for block in message.get("blocks") or []
        if block.get("type") == "actions"
        for element in block.get("elements") or []
        if element.get("action_id") == action_id
    ]
    if len(buttons) != 1:
        raise ValueError(f"the message has {len(buttons)} buttons {action_id!r}")
    [button] = buttons
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": "T00000000"},
        "api_app_id": "A00000000",
        "token": "deprecated-verification-token",
        "container": {"type": "message", "message_ts": "1764989400.000100", "channel_id": "C00000000"},
        "trigger_id": "1.2.3",
        "team": {"id": "T00000000", "domain": "local"},
        "channel": {"id": "C00000000", "name": "mlops"},
        "message": {"type": "message", "ts": "1764989400.000100", **message},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": "approval",
                "text": button.get("text"),
                "value": button.get("value", ""),
                "style": button.get("style"),
                "type": "button",
                "action_ts": "1764989401.000200",
            }
        ],
    }


def signed_request(
    payload: dict[str, Any], signing_secret: str, *, timestamp: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of Slack's interaction request for ``payload``, signed as Slack signs
    (slack_sdk's signature generator: ``v0=`` + HMAC-SHA256 of ``v0:{timestamp}:{body}``)."""
    body = urlencode({"payload": json.dumps(payload)})
    sent_at = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(signing_secret).generate_signature(timestamp=sent_at, body=body)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": sent_at,
        "X-Slack-Signature": str(signature),
    }
    return body.encode(), headers


class SlackWebhookReceiver(LoopbackServer):
    """Accepts JSON POSTs on 127.0.0.1 like a Slack webhook (answers `ok`) and keeps every payload:
    those to a ``response_url`` (`new_response_url`) in `responses`, the others in `messages`."""

    THREAD_NAME = "slack-webhooks"

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.responses: list[tuple[str, dict[str, Any]]] = []  # (response_url, payload)
        self._lock = threading.Lock()
        self._interactions = itertools.count(1)
        self._listen()

    @property
    def url(self) -> str:
        return self.base_url + WEBHOOK_PATH

    def new_response_url(self) -> str:
        """A ``response_url`` of one interaction, as Slack gives one with each."""
        return f"{self.base_url}{RESPONSE_URL_PATH}{next(self._interactions)}"

    def _record(self, path: str, payload: dict[str, Any]) -> None:
        with self._lock:
            if path.startswith(RESPONSE_URL_PATH):
                self.responses.append((self.base_url + path, payload))
            else:
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
                receiver._record(self.path, payload)
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
