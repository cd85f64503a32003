"""The model deployer: an approved model version becomes its stage's endpoint.

The version deployed is the one the event names (never "the latest approved": the registry's
listings sort oldest first). Deployment is idempotent end to end: model and endpoint config
names are derived from what is deployed, an endpoint already serving the version is left alone,
and an approval older than the version being served is skipped as stale, because events can be
duplicated and arrive out of order.
"""

from __future__ import annotations

from mlops_core import tags as tag_keys
from mlops_core.aws_clients import ClientFactory
from mlops_core.aws_events import EndpointStatus, ModelApprovalStatus, ModelPackageStateChange
from mlops_core.domain_events import DeploymentFailed, DeploymentSkipped, DeploymentStarted, SkipReason
from mlops_core.event_function import Outcome
from mlops_core.naming import (
    ModelPackageRef,
    StageResource,
    parse_model_package_arn,
    parse_stage_resource,
    versioned_resource_name,
)
from mlops_core.sagemaker_adapter import Endpoint, ProductionVariant, SageMakerAdapter, SageMakerPort
from mlops_core.settings import DeployerSettings


class EndpointBusyError(RuntimeError):
    """The endpoint is mid-change and rejects updates; raised so Lambda retries the event later."""


class ModelDeployer:
    def __init__(self, settings: DeployerSettings, sagemaker: SageMakerPort) -> None:
        self._settings = settings
        self._sagemaker = sagemaker

    @classmethod
    def build(cls, settings: DeployerSettings, clients: ClientFactory) -> ModelDeployer:
        return cls(settings, SageMakerAdapter(clients("sagemaker")))

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
        if detail.ModelApprovalStatus is not ModelApprovalStatus.APPROVED:
            return _ignored(f"model version is {detail.ModelApprovalStatus}, not Approved")
        return self.deploy(target, parse_model_package_arn(detail.ModelPackageArn))

    def deploy(self, target: StageResource, version: ModelPackageRef) -> Outcome:
        endpoint_name = target.name
        endpoint = self._sagemaker.describe_endpoint(endpoint_name)

        def failed(reason: str) -> Outcome:
            event = DeploymentFailed(
                project=target.project,
                stage=target.stage,
                endpoint_name=endpoint_name,
                model_package_arn=version.arn,
                reason=reason,
            )
            return Outcome("failed", {"reason": reason}, [event])

        if endpoint is not None:
            if endpoint.tags.get(tag_keys.MANAGED_BY) != self._settings.stack_name:
                return failed(
                    f"endpoint {endpoint_name} exists but is not managed by stack "
                    f"{self._settings.stack_name} (tag {tag_keys.MANAGED_BY}); refusing to change it"
                )
            skip = self._skip_reason(endpoint, version)
            if skip is not None:
                return self._skipped(target, endpoint, version, skip)
            if endpoint.status.is_busy:
                raise EndpointBusyError(
                    f"endpoint {endpoint_name} is {endpoint.status}; "
                    f"version {version.version} will be retried"
                )
            if endpoint.status is not EndpointStatus.IN_SERVICE:
                return failed(
                    f"endpoint {endpoint_name} is {endpoint.status} "
                    f"({endpoint.failure_reason or 'no reason given'}); delete it to deploy again"
                )

        package = self._sagemaker.describe_model_package(version.arn)
        if package is None:
            return failed(f"model package {version.arn} does not exist")
        if package.approval_status is not ModelApprovalStatus.APPROVED:
            # Out of order: the version was approved, then rejected before this event arrived.
            return _ignored(f"model version {version.arn} is now {package.approval_status}, not Approved")

        settings = self._settings
        tags = tag_keys.resource_tags(
            project=target.project,
            stage=target.stage,
            managed_by=settings.stack_name,
            model_package_arn=version.arn,
            commit_id=package.commit_id,
        )
        model_name = versioned_resource_name(
            endpoint_name, version.version, version.arn, settings.sagemaker_execution_role_arn
        )
        variant = ProductionVariant(
            model_name=model_name,
            instance_type=settings.default_instance_type,
            instance_count=settings.default_instance_count,
        )
        config_name = versioned_resource_name(
            endpoint_name, version.version, model_name, variant.instance_type, variant.instance_count
        )
        self._sagemaker.create_model(
            model_name,
            model_package_arn=version.arn,
            execution_role_arn=settings.sagemaker_execution_role_arn,
            tags=tags,
        )
        self._sagemaker.create_endpoint_config(config_name, variants=[variant], tags=tags)
        if endpoint is None:
            self._sagemaker.create_endpoint(endpoint_name, config_name=config_name, tags=tags)
            action = "create"
        else:
            self._sagemaker.update_endpoint(endpoint_name, config_name=config_name)
            self._sagemaker.tag(endpoint.arn, {k: v for k, v in tags.items() if k != tag_keys.MANAGED_BY})
            action = "update"
        started = DeploymentStarted(
            project=target.project,
            stage=target.stage,
            endpoint_name=endpoint_name,
            model_package_arn=version.arn,
            model_package_version=version.version,
            model_name=model_name,
            endpoint_config_name=config_name,
            action=action,
        )
        return Outcome("started", {"endpoint_name": endpoint_name, "action": action}, [started])

    @staticmethod
    def _skip_reason(endpoint: Endpoint, version: ModelPackageRef) -> SkipReason | None:
        if endpoint.model_package_arn is None:
            return None
        try:
            live = parse_model_package_arn(endpoint.model_package_arn)
        except ValueError:
            return None
        if live.group != version.group or endpoint.status is EndpointStatus.FAILED:
            return None
        if live.version > version.version:
            return SkipReason.STALE
        if live.version == version.version:
            return SkipReason.ALREADY_DEPLOYED
        return None

    @staticmethod
    def _skipped(
        target: StageResource, endpoint: Endpoint, version: ModelPackageRef, reason: SkipReason
    ) -> Outcome:
        assert endpoint.model_package_arn is not None
        event = DeploymentSkipped(
            project=target.project,
            stage=target.stage,
            endpoint_name=endpoint.name,
            model_package_arn=version.arn,
            model_package_version=version.version,
            reason=reason,
            live_model_package_arn=endpoint.model_package_arn,
        )
        return Outcome("skipped", {"reason": reason.value, "endpoint_name": endpoint.name}, [event])


def _ignored(reason: str) -> Outcome:
    """Not for this deployer: logged with the reason, nothing changed, nothing emitted."""
    return Outcome("ignored", {"reason": reason})
