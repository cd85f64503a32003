"""The Slack notifier's settings (its environment in template.yaml), validated at its cold start."""

from pydantic import Field

from mlops_core.settings import ControlPlaneSettings


class NotifierSettings(ControlPlaneSettings):
    slack_webhook_secret_arn: str = Field(alias="SLACK_WEBHOOK_SECRET_ARN", min_length=1)
