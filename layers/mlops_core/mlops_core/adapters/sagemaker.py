"""Every SageMaker call the control plane makes, in one module: two adapters over one boto3 client
each, split as SageMaker's API is (hosting; the model registry).

- :class:`SageMakerAdapter`, hosting (endpoints, endpoint configs, models): the deployer's
  :class:`SageMakerPort`, the endpoint tester's
  :class:`~mlops_core.integration_tests.ports.EndpointsPort` and the reaper's
  :class:`~mlops_core.reaper.ports.ReaperSageMakerPort`;
- :class:`ModelRegistryAdapter`, the model registry (model packages and their groups): the artifact
  copier's :class:`~mlops_core.promotion.ports.RegistryPort`, the project lifecycle's
  :class:`~mlops_core.projects.ports.ModelGroupPort` and the endpoint tester's
  :class:`~mlops_core.integration_tests.ports.TestedVersionsPort`.

The adapters are where AWS's quirks are absorbed (the errors are read with
:mod:`mlops_core.adapters.aws_errors`): a missing resource is ``None``, not an exception; "already
exists" on a create is success only when the existing resource is the one the call would have made
(an earlier, interrupted attempt made it: names are deterministic), otherwise
:class:`ResourceConflictError`; ``CreateEndpoint`` on a name in use answers False, so the caller can
look at the endpoint that is there. A component that tells errors apart gets them as its own
exception: the reaper's :class:`~mlops_core.reaper.ports.ReaperServiceError`, the copier's
:class:`~mlops_core.promotion.ports.PromotionServiceError`, the lifecycle's
:class:`~mlops_core.projects.ports.RegistryError`.

Where the components' rules differ, each keeps its own: the deployer's deletes treat "not found" as
done; the reaper's also check a refused delete with a Describe call (its IAM grant is conditioned on
the resource's tags, see :meth:`SageMakerAdapter.delete_managed_endpoint`). The deployer reads one page
of 100 approved versions; the copier pages through a group, 20 versions at a time, describing each
only when it gets to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mlops_core.adapters import aws_errors
from mlops_core.contract import tags as tag_keys
from mlops_core.contract.aws_events import EndpointStatus, ModelApprovalStatus
from mlops_core.contract.model_monitor import DataQualityBaseline
from mlops_core.contract.naming import parse_model_package_arn, parse_versioned_resource_name
from mlops_core.contract.sagemaker_resources import (
    Endpoint,
    EndpointBusyError,
    EndpointConfig,
    ManagedResource,
    ModelPackage,
    ResourceConflictError,
)

if TYPE_CHECKING:
    # Each function loads only its own component: the ports of the others are imported where they are
    # used (the deployer's cold start never loads the reaper's, the copier's or the lifecycle's).
    from mlops_core.promotion.ports import RegisteredVersion
    from mlops_core.reaper.ports import EndpointSummary, ReaperServiceError

DATASET_PROPERTY = "mlops:dataset"
"""The ``CustomerMetadataProperties`` key of the dataset a version was trained on (its lineage)."""
SEARCH_PAGE_SIZE = 100  # Search returns at most 100 results per call
LIST_PAGE_SIZE = 100  # ListModelPackages returns at most 100 versions per call
VERSIONS_PAGE_SIZE = 20  # ListModelPackages page of the copier, which describes versions one by one


class SageMakerAdapter:
    def __init__(self, client: Any) -> None:
        self._client = client

    def describe_model_package(self, arn: str) -> ModelPackage | None:
        package = _described_model_package(self._client, arn)
        if package is None:
            return None
        return ModelPackage(
            arn=package["ModelPackageArn"],
            group=package["ModelPackageGroupName"],
            version=int(package["ModelPackageVersion"]),
            approval_status=ModelApprovalStatus(package["ModelApprovalStatus"]),
            commit_id=(package.get("MetadataProperties") or {}).get("CommitId"),
            dataset=(package.get("CustomerMetadataProperties") or {}).get(DATASET_PROPERTY),
            has_metrics=bool(package.get("ModelMetrics")),
            data_quality_baseline=DataQualityBaseline.from_model_package(package),
        )

    def newest_approved_version_before(self, group: str, version: int) -> int | None:
        """The newest approved version of a group older than ``version``, however many versions are newer.
        ``group``: its name, or its ARN (needed for a group in another account).

        ``ListModelPackages`` returns at most 100 versions per page (``MaxResults``: 1-100), so the pages
        are followed with ``NextToken``, newest first (``SortOrder`` defaults to ``Ascending``). SageMaker
        numbers a group's versions in the order they are created, so the first page holding an older
        version holds the newest of them: the listing stops there."""
        request: dict[str, Any] = {
            "ModelPackageGroupName": group,
            "ModelApprovalStatus": ModelApprovalStatus.APPROVED.value,
            "SortBy": "CreationTime",
            "SortOrder": "Descending",
            "MaxResults": LIST_PAGE_SIZE,
        }
        while True:
            page = self._client.list_model_packages(**request)
            older = [
                int(summary["ModelPackageVersion"])
                for summary in page.get("ModelPackageSummaryList", [])
                if int(summary["ModelPackageVersion"]) < version
            ]
            if older:
                return max(older)
            if not page.get("NextToken"):
                return None
            request["NextToken"] = page["NextToken"]

    def describe_endpoint(self, name: str) -> Endpoint | None:
        """The endpoint and its tags. The version it serves is read from the endpoint config's
        name (``{endpoint}-v{version}-…``, see :mod:`mlops_core.contract.naming`), which costs no call and,
        unlike a tag, follows SageMaker's own rollbacks; configs named otherwise are looked up."""
        try:
            endpoint = self._client.describe_endpoint(EndpointName=name)
        except aws_errors.SERVICE_ERRORS as error:
            if aws_errors.is_not_found(error):
                return None
            raise
        tags = tag_keys.from_aws(self._client.list_tags(ResourceArn=endpoint["EndpointArn"]).get("Tags", []))
        return _endpoint(name, endpoint, tags, serving=self._serving_model_package)

    def find_endpoint(self, name: str) -> Endpoint | None:
        """The endpoint with its tags in one call (``Search``; DescribeEndpoint + ListTags is two).

        Search is an index, so its view can lag a change by moments; callers use it where a stale
        view is caught by the next call (CreateEndpoint on a name in use, UpdateEndpoint on a busy
        endpoint) and :meth:`describe_endpoint` where it is not."""
        response = self._client.search(
            Resource="Endpoint",
            SearchExpression={"Filters": [{"Name": "EndpointName", "Operator": "Equals", "Value": name}]},
            MaxResults=1,
        )
        for result in response.get("Results", []):
            endpoint = result.get("Endpoint") or {}
            if endpoint.get("EndpointName") != name:
                continue
            return _endpoint(name, endpoint, tag_keys.from_aws(endpoint.get("Tags", [])))
        return None

    def _serving_model_package(self, config_name: str) -> str | None:
        """The model package behind the first variant of an endpoint config, if it has one."""
        try:
            config = self._client.describe_endpoint_config(EndpointConfigName=config_name)
            variants = config.get("ProductionVariants", [])
            if not variants:
                return None
            model = self._client.describe_model(ModelName=variants[0]["ModelName"])
        except aws_errors.SERVICE_ERRORS as error:
            if aws_errors.is_not_found(error):
                return None
            raise
        package_arn = _first_container(model).get("ModelPackageName")
        return str(package_arn) if package_arn else None

    def describe_endpoint_config(self, name: str) -> EndpointConfig | None:
        try:
            config = self._client.describe_endpoint_config(EndpointConfigName=name)
        except aws_errors.SERVICE_ERRORS as error:
            if aws_errors.is_not_found(error):
                return None
            raise
        return EndpointConfig(
            name=name,
            production_variants=list(config.get("ProductionVariants", [])),
            shadow_variants=list(config.get("ShadowProductionVariants", [])),
            data_capture=config.get("DataCaptureConfig"),
            arn=config.get("EndpointConfigArn"),
            creation_time=config.get("CreationTime"),
            async_inference=config.get("AsyncInferenceConfig") or None,
        )

    def create_model(
        self, name: str, *, request: Mapping[str, Any], execution_role_arn: str, tags: Mapping[str, str]
    ) -> None:
        """``request``: the model's container, ``{"Containers": [...]}`` or ``{"PrimaryContainer": ...}``.
        A model of that name is accepted only if its container has what the request names."""
        if self._create(
            self._client.create_model,
            ModelName=name,
            ExecutionRoleArn=execution_role_arn,
            **request,
            Tags=tag_keys.to_aws(tags),
        ):
            return
        existing = self._client.describe_model(ModelName=name)
        wanted, found = _first_container(request), _first_container(existing)
        if {key: found.get(key) for key in wanted} != dict(wanted) or (
            existing.get("ExecutionRoleArn") != execution_role_arn
        ):
            raise ResourceConflictError(
                f"model {name} exists but serves {found} as {existing.get('ExecutionRoleArn')}, "
                f"not {dict(wanted)} as {execution_role_arn}"
            )

    def model_container(self, name: str) -> dict[str, Any] | None:
        """The (first) container of a model; None if there is no such model."""
        try:
            return _first_container(self._client.describe_model(ModelName=name))
        except aws_errors.SERVICE_ERRORS as error:
            if aws_errors.is_not_found(error):
                return None
            raise

    def create_endpoint_config(
        self, name: str, *, request: Mapping[str, Any], tags: Mapping[str, str]
    ) -> None:
        if self._create(
            self._client.create_endpoint_config,
            EndpointConfigName=name,
            **request,
            Tags=tag_keys.to_aws(tags),
        ):
            return
        existing = self._client.describe_endpoint_config(EndpointConfigName=name)

        def variants(config: Mapping[str, Any], key: str) -> list[tuple[Any, Any]]:
            return [(v.get("VariantName"), v.get("ModelName")) for v in config.get(key) or []]

        for key in ("ProductionVariants", "ShadowProductionVariants"):
            if variants(existing, key) != variants(request, key):
                raise ResourceConflictError(
                    f"endpoint config {name} exists with other {key}: {variants(existing, key)} "
                    f"instead of {variants(request, key)}"
                )

    def create_endpoint(self, name: str, *, config_name: str, tags: Mapping[str, str]) -> bool:
        """Create the endpoint; False if one of that name exists already (the caller decides)."""
        return self._create(
            self._client.create_endpoint,
            EndpointName=name,
            EndpointConfigName=config_name,
            Tags=tag_keys.to_aws(tags),
        )

    def update_endpoint(
        self, name: str, *, config_name: str, deployment_config: Mapping[str, Any] | None = None
    ) -> None:
        request: dict[str, Any] = {"EndpointName": name, "EndpointConfigName": config_name}
        if deployment_config:
            request["DeploymentConfig"] = dict(deployment_config)
        try:
            self._client.update_endpoint(**request)
        except aws_errors.SERVICE_ERRORS as error:
            message = aws_errors.error_message(error)
            if "in-progress" in message.lower() or "in progress" in message.lower():
                raise EndpointBusyError(message) from error
            raise

    def delete_endpoint(self, name: str) -> None:
        try:
            self._client.delete_endpoint(EndpointName=name)
        except aws_errors.SERVICE_ERRORS as error:
            if not aws_errors.is_not_found(error):
                raise

    def tag(self, arn: str, tags: Mapping[str, str]) -> None:
        self._client.add_tags(ResourceArn=arn, Tags=tag_keys.to_aws(tags))

    def list_tags(self, arn: str) -> dict[str, str]:
        try:
            return tag_keys.from_aws(self._client.list_tags(ResourceArn=arn).get("Tags", []))
        except aws_errors.SERVICE_ERRORS as error:
            if aws_errors.is_not_found(error):
                return {}
            raise

    def list_models(self, name_prefix: str) -> list[ManagedResource]:
        return self._list(self._client.list_models, "Models", "ModelName", name_prefix)

    def list_endpoint_configs(self, name_prefix: str) -> list[ManagedResource]:
        return self._list(
            self._client.list_endpoint_configs, "EndpointConfigs", "EndpointConfigName", name_prefix
        )

    def delete_model(self, name: str) -> None:
        self._delete(self._client.delete_model, ModelName=name)

    def delete_endpoint_config(self, name: str) -> None:
        self._delete(self._client.delete_endpoint_config, EndpointConfigName=name)

    # ------------------------------------------------------------------------ the reaper's port

    def search_endpoints(self) -> Iterator[EndpointSummary]:
        """Every endpoint of the account and region, with its tags and config (``Search``, 100 a page)."""
        request: dict[str, Any] = {"Resource": "Endpoint", "MaxResults": SEARCH_PAGE_SIZE}
        with aws_errors.reraised_as(_reaper_error):
            while True:
                page = self._client.search(**request)
                for result in page.get("Results", []):
                    endpoint = result.get("Endpoint")
                    if endpoint:
                        yield _summary(endpoint)
                token = page.get("NextToken")
                if not token:
                    return
                request["NextToken"] = token

    def models_of_config(self, config_name: str) -> list[str] | None:
        """The models of the config's variants (production, then shadow), each once; None if no config."""
        with aws_errors.reraised_as(_reaper_error):
            config = self.describe_endpoint_config(config_name)
        if config is None:
            return None
        names = [variant.get("ModelName") for variant in config.production_variants]
        names += [variant.get("ModelName") for variant in config.shadow_variants]
        return [name for name in dict.fromkeys(names) if name]

    def delete_managed_endpoint(self, name: str) -> bool:
        """Delete an endpoint of this stack: True if deleted now, False if it was already gone.

        IAM lets the reaper delete only resources tagged as this stack's (aws:ResourceTag), and AWS
        evaluates that condition before it looks the resource up: a resource that is gone has no tags,
        so its delete is refused with AccessDeniedException rather than answered "not found". A delete
        retried after a lost answer (its first attempt did delete) gets that. So a refused delete is
        checked with a Describe call (granted on every name): gone means already deleted; still there
        means refused."""
        return self._delete_managed(
            self._client.delete_endpoint, self._client.describe_endpoint, EndpointName=name
        )

    def delete_managed_endpoint_config(self, name: str) -> bool:
        """:meth:`delete_managed_endpoint`, for an endpoint config."""
        return self._delete_managed(
            self._client.delete_endpoint_config,
            self._client.describe_endpoint_config,
            EndpointConfigName=name,
        )

    def delete_managed_model(self, name: str) -> bool:
        """:meth:`delete_managed_endpoint`, for a model."""
        return self._delete_managed(self._client.delete_model, self._client.describe_model, ModelName=name)

    @staticmethod
    def _delete_managed(delete: Callable[..., Any], describe: Callable[..., Any], **request: Any) -> bool:
        with aws_errors.reraised_as(_reaper_error):
            try:
                delete(**request)
            except aws_errors.SERVICE_ERRORS as error:
                if aws_errors.is_not_found(error):
                    return False
                if not aws_errors.is_access_denied(error):
                    raise
                try:
                    describe(**request)
                except aws_errors.SERVICE_ERRORS as describe_error:
                    if aws_errors.is_not_found(describe_error):
                        return False  # gone: its tags went with it, so the tag condition refused the delete
                    raise error from describe_error
                raise  # it is there, and this stack may not delete it
        return True

    # ------------------------------------------------------------------------------- helpers

    @staticmethod
    def _list(list_page: Any, key: str, name_key: str, name_prefix: str) -> list[ManagedResource]:
        resources: list[ManagedResource] = []
        request: dict[str, Any] = {"NameContains": name_prefix, "MaxResults": 100}
        while True:
            response = list_page(**request)
            resources += [
                ManagedResource(name=item[name_key], creation_time=item["CreationTime"])
                for item in response.get(key, [])
                if item[name_key].startswith(name_prefix)
            ]
            if not response.get("NextToken"):
                return resources
            request["NextToken"] = response["NextToken"]

    @staticmethod
    def _delete(delete: Any, **request: Any) -> None:
        try:
            delete(**request)
        except aws_errors.SERVICE_ERRORS as error:
            if not aws_errors.is_not_found(error):
                raise

    @staticmethod
    def _create(create: Any, **request: Any) -> bool:
        """True if created, False if the name is in use (the caller checks what is there)."""
        try:
            create(**request)
        except aws_errors.SERVICE_ERRORS as error:
            if not aws_errors.is_already_exists(error):
                raise
            return False
        return True


