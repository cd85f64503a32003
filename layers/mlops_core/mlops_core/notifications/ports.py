"""What the Slack notifier needs from outside: a sender of webhook messages
(:mod:`mlops_core.adapters.slack_webhook`) and the project records (the config table,
:class:`mlops_core.adapters.config_table.ConfigTable`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mlops_core.notifications.slack_messages import SlackMessage


class SlackDeliveryError(RuntimeError):
    """Slack refused the message after slack_sdk's retries; raised so Lambda retries the event."""


class WebhookSender(Protocol):
    def send(self, url: str, message: SlackMessage) -> None:
        """Post the message; :class:`SlackDeliveryError` if Slack does not take it."""
        ...


class ProjectRecords(Protocol):
    """Where a project's record (and so its own webhook secret) is read: the config table."""

    def get_project(self, project: str) -> dict[str, Any] | None: ...
