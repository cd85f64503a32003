"""What the Slack notifier needs from outside: a sender of webhook messages
(:mod:`mlops_core.adapters.slack_webhook`), the project records (the config table,
:class:`mlops_core.adapters.config_table.ConfigTable`) and SageMaker's pipeline executions (why one
failed)."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class FailedStep:
    """A step of a pipeline execution that failed, with SageMaker's ``FailureReason`` for it."""

    name: str
    reason: str


@dataclass(frozen=True)
class PipelineFailure:
    """Why a pipeline execution failed: its ``FailureReason`` and its failed steps (each with its own)."""

    reason: str
    failed_steps: tuple[FailedStep, ...]


class PipelineFailureUnknownError(RuntimeError):
    """SageMaker did not say why (the execution is gone, or access was refused): the message says so."""


class PipelineExecutions(Protocol):
    """SageMaker's pipeline executions (:mod:`mlops_core.adapters.sagemaker_pipelines`)."""

    def failure(self, execution_arn: str) -> PipelineFailure:
        """DescribePipelineExecution's ``FailureReason`` and the failed steps of
        ListPipelineExecutionSteps; :class:`PipelineFailureUnknownError` when SageMaker cannot say.
        A throttled or failing call after the client's retries is raised as it is (Lambda retries)."""
        ...
