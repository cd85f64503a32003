"""The model deployer: an approved model version becomes its stage's endpoint.

The version deployed is the one the event names (never "the latest approved": the registry's
listings sort oldest first). Deployment is idempotent end to end: model and endpoint config
names are derived from what is deployed, an endpoint already serving the version is left alone,
and an approval older than the version being served is skipped as stale, because events can be
duplicated and arrive out of order.

Production concerns live here too:
- how a stage is deployed (compute, strategy, data capture, alarms) comes from the project
  record (:mod:`mlops_core.deployment_settings`), checked before any change;
- an approval that finds the endpoint busy is stored as its ``PENDING`` deployment (the newest
  version wins) and applied on the endpoint's next ``IN_SERVICE`` event, never lost;
- rejecting the live version rolls the endpoint back to the newest older approved version;
- a challenger in ``shadow`` mode becomes a shadow variant of the champion endpoint;
- production stages need lineage (commit, dataset, metrics) on the version;
- once an endpoint is back in service, the models and configs it no longer uses are deleted,
  except the previous config and its models (kept for rollback).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from mlops_core import rollout
from mlops_core import tags as tag_keys
from mlops_core.aws_clients import ClientFactory
from mlops_core.aws_events import (
    EndpointDeploymentStateChange,
    EndpointStateChange,
    EndpointStatus,
    ModelApprovalStatus,
    ModelPackageStateChange,
)
from mlops_core.cloudwatch_adapter import AlarmsPort, CloudWatchAlarms
from mlops_core.config_table import ConfigTable, ConfigTablePort
from mlops_core.deployment_settings import (
    InstanceCompute,
    InvalidDeploymentSettingsError,
    ProjectDeploymentSettings,
    StageDeploymentSettings,
    Strategy,
)
from mlops_core.domain_events import (
    DeploymentDeferred,
    DeploymentFailed,
    DeploymentRolledBack,
    DeploymentSkipped,
    DeploymentStarted,
    DomainEvent,
    SkipReason,
)
from mlops_core.event_function import Outcome
from mlops_core.naming import (
    ModelPackageRef,
    StageResource,
    parse_model_package_arn,
    parse_stage_resource,
    parse_versioned_resource_name,
    versioned_resource_name,
)
from mlops_core.sagemaker_adapter import (
    Endpoint,
    EndpointConfig,
    ModelPackage,
    SageMakerAdapter,
    SageMakerPort,
)
from mlops_core.settings import DeployerSettings
from mlops_core.topology import Stage

PREVIOUS_ENDPOINT_CONFIG_TAG = "mlops:previous-endpoint-config"
"""On an endpoint: the config it ran before the last update (kept by housekeeping for rollback)."""


@dataclass(frozen=True)
class _Request:
    """One deployment to carry out: ``version`` of ``source``'s group onto ``target``'s endpoint."""

    source: StageResource  # the stage whose group the version comes from
    target: StageResource  # the stage whose endpoint is changed (the champion, for a shadow)
    version: ModelPackageRef
    rolled_back: ModelPackageRef | None = None  # set when this deployment undoes a rejection
    from_pending: bool = False  # the endpoint's PENDING deployment, deleted once carried out
    endpoint: Endpoint | None = None  # already described by the caller (saves two calls)

    @property
    def shadow(self) -> bool:
        return self.source != self.target


class ModelDeployer:
    def __init__(
        self,
        settings: DeployerSettings,
        sagemaker: SageMakerPort,
        config_table: ConfigTablePort | None = None,
        alarms: AlarmsPort | None = None,
    ) -> None:
        self._settings = settings
        self._sagemaker = sagemaker
        self._config_table = config_table
        self._alarms = alarms

    @classmethod
    def build(cls, settings: DeployerSettings, clients: ClientFactory) -> ModelDeployer:
        return cls(
            settings,
            SageMakerAdapter(clients("sagemaker")),
            ConfigTable(clients("dynamodb"), settings.config_table_name),
            CloudWatchAlarms(clients("cloudwatch")),
        )

    # ------------------------------------------------------------------ routes

    def on_model_package_state_change(self, event: ModelPackageStateChange) -> Outcome:
        detail = event.detail
        target = parse_stage_resource(detail.ModelPackageGroupName)
        if target is None:
            return _ignored(
                f"model group {detail.ModelPackageGroupName!r} does not follow the "
                "{project}-{stage} naming contract"
            )
        if target.stage not in self._settings.deployed_stages:
            deployed = ",".join(sorted(self._settings.deployed_stages))
            return _ignored(f"stage {target.stage} is not deployed by this stack (DeployedStages={deployed})")
        version = parse_model_package_arn(detail.ModelPackageArn)
        if detail.ModelApprovalStatus is ModelApprovalStatus.REJECTED:
            return self.roll_back_rejected(target, version)
        if detail.ModelApprovalStatus is not ModelApprovalStatus.APPROVED:
            return _ignored(f"model version is {detail.ModelApprovalStatus}, not Approved")
        return self.deploy(target, version)

    def on_endpoint_state_change(self, event: EndpointStateChange) -> Outcome:
        """``IN_SERVICE``: apply the pending deployment, or tidy up; ``FAILED``: say why."""
        detail = event.detail
        target = self._managed_stage_endpoint(detail.EndpointName, detail.Tags)
        if isinstance(target, Outcome):
            return target
        if detail.EndpointStatus is EndpointStatus.FAILED:
            reason = (
                f"endpoint {detail.EndpointName} failed: {detail.FailureReason or 'no reason given'}; "
                "the next approval recreates it"
            )
            failed = DeploymentFailed(
                project=target.project,
                stage=target.stage,
                endpoint_name=detail.EndpointName,
                model_package_arn=detail.Tags.get(tag_keys.MODEL_PACKAGE_ARN),
                reason=reason,
            )
            return Outcome("failed", {"reason": reason}, [failed])
        if detail.EndpointStatus is not EndpointStatus.IN_SERVICE:
            return _ignored(f"endpoint {detail.EndpointName} is {detail.EndpointStatus}")
        applied = self._apply_pending(target)
        if applied is not None:
            return applied
        if detail.EndpointConfigName is None:
            return _ignored("the event names no endpoint config")
        return self.tidy_up(detail.EndpointName, detail.EndpointConfigName, detail.Tags)

    def on_endpoint_deployment_state_change(self, event: EndpointDeploymentStateChange) -> Outcome:
        """SageMaker rolling a blue/green rollout back on an alarm is reported as a rollback."""
        detail = event.detail
        target = self._managed_stage_endpoint(detail.EndpointName, detail.Tags)
        if isinstance(target, Outcome):
            return target
        if detail.EndpointStatus is not EndpointStatus.ROLLING_BACK:
            return _ignored(
                f"deployment of {detail.EndpointName} is {detail.EndpointStatus}, not rolling back"
            )
        pending_config = (detail.PendingDeploymentSummary or {}).get("EndpointConfigName")
        back_to = _version_of_config(detail.EndpointName, detail.EndpointConfigName)
        taken_off = _version_of_config(detail.EndpointName, pending_config)
        arn = _package_arn_like(detail.Tags.get(tag_keys.MODEL_PACKAGE_ARN), target.name)
        rolled_back = DeploymentRolledBack(
            project=target.project,
            stage=target.stage,
            endpoint_name=detail.EndpointName,
            trigger="alarm",
            rolled_back_model_package_arn=arn(taken_off),
            model_package_arn=arn(back_to),
            model_package_version=back_to,
            endpoint_config_name=detail.EndpointConfigName,
            reason="SageMaker rolled the deployment back: an alarm of its AutoRollbackConfiguration fired",
        )
        return Outcome(
            "rolled-back", {"endpoint_name": detail.EndpointName, "trigger": "alarm"}, [rolled_back]
        )

    # ------------------------------------------------------------------ operations

    def deploy(
        self, source: StageResource, version: ModelPackageRef, *, from_pending: bool = False
    ) -> Outcome:
        """Deploy an approved version of ``source``'s group (to its endpoint, or as the champion's shadow)."""
        loaded = self._load_settings(source, version.arn)
        if isinstance(loaded, Outcome):
            return loaded
        project_settings, stage_settings = loaded
        target = source
        if source.stage is Stage.CHALLENGER and stage_settings.strategy is Strategy.SHADOW:
            target = StageResource(source.project, Stage.CHAMPION)
        request = _Request(source, target, version, from_pending=from_pending)
        return self._deploy(request, project_settings, stage_settings)

    def roll_back_rejected(self, stage: StageResource, rejected: ModelPackageRef) -> Outcome:
        """The version live on the stage's endpoint was rejected: go back to the newest older approved one."""
        endpoint = self._sagemaker.describe_endpoint(stage.name)
        if endpoint is None or endpoint.model_package_arn != rejected.arn:
            live = endpoint.model_package_arn if endpoint else "no endpoint"
            return _ignored(
                f"rejected version {rejected.version} is not live on {stage.name} ({live}); "
                "nothing to roll back"
            )
        if endpoint.tags.get(tag_keys.MANAGED_BY) != self._settings.stack_name:
            return self._failed(stage, rejected.arn, self._not_managed(stage.name))
        older = [v for v in self._sagemaker.list_approved_versions(rejected.group) if v < rejected.version]
        if not older:
            return self._failed(
                stage,
                rejected.arn,
                f"version {rejected.version} of {rejected.group} was rejected while live on {stage.name}, "
                "and no older approved version exists to roll back to; the endpoint still serves it "
                "(approve a version, or delete the endpoint)",
            )
        previous = _sibling(rejected, max(older))
        loaded = self._load_settings(stage, previous.arn)
        if isinstance(loaded, Outcome):
            return loaded
        request = _Request(stage, stage, previous, rolled_back=rejected, endpoint=endpoint)
        return self._deploy(request, *loaded)

    def tidy_up(self, endpoint_name: str, current_config: str, endpoint_tags: dict[str, str]) -> Outcome:
        """Delete the endpoint's configs and models that nothing uses any more, except the previous
        config and its models (the rollback target). Only what this deployer named for this endpoint
        and created before the current config is considered, so a deployment in flight is safe."""
        configs = {
            resource.name: resource
            for resource in self._sagemaker.list_endpoint_configs(f"{endpoint_name}-v")
            if _version_of_config(endpoint_name, resource.name) is not None
        }
        current = configs.get(current_config)
        if current is None:
            return _ignored(
                f"endpoint {endpoint_name} runs {current_config}, which this deployer did not name"
            )
        older = sorted(
            (resource for resource in configs.values() if resource.creation_time < current.creation_time),
            key=lambda resource: resource.creation_time,
        )
        previous = endpoint_tags.get(PREVIOUS_ENDPOINT_CONFIG_TAG)
        if previous not in configs or previous == current_config:
            previous = older[-1].name if older else None
        keep = {current_config, *([previous] if previous else [])}
        used_models: set[str] = set()
        for name in keep:
            config = self._sagemaker.describe_endpoint_config(name)
            if config is not None:
                used_models |= config.model_names()
        deleted_configs = [resource.name for resource in older if resource.name not in keep]
        for name in deleted_configs:
            self._sagemaker.delete_endpoint_config(name)
        deleted_models = [
            resource.name
            for resource in self._sagemaker.list_models(f"{endpoint_name}-v")
            if resource.name not in used_models
            and resource.creation_time < current.creation_time
            and _version_of_config(endpoint_name, resource.name) is not None
        ]
        for name in deleted_models:
            self._sagemaker.delete_model(name)
        return Outcome(
            "tidied",
            {
                "endpoint_name": endpoint_name,
                "kept_endpoint_configs": sorted(keep),
                "deleted_endpoint_configs": deleted_configs,
                "deleted_models": deleted_models,
            },
        )

    # ------------------------------------------------------------------ the deployment itself

    def _deploy(
        self, request: _Request, project: ProjectDeploymentSettings, stage_settings: StageDeploymentSettings
    ) -> Outcome:
        """Check settings, endpoint, version and lineage, then roll out; a refusal changes nothing."""
        source, version = request.source, request.version
        try:
            resolved = stage_settings.resolved(
                self._settings.default_instance_type, self._settings.default_instance_count
            )
        except ValueError as error:
            return self._failed(
                source, version.arn, f"deployment settings of {source.stage} refused: {error}"
            )
        checked = self._check_endpoint(request)
        if isinstance(checked, Outcome):
            return checked
        endpoint, current_config = checked
        package = self._sagemaker.describe_model_package(version.arn)
        if package is None:
            return self._failed(source, version.arn, f"model package {version.arn} does not exist")
        if package.approval_status is not ModelApprovalStatus.APPROVED:
            # Out of order: the version was approved, then rejected before this event arrived.
            self._forget_pending(request)
            return _ignored(f"model version {version.arn} is now {package.approval_status}, not Approved")
        if source.stage in project.lineage.stages:
            missing = package.missing_lineage(project.lineage.required)
            if missing:
                return self._failed(
                    source,
                    version.arn,
                    f"version {version.version} of {version.group} lacks lineage required for "
                    f"{source.stage}: {', '.join(missing)} (commit-id: MetadataProperties.CommitId; "
                    "dataset: CustomerMetadataProperties['mlops:dataset']; metrics: ModelMetrics)",
                )
        if endpoint is not None and endpoint.status is not EndpointStatus.IN_SERVICE:
            # A Failed endpoint cannot be updated: delete it and create it again.
            self._sagemaker.delete_endpoint(endpoint.name)
            endpoint, current_config = None, None
        return self._roll_out(request, resolved, package, endpoint, current_config)

    def _check_endpoint(self, request: _Request) -> tuple[Endpoint | None, EndpointConfig | None] | Outcome:
        """The endpoint to change and its config (when the new config keeps parts of it), or why not."""
        source, version, endpoint_name = request.source, request.version, request.target.name
        endpoint = request.endpoint or self._sagemaker.describe_endpoint(endpoint_name)
        if endpoint is None:
            if request.shadow:
                return self._failed(
                    source,
                    version.arn,
                    f"champion endpoint {endpoint_name} does not exist; a challenger in shadow mode is "
                    "deployed as a shadow variant of the champion, so deploy the champion first",
                )
            return None, None
        if endpoint.tags.get(tag_keys.MANAGED_BY) != self._settings.stack_name:
            return self._failed(source, version.arn, self._not_managed(endpoint_name))
        current_config = None
        if request.shadow or source.stage is Stage.CHAMPION:
            current_config = self._sagemaker.describe_endpoint_config(endpoint.config_name)
        live_arn = (
            _live_shadow_arn(source, endpoint, current_config)
            if request.shadow
            else endpoint.model_package_arn
        )
        skip = _skip_reason(live_arn, version, endpoint, downgrade=request.rolled_back is not None)
        if skip is not None:
            self._forget_pending(request)
            return _skipped(source, endpoint_name, live_arn or "", version, skip)
        if endpoint.status.is_busy:
            return self._defer(request, endpoint.status)
        if endpoint.status is not EndpointStatus.IN_SERVICE and request.shadow:
            return self._failed(
                source,
                version.arn,
                f"champion endpoint {endpoint_name} is {endpoint.status}; "
                "deploy a champion before its shadow",
            )
        if request.shadow and current_config is None:
            return self._failed(
                source, version.arn, f"champion endpoint config {endpoint.config_name} is gone"
            )
        return endpoint, current_config

    def _roll_out(
        self,
        request: _Request,
        resolved: StageDeploymentSettings,
        package: ModelPackage,
        endpoint: Endpoint | None,
        current_config: EndpointConfig | None,
    ) -> Outcome:
        """Create the model and endpoint config, then create or update the endpoint."""
        source, target, version = request.source, request.target, request.version
        endpoint_name = target.name
        settings = self._settings
        tags = tag_keys.resource_tags(
            project=source.project,
            stage=source.stage,
            managed_by=settings.stack_name,
            model_package_arn=version.arn,
            commit_id=package.commit_id,
        )
        model_name = versioned_resource_name(
            source.name, version.version, version.arn, settings.sagemaker_execution_role_arn
        )
        compute = resolved.compute
        assert compute is not None  # resolved() always names the compute
        if request.shadow:
            assert endpoint is not None and current_config is not None
            assert isinstance(compute, InstanceCompute)  # checked by resolved()
            config_request = rollout.endpoint_config_request(
                current_config.production_variants,
                shadows=[rollout.shadow_variant(model_name, compute, resolved.shadow_sampling_percentage)],
                data_capture=current_config.data_capture,
            )
            live = parse_model_package_arn(endpoint.model_package_arn) if endpoint.model_package_arn else None
            config_version = live.version if live else version.version
            config_tags = {**tags, tag_keys.STAGE: target.stage.value}
        else:
            config_request = rollout.endpoint_config_request(
                [rollout.production_variant(model_name, compute)],
                shadows=current_config.shadow_variants if current_config else None,
                data_capture=rollout.data_capture_config(resolved.data_capture),
            )
            config_version = version.version
            config_tags = tags
        config_name = versioned_resource_name(
            endpoint_name, config_version, json.dumps(config_request, sort_keys=True)
        )
        self._sagemaker.create_model(
            model_name,
            model_package_arn=version.arn,
            execution_role_arn=settings.sagemaker_execution_role_arn,
            tags=tags,
        )
        self._sagemaker.create_endpoint_config(config_name, request=config_request, tags=config_tags)
        strategy = Strategy.SHADOW if request.shadow else resolved.strategy
        if endpoint is None:
            self._sagemaker.create_endpoint(endpoint_name, config_name=config_name, tags=tags)
            action = "create"
        else:
            deployment_config = None
            if strategy.shifts_traffic and self._alarms is not None:
                alarm_tags = {k: v for k, v in tags.items() if k != tag_keys.MODEL_PACKAGE_ARN}
                definitions = rollout.alarm_definitions(settings.stack_name, endpoint_name, resolved.alarms)
                for definition in definitions:
                    self._alarms.put_alarm(definition, tags=alarm_tags)
                deployment_config = rollout.deployment_config(
                    resolved, [definition["AlarmName"] for definition in definitions]
                )
            self._sagemaker.update_endpoint(
                endpoint_name, config_name=config_name, deployment_config=deployment_config
            )
            new_tags = {PREVIOUS_ENDPOINT_CONFIG_TAG: endpoint.config_name}
            if not request.shadow:
                new_tags |= {k: v for k, v in tags.items() if k != tag_keys.MANAGED_BY}
            self._sagemaker.tag(endpoint.arn, new_tags)
            action = "update"
        self._forget_pending(request)
        event: DomainEvent
        if request.rolled_back is not None:
            event = DeploymentRolledBack(
                project=target.project,
                stage=target.stage,
                endpoint_name=endpoint_name,
                trigger="rejection",
                rolled_back_model_package_arn=request.rolled_back.arn,
                model_package_arn=version.arn,
                model_package_version=version.version,
                endpoint_config_name=config_name,
                reason=f"version {request.rolled_back.version} was rejected while live",
            )
            status = "rolled-back"
        else:
            event = DeploymentStarted(
                project=source.project,
                stage=source.stage,
                endpoint_name=endpoint_name,
                model_package_arn=version.arn,
                model_package_version=version.version,
                model_name=model_name,
                endpoint_config_name=config_name,
                action=action,
                strategy=strategy.value,
            )
            status = "started"
        details = {"endpoint_name": endpoint_name, "action": action, "strategy": strategy.value}
        return Outcome(status, details, [event])

    # ------------------------------------------------------------------ helpers

    def _load_settings(
        self, stage: StageResource, model_package_arn: str
    ) -> tuple[ProjectDeploymentSettings, StageDeploymentSettings] | Outcome:
        record = self._config_table.get_project(stage.project) if self._config_table else None
        try:
            project = ProjectDeploymentSettings.from_record(record)
        except InvalidDeploymentSettingsError as error:
            return self._failed(
                stage,
                model_package_arn,
                f"deployment settings of project {stage.project} (config table PROJECT#{stage.project}/META) "
                f"are invalid: {error}",
            )
        return project, project.for_stage(stage.stage)

    def _managed_stage_endpoint(self, endpoint_name: str, tags: dict[str, str]) -> StageResource | Outcome:
        target = parse_stage_resource(endpoint_name)
        if target is None:
            return _ignored(
                f"endpoint {endpoint_name!r} does not follow the {{project}}-{{stage}} naming contract"
            )
        if target.stage not in self._settings.deployed_stages:
            return _ignored(f"stage {target.stage} is not deployed by this stack")
        if tags.get(tag_keys.MANAGED_BY) != self._settings.stack_name:
            return _ignored(f"endpoint {endpoint_name} is not managed by stack {self._settings.stack_name}")
        return target

    def _apply_pending(self, target: StageResource) -> Outcome | None:
        """The first pending deployment for this endpoint (its own, then a challenger's shadow)."""
        if self._config_table is None:
            return None
        candidates = [target]
        if target.stage is Stage.CHAMPION and Stage.CHALLENGER in self._settings.deployed_stages:
            candidates.append(StageResource(target.project, Stage.CHALLENGER))
        for source in candidates:
            pending = self._config_table.get_pending_deployment(source.name)
            if pending is None:
                continue
            version = parse_model_package_arn(str(pending["model_package_arn"]))
            rolled_back_arn = pending.get("rolled_back_model_package_arn")
            if rolled_back_arn:  # a rollback deferred while the endpoint was busy
                loaded = self._load_settings(source, version.arn)
                if isinstance(loaded, Outcome):
                    outcome = loaded
                else:
                    rolled_back = parse_model_package_arn(str(rolled_back_arn))
                    request = _Request(source, source, version, rolled_back=rolled_back, from_pending=True)
                    outcome = self._deploy(request, *loaded)
            else:
                outcome = self.deploy(source, version, from_pending=True)
            if outcome.status == "failed":
                self._config_table.delete_pending_deployment(source.name, version=version.version)
            return outcome
        return None

    def _defer(self, request: _Request, status: EndpointStatus) -> Outcome:
        """Store the deployment as the endpoint's PENDING one (kept under the approving stage's
        endpoint name, so a challenger's shadow and the champion's own never overwrite each other)."""
        assert self._config_table is not None, "deferring needs the config table"
        source, version, endpoint_name = request.source, request.version, request.target.name
        deployment = {
            "model_package_arn": version.arn,
            "project": source.project,
            "stage": source.stage.value,
        }
        if request.rolled_back is not None:
            deployment["rolled_back_model_package_arn"] = request.rolled_back.arn
        stored = self._config_table.put_pending_deployment(source.name, deployment, version=version.version)
        details = {"endpoint_name": endpoint_name, "endpoint_status": status.value}
        if not stored:
            return Outcome(
                "deferred",
                {**details, "reason": f"version {version.version} or a newer one is already pending"},
            )
        deferred = DeploymentDeferred(
            project=source.project,
            stage=source.stage,
            endpoint_name=endpoint_name,
            model_package_arn=version.arn,
            model_package_version=version.version,
            endpoint_status=status.value,
        )
        return Outcome("deferred", details, [deferred])

    def _forget_pending(self, request: _Request) -> None:
        """A pending deployment is done with (carried out, stale or rejected): delete it, unless a
        newer version was deferred meanwhile (the delete is conditional on the version)."""
        if request.from_pending and self._config_table is not None:
            self._config_table.delete_pending_deployment(request.source.name, version=request.version.version)

    def _not_managed(self, endpoint_name: str) -> str:
        return (
            f"endpoint {endpoint_name} exists but is not managed by stack "
            f"{self._settings.stack_name} (tag {tag_keys.MANAGED_BY}); refusing to change it"
        )

    @staticmethod
    def _failed(stage: StageResource, model_package_arn: str | None, reason: str) -> Outcome:
        event = DeploymentFailed(
            project=stage.project,
            stage=stage.stage,
            endpoint_name=stage.name,
            model_package_arn=model_package_arn,
            reason=reason,
        )
        return Outcome("failed", {"reason": reason}, [event])


