"""MLflow model registry access: the aliases of a registered model and the versions they name.

A small adapter around ``mlflow.MlflowClient``, imported lazily: the MLflow client (``mlflow-skinny``)
is a dependency of the alias watcher function only (``functions/mlflow_alias_watcher/requirements.txt``),
never of the shared layer. Two kinds of tracking server:

- a plain tracking URI (``http(s)://...``), optionally with a bearer token (``MLFLOW_TRACKING_TOKEN``,
  read by the caller from Secrets Manager and never logged);
- SageMaker managed MLflow: the tracking URI is the tracking server's ARN
  (``arn:aws:sagemaker:{region}:{account}:mlflow-tracking-server/{name}``); the ``sagemaker-mlflow``
  plugin (in the function's requirements) resolves it to the server's URL (or
  ``SAGEMAKER_MLFLOW_CUSTOM_ENDPOINT``) and signs each request with SigV4 (service
  ``sagemaker-mlflow``) as the function's role. No token is used: a token with an ARN is refused.
  The plugin reads the ARN from the process's tracking URI (``mlflow.get_tracking_uri()``, which is
  ``MLFLOW_TRACKING_URI`` in the function), so the adapter makes the ARN the process's tracking URI.

Every failure to reach or read the server is raised as :class:`MlflowUnavailableError` with the
tracking URI and the cause, so a poll that cannot see the registry changes nothing.
"""

from __future__ import annotations

import logging
import os
import re
from importlib.metadata import entry_points
from typing import Any

from mlops_core.mlflow_aliases.ports import MlflowUnavailableError, ModelVersion

