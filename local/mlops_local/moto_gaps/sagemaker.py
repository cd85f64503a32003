"""SageMaker's gaps in moto, filled: endpoints, endpoint configs, models and model packages.

- CreateEndpoint leaves the endpoint `Creating`; UpdateEndpoint (missing in moto) `Updating` (and refuses
  a Failed endpoint, as AWS does); an UpdateEndpoint with a blue/green DeploymentConfig is a rollout that
  shifts traffic step by step, watches its rollback alarms and rolls back like SageMaker (`endpoints`);
  DeleteEndpoint passes through `Deleting`; each status change emits its event (see `endpoints`).
- CreateModel, CreateEndpointConfig and CreateEndpoint refuse a name that exists (moto overwrites).
- CreateModelPackage and approval changes in UpdateModelPackage emit the model package event;
  UpdateModelPackage changes only the fields the request names (moto clears the others); a version
  number is never given twice in a group (moto reuses the number of a deleted version).
- DeleteModelPackage and DeleteModelPackageGroup (missing in moto).
- CreateEndpointConfig keeps `ShadowProductionVariants` (moto drops them), so a shadow variant shows in
  DescribeEndpointConfig like in AWS.
- AddTags, ListTags and DeleteTags work on model packages (moto fails on their ARN) and AddTags
  replaces the value of a key that exists (moto appends a duplicate).
- CreateModelPackage with a `ClientToken` already used in the group returns that version (moto creates
  another), as AWS's idempotency token does.
- CreateModel naming another account's model package: see `model_group_sharing`.
"""

import functools
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

from moto.core.responses import ActionResult, EmptyResult
from moto.sagemaker.exceptions import ConflictException, ValidationError
from moto.sagemaker.models import (
    FakeEndpoint,
    ModelPackage,
    ModelPackageGroup,
    SageMakerModelBackend,
    sagemaker_backends,
)
from moto.sagemaker.responses import SageMakerResponse
from moto.sagemaker.utils import arn_formatter

from mlops_local import aws_events, endpoints
from mlops_local.moto_gaps import model_group_sharing


def _refusing_existing(
    create: Callable[..., Any], registry: str, name_argument: str, kind: str, arn_type: str
) -> Callable[..., Any]:
    """SageMaker's Create* calls fail on a name in use: `Cannot create already existing endpoint "arn".`"""

    @functools.wraps(create)
    def create_once(backend: SageMakerModelBackend, **kwargs: Any) -> Any:
        name = kwargs[name_argument]
        if name in getattr(backend, registry):
            arn = arn_formatter(arn_type, name, backend.account_id, backend.region_name)
            raise ValidationError(message=f'Cannot create already existing {kind} "{arn}".')
        return create(backend, **kwargs)

    return create_once


def _endpoint(backend: SageMakerModelBackend, name: str) -> FakeEndpoint:
    try:
        return backend.endpoints[name]
    except KeyError:
        arn = FakeEndpoint.arn_formatter(name, backend.account_id, backend.region_name)
        raise ValidationError(message=f'Could not find endpoint "{arn}".') from None


def _creating_endpoint(create: Callable[..., FakeEndpoint]) -> Callable[..., FakeEndpoint]:
    """CreateEndpoint returns while the endpoint is `Creating`; it is InService minutes later."""

    @functools.wraps(create)
    def create_endpoint(backend: SageMakerModelBackend, **kwargs: Any) -> FakeEndpoint:
        endpoint = create(backend, **kwargs)
        endpoints.set_status(endpoint, "Creating")
        return endpoint

    return create_endpoint


def _update_endpoint(
    backend: SageMakerModelBackend,
    endpoint_name: str,
    endpoint_config_name: str,
    retain_all_variant_properties: bool,
    deployment_config: dict[str, Any] | None,
) -> FakeEndpoint:
    """UpdateEndpoint: only an InService (or UpdateRollbackFailed) endpoint can be updated; it is
    `Updating` until done. A Failed endpoint cannot: it has to be deleted and created again. A
    DeploymentConfig is checked as SageMaker checks it and carried out as a rollout (see `endpoints`)."""
    endpoint = _endpoint(backend, endpoint_name)
    if endpoint.endpoint_status == "Failed":
        raise ValidationError(
            message=f'Cannot update endpoint "{endpoint.arn}" in status Failed; '
            "delete it and create it again."
        )
    if endpoint.endpoint_status not in ("InService", "UpdateRollbackFailed"):
        raise ValidationError(message=f'Cannot update in-progress endpoint "{endpoint.arn}".')
    backend.describe_endpoint_config(endpoint_config_name)  # fails like AWS when the config is missing
    update = endpoints.PendingUpdate(endpoint_config_name, retain_all_variant_properties)
    rollout = endpoints.plan_rollout(backend, endpoint, update, deployment_config)  # checks the config
    if deployment_config:
        endpoint.last_deployment_config = deployment_config  # type: ignore[attr-defined]  # DescribeEndpoint's
    endpoints.begin_update(endpoint, rollout)
    return endpoint


