"""MLflow as a version source: an alias change for stage S deploys the version to endpoint ``{project}-S``.

``MLflow Model Alias Changed`` (from the alias watcher) is the approval of the MLflow backend. Only
what is MLflow's own lives here: the event, :class:`MlflowVersion` (what is deployed: the version's
files, an S3 prefix, served by the project's ``mlflow_serving_image`` through ``CreateModel`` with
``ModelDataSource``, uncompressed; tagged ``mlops:mlflow-model-version`` = ``models:/{model}/{version}``),
whether a version is still current (the alias's last seen version, the watcher's state in the
config table), and what removing the alias from the live version means. Everything else (settings,
strategies, alarms, data capture, deferral and pending deployments re-validated when applied,
failed and deleted endpoints, names, "already exists", housekeeping) is the deployer's one flow.

- Stale: an event (or a pending deployment) whose version the alias no longer names. Unlike
  registry approvals, a version number lower than the live one is not stale by itself: moving an
  alias back to an older version is how MLflow users roll back on purpose; so the pending
  deployment stored last (always a current one) wins, not the highest version.
- The alias removed from the live version: the endpoint goes back to the version of the config it
  ran before (the ``mlops:previous-endpoint-config`` tag of its current config; housekeeping keeps
  that config and its model), reported as ``Deployment Rolled Back`` (``alias-removed``); with no
  previous config, ``Deployment Failed`` and the endpoint stays.
- A challenger in ``shadow`` mode is deployed as its own endpoint (no shadow variants on this path).

In the events, ``model_package_arn`` carries the ``models:/{model}/{version}`` URI.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol

from pydantic import Field

from mlops_core.contract import tags as tag_keys
from mlops_core.contract.aws_events import EventBridgeEvent
from mlops_core.contract.deployment_settings import ProjectDeploymentSettings
from mlops_core.contract.events.deployment import SkipReason
from mlops_core.contract.events.mlflow import MlflowModelAliasChanged
from mlops_core.contract.naming import model_version_uri
from mlops_core.contract.outcome import Outcome
from mlops_core.contract.sagemaker_resources import Endpoint, EndpointConfig
from mlops_core.deployment.context import PREVIOUS_ENDPOINT_CONFIG_TAG, DeployerContext, failed, skipped
from mlops_core.deployment.versions import (
    CheckedVersion,
    DeployableVersion,
    DeploymentRequest,
    LiveVersion,
    StoredDeployment,
    version_of_config,
)

_URI = re.compile(r"^models:/(?P<name>[^/]+)/(?P<version>\d+)$")


class MlflowAliasChangedEvent(EventBridgeEvent):
    source: Literal["mlops.mlflow-alias-watcher"]
    detail_type: Literal["MLflow Model Alias Changed"] = Field(alias="detail-type")
    detail: MlflowModelAliasChanged


def parse_model_version_uri(uri: object) -> tuple[str, int] | None:
    match = _URI.match(uri if isinstance(uri, str) else "")
    return (match["name"], int(match["version"])) if match else None


@dataclass(frozen=True)
class MlflowVersion:
    """Version ``version`` of registered model ``model``, named by ``alias``; its files at
    ``source_uri`` (unknown for a version being undone)."""

    model: str
    alias: str
    version: int
    source_uri: str | None = None

    identity_tag: ClassVar[str] = tag_keys.MLFLOW_MODEL_VERSION
    newest_wins: ClassVar[bool] = False
    shadows: ClassVar[bool] = False

    @property
    def arn(self) -> str:
        return model_version_uri(self.model, self.version)

    def pending_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {"model_package_arn": self.arn, "mlflow_model": self.model}
        record["alias"] = self.alias
        if self.source_uri:
            record["source"] = self.source_uri
        return record

    def rollback_reason(self) -> tuple[str, str]:
        reason = f"alias {self.alias} was removed from version {self.version} while it was live"
        return "alias-removed", reason

    def container(self, image: str) -> dict[str, Any]:
        prefix = str(self.source_uri).rstrip("/") + "/"
        return {
            "Image": image,
            "ModelDataSource": {
                "S3DataSource": {"S3Uri": prefix, "S3DataType": "S3Prefix", "CompressionType": "None"}
            },
        }


class SeenAliases(Protocol):
    def seen(self, model: str) -> dict[str, int]: ...


class MlflowVersionSource:
    """MLflow's versions: what an alias names now is the alias watcher's last seen state."""

    def __init__(self, context: DeployerContext, aliases: SeenAliases) -> None:
        self._context = context
        self._aliases = aliases

    @property
    def identity_tag(self) -> str:
        return MlflowVersion.identity_tag

    # ------------------------------------------------------------------ deploying

    def check(
        self, request: DeploymentRequest, project: ProjectDeploymentSettings, record: Mapping[str, Any] | None
    ) -> CheckedVersion | Outcome:
        """An MLflow version is deployable with a serving image, files in S3, and (unless it is the
        target of a rollback) while the alias still names it."""
        source, version = request.source, _own(request.version)
        image = (record or {}).get("mlflow_serving_image")
        if not image:
            return failed(
                source,
                version.arn,
                f"project {source.project} has no mlflow_serving_image (config table "
                f"PROJECT#{source.project}/META): the image that serves its MLflow versions",
            )
        if not version.source_uri or not version.source_uri.startswith("s3://"):
            return failed(
                source,
                version.arn,
                f"{version.arn} is stored at {version.source_uri or 'an unknown location'}; SageMaker "
                "serves model files from S3 only (use an s3:// artifact root for the MLflow server)",
            )
        if request.rolled_back is None:
            seen = self._seen(version)
            if seen != version.version:
                live = model_version_uri(version.model, seen) if seen is not None else ""
                return skipped(source, request.target.name, live, version, SkipReason.STALE)
        container = version.container(str(image))
        return CheckedVersion({"PrimaryContainer": container}, (json.dumps(container, sort_keys=True),))

    def live_identity(
        self, request: DeploymentRequest, endpoint: Endpoint, config: EndpointConfig | None
    ) -> str | None:
        """The version of the endpoint's config, of the same model (no shadows on this path)."""
        return _live_version_of(_own(request.version), endpoint)

    def rebuild(self, record: Mapping[str, Any]) -> StoredDeployment | None:
        """An MLflow record names its model and alias, and stores an alias change
        (``model_package_arn``, with the files' ``source``) or "undo this removal"
        (``rolled_back_model_package_arn``), as ``models:/`` URIs."""
        if "mlflow_model" not in record:
            return None
        model, alias = str(record["mlflow_model"]), str(record["alias"])
        removed = parse_model_version_uri(record.get("rolled_back_model_package_arn"))
        if removed is not None:
            return StoredDeployment(MlflowVersion(model, alias, removed[1]), self, undo=True)
        parsed = parse_model_version_uri(record.get("model_package_arn"))
        if parsed is None:
            return None
        return StoredDeployment(MlflowVersion(model, alias, parsed[1], record.get("source")), self)

    # ------------------------------------------------------------------ undoing a removed alias

    def find_live(self, request: DeploymentRequest) -> LiveVersion | str:
        stage, removed = request.source, _own(request.version)
        endpoint = self._context.endpoint(request, stage.name)
        live = _live_version_of(removed, endpoint) if endpoint else None
        if endpoint is None or live != removed.arn:
            return (
                f"{removed.arn} (alias {removed.alias} removed) is not live on {stage.name} "
                f"({live or 'no endpoint'}); nothing to roll back"
            )
        return LiveVersion(stage, endpoint)

    def why_keep(self, undone: DeployableVersion) -> str | None:
        removed = _own(undone)
        seen = self._seen(removed)
        if seen is not None:
            return f"alias {removed.alias} names version {seen} now; nothing to roll back"
        return None

    def rollback_target(self, request: DeploymentRequest, live: LiveVersion) -> DeployableVersion | str:
        """The version of the config the endpoint ran before its current one (recorded on the
        current config when it was created), with its files read from that config's model."""
        removed, endpoint, sagemaker = _own(request.version), live.endpoint, self._context.sagemaker
        no_previous = (
            f"alias {removed.alias} was removed from {removed.arn} while live on {request.source.name}, "
            "and no previous configuration is recorded to roll back to; the endpoint still serves it "
            "(assign the alias to a version, or delete the endpoint)"
        )
        current = sagemaker.describe_endpoint_config(endpoint.config_name)
        tags = sagemaker.list_tags(current.arn) if current and current.arn else {}
        previous_name = tags.get(PREVIOUS_ENDPOINT_CONFIG_TAG)
        number = version_of_config(endpoint.name, previous_name)
        if previous_name is None or number is None:
            return no_previous
        previous = sagemaker.describe_endpoint_config(previous_name)
        if previous is None or not previous.production_variants:
            return no_previous
        container = sagemaker.model_container(str(previous.production_variants[0]["ModelName"]))
        prefix = ((container or {}).get("ModelDataSource") or {}).get("S3DataSource", {}).get("S3Uri")
        return MlflowVersion(removed.model, removed.alias, number, str(prefix)) if prefix else no_previous

    # ------------------------------------------------------------------ what an endpoint's tags name

    def identity_in(self, tags: Mapping[str, str], group: str, version: int) -> str | None:
        """Version ``version`` of the MLflow model the tags name."""
        uri = tags.get(tag_keys.MLFLOW_MODEL_VERSION)
        return f"{uri.rsplit('/', 1)[0]}/{version}" if uri else None

    def serves(self, identity: str, endpoint: Endpoint) -> bool:
        return True  # the MLflow path has no shadow configs: a config's tag names what it serves

    def _seen(self, version: MlflowVersion) -> int | None:
        """The version the alias names now (the watcher's last seen state); None: no alias."""
        return self._aliases.seen(version.model).get(version.alias)


def _own(version: DeployableVersion) -> MlflowVersion:
    if not isinstance(version, MlflowVersion):
        raise TypeError(f"MLflow's version source does not deploy {type(version).__name__}")
    return version


def _live_version_of(version: MlflowVersion, endpoint: Endpoint) -> str | None:
    """The version of ``version``'s model the endpoint serves, read from its config's name."""
    number = version_of_config(endpoint.name, endpoint.config_name)
    return None if number is None else model_version_uri(version.model, number)