class ModelRegistryAdapter:
    """The model registry: model package groups and their versions."""

    def __init__(self, client: Any) -> None:
        self._client = client

    # ----------------------------------------------------------- the artifact copier's port

    def approved_versions(self, group: str) -> Iterator[RegisteredVersion]:
        """The group's approved versions, newest first, described one by one as they are consumed."""
        return self._versions(group, ModelApprovalStatus=ModelApprovalStatus.APPROVED.value)

    def recent_versions(self, group: str) -> Iterator[RegisteredVersion]:
        """All the group's versions, newest first, described one by one as they are consumed."""
        return self._versions(group)

    def _versions(self, group: str, **filters: str) -> Iterator[RegisteredVersion]:
        request: dict[str, Any] = {
            "ModelPackageGroupName": group,
            "SortBy": "CreationTime",
            "SortOrder": "Descending",
            "MaxResults": VERSIONS_PAGE_SIZE,
            **filters,
        }
        while True:
            with _promotion_errors():
                try:
                    page = self._client.list_model_packages(**request)
                except aws_errors.SERVICE_ERRORS as error:
                    if aws_errors.is_not_found(error):
                        return  # no such group: no versions
                    raise
            summaries = sorted(
                page.get("ModelPackageSummaryList", []),
                key=lambda s: (s.get("CreationTime") or datetime.min, int(s.get("ModelPackageVersion", 0))),
                reverse=True,
            )
            for summary in summaries:
                version = self.describe_version(summary["ModelPackageArn"])
                if version is not None:
                    yield version
            if not page.get("NextToken"):
                return
            request["NextToken"] = page["NextToken"]

    def describe_version(self, arn: str) -> RegisteredVersion | None:
        from mlops_core.promotion.ports import RegisteredVersion  # noqa: PLC0415

        with _promotion_errors():
            description = _described_model_package(self._client, arn)
        if description is None:
            return None
        return RegisteredVersion(
            arn=description["ModelPackageArn"],
            group=description.get("ModelPackageGroupName", ""),
            version=int(description.get("ModelPackageVersion", 0)),
            approval_status=str(description.get("ModelApprovalStatus", "")),
            description=description,
        )

    def group_tags(self, group: str) -> Mapping[str, str] | None:
        """The model group's tags (its versions use them), or None when there is no such group."""
        with _promotion_errors():
            arn = self._group_arn(group)
            if arn is None:
                return None
            tags: dict[str, str] = {}
            request: dict[str, Any] = {"ResourceArn": arn, "MaxResults": 100}
            while True:
                page = self._client.list_tags(**request)
                tags.update(tag_keys.from_aws(page.get("Tags") or []))
                if not page.get("NextToken"):
                    return tags
                request["NextToken"] = page["NextToken"]

    def create_group(self, group: str, tags: Mapping[str, str]) -> bool:
        """Create the group with its tags (IAM allows tags only as part of the create); False when
        it exists already (someone created it since we looked)."""
        with _promotion_errors():
            return self._create_group(
                group, description="Created by the artifact copier on the first promotion.", tags=tags
            )

    def register_version(self, request: dict[str, Any]) -> str:
        with _promotion_errors():
            return str(self._client.create_model_package(**request)["ModelPackageArn"])

    # ---------------------------------------------------------- the project lifecycle's port

    def model_group_exists(self, name: str) -> bool:
        with _registry_errors(name):
            return self._group_arn(name) is not None

    def create_model_group(self, name: str, *, description: str, tags: Mapping[str, str]) -> None:
        with _registry_errors(name):
            self._create_group(name, description=description, tags=tags)

    def model_group_has_versions(self, name: str) -> bool:
        with _registry_errors(name):
            response = self._client.list_model_packages(ModelPackageGroupName=name, MaxResults=1)
        return bool(response.get("ModelPackageSummaryList"))

    def delete_model_group(self, name: str) -> None:
        with _registry_errors(name):
            self._client.delete_model_package_group(ModelPackageGroupName=name)

    # ---------------------------------------------------------- the endpoint tester's port

    def merge_model_package_metadata(self, model_package_arn: str, values: Mapping[str, str]) -> None:
        """UpdateModelPackage replaces ``CustomerMetadataProperties``: send the merged map."""
        current = self._client.describe_model_package(ModelPackageName=model_package_arn)
        merged = {**(current.get("CustomerMetadataProperties") or {}), **values}
        self._client.update_model_package(
            ModelPackageArn=model_package_arn, CustomerMetadataProperties=merged
        )

    def reject_model_package(self, model_package_arn: str, reason: str) -> None:
        self._client.update_model_package(
            ModelPackageArn=model_package_arn,
            ModelApprovalStatus=ModelApprovalStatus.REJECTED.value,
            ApprovalDescription=reason[:1000],
        )

    # ------------------------------------------------------------------------------- helpers

    def _group_arn(self, group: str) -> str | None:
        try:
            return str(
                self._client.describe_model_package_group(ModelPackageGroupName=group)["ModelPackageGroupArn"]
            )
        except aws_errors.SERVICE_ERRORS as error:
            if aws_errors.is_not_found(error):
                return None
            raise

    def _create_group(self, group: str, *, description: str, tags: Mapping[str, str]) -> bool:
        """True if created, False if a group of that name exists already."""
        try:
            self._client.create_model_package_group(
                ModelPackageGroupName=group,
                ModelPackageGroupDescription=description,
                Tags=tag_keys.to_aws(tags),
            )
        except aws_errors.SERVICE_ERRORS as error:
            if not aws_errors.is_already_exists(error):
                raise
            return False
        return True


