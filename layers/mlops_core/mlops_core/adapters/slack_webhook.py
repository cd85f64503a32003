"""Slack's incoming webhooks through slack_sdk (the Slack notifier's
:class:`~mlops_core.notifications.ports.WebhookSender`).

slack_sdk's retry handlers ride out 429 (honouring Retry-After), 5xx and connection errors; a message
that still fails raises :class:`~mlops_core.notifications.ports.SlackDeliveryError`. One message never
outlives the function: at most :data:`RETRIES_PER_ERROR_KIND` retries in all (slack_sdk counts
attempts across its handlers), each request times out after :data:`WEBHOOK_TIMEOUT_SECONDS`, and a 429
is waited out only when its Retry-After is at most :data:`RATE_LIMIT_MAX_WAIT_SECONDS` (a longer one
fails the message now; Lambda retries it a minute later). Worst case: 3 x 5 s + 2 x 3 s = 21 s, inside
the template's 30 s timeout. The webhook URL is never logged.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mlops_core.notifications.ports import SlackDeliveryError

if TYPE_CHECKING:
    from mlops_core.notifications.slack_messages import SlackMessage

RETRIES_PER_ERROR_KIND = 2
WEBHOOK_TIMEOUT_SECONDS = 5
RATE_LIMIT_MAX_WAIT_SECONDS = 3
RETRY_BACKOFF_SECONDS = 0.2  # then 0.4: Lambda's own retries come on top
RETRY_JITTER_SECONDS = 0.1  # slack_sdk's default jitter adds up to a whole second to each retry


def retry_after_seconds(headers: dict[str, Any]) -> float | None:
    """Slack's Retry-After (seconds) from slack_sdk's response headers; None when absent or unreadable."""
    for name, values in headers.items():
        if name.lower() == "retry-after":
            value = values[0] if isinstance(values, list) and values else values
            try:
                return max(0.0, float(value))
            except (TypeError, ValueError):
                return None
    return None


class SlackSdkSender:
    def __init__(
        self,
        backoff_seconds: float = RETRY_BACKOFF_SECONDS,
        max_rate_limit_wait_seconds: float = RATE_LIMIT_MAX_WAIT_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._backoff_seconds = backoff_seconds
        self._max_wait = max_rate_limit_wait_seconds
        self._sleep = sleep
        # slack_sdk logs each request with its URL at DEBUG: keep it out of the logs whatever the level.
        logging.getLogger("slack_sdk").setLevel(logging.WARNING)

    def send(self, url: str, message: SlackMessage) -> None:
        from slack_sdk.http_retry.builtin_handlers import (  # noqa: PLC0415 - only the notifier pays for it
            ConnectionErrorRetryHandler,
            RateLimitErrorRetryHandler,
            ServerErrorRetryHandler,
        )
        from slack_sdk.http_retry.builtin_interval_calculators import (  # noqa: PLC0415
            BackoffRetryIntervalCalculator,
        )
        from slack_sdk.http_retry.jitter import Jitter  # noqa: PLC0415
        from slack_sdk.webhook import WebhookClient  # noqa: PLC0415

        class SmallJitter(Jitter):
            def recalculate(self, duration: float) -> float:
                return duration + random.random() * RETRY_JITTER_SECONDS

        max_wait, sleep = self._max_wait, self._sleep

        class CappedRateLimitRetryHandler(RateLimitErrorRetryHandler):
            """Waits out a 429's Retry-After only up to ``max_wait``; a longer one is not retried here."""

            def _can_retry(
                self, *, state: Any, request: Any, response: Any = None, error: Any = None
            ) -> bool:
                if response is None or response.status_code != 429:
                    return False
                wait = retry_after_seconds(response.headers)
                return wait is None or wait <= max_wait

            def prepare_for_next_attempt(
                self, *, state: Any, request: Any, response: Any = None, error: Any = None
            ) -> None:
                state.next_attempt_requested = True
                wait = retry_after_seconds(response.headers) if response is not None else None
                sleep(min(max_wait, 1.0 if wait is None else wait))
                state.increment_current_attempt()

        backoff = BackoffRetryIntervalCalculator(backoff_factor=self._backoff_seconds, jitter=SmallJitter())
        client = WebhookClient(
            url,
            timeout=WEBHOOK_TIMEOUT_SECONDS,
            retry_handlers=[
                ConnectionErrorRetryHandler(
                    max_retry_count=RETRIES_PER_ERROR_KIND, interval_calculator=backoff
                ),
                CappedRateLimitRetryHandler(max_retry_count=RETRIES_PER_ERROR_KIND),
                ServerErrorRetryHandler(max_retry_count=RETRIES_PER_ERROR_KIND, interval_calculator=backoff),
            ],
        )
        try:
            response = client.send(text=message.text, blocks=message.blocks)
        except Exception as error:  # connection errors, after the retries
            raise SlackDeliveryError(f"Slack webhook unreachable: {type(error).__name__}") from None
        if response.status_code != 200:
            wait = retry_after_seconds(response.headers) if response.status_code == 429 else None
            later = f" (Retry-After {wait:g} s: Lambda retries later)" if wait is not None else ""
            raise SlackDeliveryError(f"Slack answered {response.status_code} {response.body[:200]!r}{later}")


RESPONSE_URL_TIMEOUT_SECONDS = 2


class SlackResponseUrl:
    """Answers an interaction through its ``response_url`` (the Slack approvals'
    :class:`~mlops_core.notifications.ports.SlackResponder`): one POST, no retries, a two-second
    timeout, since Slack waits three seconds for the function's own answer. The URL is never logged."""

    def __init__(self) -> None:
        logging.getLogger("slack_sdk").setLevel(logging.WARNING)

    def respond(self, response_url: str, message: dict[str, Any]) -> None:
        from slack_sdk.webhook import WebhookClient  # noqa: PLC0415 - only the Slack functions pay for it

        try:
            answer = WebhookClient(
                response_url, timeout=RESPONSE_URL_TIMEOUT_SECONDS, retry_handlers=[]
            ).send_dict(message)
        except Exception as error:  # connection errors
            raise SlackDeliveryError(f"Slack response_url unreachable: {type(error).__name__}") from None
        if answer.status_code != 200:
            raise SlackDeliveryError(f"Slack answered {answer.status_code} {answer.body[:200]!r}")
