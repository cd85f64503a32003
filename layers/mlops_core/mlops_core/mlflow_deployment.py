"""The deployer's MLflow path: an alias change for stage S deploys the version to endpoint ``{project}-S``.

``MLflow Model Alias Changed`` (from the alias watcher) is the approval of the MLflow backend. The
version's files (its ``source``, an S3 prefix holding the model directory) are served by the
project's ``mlflow_serving_image`` (``CreateModel`` with ``ModelDataSource``: ``S3Prefix``,
uncompressed). It rides on :class:`~mlops_core.deployer.ModelDeployer` and keeps its contracts:

- names ``{endpoint}-v{version}-{fingerprint}`` (a redelivered event creates nothing twice), the
  contract's tags with ``mlops:mlflow-model-version`` = ``models:/{model}/{version}`` where a registry
  deployment has ``mlops:model-package-arn``; only endpoints tagged with this stack's
  ``mlops:managed-by`` are changed;
- the stage's settings (compute, strategy, alarms, data capture) from the project record;
- an endpoint already serving the version: ``Deployment Skipped`` (``already-deployed``);
- stale events: the alias's last seen version (the watcher's state in the config table) is read
  again; an event whose version the alias no longer names is ``Deployment Skipped`` (``stale``).
  Unlike registry approvals, a version number lower than the live one is not stale by itself:
  moving an alias back to an older version is how MLflow users roll back on purpose;
- a busy endpoint: the deployment is stored as the endpoint's ``PENDING`` one (newest version wins)
  and applied on its next ``IN_SERVICE`` event;
- the alias removed from the live version: the endpoint goes back to the config it ran before (the
  ``mlops:previous-endpoint-config`` tag; housekeeping keeps that config and its model), reported as
  ``Deployment Rolled Back``; with no previous config, ``Deployment Failed`` and the endpoint stays.

In the events, ``model_package_arn`` carries the ``models:/{model}/{version}`` URI.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from botocore.exceptions import ClientError
from pydantic import Field

from mlops_core import rollout
from mlops_core import tags as tag_keys
from mlops_core.aws_clients import ClientFactory
from mlops_core.aws_events import EndpointStateChange, EndpointStatus, EventBridgeEvent
from mlops_core.cloudwatch_adapter import CloudWatchAlarms
from mlops_core.config_table import ConfigTable
from mlops_core.deployer import PREVIOUS_ENDPOINT_CONFIG_TAG, ModelDeployer
from mlops_core.deployment_settings import StageDeploymentSettings
from mlops_core.domain_events import (
    DeploymentDeferred,
    DeploymentRolledBack,
    DeploymentSkipped,
    DeploymentStarted,
    DomainEvent,
    MlflowModelAliasChanged,
    SkipReason,
)
from mlops_core.event_function import Outcome
from mlops_core.mlflow_aliases import alias_key
from mlops_core.mlflow_registry import model_version_uri
from mlops_core.naming import StageResource, parse_versioned_resource_name, versioned_resource_name
from mlops_core.sagemaker_adapter import Endpoint, SageMakerAdapter
from mlops_core.settings import DeployerSettings
from mlops_core.topology import Stage

MLFLOW_MODEL_VERSION = "mlops:mlflow-model-version"
"""On everything deployed from MLflow: ``models:/{model}/{version}`` (where registry deployments
carry ``mlops:model-package-arn``)."""
_URI = re.compile(r"^models:/(?P<name>[^/]+)/(?P<version>\d+)$")


class MlflowAliasChangedEvent(EventBridgeEvent):
    source: Literal["mlops.mlflow-alias-watcher"]
    detail_type: Literal["MLflow Model Alias Changed"] = Field(alias="detail-type")
    detail: MlflowModelAliasChanged


def parse_model_version_uri(uri: str | None) -> tuple[str, int] | None:
    match = _URI.match(uri or "")
    return (match["name"], int(match["version"])) if match else None


class MlflowModelDeployer(ModelDeployer):
    """The model deployer, able to deploy MLflow model versions as well."""

    def __init__(self, settings: DeployerSettings, sagemaker_client: Any, **kwargs: Any) -> None:
        super().__init__(settings, SageMakerAdapter(sagemaker_client), **kwargs)
        self._sagemaker_client = sagemaker_client
        self._dynamodb: Any = kwargs.get("dynamodb")

    @classmethod
    def build(cls, settings: DeployerSettings, clients: ClientFactory) -> MlflowModelDeployer:
        deployer = cls(
            settings,
            clients("sagemaker"),
            config_table=ConfigTable(clients("dynamodb"), settings.config_table_name),
            alarms=CloudWatchAlarms(clients("cloudwatch")),
        )
        deployer._dynamodb = clients("dynamodb")
        return deployer

    # ------------------------------------------------------------------ routes

    def on_mlflow_alias_changed(self, event: MlflowAliasChangedEvent) -> Outcome:
        change = event.detail
        target = StageResource(change.project, Stage(change.stage))
        if target.stage not in self._settings.deployed_stages:
            return _ignored(f"stage {target.stage} is not deployed by this stack")
        if change.new_version is None:
            if change.old_version is None:
                return _ignored("the event names no version")
            return self.roll_back_removed(target, change.model, change.old_version, change.alias)
        return self.deploy_mlflow(target, change.model, change.alias, change.new_version, change.source_uri)

    def on_endpoint_state_change(self, event: EndpointStateChange) -> Outcome:
        """A deployment of an MLflow version deferred while the endpoint was busy goes first."""
        detail = event.detail
        pending = None
        if detail.EndpointStatus is EndpointStatus.IN_SERVICE and self._config_table is not None:
            pending = self._config_table.get_pending_deployment(detail.EndpointName)
        if not pending or "mlflow_model_version" not in pending:
            return super().on_endpoint_state_change(event)
        target = StageResource(str(pending["project"]), Stage(str(pending["stage"])))
        name, version = parse_model_version_uri(str(pending["mlflow_model_version"])) or ("", 0)
        outcome = self.deploy_mlflow(
            target, name, str(pending["alias"]), version, str(pending.get("source") or ""), from_pending=True
        )
        if outcome.status != "deferred":
            self._config_table.delete_pending_deployment(detail.EndpointName, version=version)  # type: ignore[union-attr]
        return outcome

    # ------------------------------------------------------------------ operations

    def deploy_mlflow(
        self,
        target: StageResource,
        model: str,
        alias: str,
        version: int,
        source: str | None,
        *,
        from_pending: bool = False,
    ) -> Outcome:
        uri = model_version_uri(model, version)
        record = self._config_table.get_project(target.project) if self._config_table else None
        loaded = self._load_settings(target, uri)
        if isinstance(loaded, Outcome):
            return loaded
        _project, stage_settings = loaded
        try:
            resolved = stage_settings.resolved(
                self._settings.default_instance_type, self._settings.default_instance_count
            )
        except ValueError as error:
            return self._failed(target, uri, f"deployment settings of {target.stage} refused: {error}")
        image = (record or {}).get("mlflow_serving_image")
        if not image:
            return self._failed(
                target,
                uri,
                f"project {target.project} has no mlflow_serving_image (config table "
                f"PROJECT#{target.project}/META): the image that serves its MLflow versions",
            )
        if not source or not source.startswith("s3://"):
            return self._failed(
                target,
                uri,
                f"{uri} is stored at {source or 'an unknown location'}; SageMaker serves model files "
                "from S3 only (use an s3:// artifact root for the MLflow server)",
            )
        seen = self._last_seen(model, alias)
        if seen != version:
            return self._skipped(target, uri, SkipReason.STALE, f"alias {alias} now names {seen}")
        endpoint = self._sagemaker.describe_endpoint(target.name)
        if endpoint is not None:
            if endpoint.tags.get(tag_keys.MANAGED_BY) != self._settings.stack_name:
                return self._failed(target, uri, self._not_managed(target.name))
            if (
                endpoint.tags.get(MLFLOW_MODEL_VERSION) == uri
                and endpoint.status is not EndpointStatus.FAILED
            ):
                return self._skipped(target, uri, SkipReason.ALREADY_DEPLOYED, uri)
            if endpoint.status.is_busy:
                return self._defer_mlflow(target, uri, alias, version, source, endpoint.status)
            if endpoint.status is not EndpointStatus.IN_SERVICE:
                self._sagemaker.delete_endpoint(endpoint.name)
                endpoint = None
        return self._roll_out_mlflow(target, uri, version, source, image, resolved, endpoint)

    def roll_back_removed(self, target: StageResource, model: str, removed: int, alias: str) -> Outcome:
        uri = model_version_uri(model, removed)
        endpoint = self._sagemaker.describe_endpoint(target.name)
        if endpoint is None or endpoint.tags.get(MLFLOW_MODEL_VERSION) != uri:
            live = endpoint.tags.get(MLFLOW_MODEL_VERSION) if endpoint else "no endpoint"
            return _ignored(f"{uri} (alias {alias} removed) is not live on {target.name} ({live})")
        if endpoint.tags.get(tag_keys.MANAGED_BY) != self._settings.stack_name:
            return self._failed(target, uri, self._not_managed(target.name))
        previous_config = endpoint.tags.get(PREVIOUS_ENDPOINT_CONFIG_TAG)
        parsed = parse_versioned_resource_name(previous_config) if previous_config else None
        if (
            not previous_config
            or parsed is None
            or self._sagemaker.describe_endpoint_config(previous_config) is None
        ):
            return self._failed(
                target,
                uri,
                f"alias {alias} was removed from {uri} while live on {target.name}, and no previous "
                "configuration is recorded to roll back to; the endpoint still serves it (assign the "
                "alias to a version, or delete the endpoint)",
            )
        if endpoint.status.is_busy:
            raise RuntimeError(
                f"endpoint {target.name} is {endpoint.status}; rolling back {uri} is retried later"
            )
        previous_uri = model_version_uri(model, parsed[1])
        self._sagemaker.update_endpoint(target.name, config_name=previous_config, deployment_config=None)
        self._sagemaker.tag(
            endpoint.arn,
            {MLFLOW_MODEL_VERSION: previous_uri, PREVIOUS_ENDPOINT_CONFIG_TAG: endpoint.config_name},
        )
        event = DeploymentRolledBack(
            project=target.project,
            stage=target.stage,
            endpoint_name=target.name,
            trigger="alias-removed",
            rolled_back_model_package_arn=uri,
            model_package_arn=previous_uri,
            model_package_version=parsed[1],
            endpoint_config_name=previous_config,
            reason=f"alias {alias} was removed from version {removed} while it was live",
        )
        return Outcome("rolled-back", {"endpoint_name": target.name, "trigger": "alias-removed"}, [event])

    # ------------------------------------------------------------------ helpers

    def _roll_out_mlflow(  # noqa: PLR0917 - one deployment's facts
        self,
        target: StageResource,
        uri: str,
        version: int,
        source: str,
        image: str,
        resolved: StageDeploymentSettings,
        endpoint: Endpoint | None,
    ) -> Outcome:
        settings = self._settings
        tags = {
            **tag_keys.resource_tags(
                project=target.project, stage=target.stage, managed_by=settings.stack_name
            ),
            MLFLOW_MODEL_VERSION: uri,
        }
        prefix = source.rstrip("/") + "/"
        container = {
            "Image": image,
            "ModelDataSource": {
                "S3DataSource": {"S3Uri": prefix, "S3DataType": "S3Prefix", "CompressionType": "None"}
            },
        }
        model_name = versioned_resource_name(
            target.name, version, json.dumps(container, sort_keys=True), settings.sagemaker_execution_role_arn
        )
        compute = resolved.compute
        assert compute is not None  # resolved() always names the compute
        config_request = rollout.endpoint_config_request(
            [rollout.production_variant(model_name, compute)],
            data_capture=rollout.data_capture_config(resolved.data_capture),
        )
        config_name = versioned_resource_name(
            target.name, version, json.dumps(config_request, sort_keys=True)
        )
        self._create(
            self._sagemaker_client.create_model,
            ModelName=model_name,
            ExecutionRoleArn=settings.sagemaker_execution_role_arn,
            PrimaryContainer=container,
            Tags=tag_keys.to_aws(tags),
        )
        self._sagemaker.create_endpoint_config(config_name, request=config_request, tags=tags)
        strategy = resolved.strategy
        if endpoint is None:
            self._sagemaker.create_endpoint(target.name, config_name=config_name, tags=tags)
            action = "create"
        else:
            deployment_config = None
            if strategy.shifts_traffic and self._alarms is not None:
                definitions = rollout.alarm_definitions(settings.stack_name, target.name, resolved.alarms)
                alarm_tags = {k: v for k, v in tags.items() if k != MLFLOW_MODEL_VERSION}
                for definition in definitions:
                    self._alarms.put_alarm(definition, tags=alarm_tags)
                deployment_config = rollout.deployment_config(
                    resolved, [definition["AlarmName"] for definition in definitions]
                )
            self._sagemaker.update_endpoint(
                target.name, config_name=config_name, deployment_config=deployment_config
            )
            new_tags = {k: v for k, v in tags.items() if k != tag_keys.MANAGED_BY}
            self._sagemaker.tag(
                endpoint.arn, {**new_tags, PREVIOUS_ENDPOINT_CONFIG_TAG: endpoint.config_name}
            )
            action = "update"
        started = DeploymentStarted(
            project=target.project,
            stage=target.stage,
            endpoint_name=target.name,
            model_package_arn=uri,
            model_package_version=version,
            model_name=model_name,
            endpoint_config_name=config_name,
            action=action,
            strategy=strategy.value,
        )
        details = {"endpoint_name": target.name, "action": action, "strategy": strategy.value}
        return Outcome("started", details, [started])

    @staticmethod
    def _create(create: Any, **request: Any) -> None:
        """Create, treating "already exists" as done (the name is derived from what is created)."""
        try:
            create(**request)
        except ClientError as error:
            message = str(error.response.get("Error", {}).get("Message", ""))
            if "already exist" not in message.lower():
                raise

    def _last_seen(self, model: str, alias: str) -> int | None:
        if self._dynamodb is None:
            return None
        key = {name: {"S": value} for name, value in alias_key(model, alias).items()}
        item = self._dynamodb.get_item(
            TableName=self._settings.config_table_name, Key=key, ConsistentRead=True
        ).get("Item")
        return int(item["version"]["N"]) if item else None

    def _defer_mlflow(  # noqa: PLR0917 - one deployment's facts
        self, target: StageResource, uri: str, alias: str, version: int, source: str, status: EndpointStatus
    ) -> Outcome:
        assert self._config_table is not None, "deferring needs the config table"
        deployment = {
            "mlflow_model_version": uri,
            "model_package_arn": uri,
            "alias": alias,
            "source": source,
            "project": target.project,
            "stage": target.stage.value,
        }
        stored = self._config_table.put_pending_deployment(target.name, deployment, version=version)
        details = {"endpoint_name": target.name, "endpoint_status": status.value}
        if not stored:
            return Outcome(
                "deferred", {**details, "reason": f"version {version} or a newer one is already pending"}
            )
        deferred = DeploymentDeferred(
            project=target.project,
            stage=target.stage,
            endpoint_name=target.name,
            model_package_arn=uri,
            model_package_version=version,
            endpoint_status=status.value,
        )
        return Outcome("deferred", details, [deferred])

    @staticmethod
    def _skipped(target: StageResource, uri: str, reason: SkipReason, live: str) -> Outcome:
        parsed = parse_model_version_uri(uri)
        event: DomainEvent = DeploymentSkipped(
            project=target.project,
            stage=target.stage,
            endpoint_name=target.name,
            model_package_arn=uri,
            model_package_version=parsed[1] if parsed else 0,
            reason=reason,
            live_model_package_arn=live,
        )
        return Outcome("skipped", {"reason": reason.value, "endpoint_name": target.name}, [event])


def _ignored(reason: str) -> Outcome:
    return Outcome("ignored", {"reason": reason})