def _reaper_error(error: Exception) -> ReaperServiceError:
    from mlops_core.reaper.ports import ReaperServiceError  # noqa: PLC0415

    return ReaperServiceError(aws_errors.describe(error))


def _promotion_errors() -> AbstractContextManager[None]:
    """The artifact copier's errors: :class:`~mlops_core.promotion.ports.PromotionServiceError`, retryable
    or not."""
    from mlops_core.promotion.ports import PromotionServiceError  # noqa: PLC0415

    return aws_errors.reraised_with_retryable(PromotionServiceError)


def _registry_errors(group: str) -> AbstractContextManager[None]:
    """The project lifecycle's errors: :class:`~mlops_core.projects.ports.RegistryError` naming the group."""
    from mlops_core.projects.ports import RegistryError  # noqa: PLC0415

    return aws_errors.reraised_as(
        lambda error: RegistryError(f"model group {group}: {aws_errors.describe_call(error)}")
    )


def _described_model_package(client: Any, arn: str) -> dict[str, Any] | None:
    """DescribeModelPackage's answer; None if there is no such version."""
    try:
        return dict(client.describe_model_package(ModelPackageName=arn))
    except aws_errors.SERVICE_ERRORS as error:
        if aws_errors.is_not_found(error):
            return None
        raise


