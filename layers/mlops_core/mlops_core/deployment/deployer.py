"""The model deployer: an approved model version becomes its stage's endpoint.

The version deployed is the one the event names (never "the latest approved": the registry's
listings sort oldest first). Deployment is idempotent end to end: model and endpoint config
names are derived from what is deployed, an endpoint already serving the version is left alone,
and an approval older than the version being served is skipped as stale, because events can be
duplicated and arrive out of order.

Production concerns:
- how a stage is deployed (compute, strategy, data capture, alarms) comes from the project
  record (:mod:`mlops_core.contract.deployment_settings`), checked before any change;
- an approval that cannot be carried out now is stored as the endpoint's ``PENDING`` deployment
  and applied later, never lost, re-validated against the endpoint and the version's backend when
  it is applied (busy, failed and deleting endpoints);
- rejecting the live version rolls the endpoint (or the champion's shadow) back to the newest
  older approved version;
- a challenger in ``shadow`` mode becomes a shadow variant of the champion endpoint;
- what serverless inference excludes is refused before any change, saying what to do: a shadow
  variant on a serverless champion, and turning an instance-based endpoint serverless;
- production stages need lineage (commit, dataset, metrics) on the version;
- once an endpoint is back in service, the endpoint configs it no longer uses are deleted except
  the previous one (kept for rollback), and the models no remaining config of the project's
  endpoints uses (shadow variants included).

:class:`ModelDeployer` holds the routes, one per event type: each parses the event, decides whether
it is for this stack, and hands over to the part that does the work, each in its own module:
:mod:`~mlops_core.deployment.roll_out` (deploy a version), :mod:`~mlops_core.deployment.roll_back`
(take a live version off; SageMaker's alarm rollbacks), :mod:`~mlops_core.deployment.pending`
(deployments that wait for their endpoint), :mod:`~mlops_core.deployment.housekeeping` (housekeeping of
an endpoint in service), :mod:`~mlops_core.deployment.in_service_checks` (each endpoint change checked
later, in case its ``IN_SERVICE`` event is lost). They share a
:class:`~mlops_core.deployment.context.DeployerContext` (settings and ports). The flow is one for
every backend; what differs between a Model Registry version and an MLflow version is said by its
:class:`~mlops_core.deployment.versions.VersionSource` (:mod:`~mlops_core.deployment.registry_versions`,
:mod:`~mlops_core.deployment.mlflow_versions`).
"""

from __future__ import annotations

from collections.abc import Mapping

from mlops_core.contract import tags as tag_keys
from mlops_core.contract.aws_events import EndpointStatus, ModelApprovalStatus
from mlops_core.contract.events.deployment import InServiceCheckEvent
from mlops_core.contract.naming import StageResource, parse_stage_resource
from mlops_core.contract.outcome import Outcome
from mlops_core.contract.sagemaker_events import (
    EndpointDeploymentStateChange,
    EndpointStateChange,
    ModelPackageStateChange,
)
from mlops_core.contract.topology import PRODUCTION_STAGES, Stage
from mlops_core.deployment import in_service_checks
from mlops_core.deployment.autoscaling import EndpointScaling
from mlops_core.deployment.batch_stages import BatchStages, is_batch
from mlops_core.deployment.context import DONE_NOTHING, DeployerContext, failed, ignored
from mlops_core.deployment.health_alarms import HealthAlarms, delete_endpoint_alarms
from mlops_core.deployment.housekeeping import Housekeeping
from mlops_core.deployment.mlflow_versions import MlflowAliasChangedEvent, MlflowVersion, MlflowVersionSource
from mlops_core.deployment.model_monitor import DataQualityMonitoring, delete_endpoint_monitoring
from mlops_core.deployment.pending import EndpointFailure, PendingDeployments
from mlops_core.deployment.registry_versions import RegistryVersion, RegistryVersionSource
from mlops_core.deployment.roll_back import RollBack
from mlops_core.deployment.roll_out import RollOut
from mlops_core.deployment.versions import DeployableVersion, Known, VersionSource


