"""The deployer's MLflow path: an alias change for stage S deploys the version to endpoint ``{project}-S``.

``MLflow Model Alias Changed`` (from the alias watcher) is the approval of the MLflow backend. Only
what is MLflow's own lives here: the event, :class:`MlflowVersion` (what is deployed: the version's
files, an S3 prefix, served by the project's ``mlflow_serving_image`` through ``CreateModel`` with
``ModelDataSource``, uncompressed; tagged ``mlops:mlflow-model-version`` = ``models:/{model}/{version}``),
whether a version is still current (the alias's last seen version, the watcher's state in the
config table), and what removing the alias from the live version means. Everything else (settings,
strategies, alarms, data capture, deferral and pending deployments re-validated when applied,
failed and deleted endpoints, names, "already exists", housekeeping) is
:class:`~mlops_core.deployment.deployer.ModelDeployer`'s one flow.

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
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal, Protocol

from pydantic import Field

from mlops_core.adapters.cloudwatch import AlarmsPort
from mlops_core.adapters.config_table import ConfigTablePort
from mlops_core.adapters.mlflow_alias_state import model_version_uri
from mlops_core.adapters.sagemaker import Endpoint, SageMakerPort
from mlops_core.contract import tags as tag_keys
from mlops_core.contract.aws_events import EventBridgeEvent
from mlops_core.contract.deployment_settings import ProjectDeploymentSettings
from mlops_core.contract.domain_events import MlflowModelAliasChanged, SkipReason
from mlops_core.contract.naming import StageResource
from mlops_core.contract.outcome import Outcome
from mlops_core.contract.topology import Stage
from mlops_core.deployment.deployer import (
    MLFLOW_MODEL_VERSION,
    PREVIOUS_ENDPOINT_CONFIG_TAG,
    CheckedVersion,
    Known,
    ModelDeployer,
    _ignored,
    _Request,
    _skipped,
    version_of_config,
)
from mlops_core.settings import DeployerSettings

__all__ = ["MLFLOW_MODEL_VERSION", "MlflowAliasChangedEvent", "MlflowModelDeployer", "MlflowVersion"]

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

    identity_tag: ClassVar[str] = MLFLOW_MODEL_VERSION
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

    def live_identity(self, endpoint: Endpoint) -> str | None:
        number = version_of_config(endpoint.name, endpoint.config_name)
        return None if number is None else model_version_uri(self.model, number)

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


class MlflowModelDeployer(ModelDeployer):
    """The model deployer, able to deploy MLflow model versions as well."""

    def __init__(
        self,
        settings: DeployerSettings,
        sagemaker: SageMakerPort,
        config_table: ConfigTablePort | None = None,
        alarms: AlarmsPort | None = None,
        aliases: SeenAliases | None = None,
    ) -> None:
        super().__init__(settings, sagemaker, config_table, alarms)
        self._aliases = aliases

    # ------------------------------------------------------------------ route

    def on_mlflow_alias_changed(self, event: MlflowAliasChangedEvent) -> Outcome:
        change = event.detail
        target = StageResource(change.project, Stage(change.stage))
        if target.stage not in self._settings.deployed_stages:
            return _ignored(f"stage {target.stage} is not deployed by this stack")
        if change.new_version is None:
            if change.old_version is None:
                return _ignored("the event names no version")
            removed = MlflowVersion(change.model, change.alias, change.old_version)
            return self.roll_back_removed(target, removed)
        return self.deploy(
            target, MlflowVersion(change.model, change.alias, change.new_version, change.source_uri)
        )

    # ------------------------------------------------------------------ operation

    def roll_back_removed(
        self,
        stage: StageResource,
        removed: MlflowVersion,
        *,
        pending_version: int | None = None,
        known: Known | None = None,
    ) -> Outcome:
        """The alias was removed from ``removed``: if that version is live (and the alias still names
        nothing), the endpoint goes back to the version of the config it ran before. Decided on the
        current state, so a rollback deferred while the endpoint was busy is checked again."""
        request = _Request(stage, stage, removed, pending_version=pending_version, known=known or {})
        endpoint = self._endpoint(request, stage.name)
        live = removed.live_identity(endpoint) if endpoint else None
        if endpoint is None or live != removed.arn:
            self._forget_pending(request)
            return _ignored(
                f"{removed.arn} (alias {removed.alias} removed) is not live on {stage.name} "
                f"({live or 'no endpoint'}); nothing to roll back"
            )
        if endpoint.tags.get(tag_keys.MANAGED_BY) != self._settings.stack_name:
            return self._failed(stage, removed.arn, self._not_managed(endpoint.name))
        seen = self._seen(removed)
        if seen is not None:
            self._forget_pending(request)
            return _ignored(f"alias {removed.alias} names version {seen} now; nothing to roll back")
        previous = self._previous_version(endpoint, removed)
        if previous is None:
            self._forget_pending(request)
            return self._failed(
                stage,
                removed.arn,
                f"alias {removed.alias} was removed from {removed.arn} while live on {stage.name}, and "
                "no previous configuration is recorded to roll back to; the endpoint still serves it "
                "(assign the alias to a version, or delete the endpoint)",
            )
        loaded = self._load_settings(stage, previous.arn)
        if isinstance(loaded, Outcome):
            return loaded
        return self._deploy(replace(request, version=previous, rolled_back=removed, seen=endpoint), *loaded)

    # ------------------------------------------------------------------ the deployer's hooks

    def _check_version(
        self, request: _Request, project: ProjectDeploymentSettings, record: Mapping[str, Any] | None
    ) -> CheckedVersion | Outcome:
        """An MLflow version is deployable with a serving image, files in S3, and (unless it is the
        target of a rollback) while the alias still names it."""
        version = request.version
        if not isinstance(version, MlflowVersion):
            return super()._check_version(request, project, record)
        source = request.source
        image = (record or {}).get("mlflow_serving_image")
        if not image:
            return self._failed(
                source,
                version.arn,
                f"project {source.project} has no mlflow_serving_image (config table "
                f"PROJECT#{source.project}/META): the image that serves its MLflow versions",
            )
        if not version.source_uri or not version.source_uri.startswith("s3://"):
            return self._failed(
                source,
                version.arn,
                f"{version.arn} is stored at {version.source_uri or 'an unknown location'}; SageMaker "
                "serves model files from S3 only (use an s3:// artifact root for the MLflow server)",
            )
        if request.rolled_back is None:
            seen = self._seen(version)
            if seen != version.version:
                self._forget_pending(request)
                live = model_version_uri(version.model, seen) if seen is not None else ""
                return _skipped(source, request.target.name, live, version, SkipReason.STALE)
        container = version.container(str(image))
        return CheckedVersion({"PrimaryContainer": container}, (json.dumps(container, sort_keys=True),))

    def _apply_pending_record(
        self, source: StageResource, pending: Mapping[str, Any], stored_version: int, known: Known
    ) -> Outcome | None:
        if "mlflow_model" not in pending:
            return super()._apply_pending_record(source, pending, stored_version, known)
        model, alias = str(pending["mlflow_model"]), str(pending["alias"])
        removed = parse_model_version_uri(pending.get("rolled_back_model_package_arn"))
        if removed is not None:
            undo = MlflowVersion(model, alias, removed[1])
            return self.roll_back_removed(source, undo, pending_version=stored_version, known=known)
        parsed = parse_model_version_uri(pending.get("model_package_arn"))
        if parsed is None:
            return None
        version = MlflowVersion(model, alias, parsed[1], pending.get("source"))
        return self.deploy(source, version, pending_version=stored_version, known=known)

    # ------------------------------------------------------------------ helpers

    def _seen(self, version: MlflowVersion) -> int | None:
        """The version the alias names now (the watcher's last seen state); None: no alias."""
        return self._aliases.seen(version.model).get(version.alias) if self._aliases else None

    def _previous_version(self, endpoint: Endpoint, removed: MlflowVersion) -> MlflowVersion | None:
        """The version of the config the endpoint ran before its current one (recorded on the
        current config when it was created), with its files read from that config's model."""
        current = self._sagemaker.describe_endpoint_config(endpoint.config_name)
        tags = self._sagemaker.list_tags(current.arn) if current and current.arn else {}
        previous_name = tags.get(PREVIOUS_ENDPOINT_CONFIG_TAG)
        number = version_of_config(endpoint.name, previous_name)
        if previous_name is None or number is None:
            return None
        previous = self._sagemaker.describe_endpoint_config(previous_name)
        if previous is None or not previous.production_variants:
            return None
        container = self._sagemaker.model_container(str(previous.production_variants[0]["ModelName"]))
        prefix = ((container or {}).get("ModelDataSource") or {}).get("S3DataSource", {}).get("S3Uri")
        return MlflowVersion(removed.model, removed.alias, number, str(prefix)) if prefix else None