def _summary(endpoint: Mapping[str, Any]) -> EndpointSummary:
    """A Search result's endpoint, as the reaper sees it."""
    from mlops_core.reaper.ports import EndpointSummary  # noqa: PLC0415

    variants = []
    for variant in endpoint.get("ProductionVariants") or []:
        count = variant.get("CurrentInstanceCount", variant.get("DesiredInstanceCount")) or 0
        variants.append((str(variant.get("VariantName", "")), float(count)))
    return EndpointSummary(
        name=endpoint["EndpointName"],
        arn=endpoint.get("EndpointArn", ""),
        status=str(endpoint.get("EndpointStatus", "")),
        config_name=str(endpoint.get("EndpointConfigName", "")),
        tags=tag_keys.from_aws(endpoint.get("Tags") or []),
        variants=tuple(variants),
    )


def _first_container(model: Mapping[str, Any]) -> dict[str, Any]:
    """A CreateModel request's or DescribeModel answer's container (``Containers[0]`` or
    ``PrimaryContainer``)."""
    containers = model.get("Containers") or [model.get("PrimaryContainer") or {}]
    return dict(containers[0])


def served_model_package_arn(
    endpoint_name: str, endpoint_arn: str, config_name: str, recorded_arn: str | None = None
) -> str | None:
    """The model package a config named by :func:`versioned_resource_name` serves: version N of the
    group named like the endpoint (``{project}-{stage}``), in the registry's account and region.

    The registry is the one of the version the deployer recorded on the endpoint (``recorded_arn``,
    its ``mlops:model-package-arn`` tag: a cross-account registry keeps its groups in another
    account), else the endpoint's own account and region."""
    parsed = parse_versioned_resource_name(config_name)
    if parsed is None or parsed[0] != endpoint_name:
        return None
    try:
        registry = parse_model_package_arn(recorded_arn).registry if recorded_arn else None
    except ValueError:
        registry = None
    if registry is None:
        _arn, partition, _service, region, account, _resource = endpoint_arn.split(":", 5)
        registry = f"arn:{partition}:sagemaker:{region}:{account}"
    return f"{registry}:model-package/{endpoint_name}/{parsed[1]}"


def _endpoint(
    name: str,
    described: dict[str, Any],
    tags: dict[str, str],
    *,
    serving: Callable[[str], str | None] = lambda _config_name: None,
) -> Endpoint:
    """An :class:`Endpoint` from DescribeEndpoint's answer (or a Search result) and its tags. The
    version it serves: from its config's name and the recorded ARN, else ``serving(config_name)``
    (a lookup of the config's model), else the recorded ARN."""
    config_name = described["EndpointConfigName"]
    recorded = tags.get(tag_keys.MODEL_PACKAGE_ARN)
    return Endpoint(
        name=name,
        arn=described["EndpointArn"],
        status=EndpointStatus(described["EndpointStatus"]),
        config_name=config_name,
        tags=tags,
        model_package_arn=served_model_package_arn(name, described["EndpointArn"], config_name, recorded)
        or serving(config_name)
        or recorded,
        failure_reason=described.get("FailureReason"),
        creation_time=described.get("CreationTime"),
    )
