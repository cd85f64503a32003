"""MlflowAliasWatcherFunction: MLflow alias changes (a poll on a schedule, or an MLflow 3 webhook on
the function URL) become `MLflow Model Alias Changed` events."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from mlops_core.aws_events import ScheduledEvent
from mlops_core.event_function import EventFunction, Route
from mlops_core.mlflow_aliases import MlflowAliasWatcher
from mlops_core.mlflow_webhook import WebhookFunction, is_function_url_request
from mlops_core.settings import MlflowWatcherSettings

scheduled = EventFunction(
    component="mlflow-alias-watcher",
    settings_model=MlflowWatcherSettings,
    build_service=MlflowAliasWatcher.build,
    routes=[Route(ScheduledEvent, MlflowAliasWatcher.on_schedule)],
)
webhook = WebhookFunction(build_service=MlflowAliasWatcher.build)


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if is_function_url_request(event):
        return webhook(event, context)
    return scheduled(event, context)
