"""What the deployer's parts share: their context (the deployer's settings and ports), the few reads
every part makes (an endpoint, a project's deployment settings), and the outcomes they report."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlops_core.contract import tags as tag_keys
from mlops_core.contract.aws_events import EndpointStatus
from mlops_core.contract.deployment_settings import (
    InvalidDeploymentSettingsError,
    ProjectDeploymentSettings,
    StageDeploymentSettings,
)
from mlops_core.contract.events.deployment import DeploymentFailed, DeploymentSkipped, SkipReason
from mlops_core.contract.naming import StageResource
from mlops_core.contract.outcome import Outcome
from mlops_core.contract.sagemaker_resources import Endpoint
from mlops_core.deployment.ports import (
    AlarmsPort,
    BatchSchedulesPort,
    ConfigTablePort,
    InServiceChecksPort,
    MonitoringPort,
    SageMakerPort,
    ScalingPort,
)
from mlops_core.deployment.settings import DeployerSettings
from mlops_core.deployment.versions import DeployableVersion, DeploymentRequest

PREVIOUS_ENDPOINT_CONFIG_TAG = "mlops:previous-endpoint-config"
"""On an endpoint config: the config its endpoint ran when it was deployed (housekeeping keeps
that one for rollback). A tag on the new config costs no call; tagging the endpoint would."""

UPDATABLE = frozenset({EndpointStatus.IN_SERVICE, EndpointStatus.UPDATE_ROLLBACK_FAILED})
"""Statuses in which UpdateEndpoint is accepted (AWS allows an update after a failed rollback)."""

DONE_NOTHING = frozenset({"ignored", "skipped"})
"""Outcomes that changed nothing (the deployment was stale, rejected or moot)."""

Loaded = tuple[ProjectDeploymentSettings, StageDeploymentSettings, Mapping[str, Any] | None]
"""The project's deployment settings, the stage's, and the project record they come from."""


class EndpointNotGoneError(RuntimeError):
    """A deployment waits for the endpoint's deletion to finish; raised so that Lambda's
    asynchronous retries look again later (the deployment stays stored as PENDING meanwhile)."""


@dataclass(frozen=True)
class DeployerContext:
    """The deployer's settings and ports, shared by its parts. Without a config table, nothing is
    stored as pending and the project's deployment settings are the stack's defaults; without
    alarms, rollouts are not guarded by CloudWatch alarms; without scaling, no endpoint is autoscaled;
    without monitoring, no endpoint gets a Model Monitor schedule; without batch schedules, a batch
    stage is refused; without in-service checks, an endpoint change relies on SageMaker's events alone."""

    settings: DeployerSettings
    sagemaker: SageMakerPort
    config_table: ConfigTablePort | None = None
    alarms: AlarmsPort | None = None
    scaling: ScalingPort | None = None
    monitoring: MonitoringPort | None = None
    batch_schedules: BatchSchedulesPort | None = None
    in_service_checks: InServiceChecksPort | None = None

    def endpoint(self, request: DeploymentRequest, name: str) -> Endpoint | None:
        """The endpoint as already described in this invocation, else found (one Search call)."""
        if name in request.known:
            return request.known[name]
        if request.seen is not None and request.seen.name == name:
            return request.seen
        return self.sagemaker.find_endpoint(name)

    def manages(self, endpoint: Endpoint) -> bool:
        return endpoint.tags.get(tag_keys.MANAGED_BY) == self.settings.stack_name

    def not_managed(self, endpoint_name: str) -> str:
        return (
            f"endpoint {endpoint_name} exists but is not managed by stack "
            f"{self.settings.stack_name} (tag {tag_keys.MANAGED_BY}); refusing to change it"
        )

    def load_settings(self, stage: StageResource, model_package_arn: str) -> Loaded | Outcome:
        """The project's deployment settings (from its record in the config table), or why not."""
        record = self.config_table.get_project(stage.project) if self.config_table else None
        try:
            project = ProjectDeploymentSettings.from_record(record)
        except InvalidDeploymentSettingsError as error:
            return failed(
                stage,
                model_package_arn,
                f"deployment settings of project {stage.project} (config table PROJECT#{stage.project}/META) "
                f"are invalid: {error}",
            )
        return project, project.for_stage(stage.stage), record


def ignored(reason: str) -> Outcome:
    """Not for this deployer: logged with the reason, nothing changed, nothing emitted."""
    return Outcome("ignored", {"reason": reason})


def failed(stage: StageResource, model_package_arn: str | None, reason: str) -> Outcome:
    event = DeploymentFailed(
        project=stage.project,
        stage=stage.stage,
        endpoint_name=stage.name,
        model_package_arn=model_package_arn,
        reason=reason,
    )
    return Outcome("failed", {"reason": reason}, [event])


def skipped(
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
