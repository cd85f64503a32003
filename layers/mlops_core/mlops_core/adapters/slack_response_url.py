"""Answers a Slack interaction through its ``response_url`` (the Slack approvals'
:class:`~mlops_core.notifications.ports.SlackResponder`): one POST of the message as JSON, no retries,
a two-second timeout, since Slack waits three seconds for the function's own answer. The URL is never
logged.

Sent with the standard library's HTTP client (``urllib.request``, what slack_sdk's webhook client
posts with), not through slack_sdk: importing any part of slack_sdk runs its package, which loads its
Web API client (asyncio included), about 40 ms of the approvals' cold start for one POST.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from mlops_core.notifications.ports import SlackDeliveryError

RESPONSE_URL_TIMEOUT_SECONDS = 2
# What slack_sdk's webhook client accepts (http: the local cloud's Slack on loopback); never file: etc.
URL_SCHEMES = ("https://", "http://")
JSON_CONTENT_TYPE = "application/json;charset=utf-8"


class SlackResponseUrl:
    def __init__(self, timeout_seconds: float = RESPONSE_URL_TIMEOUT_SECONDS) -> None:
        self._timeout = timeout_seconds

    def respond(self, response_url: str, message: dict[str, Any]) -> None:
        if not response_url.lower().startswith(URL_SCHEMES):
            raise SlackDeliveryError("Slack response_url is not an http(s) URL")
        request = urllib.request.Request(
            response_url,
            method="POST",
            data=json.dumps(message).encode(),
            headers={"Content-Type": JSON_CONTENT_TYPE},
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as answer:
                status, body = answer.status, answer.read()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read()
        except Exception as error:  # connection errors, timeouts
            raise SlackDeliveryError(f"Slack response_url unreachable: {type(error).__name__}") from None
        if status != 200:
            raise SlackDeliveryError(f"Slack answered {status} {body.decode(errors='replace')[:200]!r}")
