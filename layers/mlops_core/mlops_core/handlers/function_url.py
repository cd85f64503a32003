"""What every Lambda function URL handler reads and answers: the request's headers and body text
(payload format 2.0), and a JSON response."""

from __future__ import annotations

import base64
import json
from typing import Any


def is_function_url_request(event: Any) -> bool:
    context = event.get("requestContext") if isinstance(event, dict) else None
    return isinstance(context, dict) and "http" in context


def request_parts(event: dict[str, Any]) -> tuple[dict[str, str], str] | str:
    """The headers (names in lower case) and the body text of a function URL request, or what is
    wrong with them (a request Lambda would never send, e.g. a forged invocation)."""
    raw_headers = event.get("headers") or {}
    if not isinstance(raw_headers, dict):
        return "headers is not an object"
    body = event.get("body") or ""
    if not isinstance(body, str):
        return "body is not a string"
    if event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(body, validate=True).decode()
        except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
            return "body is not base64-encoded UTF-8 text"
    return {str(k).lower(): str(v) for k, v in raw_headers.items()}, body


def response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
