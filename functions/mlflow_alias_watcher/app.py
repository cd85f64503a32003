"""MlflowAliasWatcherFunction: MLflow alias changes (a poll on a schedule, or an MLflow 3 webhook on
the function URL) become `MLflow Model Alias Changed` events."""

from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.typing import LambdaContext
from mlops_core.adapters.aws_clients import ClientFactory
from mlops_core.adapters.mlflow_alias_table import AliasStateTable
from mlops_core.adapters.mlflow_registry import MlflowRegistry
from mlops_core.contract.aws_events import ScheduledEvent
from mlops_core.handlers.event_function import EventFunction, Route
from mlops_core.handlers.function_url import is_function_url_request
from mlops_core.handlers.mlflow_webhook import WebhookFunction
from mlops_core.mlflow_aliases.alias_watcher import MlflowAliasWatcher, secret_value
from mlops_core.mlflow_aliases.settings import MlflowWatcherSettings

SECRET_CACHE_SECONDS = 300


def build(settings: MlflowWatcherSettings, clients: ClientFactory) -> MlflowAliasWatcher:
    secrets = SecretsProvider(boto3_client=clients("secretsmanager"))

    def secret(name: str | None, key: str) -> str | None:
        return secret_value(secrets.get(name, max_age=SECRET_CACHE_SECONDS), key) if name else None

    registry = None
    if settings.mlflow_tracking_uri:
        token = secret(settings.mlflow_token_secret_name, "token")
        registry = MlflowRegistry(settings.mlflow_tracking_uri, token=token)
    return MlflowAliasWatcher(
        settings,
        registry,
        AliasStateTable(clients("dynamodb"), settings.config_table_name, settings.idempotency_table_name),
        webhook_secret=lambda: secret(settings.mlflow_webhook_secret_name, "secret"),
    )


scheduled = EventFunction(
    component="mlflow-alias-watcher",
    settings_model=MlflowWatcherSettings,
    build_service=build,
    routes=[Route(ScheduledEvent, MlflowAliasWatcher.on_schedule)],
)
webhook = WebhookFunction(build_service=build)


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if is_function_url_request(event):
        return webhook(event, context)
    return scheduled(event, context)
