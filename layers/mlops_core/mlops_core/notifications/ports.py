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


class AnnouncementClaims(Protocol):
    """Which event announces a pending version (the config table: ``APPROVAL#{arn}``)."""

    def claim_approval_announcement(self, model_package_arn: str, *, event_id: str) -> bool:
        """True if this event may announce the version (the first to claim it, or its own retry)."""
        ...


class NotifierRecords(ProjectRecords, AnnouncementClaims, Protocol):
    """The notifier's config table: project records and announcement claims."""


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


@dataclass(frozen=True)
class VersionApproval:
    """A model version's approval as DescribeModelPackage shows it."""

    status: str
    description: str | None


class ApprovalRegistry(Protocol):
    """The Model Registry's approvals (:class:`mlops_core.adapters.model_approvals.ModelApprovals`)."""

    def approval(self, model_package_arn: str) -> VersionApproval | None:
        """The version's approval; None when no such version exists (deleted)."""
        ...

    def set_approval(self, model_package_arn: str, status: str, description: str) -> None:
        """UpdateModelPackage: ``ModelApprovalStatus`` and ``ApprovalDescription``."""
        ...


class SlackResponder(Protocol):
    """Answers an interaction through its ``response_url`` (:mod:`mlops_core.adapters.slack_webhook`)."""

    def respond(self, response_url: str, message: dict[str, Any]) -> None:
        """Post ``message``; :class:`SlackDeliveryError` if Slack does not take it."""
        ...
