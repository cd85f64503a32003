"""Lambda function URLs on loopback: an HTTP request becomes the function URL event AWS sends.

moto keeps a function's URL config but serves nothing at the URL. The local cloud serves each function
URL it is asked for (`LocalCloud.function_url(logical_id)`) on 127.0.0.1: the request becomes a
payload format 2.0 event (headers lower-cased, body base64-encoded unless it is text), the function
runs in-process, and its answer (`statusCode`, `headers`, `body`) is written back, as Lambda does.
A real MLflow server can therefore deliver its webhooks to the function.
"""

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from mlops_local.loopback import LoopbackServer, answer

_TEXT_TYPES = ("application/json", "text/", "application/x-www-form-urlencoded")


def function_url_event(
    method: str, path: str, headers: dict[str, str], body: bytes, *, account: str
) -> dict[str, Any]:
    """The event Lambda gives a function for a request to its URL (payload format 2.0)."""
    url = urlsplit(path)
    lowered = {name.lower(): value for name, value in headers.items()}
    text = any(lowered.get("content-type", "").startswith(kind) for kind in _TEXT_TYPES)
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": url.path or "/",
        "rawQueryString": url.query,
        "headers": lowered,
        "requestContext": {
            "accountId": account,
            "apiId": "local",
            "domainName": lowered.get("host", "127.0.0.1"),
            "http": {
                "method": method,
                "path": url.path or "/",
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": body.decode() if text else base64.b64encode(body).decode(),
        "isBase64Encoded": not text,
    }


class FunctionUrlServer(LoopbackServer):
    """Serves one function's URL; `invoke` runs the function on the event and returns its result."""

    THREAD_NAME = "function-url"

    def __init__(self, invoke: Callable[[dict[str, Any]], Any], *, account: str) -> None:
        self._invoke = invoke
        self._account = account
        self._handled = 0
        self._request_handled = threading.Condition()
        self._listen()

    def wait_for_requests(self, count: int, timeout_seconds: float) -> bool:
        """Wait until `count` requests in all have been answered; False if that took too long."""
        with self._request_handled:
            return self._request_handled.wait_for(lambda: self._handled >= count, timeout=timeout_seconds)

    @property
    def url(self) -> str:
        return self.base_url + "/"

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        event = function_url_event(method, path, headers, body, account=self._account)
        try:
            result = self._invoke(event)
        finally:
            with self._request_handled:
                self._handled += 1
                self._request_handled.notify_all()
        if not isinstance(result, dict) or "statusCode" not in result:
            # Lambda: a result without statusCode is a 200 with the result as JSON; an error is a 502.
            if result is None:
                return 502, {"Content-Type": "application/json"}, b'{"Message":"Internal Server Error"}'
            return 200, {"Content-Type": "application/json"}, json.dumps(result).encode()
        answer = result.get("body") or ""
        payload = base64.b64decode(answer) if result.get("isBase64Encoded") else str(answer).encode()
        return (
            int(result["statusCode"]),
            {str(k): str(v) for k, v in (result.get("headers") or {}).items()},
            payload,
        )

    def _request_handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class FunctionUrlHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, headers, payload = server.handle(
                    self.command, self.path, dict(self.headers.items()), body
                )
                answer(self, status, payload, headers)

            do_POST = _serve
            do_GET = _serve
            do_PUT = _serve

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the tests read results, not access logs."""

        return FunctionUrlHandler
