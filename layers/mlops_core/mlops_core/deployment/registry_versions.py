"""The SageMaker Model Registry as a version source: model package versions, deployed by approval.

A :class:`RegistryVersion` is deployable while it is ``Approved`` (and has the lineage its stage
requires); an approval older than the live version is stale, and of pending deployments the highest
version wins. It is tagged ``mlops:model-package-arn`` and deployed by naming the model package in
``CreateModel``. A challenger in ``shadow`` mode becomes the champion's shadow variant. Undone by
rejecting it: the endpoint (or the champion's shadow) goes back to the newest older approved version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from mlops_core.contract import tags as tag_keys
from mlops_core.contract.aws_events import ModelApprovalStatus
from mlops_core.contract.deployment_settings import ProjectDeploymentSettings
from mlops_core.contract.naming import (
    ModelPackageRef,
    StageResource,
    parse_model_package_arn,
    parse_versioned_resource_name,
)
from mlops_core.contract.outcome import Outcome
from mlops_core.contract.sagemaker_resources import Endpoint, EndpointConfig
from mlops_core.contract.topology import Stage
from mlops_core.deployment.context import DeployerContext, failed, ignored
from mlops_core.deployment.versions import (
    CheckedVersion,
    DeployableVersion,
    DeploymentRequest,
    Known,
    LiveVersion,
    StoredDeployment,
)


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

    def rollback_reason(self) -> tuple[str, str]:
        return "rejection", f"version {self.version} was rejected while live"


class RegistryVersionSource:
    """The Model Registry's versions, read through SageMaker."""

    def __init__(self, context: DeployerContext) -> None:
        self._context = context

    @property
    def identity_tag(self) -> str:
        return RegistryVersion.identity_tag

    def outside_the_registry(self, arn: str) -> str | None:
        """Why a version of this ARN cannot be deployed by this stack (None: it can): its account must
        be one whose registry the stack reads (its own, or ``RegistryAccountId``) and its region the
        stack's. Refused at once, with nothing changed: no retry can make it readable."""
        settings = self._context.settings
        _arn, _partition, _service, region, account, _resource = arn.split(":", 5)
        if region != settings.region:
            return (
                f"version {arn} is in region {region}; this stack deploys versions of its own region "
                f"({settings.region}) only"
            )
        if account not in settings.registry_account_ids:
            accounts = ", ".join(sorted(settings.registry_account_ids))
            return (
                f"version {arn} is in account {account}, whose registry this stack does not read "
                f"(accounts {accounts}: its own and RegistryAccountId); check the rule that forwards "
                "approval events to this account"
            )
        return None

    # ------------------------------------------------------------------ deploying

    def check(
        self, request: DeploymentRequest, project: ProjectDeploymentSettings, record: Mapping[str, Any] | None
    ) -> CheckedVersion | Outcome:
        """A registry version is deployable while it exists, is still ``Approved`` and has the
        lineage its stage requires."""
        source, version = request.source, _own(request.version)
        package = self._context.sagemaker.describe_model_package(version.arn)
        if package is None:
            return failed(source, version.arn, f"model package {version.arn} does not exist")
        if package.approval_status is not ModelApprovalStatus.APPROVED:
            # Out of order: the version was approved, then rejected before this event arrived.
            return ignored(f"model version {version.arn} is now {package.approval_status}, not Approved")
        if source.stage in project.lineage.stages:
            missing = package.missing_lineage(project.lineage.required)
            if missing:
                return failed(
                    source,
                    version.arn,
                    f"version {version.version} of {version.group} lacks lineage required for "
                    f"{source.stage}: {', '.join(missing)} (commit-id: MetadataProperties.CommitId; "
                    "dataset: CustomerMetadataProperties['mlops:dataset']; metrics: ModelMetrics)",
                )
        return CheckedVersion(
            {"Containers": [{"ModelPackageName": version.arn}]}, (version.arn,), package.commit_id
        )

    def live_identity(
        self, request: DeploymentRequest, endpoint: Endpoint, config: EndpointConfig | None
    ) -> str | None:
        if request.shadow:
            return _live_shadow_arn(request.source, endpoint, config)
        return endpoint.model_package_arn

    def rebuild(self, record: Mapping[str, Any]) -> StoredDeployment | None:
        """A registry record stores an approval (``model_package_arn``) or "undo this rejection"
        (``rolled_back_model_package_arn``), as model package ARNs."""
        rolled_back_arn = record.get("rolled_back_model_package_arn")
        if _is_arn(rolled_back_arn):
            return StoredDeployment(RegistryVersion.parse(str(rolled_back_arn)), self, undo=True)
        if not _is_arn(record.get("model_package_arn")):
            return None
        return StoredDeployment(RegistryVersion.parse(str(record["model_package_arn"])), self)

    # ------------------------------------------------------------------ undoing a rejected version

    def find_live(self, request: DeploymentRequest) -> LiveVersion | str:
        """A rejected version is live on the stage's endpoint, or as the champion's shadow."""
        stage, rejected = request.source, _own(request.version)
        endpoint = self._context.endpoint(request, stage.name)
        if endpoint is not None and endpoint.model_package_arn == rejected.arn:
            return LiveVersion(stage, endpoint)
        shadow = self._rejected_shadow(stage, rejected, request.known)
        if shadow is None:
            live = endpoint.model_package_arn if endpoint else "no endpoint"
            return (
                f"rejected version {rejected.version} is not live on {stage.name} ({live}); "
                "nothing to roll back"
            )
        champion, config = shadow
        return LiveVersion(StageResource(stage.project, Stage.CHAMPION), champion, config)

    def why_keep(self, undone: DeployableVersion) -> str | None:
        package = self._context.sagemaker.describe_model_package(undone.arn)
        if package is not None and package.approval_status is not ModelApprovalStatus.REJECTED:
            # Out of order: rejected, then approved again before this event (or the deferral) ran.
            return f"version {undone.arn} is {package.approval_status} again; nothing to roll back"
        return None

    def rollback_target(self, request: DeploymentRequest, live: LiveVersion) -> DeployableVersion | str:
        """The newest approved version older than the rejected one."""
        stage, rejected = request.source, _own(request.version)
        older = self._context.sagemaker.newest_approved_version_before(
            _group_ref(rejected, live.endpoint), rejected.version
        )
        if older is None:
            return (
                f"version {rejected.version} of {rejected.group} was rejected while live on {stage.name}, "
                "and no older approved version exists to roll back to; the endpoint still serves it "
                "(approve a version, or delete the endpoint)"
            )
        return _sibling(rejected, older)

    def _rejected_shadow(
        self, stage: StageResource, rejected: ModelPackageRef, known: Known
    ) -> tuple[Endpoint, EndpointConfig] | None:
        """The champion endpoint and its config, if ``rejected`` is live there as the shadow."""
        if (
            stage.stage is not Stage.CHALLENGER
            or Stage.CHAMPION not in self._context.settings.deployed_stages
        ):
            return None
        champion_name = StageResource(stage.project, Stage.CHAMPION).name
        champion = (
            known[champion_name]
            if champion_name in known
            else self._context.sagemaker.find_endpoint(champion_name)
        )
        if champion is None:
            return None
        config = self._context.sagemaker.describe_endpoint_config(champion.config_name)
        if config is None or _live_shadow_arn(stage, champion, config) != rejected.arn:
            return None
        return champion, config

    # ------------------------------------------------------------------ what an endpoint's tags name

    def identity_in(self, tags: Mapping[str, str], group: str, version: int) -> str | None:
        """Version ``version`` of the package group ``group``, in the account and region of the
        version the tags name."""
        known_arn = tags.get(tag_keys.MODEL_PACKAGE_ARN)
        if not known_arn:
            return None
        prefix = known_arn.split(":model-package/", 1)[0]
        return f"{prefix}:model-package/{group}/{version}"

    def serves(self, identity: str, endpoint: Endpoint) -> bool:
        served = endpoint.model_package_arn
        return bool(served) and _same_version(identity, str(served))


def _own(version: DeployableVersion) -> RegistryVersion:
    if not isinstance(version, ModelPackageRef):
        raise TypeError(f"the Model Registry's version source does not deploy {type(version).__name__}")
    return RegistryVersion.of(version)


def _is_arn(value: object) -> bool:
    """Whether a PENDING record's value is an ARN (the registry's); MLflow's are ``models:/`` URIs."""
    return isinstance(value, str) and value.startswith("arn:")


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


def _sibling(version: ModelPackageRef, number: int) -> RegistryVersion:
    prefix = version.arn.rsplit("/", 1)[0]
    return RegistryVersion(arn=f"{prefix}/{number}", group=version.group, version=number)