def _skip_reason(
    live_arn: str | None, version: ModelPackageRef, endpoint: Endpoint, *, downgrade: bool
) -> SkipReason | None:
    if live_arn is None or endpoint.status is EndpointStatus.FAILED:
        return None
    try:
        live = parse_model_package_arn(live_arn)
    except ValueError:
        return None
    if live.group != version.group:
        return None
    if live.version == version.version:
        return SkipReason.ALREADY_DEPLOYED
    if live.version > version.version and not downgrade:
        return SkipReason.STALE
    return None


def _live_shadow_arn(source: StageResource, endpoint: Endpoint, config: EndpointConfig | None) -> str | None:
    """The challenger version shadowing the champion, read from the shadow model's name."""
    for variant in config.shadow_variants if config else []:
        parsed = parse_versioned_resource_name(str(variant.get("ModelName", "")))
        if parsed is not None and parsed[0] == source.name:
            _arn, partition, _service, region, account, _resource = endpoint.arn.split(":", 5)
            return f"arn:{partition}:sagemaker:{region}:{account}:model-package/{source.name}/{parsed[1]}"
    return None


def _skipped(
    source: StageResource, endpoint_name: str, live_arn: str, version: ModelPackageRef, reason: SkipReason
) -> Outcome:
    event = DeploymentSkipped(
        project=source.project,
        stage=source.stage,
        endpoint_name=endpoint_name,
        model_package_arn=version.arn,
        model_package_version=version.version,
        reason=reason,
        live_model_package_arn=live_arn,
    )
    return Outcome("skipped", {"reason": reason.value, "endpoint_name": endpoint_name}, [event])


def _sibling(version: ModelPackageRef, number: int) -> ModelPackageRef:
    prefix = version.arn.rsplit("/", 1)[0]
    return ModelPackageRef(arn=f"{prefix}/{number}", group=version.group, version=number)


def _version_of_config(endpoint_name: str, config_name: str | None) -> int | None:
    parsed = parse_versioned_resource_name(config_name) if config_name else None
    return parsed[1] if parsed is not None and parsed[0] == endpoint_name else None


def _package_arn_like(known_arn: str | None, group: str) -> Callable[[int | None], str | None]:
    """Version N of ``group`` in the account and region of a known package ARN (None if unknown)."""

    def arn(version: int | None) -> str | None:
        if version is None or not known_arn:
            return None
        prefix = known_arn.split(":model-package/", 1)[0]
        return f"{prefix}:model-package/{group}/{version}"

    return arn


def _ignored(reason: str) -> Outcome:
    """Not for this deployer: logged with the reason, nothing changed, nothing emitted."""
    return Outcome("ignored", {"reason": reason})
