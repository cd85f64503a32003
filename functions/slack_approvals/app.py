"""SlackApprovalsFunction: Approve and Reject clicked in Slack (its function URL is the Slack app's
interactivity request URL) set a pending model version's approval."""

import logging

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from botocore.config import Config
from mlops_core.adapters.aws_clients import ClientFactory
from mlops_core.adapters.config_table import ConfigTable
from mlops_core.adapters.model_approvals import ModelApprovals
from mlops_core.adapters.slack_webhook import SlackResponseUrl
from mlops_core.handlers.slack_interactions import SigningSecret, SlackInteractionsFunction
from mlops_core.notifications.approvals import SlackApprovals
from mlops_core.notifications.settings import SlackApprovalsSettings

SECRET_CACHE_SECONDS = 300
SIGNING_SECRET_KEY = "signing_secret"
# Slack waits three seconds for the answer: a slow SageMaker call fails fast instead of being retried.
SAGEMAKER_CONFIG = Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=1, read_timeout=2)


def build(settings: SlackApprovalsSettings, clients: ClientFactory) -> tuple[SlackApprovals, SigningSecret]:
    # botocore logs every response body at DEBUG, GetSecretValue's (the signing secret) included.
    logging.getLogger("botocore.parsers").setLevel(logging.INFO)
    provider = SecretsProvider(boto3_client=clients("secretsmanager"))

    def signing_secret() -> str | None:
        value = provider.get(
            settings.slack_signing_secret_arn, max_age=SECRET_CACHE_SECONDS, transform="json"
        )
        secret = value.get(SIGNING_SECRET_KEY) if isinstance(value, dict) else None
        return secret if isinstance(secret, str) and secret else None

    approvals = SlackApprovals(
        registry=ModelApprovals(clients.new_client("sagemaker", SAGEMAKER_CONFIG)),
        projects=ConfigTable(clients("dynamodb"), settings.config_table_name),
        responder=SlackResponseUrl(),
    )
    return approvals, signing_secret


handler = SlackInteractionsFunction(build_service=build)