class ModelDeployer:
    """Deploys versions of the Model Registry (approvals) and of MLflow (alias changes), applies
    pending deployments, rolls back, and does the housekeeping."""

    def __init__(
        self, context: DeployerContext, *, registry: RegistryVersionSource, mlflow: MlflowVersionSource
    ) -> None:
        sources: tuple[VersionSource, ...] = (registry, mlflow)
        self._context = context
        self._settings = context.settings
        self._registry = registry
        self._mlflow = mlflow
        self._sources = sources
        # A pending deployment may be applied at once, by this deployer: as a deployment or a rollback.
        self._pending = PendingDeployments(context, sources, self)
        self._roll_out = RollOut(context, self._pending)
        self._roll_back = RollBack(context, self._roll_out, self._pending, sources)
        self._housekeeping = Housekeeping(context, sources)
        self._scaling = EndpointScaling(context)
        self._health_alarms = HealthAlarms(context)
        self._monitoring = DataQualityMonitoring(context)
        self._batch = BatchStages(context)

    # ------------------------------------------------------------------ routes (one per event type)

    def on_model_package_state_change(self, event: ModelPackageStateChange) -> Outcome:
        detail = event.detail
        target = self._deployed_stage(detail.ModelPackageGroupName, "model group")
        if isinstance(target, Outcome):
            return target
        version = RegistryVersion.parse(detail.ModelPackageArn)
        elsewhere = self._registry.outside_the_registry(version.arn)
        if elsewhere is not None:
            return failed(target, version.arn, elsewhere)
        if detail.ModelApprovalStatus is ModelApprovalStatus.REJECTED:
            return self.roll_back(target, version, self._registry)
        if detail.ModelApprovalStatus is not ModelApprovalStatus.APPROVED:
            return ignored(f"model version is {detail.ModelApprovalStatus}, not Approved")
        return self.deploy(target, version, self._registry)

    def on_mlflow_alias_changed(self, event: MlflowAliasChangedEvent) -> Outcome:
        change = event.detail
        target = StageResource(change.project, Stage(change.stage))
        if target.stage not in self._settings.deployed_stages:
            return ignored(f"stage {target.stage} is not deployed by this stack")
        if change.new_version is None:
            if change.old_version is None:
                return ignored("the event names no version")
            removed = MlflowVersion(change.model, change.alias, change.old_version)
            return self.roll_back(target, removed, self._mlflow)
        version = MlflowVersion(change.model, change.alias, change.new_version, change.source_uri)
        return self.deploy(target, version, self._mlflow)

    def on_endpoint_state_change(self, event: EndpointStateChange) -> Outcome:
        """``IN_SERVICE``: apply what is pending, else do the housekeeping; ``FAILED``: say why (and
        recreate the endpoint if a deployment is pending); ``DELETING``: create it again if one is pending."""
        detail = event.detail
        target = self._managed_stage_endpoint(detail.EndpointName, detail.Tags)
        if isinstance(target, Outcome):
            return target
        if detail.EndpointStatus is EndpointStatus.FAILED:
            failure = EndpointFailure.of(detail.EndpointConfigName, detail.CreationTime)
            return self._on_failed(target, detail.FailureReason, detail.Tags, failure, event.id)
        if detail.EndpointStatus is EndpointStatus.DELETING:
            return self._on_deleting(target)
        if detail.EndpointStatus is not EndpointStatus.IN_SERVICE:
            return ignored(f"endpoint {detail.EndpointName} is {detail.EndpointStatus}")
        return self._in_service(target)

    def on_in_service_check(self, event: InServiceCheckEvent) -> Outcome:
        """An endpoint change's check came: in service, it is treated as an ``IN_SERVICE`` event
        (which may have been lost); failed, as a ``FAILED`` event (announced once, whichever comes
        first); still changing, the next check is scheduled."""
        check = event.detail
        target = self._deployed_stage(check.endpoint_name, "endpoint")
        if isinstance(target, Outcome):
            return target
        endpoint = in_service_checks.look(self._context, target, check)
        if isinstance(endpoint, Outcome):
            return endpoint
        if endpoint.status is EndpointStatus.FAILED:
            failure = EndpointFailure.of(endpoint.config_name, endpoint.creation_time)
            return self._on_failed(target, endpoint.failure_reason, endpoint.tags, failure, event.id)
        return self._in_service(target)

    def _on_failed(
        self,
        target: StageResource,
        reason: str | None,
        tags: Mapping[str, str],
        failure: EndpointFailure | None,
        event_id: str,
    ) -> Outcome:
        """The endpoint is Failed (its event says so, or its check found it): announced once per failure."""
        return self._pending.on_failed(
            target, reason, self._version_tag(tags), failure=failure, event_id=event_id
        )

    def _in_service(self, target: StageResource) -> Outcome:
        """The endpoint is in service: apply what is pending, else do the housekeeping."""
        applied = self._pending.apply(target)
        if applied is not None and applied.status not in DONE_NOTHING:
            return applied
        tidied = self.tidy_up(target)
        if applied is None:
            return tidied
        # What was pending was moot (stale, rejected since, no longer live): say so, and do the housekeeping.
        return Outcome(
            tidied.status,
            {**tidied.details, "pending": {"status": applied.status, **applied.details}},
            [*applied.events, *tidied.events],
        )

    def _on_deleting(self, target: StageResource) -> Outcome:
        """An endpoint being deleted (by the reaper, a rollback, a person): a pending deployment
        creates it again once it is gone; else its alarms and its monitoring schedule go with it."""
        outcome = self._pending.on_deleting(target)
        if outcome.status != "ignored":
            return outcome
        details = dict(outcome.details)
        if self._context.alarms is not None:
            details["deleted_alarms"] = delete_endpoint_alarms(
                self._context.alarms, stack_name=self._settings.stack_name, endpoint_name=target.name
            )
        if self._context.monitoring is not None and target.stage in PRODUCTION_STAGES:
            details["model_monitor"] = delete_endpoint_monitoring(self._context.monitoring, target.name)
        return Outcome(outcome.status, details, outcome.events)

    def on_endpoint_deployment_state_change(self, event: EndpointDeploymentStateChange) -> Outcome:
        """SageMaker rolling a blue/green rollout back on an alarm is reported as a rollback (once)."""
        detail = event.detail
        target = self._managed_stage_endpoint(detail.EndpointName, detail.Tags)
        if isinstance(target, Outcome):
            return target
        if detail.EndpointStatus is not EndpointStatus.ROLLING_BACK:
            return ignored(
                f"deployment of {detail.EndpointName} is {detail.EndpointStatus}, not rolling back"
            )
        return self._roll_back.announce_alarm_rollback(target, event)

    # ------------------------------------------------------------------ operations

    def deploy(
        self,
        source: StageResource,
        version: DeployableVersion,
        versions: VersionSource,
        *,
        pending_version: int | None = None,
        known: Known | None = None,
    ) -> Outcome:
        """Deploy a version for ``source``'s stage (to its endpoint, or as the champion's shadow).
        ``pending_version``: this is the endpoint's PENDING deployment being applied."""
        return self._roll_out.deploy(source, version, versions, pending_version=pending_version, known=known)

    def roll_back(
        self,
        stage: StageResource,
        undone: DeployableVersion,
        versions: VersionSource,
        *,
        pending_version: int | None = None,
        known: Known | None = None,
    ) -> Outcome:
        """Take ``undone`` off the stage's endpoint (or the champion's shadow) if it is live there;
        off its schedule, for a batch stage."""
        loaded = self._context.load_settings(stage, undone.arn)
        if not isinstance(loaded, Outcome) and is_batch(loaded):
            return self._batch.roll_back(stage, undone, versions, loaded)
        return self._roll_back.roll_back(
            stage, undone, versions, pending_version=pending_version, known=known
        )

    def tidy_up(self, target: StageResource) -> Outcome:
        """Housekeeping of an endpoint that is in service, its health alarms, its autoscaling and its
        Model Monitor schedule (production stages)."""
        tidied = self._housekeeping.tidy_up(target)
        if tidied.status != "tidied":
            return tidied
        details = dict(tidied.details)
        sagemaker = self._context.sagemaker
        endpoint = sagemaker.find_endpoint(target.name) or sagemaker.describe_endpoint(target.name)
        health = self._health_alarms.keep(target, endpoint) if endpoint is not None else None
        if health is not None:
            details["health_alarms"] = health
        scaled = self._scaling.keep(target)
        if scaled is not None:
            details["autoscaling"] = scaled
        monitored = self._monitoring.keep(target, endpoint) if endpoint is not None else None
        if monitored is not None:
            details["model_monitor"] = monitored
        return Outcome(tidied.status, details, tidied.events)

    # ------------------------------------------------------------------ helpers

    def _deployed_stage(self, name: str, kind: str) -> StageResource | Outcome:
        target = parse_stage_resource(name)
        if target is None:
            return ignored(f"{kind} {name!r} does not follow the {{project}}-{{stage}} naming contract")
        if target.stage not in self._settings.deployed_stages:
            deployed = ",".join(sorted(self._settings.deployed_stages))
            return ignored(f"stage {target.stage} is not deployed by this stack (DeployedStages={deployed})")
        return target

    def _managed_stage_endpoint(self, endpoint_name: str, tags: Mapping[str, str]) -> StageResource | Outcome:
        target = self._deployed_stage(endpoint_name, "endpoint")
        if isinstance(target, Outcome):
            return target
        if tags.get(tag_keys.MANAGED_BY) != self._settings.stack_name:
            return ignored(f"endpoint {endpoint_name} is not managed by stack {self._settings.stack_name}")
        return target

    def _version_tag(self, tags: Mapping[str, str]) -> str | None:
        """The identity of the version an endpoint's tags name (of whichever source)."""
        return next((tags[s.identity_tag] for s in self._sources if tags.get(s.identity_tag)), None)