# The sagemaker-mlflow plugin registers MLflow's request auth provider for `arn` tracking URIs (SigV4).
SIGV4_AUTH_ENTRY_POINT_GROUP = "mlflow.request_auth_provider"
ARN_SCHEME = "arn"
SAGEMAKER_MLFLOW_ARN = re.compile(r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:mlflow-tracking-server/.+$")
TOKEN_VARIABLE = "MLFLOW_TRACKING_TOKEN"
# MLflow logs a warning here when a request header provider fails (see _PluginHeaderWarnings).
HEADER_REGISTRY_LOGGER = "mlflow.tracking.request_header.registry"


def is_sagemaker_managed(tracking_uri: str) -> bool:
    return bool(SAGEMAKER_MLFLOW_ARN.match(tracking_uri))


class MlflowRegistry:
    """The registry of one tracking server, through ``mlflow.MlflowClient`` (imported on first use)."""

    def __init__(self, tracking_uri: str, *, token: str | None = None, client: Any = None) -> None:
        self._tracking_uri = tracking_uri
        self._token = token
        self._client = client

    @property
    def tracking_uri(self) -> str:
        return self._tracking_uri

    def _get_client(self) -> Any:
        if self._client is None:
            if is_sagemaker_managed(self._tracking_uri):
                self._check_managed()
            elif self._token:
                # MLflow's REST client reads the bearer token from the environment on each request.
                os.environ[TOKEN_VARIABLE] = self._token
            import mlflow  # noqa: PLC0415 - only the watcher pays for it

            _PluginHeaderWarnings.install()
            uri = self._tracking_uri
            self._client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
        if is_sagemaker_managed(self._tracking_uri):
            self._use_as_process_tracking_uri()
        return self._client

    def _check_managed(self) -> None:
        if self._token:
            raise MlflowUnavailableError(
                f"tracking URI {self._tracking_uri} is a SageMaker managed MLflow server, which is called "
                "with SigV4 as the function's role, not with a token: leave MlflowTokenSecretName empty"
            )
        # MLflow finds the plugin by its entry points, so ask for those, not for the package.
        signers = entry_points(group=SIGV4_AUTH_ENTRY_POINT_GROUP, name=ARN_SCHEME)
        if not signers:
            raise MlflowUnavailableError(
                f"tracking URI {self._tracking_uri} is a SageMaker managed MLflow server, which "
                "needs the sagemaker-mlflow plugin (functions/mlflow_alias_watcher/requirements.txt)"
            )

    def _use_as_process_tracking_uri(self) -> None:
        """The plugin signs for (and names in its routing header) ``mlflow.get_tracking_uri()``, not the
        client's URI: the ARN must be the process's tracking URI. In the function it already is
        (``MLFLOW_TRACKING_URI``); only a caller that set another one changes anything here."""
        import mlflow  # noqa: PLC0415

        if mlflow.get_tracking_uri() != self._tracking_uri:
            mlflow.set_tracking_uri(self._tracking_uri)

    def aliases(self, model: str) -> dict[str, int] | None:
        """The model's aliases (alias → version), or None when the registered model does not exist."""
        try:
            registered = self._get_client().get_registered_model(model)
        except MlflowUnavailableError:
            raise
        except Exception as error:
            if _is_missing_in_mlflow(error):
                return None
            raise self._unavailable(f"reading registered model {model!r}", error) from error
        return {str(alias): int(version) for alias, version in (registered.aliases or {}).items()}

    def model_version(self, model: str, version: int) -> ModelVersion:
        client = self._get_client()
        try:
            found = client.get_model_version(model, str(version))
        except Exception as error:
            raise self._unavailable(f"reading version {version} of {model!r}", error) from error
        return ModelVersion(
            name=model,
            version=int(found.version),
            source=self._storage_location(client, found),
            run_id=found.run_id or None,
            tags={str(key): str(value) for key, value in (found.tags or {}).items()},
        )

    def _storage_location(self, client: Any, found: Any) -> str | None:
        """Where the version's files are: MLflow 3 registers logged models as ``models:/m-...`` and
        keeps the files at the logged model's artifact location; runs as ``runs:/{run}/{path}``."""
        source = str(found.source or "") or None
        storage = getattr(found, "storage_location", None)
        if storage:
            return str(storage)
        try:
            if source and source.startswith("models:/"):
                model_id = getattr(found, "model_id", None) or source.removeprefix("models:/").split("/")[0]
                return str(client.get_logged_model(model_id).artifact_location)
            if source and source.startswith("runs:/"):
                run_id, _, path = source.removeprefix("runs:/").partition("/")
                return f"{client.get_run(run_id).info.artifact_uri.rstrip('/')}/{path}".rstrip("/")
        except Exception as error:
            raise self._unavailable(f"resolving the artifact location {source}", error) from error
        return source

    def _unavailable(self, what: str, error: Exception) -> MlflowUnavailableError:
        return MlflowUnavailableError(
            f"MLflow tracking server {self._tracking_uri} failed {what}: {type(error).__name__}: {error}"
        )


class _PluginHeaderWarnings(logging.Filter):
    """Drops MLflow's per-request warning about the sagemaker-mlflow plugin's header provider failing.

    The plugin's request header provider is always active and parses the process's tracking URI as an
    ARN; for a plain ``http(s)://`` tracking URI it fails on every request ("list index out of range",
    https://github.com/aws/sagemaker-mlflow/issues/15) and MLflow logs a warning each time. Only the
    failures raised from the plugin's own code are dropped; any other provider's still shows."""

    _installed = False

    @classmethod
    def install(cls) -> None:
        if not cls._installed:
            logging.getLogger(HEADER_REGISTRY_LOGGER).addFilter(cls())
            cls._installed = True

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        error = args[0] if args else None
        if not isinstance(error, BaseException):
            return True
        traceback = error.__traceback__
        while traceback is not None:
            if f"{os.sep}sagemaker_mlflow{os.sep}" in traceback.tb_frame.f_code.co_filename:
                return False
            traceback = traceback.tb_next
        return True


def _is_missing_in_mlflow(error: Exception) -> bool:
    return getattr(error, "error_code", None) == "RESOURCE_DOES_NOT_EXIST"
