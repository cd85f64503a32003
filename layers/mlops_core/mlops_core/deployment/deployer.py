"""The model deployer: an approved model version becomes its stage's endpoint.

The version deployed is the one the event names (never "the latest approved": the registry's
listings sort oldest first). Deployment is idempotent end to end: model and endpoint config
names are derived from what is deployed, an endpoint already serving the version is left alone,
and an approval older than the version being served is skipped as stale, because events can be
duplicated and arrive out of order.

Production concerns live here too:
- how a stage is deployed (compute, strategy, data capture, alarms) comes from the project
  record (:mod:`mlops_core.contract.deployment_settings`), checked before any change;
- an approval that cannot be carried out now is stored as the endpoint's ``PENDING`` deployment
  (the newest version wins) and applied later, never lost: a busy endpoint
  (``Creating``/``Updating``/``RollingBack``) is waited for until ``IN_SERVICE``; a ``Failed`` one is
  deleted and the deployment waits until it is gone (``DELETING`` event; a deletion is
  asynchronous in AWS). Whatever is pending is re-validated against the endpoint and the registry
  when it is applied;
- rejecting the live version rolls the endpoint (or the champion's shadow) back to the newest
  older approved version;
- a challenger in ``shadow`` mode becomes a shadow variant of the champion endpoint;
- what serverless inference excludes is refused before any change, saying what to do: a shadow
  variant on a serverless champion, and turning an instance-based endpoint serverless;
- production stages need lineage (commit, dataset, metrics) on the version;
- once an endpoint is back in service, the endpoint configs it no longer uses are deleted except
  the previous one (kept for rollback), and the models no remaining config of the project's
  endpoints uses (shadow variants included).

What is deployed is a :class:`DeployableVersion`: a model registry version
(:class:`RegistryVersion`, here) or an MLflow model version (:mod:`mlops_core.deployment.mlflow_versions`).
The flow is one for both (endpoint checks and deferral, pending deployments re-validated when
applied, failed/deleting/out-of-service endpoints, create or update with strategies, alarms and data
capture, tags, "already exists", housekeeping); a kind of version says only what differs: its
identity and tag, the container ``CreateModel`` gets, whether it is still current
(:meth:`ModelDeployer._check_version`), what is stored to apply it later, and what undoing it means.

Layout: routes (one per event type; each parses and delegates), operations (deploy, roll back,
tidy up), then the deployment itself, the pending deployments and housekeeping.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Protocol

from mlops_core.adapters.cloudwatch import AlarmsPort
from mlops_core.adapters.config_table import ConfigTablePort
from mlops_core.adapters.sagemaker import (
    Endpoint,
    EndpointBusyError,
    EndpointConfig,
    ResourceConflictError,
    SageMakerPort,
)
from mlops_core.contract import tags as tag_keys
from mlops_core.contract.aws_events import (
    EndpointDeploymentStateChange,
    EndpointStateChange,
    EndpointStatus,
    ModelApprovalStatus,
    ModelPackageStateChange,
    PendingDeployment,
)
from mlops_core.contract.deployment_settings import (
    InstanceCompute,
    InvalidDeploymentSettingsError,
    ProjectDeploymentSettings,
    ServerlessCompute,
    StageDeploymentSettings,
    Strategy,
)
from mlops_core.contract.domain_events import (
    DeploymentDeferred,
    DeploymentFailed,
    DeploymentRolledBack,
    DeploymentSkipped,
    DeploymentStarted,
    DomainEvent,
    SkipReason,
)
from mlops_core.contract.naming import (
    ModelPackageRef,
    StageResource,
    parse_model_package_arn,
    parse_stage_resource,
    parse_versioned_resource_name,
    versioned_resource_name,
)
from mlops_core.contract.outcome import Outcome
from mlops_core.contract.topology import Stage
from mlops_core.deployment import endpoint_configs as rollout
from mlops_core.settings import DeployerSettings

PREVIOUS_ENDPOINT_CONFIG_TAG = "mlops:previous-endpoint-config"
"""On an endpoint config: the config its endpoint ran when it was deployed (housekeeping keeps
that one for rollback). A tag on the new config costs no call; tagging the endpoint would."""

MLFLOW_MODEL_VERSION = tag_keys.MLFLOW_MODEL_VERSION

ROLLBACK_ANNOUNCEMENT_KEPT = timedelta(days=30)
"""How long an announced rollback is remembered (the item's TTL): far beyond EventBridge's retries
(24 hours) and SageMaker's repeated notices."""

UPDATABLE = frozenset({EndpointStatus.IN_SERVICE, EndpointStatus.UPDATE_ROLLBACK_FAILED})
"""Statuses in which UpdateEndpoint is accepted (AWS allows an update after a failed rollback)."""

_DONE_NOTHING = frozenset({"ignored", "skipped"})
"""Outcomes of a pending deployment that changed nothing (it was stale, rejected or moot)."""


class EndpointNotGoneError(RuntimeError):
    """A deployment waits for the endpoint's deletion to finish; raised so that Lambda's
    asynchronous retries look again later (the deployment stays stored as PENDING meanwhile)."""


Known = Mapping[str, "Endpoint | None"]
"""Endpoints already described strongly (DescribeEndpoint) in this invocation, by name; None = gone."""


class DeployableVersion(Protocol):
    """What a deployment puts on an endpoint. ``arn`` is its identity (a model package ARN, or
    ``models:/{model}/{version}``): the value of its ``identity_tag`` and the events'
    ``model_package_arn``."""

    identity_tag: ClassVar[str]
    newest_wins: ClassVar[bool]
    """True: a lower version number than the live one is stale, and the highest pending version
    wins. False: the registry says what is current (checked before anything is stored), and the
    last deployment deferred wins, so moving back to an older version is a deployment."""
    shadows: ClassVar[bool]
    """Whether a challenger in ``shadow`` mode becomes the champion's shadow variant."""

    @property
    def arn(self) -> str: ...
    @property
    def version(self) -> int: ...
    def pending_record(self) -> dict[str, Any]:
        """What the PENDING item stores to rebuild this version when it is applied."""
        ...

    def live_identity(self, endpoint: Endpoint) -> str | None:
        """The identity of the version of this kind the endpoint serves (None: unknown)."""
        ...

    def rollback_reason(self) -> tuple[str, str]:
        """(trigger, reason) of ``Deployment Rolled Back`` when this version is undone."""
        ...


@dataclass(frozen=True)
class RegistryVersion(ModelPackageRef):
    """A version of the SageMaker Model Registry: deployable while ``Approved``; an approval older
    than the live version is stale; undone by rejecting it."""

    identity_tag: ClassVar[str] = tag_keys.MODEL_PACKAGE_ARN
    newest_wins: ClassVar[bool] = True
    shadows: ClassVar[bool] = True

    @classmethod
    def of(cls, ref: ModelPackageRef) -> RegistryVersion:
        return ref if isinstance(ref, RegistryVersion) else cls(ref.arn, ref.group, ref.version)

    @classmethod
    def parse(cls, arn: str) -> RegistryVersion:
        return cls.of(parse_model_package_arn(arn))

    def pending_record(self) -> dict[str, Any]:
        return {"model_package_arn": self.arn}

    def live_identity(self, endpoint: Endpoint) -> str | None:
        return endpoint.model_package_arn

    def rollback_reason(self) -> tuple[str, str]:
        return "rejection", f"version {self.version} was rejected while live"


@dataclass(frozen=True)
class CheckedVersion:
    """A version found deployable now: the ``CreateModel`` container (``{"Containers": [...]}`` or
    ``{"PrimaryContainer": ...}``), what the model's name is a fingerprint of, and its commit."""

    model_request: Mapping[str, Any]
    fingerprint: tuple[object, ...]
    commit_id: str | None = None


Loaded = tuple[ProjectDeploymentSettings, StageDeploymentSettings, Mapping[str, Any] | None]
"""The project's deployment settings, the stage's, and the project record they come from."""


@dataclass(frozen=True)
class _Request:
    """One deployment to carry out: ``version`` of ``source``'s group onto ``target``'s endpoint."""

    source: StageResource  # the stage whose group the version comes from
    target: StageResource  # the stage whose endpoint is changed (the champion, for a shadow)
    version: DeployableVersion
    rolled_back: DeployableVersion | None = None  # set when this deployment undoes another version
    pending_version: int | None = None  # carrying out the PENDING deployment stored with this version
    known: Known = field(default_factory=dict)  # endpoints described strongly in this invocation
    seen: Endpoint | None = None  # the target endpoint as already found (Search) in this invocation

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

    # ------------------------------------------------------------------ routes (one per event type)

    def on_model_package_state_change(self, event: ModelPackageStateChange) -> Outcome:
        detail = event.detail
        target = self._deployed_stage(detail.ModelPackageGroupName, "model group")
        if isinstance(target, Outcome):
            return target
        version = RegistryVersion.parse(detail.ModelPackageArn)
        elsewhere = self._outside_the_registry(version.arn)
        if elsewhere is not None:
            return self._failed(target, version.arn, elsewhere)
        if detail.ModelApprovalStatus is ModelApprovalStatus.REJECTED:
            return self.roll_back_rejected(target, version)
        if detail.ModelApprovalStatus is not ModelApprovalStatus.APPROVED:
            return _ignored(f"model version is {detail.ModelApprovalStatus}, not Approved")
        return self.deploy(target, version)

    def on_endpoint_state_change(self, event: EndpointStateChange) -> Outcome:
        """``IN_SERVICE``: apply what is pending, else tidy up; ``FAILED``: say why (and recreate the
        endpoint if a deployment is pending); ``DELETING``: create it again if one is pending."""
        detail = event.detail
        target = self._managed_stage_endpoint(detail.EndpointName, detail.Tags)
        if isinstance(target, Outcome):
            return target
        if detail.EndpointStatus is EndpointStatus.FAILED:
            return self._on_failed(target, detail.FailureReason, _version_tag(detail.Tags))
        if detail.EndpointStatus is EndpointStatus.DELETING:
            return self._on_deleting(target)
        if detail.EndpointStatus is not EndpointStatus.IN_SERVICE:
            return _ignored(f"endpoint {detail.EndpointName} is {detail.EndpointStatus}")
        applied = self._apply_pending(target)
        if applied is not None and applied.status not in _DONE_NOTHING:
            return applied
        tidied = self.tidy_up(target)
        if applied is None:
            return tidied
        # What was pending was moot (stale, rejected since, no longer live): say so, and tidy up.
        return Outcome(
            tidied.status,
            {**tidied.details, "pending": {"status": applied.status, **applied.details}},
            [*applied.events, *tidied.events],
        )

    def on_endpoint_deployment_state_change(self, event: EndpointDeploymentStateChange) -> Outcome:
        """SageMaker rolling a blue/green rollout back on an alarm is reported as a rollback, once per
        rollback: the notice may come again with new event ids, so the rollback's identity (endpoint,
        the config it undoes, the update's start) is claimed with a conditional write first."""
        detail = event.detail
        target = self._managed_stage_endpoint(detail.EndpointName, detail.Tags)
        if isinstance(target, Outcome):
            return target
        if detail.EndpointStatus is not EndpointStatus.ROLLING_BACK:
            return _ignored(
                f"deployment of {detail.EndpointName} is {detail.EndpointStatus}, not rolling back"
            )
        summary = detail.PendingDeploymentSummary
        pending_config = summary.EndpointConfigName if summary else None
        started = (summary.StartTime if summary else None) or detail.LastModifiedTime or event.time
        undone = pending_config or detail.EndpointConfigName or "unknown"
        if self._config_table is not None and not self._config_table.claim_rollback_announcement(
            detail.EndpointName,
            undone,
            started=int(started.timestamp() * 1000),
            event_id=event.id,
            expires_at=int((datetime.now(UTC) + ROLLBACK_ANNOUNCEMENT_KEPT).timestamp()),
        ):
            return _ignored(
                f"SageMaker's rollback of {undone} on {detail.EndpointName} (update started "
                f"{started.isoformat()}) was announced already"
            )
        back_to = version_of_config(detail.EndpointName, detail.EndpointConfigName)
        taken_off = version_of_config(detail.EndpointName, pending_config)
        arn = _identity_like(detail.Tags, target.name)
        reason = "SageMaker rolled the deployment back: an alarm of its AutoRollbackConfiguration fired"
        said = _status_message(summary)
        if said:
            reason += f" (SageMaker: {said})"
        rolled_back = DeploymentRolledBack(
            project=target.project,
            stage=target.stage,
            endpoint_name=detail.EndpointName,
            trigger="alarm",
            rolled_back_model_package_arn=arn(taken_off),
            model_package_arn=arn(back_to),
            model_package_version=back_to,
            endpoint_config_name=detail.EndpointConfigName,
            reason=reason,
        )
        return Outcome(
            "rolled-back", {"endpoint_name": detail.EndpointName, "trigger": "alarm"}, [rolled_back]
        )

    # ------------------------------------------------------------------ operations

    def deploy(
        self,
        source: StageResource,
        version: DeployableVersion,
        *,
        pending_version: int | None = None,
        known: Known | None = None,
    ) -> Outcome:
        """Deploy a version for ``source``'s stage (to its endpoint, or as the champion's shadow).
        ``pending_version``: this is the endpoint's PENDING deployment being applied."""
        loaded = self._load_settings(source, version.arn)
        if isinstance(loaded, Outcome):
            return loaded
        stage_settings = loaded[1]
        target = source
        shadow_mode = source.stage is Stage.CHALLENGER and stage_settings.strategy is Strategy.SHADOW
        if shadow_mode and version.shadows:
            target = StageResource(source.project, Stage.CHAMPION)
        request = _Request(source, target, version, pending_version=pending_version, known=known or {})
        return self._deploy(request, *loaded)

    def roll_back_rejected(
        self,
        stage: StageResource,
        rejected: ModelPackageRef,
        *,
        pending_version: int | None = None,
        known: Known | None = None,
    ) -> Outcome:
        """A rejected version that is live goes: the stage's endpoint (or, for a challenger, the
        champion's shadow variant) gets the newest older approved version. No older version: the
        endpoint is left and ``Deployment Failed`` says so; a shadow is removed.

        Everything is decided on the current state, so a rollback deferred while the endpoint was
        busy is checked again when applied (the rejected version may no longer be live)."""
        known = known or {}
        rejected = RegistryVersion.of(rejected)
        request = _Request(stage, stage, rejected, pending_version=pending_version, known=known)
        endpoint = self._endpoint(request, stage.name)
        target, config = stage, None
        if endpoint is None or endpoint.model_package_arn != rejected.arn:
            shadow = self._rejected_shadow(stage, rejected, known)
            if shadow is None:
                live = endpoint.model_package_arn if endpoint else "no endpoint"
                self._forget_pending(request)
                return _ignored(
                    f"rejected version {rejected.version} is not live on {stage.name} ({live}); "
                    "nothing to roll back"
                )
            endpoint, config = shadow
            target = StageResource(stage.project, Stage.CHAMPION)
        if endpoint.tags.get(tag_keys.MANAGED_BY) != self._settings.stack_name:
            return self._failed(stage, rejected.arn, self._not_managed(endpoint.name))
        package = self._sagemaker.describe_model_package(rejected.arn)
        if package is not None and package.approval_status is not ModelApprovalStatus.REJECTED:
            # Out of order: rejected, then approved again before this event (or the deferral) ran.
            self._forget_pending(request)
            return _ignored(
                f"version {rejected.arn} is {package.approval_status} again; nothing to roll back"
            )
        approved = self._sagemaker.list_approved_versions(_group_ref(rejected, endpoint))
        older = [v for v in approved if v < rejected.version]
        if not older and target != stage:
            assert config is not None
            return self._remove_shadow(
                replace(request, target=target, rolled_back=rejected), endpoint, config
            )
        if not older:
            self._forget_pending(request)
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
        rollback = replace(request, target=target, version=previous, rolled_back=rejected, seen=endpoint)
        return self._deploy(rollback, *loaded)

    def tidy_up(self, target: StageResource) -> Outcome:
        """Housekeeping of an endpoint that is in service.

        Deleted: the endpoint's own configs created before its current one, except the previous
        one (the current config's ``mlops:previous-endpoint-config`` tag, else the newest older
        config); the models of this project's related endpoints (the champion and the challenger
        share models through the shadow variant) that no remaining config references, created
        before every related endpoint's current config (so a deployment in flight is safe); the
        rollback alarms of an endpoint whose strategy no longer needs them. The endpoint's
        ``mlops:model-package-arn``/``mlops:commit-id`` tags are brought up to the version it now
        serves (done here, once the update is done, rather than on every deployment)."""
        endpoint_name = target.name
        endpoint = self._sagemaker.describe_endpoint(endpoint_name)
        if endpoint is None or endpoint.status is not EndpointStatus.IN_SERVICE:
            status = endpoint.status if endpoint else "gone"
            return _ignored(f"endpoint {endpoint_name} is {status}; housekeeping waits for InService")
        if endpoint.tags.get(tag_keys.MANAGED_BY) != self._settings.stack_name:
            return _ignored(self._not_managed(endpoint_name))
        own = self._named_configs(target)
        current = self._sagemaker.describe_endpoint_config(endpoint.config_name)
        if endpoint.config_name not in own or current is None:
            return _ignored(
                f"endpoint {endpoint_name} runs {endpoint.config_name}, which this deployer did not name"
            )
        created = own[current.name]
        current_tags = self._sagemaker.list_tags(current.arn) if current.arn else {}
        older = sorted((name for name, time in own.items() if time < created), key=lambda name: own[name])
        previous = current_tags.get(PREVIOUS_ENDPOINT_CONFIG_TAG)
        if previous not in own or previous == current.name:
            previous = older[-1] if older else None
        kept = {current.name, *([previous] if previous else [])}
        deleted_configs = [name for name in older if name not in kept]
        for name in deleted_configs:
            self._sagemaker.delete_endpoint_config(name)
        deleted_models = self._delete_unused_models(target, current, created, set(deleted_configs))
        retagged = self._retag_served_version(endpoint, current_tags)
        details: dict[str, Any] = {
            "endpoint_name": endpoint_name,
            "kept_endpoint_configs": sorted(kept),
            "deleted_endpoint_configs": deleted_configs,
            "deleted_models": deleted_models,
            "deleted_alarms": self._delete_unneeded_alarms(target),
        }
        if retagged:
            details["retagged"] = retagged
        return Outcome("tidied", details)

    # ------------------------------------------------------------------ the deployment itself

    def _deploy(
        self,
        request: _Request,
        project: ProjectDeploymentSettings,
        stage_settings: StageDeploymentSettings,
        record: Mapping[str, Any] | None,
    ) -> Outcome:
        """Check settings, endpoint and version, then roll out; a refusal changes nothing."""
        source, version = request.source, request.version
        try:
            resolved = stage_settings.resolved(
                self._settings.default_instance_type, self._settings.default_instance_count
            )
        except ValueError as error:
            return self._failed(
                source, version.arn, f"deployment settings of {source.stage} refused: {error}"
            )
        if request.shadow and not isinstance(resolved.compute, InstanceCompute):
            return self._failed(source, version.arn, "a shadow variant needs real-time instances")
        # When the last deferral wins, only a current version may be stored as pending: check first.
        early = None if version.newest_wins else self._check_version(request, project, record)
        if isinstance(early, Outcome):
            return early
        found = self._check_endpoint(request)
        if isinstance(found, Outcome):
            return found
        endpoint, current_config = found
        checked = early or self._check_version(request, project, record)
        if isinstance(checked, Outcome):
            return checked
        if endpoint is not None and endpoint.status is EndpointStatus.FAILED:
            # A Failed endpoint cannot be updated, and DeleteEndpoint is asynchronous: delete it
            # and keep the deployment pending until the endpoint is gone.
            return self._defer(request, EndpointStatus.FAILED)
        if (
            endpoint is not None
            and current_config is None
            and isinstance(resolved.compute, ServerlessCompute)
        ):
            current_config = self._sagemaker.describe_endpoint_config(endpoint.config_name)
        refusal = _serverless_refusal(request, resolved, endpoint, current_config)
        if refusal is not None:
            return self._failed(source, version.arn, refusal)
        try:
            return self._roll_out(request, resolved, checked, endpoint, current_config)
        except ResourceConflictError as error:
            return self._failed(source, version.arn, f"{error}; refusing to deploy over it")

    def _check_version(
        self, request: _Request, project: ProjectDeploymentSettings, record: Mapping[str, Any] | None
    ) -> CheckedVersion | Outcome:
        """Is the version deployable now (re-read from its registry: a pending deployment is checked
        again when applied)? A registry version: it exists, is still ``Approved`` and has the
        lineage its stage requires. A deployer of another kind of version overrides this."""
        source, version = request.source, request.version
        if not isinstance(version, RegistryVersion):
            raise TypeError(f"{type(self).__name__} does not deploy {type(version).__name__}")
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
        return CheckedVersion(
            {"Containers": [{"ModelPackageName": version.arn}]}, (version.arn,), package.commit_id
        )

    def _check_endpoint(self, request: _Request) -> tuple[Endpoint | None, EndpointConfig | None] | Outcome:
        """The endpoint to change and its config (when the new config keeps parts of it), or why not."""
        source, version, endpoint_name = request.source, request.version, request.target.name
        endpoint = self._endpoint(request, endpoint_name)
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
            else version.live_identity(endpoint)
        )
        skip = _skip_reason(live_arn, version, endpoint, downgrade=request.rolled_back is not None)
        if skip is not None:
            self._forget_pending(request)
            return _skipped(source, endpoint_name, live_arn or "", version, skip)
        if request.shadow and endpoint.status not in UPDATABLE and not endpoint.status.is_busy:
            return self._failed(
                source,
                version.arn,
                f"champion endpoint {endpoint_name} is {endpoint.status}; "
                "deploy a champion before its shadow",
            )
        if endpoint.status is EndpointStatus.DELETING and request.shadow:
            return self._failed(
                source,
                version.arn,
                f"champion endpoint {endpoint_name} is being deleted; deploy a champion first",
            )
        if endpoint.status.is_busy:
            return self._defer(request, endpoint.status)
        if endpoint.status is EndpointStatus.OUT_OF_SERVICE:
            return self._failed(
                source,
                version.arn,
                f"endpoint {endpoint_name} is OutOfService (SageMaker cannot serve it); the deployer "
                "does not update or delete it: find out why, then delete it and approve again",
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
        checked: CheckedVersion,
        endpoint: Endpoint | None,
        current_config: EndpointConfig | None,
    ) -> Outcome:
        """Create the model and endpoint config, then create or update the endpoint."""
        source, target, version = request.source, request.target, request.version
        endpoint_name = target.name
        settings = self._settings
        tags = {
            **tag_keys.resource_tags(
                project=source.project, stage=source.stage, managed_by=settings.stack_name
            ),
            version.identity_tag: version.arn,
            **({tag_keys.COMMIT_ID: checked.commit_id} if checked.commit_id else {}),
        }
        model_name = versioned_resource_name(
            source.name, version.version, *checked.fingerprint, settings.sagemaker_execution_role_arn
        )
        compute = resolved.compute
        assert compute is not None  # resolved() always names the compute
        if request.shadow:
            assert endpoint is not None and current_config is not None
            assert isinstance(compute, InstanceCompute)  # checked by _deploy
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
            config_tags = dict(tags)
        if endpoint is not None:
            config_tags[PREVIOUS_ENDPOINT_CONFIG_TAG] = endpoint.config_name
        config_name = versioned_resource_name(
            endpoint_name, config_version, json.dumps(config_request, sort_keys=True)
        )
        self._sagemaker.create_model(
            model_name,
            request=checked.model_request,
            execution_role_arn=settings.sagemaker_execution_role_arn,
            tags=tags,
        )
        self._sagemaker.create_endpoint_config(config_name, request=config_request, tags=config_tags)
        strategy = Strategy.SHADOW if request.shadow else resolved.strategy
        if endpoint is None:
            if not self._sagemaker.create_endpoint(endpoint_name, config_name=config_name, tags=tags):
                # The name is in use: our view was behind, or an earlier attempt of this very
                # deployment got that far. Look at what is there and decide again.
                existing = self._sagemaker.describe_endpoint(endpoint_name)
                if existing is None:
                    raise EndpointNotGoneError(f"endpoint {endpoint_name} is being deleted; retrying")
                managed = existing.tags.get(tag_keys.MANAGED_BY) == settings.stack_name
                if not (managed and existing.config_name == config_name):
                    return self._redeploy(replace(request, known={**request.known, endpoint_name: existing}))
            action = "create"
            if strategy.shifts_traffic:  # a new endpoint has no traffic to shift: it starts all at once
                strategy = Strategy.ALL_AT_ONCE
        else:
            deployment_config = None
            if strategy.shifts_traffic and self._alarms is not None:
                alarm_tags = {k: v for k, v in tags.items() if k != version.identity_tag}
                definitions = rollout.alarm_definitions(settings.stack_name, endpoint_name, resolved.alarms)
                for definition in definitions:
                    self._alarms.put_alarm(definition, tags=alarm_tags)
                deployment_config = rollout.deployment_config(
                    resolved, [definition["AlarmName"] for definition in definitions]
                )
            try:
                self._sagemaker.update_endpoint(
                    endpoint_name, config_name=config_name, deployment_config=deployment_config
                )
            except EndpointBusyError:
                # Our view of the endpoint was behind (Search lags): it is busy after all.
                return self._defer_on_current_state(request)
            action = "update"
        self._forget_pending(request)
        details = {"endpoint_name": endpoint_name, "action": action, "strategy": strategy.value}
        if request.rolled_back is not None:
            return Outcome("rolled-back", details, [self._rolled_back_event(request, config_name)])
        started = DeploymentStarted(
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
        return Outcome("started", details, [started])

    def _redeploy(self, request: _Request) -> Outcome:
        loaded = self._load_settings(request.source, request.version.arn)
        if isinstance(loaded, Outcome):
            return loaded
        return self._deploy(request, *loaded)

    def _remove_shadow(self, request: _Request, champion: Endpoint, config: EndpointConfig) -> Outcome:
        """The champion's shadow was rejected and no older approved challenger version exists: the
        champion keeps its production variants and data capture, without a shadow."""
        rejected = request.version
        if champion.status.is_busy:
            return self._defer(request, champion.status)
        if champion.status not in UPDATABLE:
            return self._failed(
                request.source, rejected.arn, f"champion endpoint {champion.name} is {champion.status}"
            )
        config_request = rollout.endpoint_config_request(
            config.production_variants, data_capture=config.data_capture
        )
        live = parse_model_package_arn(champion.model_package_arn) if champion.model_package_arn else None
        config_name = versioned_resource_name(
            champion.name, live.version if live else 0, json.dumps(config_request, sort_keys=True)
        )
        config_tags = tag_keys.resource_tags(
            project=request.target.project,
            stage=request.target.stage,
            managed_by=self._settings.stack_name,
            model_package_arn=champion.model_package_arn,
        )
        config_tags[PREVIOUS_ENDPOINT_CONFIG_TAG] = champion.config_name
        try:
            self._sagemaker.create_endpoint_config(config_name, request=config_request, tags=config_tags)
        except ResourceConflictError as error:
            return self._failed(request.source, rejected.arn, f"{error}; refusing to deploy over it")
        try:
            self._sagemaker.update_endpoint(champion.name, config_name=config_name)
        except EndpointBusyError:
            return self._defer_on_current_state(request)
        self._forget_pending(request)
        reason = (
            f"challenger version {rejected.version} was rejected while live as the shadow of "
            f"{champion.name}, and no older approved challenger version exists: the shadow is removed"
        )
        event = DeploymentRolledBack(
            project=request.source.project,
            stage=request.source.stage,
            endpoint_name=champion.name,
            trigger="rejection",
            rolled_back_model_package_arn=rejected.arn,
            endpoint_config_name=config_name,
            reason=reason,
        )
        details = {
            "endpoint_name": champion.name,
            "action": "remove-shadow",
            "strategy": Strategy.SHADOW.value,
        }
        return Outcome("rolled-back", details, [event])

    def _rolled_back_event(self, request: _Request, config_name: str) -> DeploymentRolledBack:
        assert request.rolled_back is not None
        trigger, reason = request.rolled_back.rollback_reason()
        return DeploymentRolledBack(
            project=request.source.project,
            stage=request.source.stage,
            endpoint_name=request.target.name,
            trigger=trigger,
            rolled_back_model_package_arn=request.rolled_back.arn,
            model_package_arn=request.version.arn,
            model_package_version=request.version.version,
            endpoint_config_name=config_name,
            reason=reason,
        )

    # ------------------------------------------------------------------ pending deployments

    def _defer(self, request: _Request, status: EndpointStatus) -> Outcome:
        """Store the deployment as the endpoint's PENDING one (kept under the approving stage's
        endpoint name, so a challenger's shadow and the champion's own never overwrite each other),
        then make sure it cannot wait for an event that will never come: a Failed endpoint is
        deleted now, and an endpoint that is already in service or gone gets it at once."""
        assert self._config_table is not None, "deferring needs the config table"
        source, version, endpoint_name = request.source, request.version, request.target.name
        deployment: dict[str, Any] = {
            **version.pending_record(),
            "project": source.project,
            "stage": source.stage.value,
        }
        key_version = version.version
        if request.rolled_back is not None:
            # A rollback is decided again when applied, so it is stored as "undo this version".
            deployment["rolled_back_model_package_arn"] = request.rolled_back.arn
            key_version = request.rolled_back.version
        put = (
            self._config_table.put_pending_deployment
            if version.newest_wins
            else self._config_table.replace_pending_deployment
        )
        stored = put(source.name, deployment, version=key_version)
        waits_for = status
        if status is EndpointStatus.FAILED:
            self._sagemaker.delete_endpoint(endpoint_name)
            waits_for = EndpointStatus.DELETING
        details: dict[str, Any] = {"endpoint_name": endpoint_name, "endpoint_status": waits_for.value}
        events: list[DomainEvent] = []
        if stored:
            events.append(
                DeploymentDeferred(
                    project=source.project,
                    stage=source.stage,
                    endpoint_name=endpoint_name,
                    model_package_arn=version.arn,
                    model_package_version=version.version,
                    endpoint_status=waits_for.value,
                )
            )
        else:
            details["reason"] = f"version {key_version} or a newer one is already pending"
        if endpoint_name in request.known and status is not EndpointStatus.FAILED:
            return Outcome("deferred", details, events)  # already looked strongly: it is busy
        # The event that applies a pending deployment may already have passed (our view lagged, or
        # the endpoint finished meanwhile): look again, strongly, and apply it now if it can be.
        now = self._sagemaker.describe_endpoint(endpoint_name)
        if now is not None and now.status is EndpointStatus.DELETING and status is EndpointStatus.DELETING:
            # Someone else is deleting it, and its DELETING event may be gone already: Lambda's
            # retries try again (the deployment is stored; after the retries it is in the
            # FailedEventsQueue and the next approval or endpoint event applies it).
            raise EndpointNotGoneError(
                f"endpoint {endpoint_name} is being deleted; version {version.version} is stored as its "
                "pending deployment and is deployed once the endpoint is gone (retrying)"
            )
        if now is not None and now.status not in UPDATABLE:
            return Outcome("deferred", details, events)
        applied = self._apply_pending_of(source, {**request.known, endpoint_name: now})
        if applied is None:
            return Outcome("deferred", details, events)
        return Outcome(applied.status, applied.details, [*events, *applied.events])

    def _defer_on_current_state(self, request: _Request) -> Outcome:
        endpoint = self._sagemaker.describe_endpoint(request.target.name)
        status = endpoint.status if endpoint else EndpointStatus.UPDATING
        return self._defer(replace(request, known={**request.known, request.target.name: endpoint}), status)

    def _apply_pending(self, target: StageResource, known: Known | None = None) -> Outcome | None:
        """Apply the pending deployments for this endpoint (its own, then a challenger's shadow):
        the first that changes something is returned; moot ones are dropped on the way."""
        if self._config_table is None:
            return None
        candidates = [target]
        if target.stage is Stage.CHAMPION and Stage.CHALLENGER in self._settings.deployed_stages:
            candidates.append(StageResource(target.project, Stage.CHALLENGER))
        moot: list[Outcome] = []
        for source in candidates:
            outcome = self._apply_pending_of(source, known or {})
            if outcome is None:
                continue
            if outcome.status not in _DONE_NOTHING:
                return outcome
            moot.append(outcome)
        if not moot:
            return None
        return Outcome(
            moot[0].status,
            {"applied": [{"status": o.status, **o.details} for o in moot]},
            [event for o in moot for event in o.events],
        )

    def _apply_pending_of(self, source: StageResource, known: Known) -> Outcome | None:
        """Carry out the PENDING deployment stored for ``source``, re-validated against the current
        state (a rollback only if the rejected version is still live; an approval only if it is
        still approved and newer than what is live); None if nothing is pending."""
        assert self._config_table is not None
        pending = self._config_table.get_pending_deployment(source.name)
        if pending is None:
            return None
        stored_version = int(pending["model_package_version"])
        outcome = self._apply_pending_record(source, pending, stored_version, known)
        if outcome is not None and (outcome.status == "failed" or outcome.status in _DONE_NOTHING):
            # Refused, stale or moot: it will never apply (a newer deferral meanwhile stays).
            self._config_table.delete_pending_deployment(source.name, version=stored_version)
        return outcome

    def _apply_pending_record(
        self, source: StageResource, pending: Mapping[str, Any], stored_version: int, known: Known
    ) -> Outcome | None:
        """One stored PENDING record of the model registry (an approval, or "undo this rejection");
        None for a record another route wrote (a subclass for another registry overrides this)."""
        rolled_back_arn = pending.get("rolled_back_model_package_arn")
        if rolled_back_arn:
            rejected = RegistryVersion.parse(str(rolled_back_arn))
            return self.roll_back_rejected(source, rejected, pending_version=stored_version, known=known)
        if not pending.get("model_package_arn"):
            return None
        version = RegistryVersion.parse(str(pending["model_package_arn"]))
        return self.deploy(source, version, pending_version=stored_version, known=known)

    def _on_failed(self, target: StageResource, reason: str | None, model_package_arn: str | None) -> Outcome:
        """The endpoint ended Failed: say why. A deployment pending for it is not lost: the failed
        endpoint is deleted and the pending one creates it again once it is gone."""
        message = f"endpoint {target.name} failed: {reason or 'no reason given'}"
        pending = self._config_table.get_pending_deployment(target.name) if self._config_table else None
        details: dict[str, Any] = {}
        events: list[DomainEvent] = []
        if pending is None:
            message += "; the next approval recreates it"
        else:
            version = int(pending["model_package_version"])
            endpoint = self._sagemaker.describe_endpoint(target.name)
            if endpoint is not None and endpoint.status is EndpointStatus.FAILED:
                self._sagemaker.delete_endpoint(target.name)
                endpoint = self._sagemaker.describe_endpoint(target.name)
            message += f"; it is deleted and created again with the pending version {version}"
            if endpoint is None:
                applied = self._apply_pending_of(target, {target.name: None})
                if applied is not None:
                    details["pending"] = {"status": applied.status, **applied.details}
                    events += applied.events
            else:
                details["pending"] = {"status": "deferred", "endpoint_status": endpoint.status.value}
        failed = DeploymentFailed(
            project=target.project,
            stage=target.stage,
            endpoint_name=target.name,
            model_package_arn=model_package_arn,
            reason=message,
        )
        return Outcome("failed", {"reason": message, **details}, [failed, *events])

    def _on_deleting(self, target: StageResource) -> Outcome:
        """A deployment pending for an endpoint being deleted creates it again once it is gone."""
        pending = self._config_table.get_pending_deployment(target.name) if self._config_table else None
        if pending is None:
            return _ignored(f"endpoint {target.name} is being deleted and nothing is pending for it")
        endpoint = self._sagemaker.describe_endpoint(target.name)
        if endpoint is not None:
            raise EndpointNotGoneError(
                f"endpoint {target.name} is {endpoint.status}; the pending version "
                f"{pending['model_package_version']} is deployed once it is gone (retrying)"
            )
        applied = self._apply_pending_of(target, {target.name: None})
        return applied or _ignored(f"what is pending for {target.name} is not a deployment of this deployer")

    def _forget_pending(self, request: _Request) -> None:
        """A pending deployment is done with (carried out, stale or moot): delete it, unless a newer
        one was deferred meanwhile (the delete is conditional on the stored version)."""
        if request.pending_version is not None and self._config_table is not None:
            self._config_table.delete_pending_deployment(request.source.name, version=request.pending_version)

    # ------------------------------------------------------------------ housekeeping

    def _family(self, target: StageResource) -> list[StageResource]:
        """The endpoints whose configs may use this endpoint's models: a challenger's models can be
        the champion's shadow variant, so those two are housekept together."""
        related = {Stage.CHAMPION, Stage.CHALLENGER}
        if target.stage not in related:
            return [target]
        others = [
            StageResource(target.project, stage)
            for stage in (Stage.CHAMPION, Stage.CHALLENGER)
            if stage is not target.stage and stage in self._settings.deployed_stages
        ]
        return [target, *others]

    def _named_configs(self, stage: StageResource) -> dict[str, datetime]:
        """The endpoint configs named for ``stage``'s endpoint, with their creation times."""
        return {
            resource.name: resource.creation_time
            for resource in self._sagemaker.list_endpoint_configs(f"{stage.name}-v")
            if version_of_config(stage.name, resource.name) is not None
        }

    def _delete_unused_models(
        self, target: StageResource, current: EndpointConfig, created: datetime, deleted_configs: set[str]
    ) -> list[str]:
        """Delete the family's models that no remaining endpoint config references and that are
        older than every family endpoint's current config (so a deployment in flight is safe)."""
        in_use: set[str] = set(current.model_names())
        oldest_current = created
        remaining: set[str] = set()
        for member in self._family(target):
            named = self._named_configs(member)
            remaining |= set(named) - deleted_configs
            if member == target:
                continue
            other = self._sagemaker.describe_endpoint(member.name)
            if other is None:
                continue
            remaining.add(other.config_name)  # whatever it runs, even a config we did not name
            other_created = named.get(other.config_name)
            if other_created is None:
                other_config = self._sagemaker.describe_endpoint_config(other.config_name)
                other_created = other_config.creation_time if other_config else None
            if other_created is not None:
                oldest_current = min(oldest_current, other_created)
        for name in sorted(remaining - {current.name}):
            config = self._sagemaker.describe_endpoint_config(name)
            if config is not None:
                in_use |= config.model_names()
        deleted: list[str] = []
        for member in self._family(target):
            for model in self._sagemaker.list_models(f"{member.name}-v"):
                if (
                    model.name not in in_use
                    and model.creation_time < oldest_current
                    and version_of_config(member.name, model.name) is not None
                ):
                    self._sagemaker.delete_model(model.name)
                    deleted.append(model.name)
        return deleted

    def _retag_served_version(self, endpoint: Endpoint, current_tags: Mapping[str, str]) -> dict[str, str]:
        """Keep the endpoint's version tags on what it serves, copied from its current config's tags
        (a shadow-only config names the challenger's version, so it changes nothing)."""
        served = endpoint.model_package_arn
        if served and _same_version(current_tags.get(tag_keys.MODEL_PACKAGE_ARN), served):
            identity_tag = tag_keys.MODEL_PACKAGE_ARN
        elif current_tags.get(MLFLOW_MODEL_VERSION):  # the MLflow path has no shadow configs
            identity_tag = MLFLOW_MODEL_VERSION
        else:
            return {}
        wanted = {
            key: current_tags[key]
            for key in (identity_tag, tag_keys.COMMIT_ID)
            if key in current_tags and endpoint.tags.get(key) != current_tags[key]
        }
        if wanted:
            self._sagemaker.tag(endpoint.arn, wanted)
        return wanted

    def _delete_unneeded_alarms(self, target: StageResource) -> list[str]:
        """An endpoint whose strategy no longer shifts traffic does not need its rollback alarms."""
        if self._alarms is None:
            return []
        record = self._config_table.get_project(target.project) if self._config_table else None
        try:
            strategy = ProjectDeploymentSettings.from_record(record).for_stage(target.stage).strategy
        except InvalidDeploymentSettingsError:
            return []  # reported by the next deployment; keep what exists
        if strategy.shifts_traffic:
            return []
        existing = self._alarms.existing(rollout.alarm_names(self._settings.stack_name, target.name))
        self._alarms.delete(existing)
        return existing

    # ------------------------------------------------------------------ helpers

    def _endpoint(self, request: _Request, name: str) -> Endpoint | None:
        """The endpoint as already described in this invocation, else found (one Search call)."""
        if name in request.known:
            return request.known[name]
        if request.seen is not None and request.seen.name == name:
            return request.seen
        return self._sagemaker.find_endpoint(name)

    def _rejected_shadow(
        self, stage: StageResource, rejected: ModelPackageRef, known: Known
    ) -> tuple[Endpoint, EndpointConfig] | None:
        """The champion endpoint and its config, if ``rejected`` is live there as the shadow."""
        if stage.stage is not Stage.CHALLENGER or Stage.CHAMPION not in self._settings.deployed_stages:
            return None
        champion_name = StageResource(stage.project, Stage.CHAMPION).name
        champion = (
            known[champion_name] if champion_name in known else self._sagemaker.find_endpoint(champion_name)
        )
        if champion is None:
            return None
        config = self._sagemaker.describe_endpoint_config(champion.config_name)
        if config is None or _live_shadow_arn(stage, champion, config) != rejected.arn:
            return None
        return champion, config

    def _load_settings(self, stage: StageResource, model_package_arn: str) -> Loaded | Outcome:
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
        return project, project.for_stage(stage.stage), record

    def _deployed_stage(self, name: str, kind: str) -> StageResource | Outcome:
        target = parse_stage_resource(name)
        if target is None:
            return _ignored(f"{kind} {name!r} does not follow the {{project}}-{{stage}} naming contract")
        if target.stage not in self._settings.deployed_stages:
            deployed = ",".join(sorted(self._settings.deployed_stages))
            return _ignored(f"stage {target.stage} is not deployed by this stack (DeployedStages={deployed})")
        return target

    def _managed_stage_endpoint(self, endpoint_name: str, tags: dict[str, str]) -> StageResource | Outcome:
        target = self._deployed_stage(endpoint_name, "endpoint")
        if isinstance(target, Outcome):
            return target
        if tags.get(tag_keys.MANAGED_BY) != self._settings.stack_name:
            return _ignored(f"endpoint {endpoint_name} is not managed by stack {self._settings.stack_name}")
        return target

    def _outside_the_registry(self, arn: str) -> str | None:
        """Why a version of this ARN cannot be deployed by this stack (None: it can): its account must
        be one whose registry the stack reads (its own, or ``RegistryAccountId``) and its region the
        stack's. Refused at once, with nothing changed: no retry can make it readable."""
        _arn, _partition, _service, region, account, _resource = arn.split(":", 5)
        if region != self._settings.region:
            return (
                f"version {arn} is in region {region}; this stack deploys versions of its own region "
                f"({self._settings.region}) only"
            )
        if account not in self._settings.registry_account_ids:
            accounts = ", ".join(sorted(self._settings.registry_account_ids))
            return (
                f"version {arn} is in account {account}, whose registry this stack does not read "
                f"(accounts {accounts}: its own and RegistryAccountId); check the rule that forwards "
                "approval events to this account"
            )
        return None

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


def _serverless_refusal(
    request: _Request,
    resolved: StageDeploymentSettings,
    endpoint: Endpoint | None,
    current_config: EndpointConfig | None,
) -> str | None:
    """What SageMaker would refuse halfway through this rollout: a shadow variant on a serverless
    endpoint (serverless inference excludes "multiple production variants"), and an instance-based
    endpoint updated to serverless ("You cannot convert your instance-based, real-time endpoint to a
    serverless endpoint"); None if neither."""
    if endpoint is None or current_config is None:
        return None
    serverless_now = any(variant.get("ServerlessConfig") for variant in current_config.production_variants)
    if request.shadow:
        if serverless_now:
            return (
                f"champion endpoint {endpoint.name} is serverless, and a serverless endpoint has no shadow "
                "variant: deploy the champion on real-time instances to test a challenger in shadow mode"
            )
        return None
    if isinstance(resolved.compute, ServerlessCompute) and not serverless_now:
        return (
            f"endpoint {endpoint.name} runs on instances and SageMaker cannot update an instance-based "
            "endpoint to serverless: delete the endpoint, then approve the version again (the deployer "
            "creates it serverless), or keep the stage on instances"
        )
    return None


def _skip_reason(
    live_arn: str | None, version: DeployableVersion, endpoint: Endpoint, *, downgrade: bool
) -> SkipReason | None:
    if live_arn is None or endpoint.status is EndpointStatus.FAILED:
        return None
    if not version.newest_wins or not isinstance(version, ModelPackageRef):
        # Only the registry says what is current, not the number.
        return SkipReason.ALREADY_DEPLOYED if live_arn == version.arn else None
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
    """The challenger version shadowing the champion, read from the shadow model's name, in the
    registry of the champion's version (a project's groups share one registry account)."""
    for variant in config.shadow_variants if config else []:
        parsed = parse_versioned_resource_name(str(variant.get("ModelName", "")))
        if parsed is not None and parsed[0] == source.name:
            return f"{_registry_of(endpoint)}:model-package/{source.name}/{parsed[1]}"
    return None


def _registry_of(endpoint: Endpoint) -> str:
    """``arn:{partition}:sagemaker:{region}:{account}`` of the registry the endpoint's version comes
    from: the served version's (see ``served_model_package_arn``), else the endpoint's own."""
    if endpoint.model_package_arn:
        try:
            return parse_model_package_arn(endpoint.model_package_arn).registry
        except ValueError:
            pass
    _arn, partition, _service, region, account, _resource = endpoint.arn.split(":", 5)
    return f"arn:{partition}:sagemaker:{region}:{account}"


def _group_ref(version: ModelPackageRef, endpoint: Endpoint) -> str:
    """How ListModelPackages names the version's group: its name in the endpoint's own account and
    region (as always), its ARN when the registry is elsewhere (a name means the caller's account)."""
    _arn, partition, _service, region, account, _resource = endpoint.arn.split(":", 5)
    own = f"arn:{partition}:sagemaker:{region}:{account}"
    return version.group if version.registry == own else version.group_arn


def _same_version(recorded: str | None, served: str) -> bool:
    """Whether a recorded model package ARN names the served version (same group and number; the
    registry's account may differ from the one recorded before a move to a cross-account registry)."""
    if recorded is None:
        return False
    if recorded == served:
        return True
    try:
        left, right = parse_model_package_arn(recorded), parse_model_package_arn(served)
    except ValueError:
        return False
    return (left.group, left.version) == (right.group, right.version)


def _skipped(
    source: StageResource, endpoint_name: str, live_arn: str, version: DeployableVersion, reason: SkipReason
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


def _sibling(version: ModelPackageRef, number: int) -> RegistryVersion:
    prefix = version.arn.rsplit("/", 1)[0]
    return RegistryVersion(arn=f"{prefix}/{number}", group=version.group, version=number)


def version_of_config(endpoint_name: str, config_name: str | None) -> int | None:
    """The version an endpoint config named ``{endpoint}-v{version}-…`` serves (None: not ours)."""
    parsed = parse_versioned_resource_name(config_name) if config_name else None
    return parsed[1] if parsed is not None and parsed[0] == endpoint_name else None


def _version_tag(tags: Mapping[str, str]) -> str | None:
    """The identity of the version an endpoint's tags name (registry or MLflow)."""
    return tags.get(tag_keys.MODEL_PACKAGE_ARN) or tags.get(MLFLOW_MODEL_VERSION)


def _identity_like(tags: Mapping[str, str], group: str) -> Callable[[int | None], str | None]:
    """Version N of what the endpoint's version tag names: the package group ``group`` in the same
    account and region, or the same MLflow model (None if unknown)."""
    known_arn = tags.get(tag_keys.MODEL_PACKAGE_ARN)
    mlflow_uri = tags.get(MLFLOW_MODEL_VERSION)

    def arn(version: int | None) -> str | None:
        if version is None:
            return None
        if known_arn:
            prefix = known_arn.split(":model-package/", 1)[0]
            return f"{prefix}:model-package/{group}/{version}"
        if mlflow_uri:
            return f"{mlflow_uri.rsplit('/', 1)[0]}/{version}"
        return None

    return arn


def _status_message(summary: PendingDeployment | None) -> str | None:
    """What SageMaker says of the update's new fleet (its first variant's VariantStatus message)."""
    for variant in summary.ProductionVariants if summary else []:
        for status in variant.get("VariantStatus") or []:
            if isinstance(status, dict) and status.get("StatusMessage"):
                return str(status["StatusMessage"])
    return None


def _ignored(reason: str) -> Outcome:
    """Not for this deployer: logged with the reason, nothing changed, nothing emitted."""
    return Outcome("ignored", {"reason": reason})
