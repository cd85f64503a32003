"""The Slack notifier: every domain event (and failed pipeline runs of the projects' pipelines, with
their failed steps and reasons: :mod:`~mlops_core.notifications.pipeline_failures`; and versions
waiting for approval, with Approve and Reject buttons: :mod:`~mlops_core.notifications.pending_versions`)
as a Block Kit message.

The webhook URL is a secret: the project's own (its record names ``slack_webhook_secret``) or the
stack's default (``SLACK_WEBHOOK_SECRET_ARN``). Secrets are read with Powertools Parameters and
cached for five minutes; a secret holds ``{"webhook_url": "https://hooks.slack.com/..."}``. The
URL is never logged: errors name the secret, not its value.

A message is sent by a :class:`~mlops_core.notifications.ports.WebhookSender` (slack_sdk, with
retries bounded to fit the function's time: :mod:`mlops_core.adapters.slack_webhook`). A message that
still fails raises :class:`~mlops_core.notifications.ports.SlackDeliveryError`, so Lambda retries the
event and, after its retries, keeps it in the on-failure destination.

A project's own webhook secret must be named ``slack/{project}/...``: the notifier serves every
project, so IAM cannot keep one project from naming another's secret; the name can (a project naming
another's secret would post its messages into that team's channel). Any other name is refused with a
warning and the stack's default channel is used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from mlops_core.contract.aws_events import EventBridgeEvent
from mlops_core.contract.cloudwatch_events import ALARM_STATE_CHANGE
from mlops_core.contract.model_monitor import PROCESSING_JOB_STATE_CHANGE
from mlops_core.contract.naming import parse_stage_resource
from mlops_core.contract.outcome import Outcome
from mlops_core.notifications.alarm_messages import alarm_context, is_news
from mlops_core.notifications.monitoring_violations import violation_context
from mlops_core.notifications.pending_versions import MODEL_PACKAGE_STATE_CHANGE, pending_version_announcement
from mlops_core.notifications.pipeline_failures import PIPELINE_FAILED_DETAIL_TYPE, project_pipeline_failure
from mlops_core.notifications.ports import NotifierRecords, PipelineExecutions, WebhookSender
from mlops_core.notifications.settings import NotifierSettings
from mlops_core.notifications.slack_messages import RENDERERS, render
from mlops_core.notifications.transform_job_failures import TRANSFORM_JOB_STATE_CHANGE, transform_job_failure
from mlops_core.observability import logger

__all__ = ["PIPELINE_FAILED_DETAIL_TYPE", "NotifiedEvent", "SlackNotifier", "notified_detail_types"]
SECRET_CACHE_SECONDS = 300
WEBHOOK_URL_KEY = "webhook_url"
PROJECT_SECRET_PREFIX = "slack/"


class NotifiedEvent(EventBridgeEvent):
    """Any event the notifier is told about; its detail stays a mapping (renderers read what they need).

    One model for every detail-type (each route names its own, ``Route.for_detail_type``): one
    validator to build, not one per detail-type."""

    detail: dict[str, Any]


def notified_detail_types() -> list[str]:
    """Every domain event of the catalog, failed pipeline executions and alarms' state changes (the
    stack's endpoint alarms from EventBridge, its own alarms from the operations topic through SNS,
    see :mod:`mlops_core.handlers.alarm_topic`): the detail-types that have a renderer (a test keeps
    them equal), so the notifier, which reads each event's detail as a mapping, does not import the
    event models."""
    return list(RENDERERS)


def project_secret_allowed(project: str, secret: str) -> bool:
    """A project's webhook secret is named ``slack/{project}/...`` (by name or in its ARN)."""
    name = secret.partition(":secret:")[2] if secret.startswith("arn:") else secret
    return name.startswith(f"{PROJECT_SECRET_PREFIX}{project}/")


class SlackNotifier:
    def __init__(
        self,
        settings: NotifierSettings,
        *,
        secret: Callable[[str], Any],
        store: NotifierRecords,
        sender: WebhookSender,
        pipelines: PipelineExecutions,
    ) -> None:
        self._settings = settings
        self._secret = secret
        self._store = store
        self._sender = sender
        self._pipelines = pipelines

    def notify(self, event: BaseModel) -> Outcome:
        assert isinstance(event, NotifiedEvent)
        detail: dict[str, Any] | None = event.detail
        if event.detail_type == ALARM_STATE_CHANGE:
            if not is_news(event.detail):
                return Outcome("not-news", {"alarm": event.detail.get("alarmName")})
            detail = alarm_context(event.detail, stack_name=self._settings.stack_name, region=event.region)
        elif event.detail_type == PIPELINE_FAILED_DETAIL_TYPE:
            detail = project_pipeline_failure(event.detail, projects=self._store, executions=self._pipelines)
            if detail is None:
                return Outcome("not-a-project-pipeline", {"pipeline_arn": event.detail.get("pipelineArn")})
        elif event.detail_type == PROCESSING_JOB_STATE_CHANGE:
            detail = violation_context(event.detail, region=event.region, projects=self._store)
            if detail is None:
                return Outcome("not-a-monitoring-violation", {"job": event.detail.get("ProcessingJobName")})
        elif event.detail_type == TRANSFORM_JOB_STATE_CHANGE:
            detail = transform_job_failure(event.detail, region=event.region, projects=self._store)
            if detail is None:
                return Outcome("not-a-batch-stage-failure", {"job": event.detail.get("TransformJobName")})
        elif event.detail_type == MODEL_PACKAGE_STATE_CHANGE:
            detail = pending_version_announcement(
                event.detail, event_id=event.id, projects=self._store, claims=self._store
            )
            if detail is None:
                return Outcome("not-announced", {"model_package_arn": event.detail.get("ModelPackageArn")})
        assert detail is not None
        message = render(event.detail_type, event.source, detail)
        secret_name = self._secret_for(detail)
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
