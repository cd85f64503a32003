"""The Slack notifier: every domain event (and failed pipeline runs) as a Block Kit message.

The webhook URL is a secret: the project's own (its record names ``slack_webhook_secret``) or the
stack's default (``SLACK_WEBHOOK_SECRET_ARN``). Secrets are read with Powertools Parameters and
cached for five minutes; a secret holds ``{"webhook_url": "https://hooks.slack.com/..."}``. The
URL is never logged: errors name the secret, not its value.

A message is sent with slack_sdk, whose retry handlers ride out 429 (honouring Retry-After), 5xx
and connection errors. A message that still fails raises :class:`SlackDeliveryError`, so Lambda
retries the event and, after its retries, keeps it in the on-failure destination.

One message never outlives the function: at most :data:`RETRIES_PER_ERROR_KIND` retries in all
(slack_sdk counts attempts across its handlers), each request times out after
:data:`WEBHOOK_TIMEOUT_SECONDS`, and a 429 is waited out only when its Retry-After is at most
:data:`RATE_LIMIT_MAX_WAIT_SECONDS` (a longer one fails the message now; Lambda retries it a minute
later). Worst case: 3 x 5 s + 2 x 3 s = 21 s, inside the template's 30 s timeout.

A project's own webhook secret must be named ``slack/{project}/...``: the notifier serves every
project, so IAM cannot keep one project from naming another's secret; the name can (a project naming
another's secret would post its messages into that team's channel). Any other name is refused with a
warning and the stack's default channel is used.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any, Protocol

from pydantic import BaseModel

from mlops_core.contract.aws_events import EventBridgeEvent
from mlops_core.contract.naming import parse_stage_resource
from mlops_core.contract.outcome import Outcome
from mlops_core.notifications.slack_messages import RENDERERS, SlackMessage, render
from mlops_core.observability import logger
from mlops_core.settings import NotifierSettings

PIPELINE_FAILED_DETAIL_TYPE = "SageMaker Model Building Pipeline Execution Status Change"
SECRET_CACHE_SECONDS = 300
WEBHOOK_URL_KEY = "webhook_url"
RETRIES_PER_ERROR_KIND = 2
WEBHOOK_TIMEOUT_SECONDS = 5
RATE_LIMIT_MAX_WAIT_SECONDS = 3
PROJECT_SECRET_PREFIX = "slack/"
RETRY_BACKOFF_SECONDS = 0.2  # then 0.4: Lambda's own retries come on top
RETRY_JITTER_SECONDS = 0.1  # slack_sdk's default jitter adds up to a whole second to each retry


class SlackDeliveryError(RuntimeError):
    """Slack refused the message after slack_sdk's retries; raised so Lambda retries the event."""


class NotifiedEvent(EventBridgeEvent):
    """Any event the notifier is told about; its detail stays a mapping (renderers read what they need).

    One model for every detail-type (each route names its own, ``Route.for_detail_type``): one
    validator to build, not one per detail-type."""

    detail: dict[str, Any]


def notified_detail_types() -> list[str]:
    """Every domain event of the catalog, and failed pipeline executions: the detail-types that have a
    renderer (a test keeps them equal), so the notifier, which reads each event's detail as a mapping,
    does not import the event models."""
    return list(RENDERERS)


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


def project_secret_allowed(project: str, secret: str) -> bool:
    """A project's webhook secret is named ``slack/{project}/...`` (by name or in its ARN)."""
    name = secret.partition(":secret:")[2] if secret.startswith("arn:") else secret
    return name.startswith(f"{PROJECT_SECRET_PREFIX}{project}/")


class WebhookSender(Protocol):
    def send(self, url: str, message: SlackMessage) -> None: ...


class ProjectRecords(Protocol):
    """Where a project's record (and so its own webhook secret) is read: the config table."""

    def get_project(self, project: str) -> dict[str, Any] | None: ...


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


class SlackNotifier:
    def __init__(
        self,
        settings: NotifierSettings,
        *,
        secret: Callable[[str], Any],
        store: ProjectRecords,
        sender: WebhookSender,
    ) -> None:
        self._settings = settings
        self._secret = secret
        self._store = store
        self._sender = sender

    def notify(self, event: BaseModel) -> Outcome:
        assert isinstance(event, NotifiedEvent)
        message = render(event.detail_type, event.source, event.detail)
        secret_name = self._secret_for(event.detail)
        url = (self._secret(secret_name) or {}).get(WEBHOOK_URL_KEY)
        if not url:
            logger.warning(
                "Slack is not configured: the secret holds no webhook_url",
                extra={"secret": secret_name, "detail_type": event.detail_type},
            )
            return Outcome("not-configured", {"secret": secret_name})
        self._sender.send(url, message)
        return Outcome("sent", {"secret": secret_name, "blocks": len(message.blocks)})

    def _secret_for(self, detail: dict[str, Any]) -> str:
        project = detail.get("project")
        if not project and isinstance(detail.get("endpoint_name"), str):
            target = parse_stage_resource(detail["endpoint_name"])
            project = target.project if target else None
        if isinstance(project, str) and project:
            own = (self._store.get_project(project) or {}).get("slack_webhook_secret")
            if isinstance(own, str) and own:
                if project_secret_allowed(project, own):
                    return own
                logger.warning(
                    f"Project {project} names a Slack secret outside {PROJECT_SECRET_PREFIX}{project}/: "
                    "using the stack's default channel",
                    extra={"secret": own},
                )
        return self._settings.slack_webhook_secret_arn
