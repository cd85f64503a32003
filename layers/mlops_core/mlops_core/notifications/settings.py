"""The Slack functions' settings (their environment in template.yaml), validated at their cold start."""

from pydantic import Field

from mlops_core.settings import ControlPlaneSettings


class NotifierSettings(ControlPlaneSettings):
    slack_webhook_secret_arn: str = Field(alias="SLACK_WEBHOOK_SECRET_ARN", min_length=1)


class SlackApprovalsSettings(ControlPlaneSettings):
    """The Slack approvals function's settings: where Slack's signing secret is."""

    slack_signing_secret_arn: str = Field(alias="SLACK_SIGNING_SECRET_ARN", min_length=1)
