"""SlackNotifierFunction: every domain event, failed runs of the projects' pipelines, versions waiting
for approval (with Approve and Reject buttons) and alarms' state changes (the endpoints' from
EventBridge, the control plane's own from the operations topic), as Slack messages."""

import logging
from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from mlops_core.adapters.aws_clients import ClientFactory
from mlops_core.adapters.config_table import ConfigTable
from mlops_core.adapters.sagemaker_pipelines import SageMakerPipelineExecutions
from mlops_core.adapters.slack_webhook import SlackSdkSender
from mlops_core.handlers.alarm_topic import AlarmTopicHandler
from mlops_core.handlers.event_function import EventFunction, Route
from mlops_core.notifications.settings import NotifierSettings
from mlops_core.notifications.slack_notifier import (
    SECRET_CACHE_SECONDS,
    NotifiedEvent,
    SlackNotifier,
    notified_detail_types,
)


def build(settings: NotifierSettings, clients: ClientFactory) -> SlackNotifier:
    # botocore logs every response body at DEBUG, GetSecretValue's (the webhook URL) included:
    # keep its parser quiet in this function whatever the log level.
    logging.getLogger("botocore.parsers").setLevel(logging.INFO)
    provider = SecretsProvider(boto3_client=clients("secretsmanager"))

    def secret(name: str) -> Any:
        return provider.get(name, max_age=SECRET_CACHE_SECONDS, transform="json")

    return SlackNotifier(
        settings,
        secret=secret,
        store=ConfigTable(clients("dynamodb"), settings.config_table_name),
        sender=SlackSdkSender(),
        pipelines=SageMakerPipelineExecutions(clients("sagemaker")),
    )


handler = AlarmTopicHandler(
    EventFunction(
        component="slack-notifier",
        settings_model=NotifierSettings,
        build_service=build,
        routes=[
            Route(NotifiedEvent, SlackNotifier.notify, for_detail_type=detail_type)
            for detail_type in notified_detail_types()
        ],
    )
)