def _deleting_endpoint(delete: Callable[[SageMakerModelBackend, str], None]) -> Callable[..., None]:
    """DeleteEndpoint: the endpoint is `Deleting` (with its event) before it is gone."""

    @functools.wraps(delete)
    def delete_endpoint(backend: SageMakerModelBackend, endpoint_name: str) -> None:
        endpoints.set_status(_endpoint(backend, endpoint_name), "Deleting")
        delete(backend, endpoint_name)

    return delete_endpoint


def _emit_model_package_state_change(backend: SageMakerModelBackend, package: ModelPackage) -> None:
    aws_events.emit(
        aws_events.model_package_state_change(package, account=backend.account_id, region=backend.region_name)
    )


def _announcing_model_package(create: Callable[..., str]) -> Callable[..., str]:
    """CreateModelPackage: a new version is a model package state change."""

    @functools.wraps(create)
    def create_model_package(backend: SageMakerModelBackend, **kwargs: Any) -> str:
        arn = create(backend, **kwargs)
        _emit_model_package_state_change(backend, backend.model_packages[arn])
        return arn

    return create_model_package


def _honouring_client_token(create: Callable[..., str]) -> Callable[..., str]:
    """CreateModelPackage with a ClientToken already used for a version of the group: that version."""

    @functools.wraps(create)
    def create_model_package(backend: SageMakerModelBackend, **kwargs: Any) -> str:
        token, group = kwargs.get("client_token"), kwargs.get("model_package_group_name")
        if token:
            for arn, package in backend.model_packages.items():
                if package.client_token == token and package.model_package_group_name == group:
                    return str(arn)
        return create(backend, **kwargs)

    return create_model_package


# The highest version number each group has given, deleted versions included.
_versions_given: WeakKeyDictionary[ModelPackageGroup, int] = WeakKeyDictionary()


def _numbering_versions_once(init: Callable[..., None]) -> Callable[..., None]:
    """A group never gives a version number twice; moto counts the versions left (len + 1)."""

    @functools.wraps(init)
    def numbered_init(package: ModelPackage, **kwargs: Any) -> None:
        group_name = kwargs.get("model_package_group_name")
        if group_name and kwargs.get("model_package_version"):
            group = sagemaker_backends[kwargs["account_id"]][kwargs["region_name"]].model_package_groups[
                group_name
            ]
            version = max(kwargs["model_package_version"], _versions_given.get(group, 0) + 1)
            _versions_given[group] = version
            kwargs["model_package_version"] = version
        init(package, **kwargs)

    return numbered_init


def _update_model_package(
    backend: SageMakerModelBackend,
    *,
    model_package_arn: str,
    model_approval_status: str | None,
    approval_description: str | None,
    customer_metadata_properties: dict[str, str] | None,
    customer_metadata_properties_to_remove: list[str],
    additional_inference_specifications_to_add: list[Any] | None,
) -> str:
    """UpdateModelPackage changes the fields the request names and keeps the others.

    CustomerMetadataProperties, when given, replace the package's map. A change of
    ModelApprovalStatus is a model package state change.
    """
    package = backend.describe_model_package(model_package_arn)
    status_before = package.model_approval_status
    if model_approval_status is not None:
        package.set_model_approval_status(model_approval_status)
    if approval_description is not None:
        package.approval_description = approval_description
    if customer_metadata_properties is not None:
        package.customer_metadata_properties = customer_metadata_properties
    if customer_metadata_properties_to_remove and package.customer_metadata_properties:
        package.remove_customer_metadata_property(customer_metadata_properties_to_remove)
    package.add_additional_inference_specifications(additional_inference_specifications_to_add)
    package.modifications_done()
    if package.model_approval_status != status_before:
        _emit_model_package_state_change(backend, package)
    return package.arn


def _delete_model_package(backend: SageMakerModelBackend, model_package_name: str) -> None:
    """DeleteModelPackage, by name or ARN."""
    package = backend.describe_model_package(model_package_name)
    del backend.model_packages[package.arn]
    for alias in [alias for alias, arn in backend.model_package_name_mapping.items() if arn == package.arn]:
        del backend.model_package_name_mapping[alias]


def _delete_model_package_group(backend: SageMakerModelBackend, model_package_group_name: str) -> None:
    """DeleteModelPackageGroup, by name or ARN; a group that still holds versions is a conflict."""
    name = model_package_group_name.rsplit("/", maxsplit=1)[-1]
    if name not in backend.model_package_groups:
        raise ValidationError(message=f"Model Package Group {name} does not exist.")
    if any(package.model_package_group_name == name for package in backend.model_packages.values()):
        raise ConflictException(f"Model Package Group {name} still has model packages; delete them first.")
    del backend.model_package_groups[name]


