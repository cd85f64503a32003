"""The MLflow alias watcher's settings (its environment in template.yaml), validated at its cold start."""

from typing import Annotated

from pydantic import BeforeValidator, Field

from mlops_core.settings import ControlPlaneSettings, blank_is_none


class MlflowWatcherSettings(ControlPlaneSettings):
    """The MLflow alias watcher: the tracking server (blank = the MLflow path is off), where its token
    and the webhook's HMAC secret are kept, and which aliases map to which stages."""

    mlflow_tracking_uri: Annotated[str | None, BeforeValidator(blank_is_none)] = Field(
        default=None, alias="MLFLOW_TRACKING_URI"
    )
    mlflow_token_secret_name: Annotated[str | None, BeforeValidator(blank_is_none)] = Field(
        default=None, alias="MLFLOW_TOKEN_SECRET_NAME"
    )
    mlflow_webhook_secret_name: Annotated[str | None, BeforeValidator(blank_is_none)] = Field(
        default=None, alias="MLFLOW_WEBHOOK_SECRET_NAME"
    )
    mlflow_aliases: str = Field(default="feature,dev,prod,champion,challenger", alias="MLFLOW_ALIASES")