def _resolving_model_package_arns(find: Callable[[SageMakerModelBackend, str], Any]) -> Callable[..., Any]:
    """Tags work on any taggable ARN, model packages (`model-package/group/1`) included."""

    @functools.wraps(find)
    def resource_from_arn(backend: SageMakerModelBackend, arn: str) -> Any:
        resource_type = arn.rsplit(":", maxsplit=1)[-1].split("/", maxsplit=1)[0]
        if resource_type == "model-package":
            resource = backend.describe_model_package(arn)
        else:
            resource = find(backend, arn)
        if resource is None:
            raise ValidationError(message=f"Could not find resource {arn}.")
        if resource.tags is None:
            resource.tags = []
        return resource

    return resource_from_arn


def _add_tags(backend: SageMakerModelBackend, arn: str, tags: list[dict[str, str]]) -> list[dict[str, str]]:
    """AddTags: a tag whose key exists replaces the old value."""
    resource = backend._get_resource_from_arn(arn)
    new_keys = {tag["Key"] for tag in tags}
    resource.tags = [tag for tag in resource.tags if tag["Key"] not in new_keys] + tags
    return list(resource.tags)


def _update_endpoint_response(response: SageMakerResponse) -> ActionResult:
    endpoint = _update_endpoint(
        response.sagemaker_backend,
        endpoint_name=response._get_param("EndpointName"),
        endpoint_config_name=response._get_param("EndpointConfigName"),
        retain_all_variant_properties=bool(response._get_param("RetainAllVariantProperties")),
        deployment_config=response._get_param("DeploymentConfig"),
    )
    return ActionResult({"EndpointArn": endpoint.arn})


def _delete_model_package_response(response: SageMakerResponse) -> EmptyResult:
    _delete_model_package(response.sagemaker_backend, response._get_param("ModelPackageName"))
    return EmptyResult()


def _delete_model_package_group_response(response: SageMakerResponse) -> EmptyResult:
    _delete_model_package_group(response.sagemaker_backend, response._get_param("ModelPackageGroupName"))
    return EmptyResult()


def _keeping_shadow_variants(
    create: Callable[[SageMakerResponse], Any],
) -> Callable[[SageMakerResponse], Any]:
    """CreateEndpointConfig with `ShadowProductionVariants`: the config keeps them (moto ignores them)."""

    @functools.wraps(create)
    def create_endpoint_config(response: SageMakerResponse) -> Any:
        result = create(response)
        shadows = response._get_param("ShadowProductionVariants")
        if shadows:
            config = response.sagemaker_backend.endpoint_configs[response._get_param("EndpointConfigName")]
            config.shadow_production_variants = shadows  # type: ignore[attr-defined]  # DescribeEndpointConfig's
        return result

    return create_endpoint_config


def patch() -> None:
    backend = SageMakerModelBackend
    backend.create_model = _refusing_existing(  # type: ignore[method-assign]
        model_group_sharing.creating_models_from_shared_packages(backend.create_model),
        "_models",
        "model_name",
        "model",
        "model",
    )
    model_group_sharing.patch()
    backend.create_endpoint_config = _refusing_existing(  # type: ignore[method-assign]
        backend.create_endpoint_config,
        "endpoint_configs",
        "endpoint_config_name",
        "endpoint configuration",
        "endpoint-config",
    )
    backend.create_endpoint = _refusing_existing(  # type: ignore[method-assign]
        _creating_endpoint(backend.create_endpoint), "endpoints", "endpoint_name", "endpoint", "endpoint"
    )
    backend.update_endpoint = _update_endpoint  # type: ignore[attr-defined]
    backend.delete_endpoint = _deleting_endpoint(backend.delete_endpoint)  # type: ignore[method-assign]

    backend.create_model_package = _honouring_client_token(  # type: ignore[method-assign]
        _announcing_model_package(backend.create_model_package)
    )
    ModelPackage.__init__ = _numbering_versions_once(ModelPackage.__init__)  # type: ignore[method-assign]
    backend.update_model_package = _update_model_package  # type: ignore[method-assign,assignment]
    backend.delete_model_package = _delete_model_package  # type: ignore[attr-defined]
    backend.delete_model_package_group = _delete_model_package_group  # type: ignore[attr-defined]

    backend._get_resource_from_arn = _resolving_model_package_arns(backend._get_resource_from_arn)  # type: ignore[method-assign]
    backend.add_tags = _add_tags  # type: ignore[method-assign,assignment]

    SageMakerResponse.update_endpoint = _update_endpoint_response  # type: ignore[attr-defined]
    SageMakerResponse.create_endpoint_config = _keeping_shadow_variants(  # type: ignore[method-assign,assignment]
        SageMakerResponse.create_endpoint_config
    )
    SageMakerResponse.delete_model_package = _delete_model_package_response  # type: ignore[attr-defined]
    SageMakerResponse.delete_model_package_group = _delete_model_package_group_response  # type: ignore[attr-defined]
