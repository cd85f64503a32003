"""THE GAPS IN MOTO 5.2.5 THAT THE CONTROL PLANE RUNS INTO, FILLED IN-PROCESS.

This module changes what moto does; `service_rules` adds what it refuses (`apply()` installs both).
The moto server runs in this process, so patching moto's model and response classes changes what the
embedded AWS answers. Each patch says what AWS does; the functions under test never know the
difference. `apply()` installs all of them, once per process.

CloudFormation
- `Ref` of an `AWS::Events::EventBus` gives the bus name (moto: the Python object, which then breaks
  every API that returns it, e.g. a function's environment), `Ref` of a layer version its ARN.
- `AWS::Lambda::EventInvokeConfig` sets the function's asynchronous invocation config (moto skips it).
- `AWS::SecretsManager::Secret` creates the secret (moto skips it); `Ref` gives its ARN, as in AWS.
- `AWS::Lambda::Url` creates the function's URL config (moto skips it); `GetAtt FunctionUrl` gives the
  URL AWS would (the local cloud serves it on loopback, see `function_urls`).
- A resource that fails to create fails the stack with the reason on the resource's CREATE_FAILED event
  (moto raises out of CreateStack and leaves the stack CREATE_IN_PROGRESS).

EventBridge
- PutEvents hands every valid entry to `aws_events` for the local cloud to route (moto delivers to
  targets itself, and would run Lambda targets in Docker).

SageMaker
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
- Search over `Endpoint` filters by tags (every filter, `In`, SubExpressions), pages with MaxResults
  and NextToken, and returns each endpoint with its tags (moto checks only the first tag filter).
- DeleteEndpoint fails while a variant is registered with Application Auto Scaling (deregister first).
- CreateModelPackage with a `ClientToken` already used in the group returns that version (moto creates
  another), as AWS's idempotency token does.
- Model groups shared with other accounts: PutModelPackageGroupPolicy and GetModelPackageGroupPolicy
  (missing in moto); DescribeModelPackage, ListModelPackages (group ARN) and CreateModel (a container's
  ModelPackageName) naming another account's model package or group are answered from that account,
  if the group's resource policy allows the caller's account that action (else AccessDeniedException,
  as AWS answers); moto looks every ARN up in the caller's account.

CodeCommit
- CreateRepository keeps its `tags`; ListTagsForResource and TagResource work (missing in moto).
"""

import fnmatch
import functools
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from weakref import WeakKeyDictionary

from moto.applicationautoscaling.models import applicationautoscaling_backends
from moto.awslambda.models import LayerVersion, lambda_backends
from moto.cloudformation import parsing
from moto.cloudformation.models import Event as StackEvent
from moto.cloudformation.models import Stack
from moto.codecommit.exceptions import RepositoryDoesNotExistException
from moto.codecommit.responses import CodeCommitResponse
from moto.core.common_models import CloudFormationModel
from moto.core.responses import ActionResult, EmptyResult
from moto.events.exceptions import ValidationException as EventsValidationException
from moto.events.models import EventBus, EventsBackend
from moto.sagemaker.exceptions import ConflictException, SagemakerClientError, ValidationError
from moto.sagemaker.models import (
    FakeEndpoint,
    ModelPackage,
    ModelPackageGroup,
    SageMakerModelBackend,
    arn_formatter,
    sagemaker_backends,
)
from moto.sagemaker.responses import SageMakerResponse
from moto.secretsmanager.models import secretsmanager_backends

from mlops_local import aws_events, endpoints, service_rules

_applied = False


def apply() -> None:
    """Install every patch in this module (idempotent)."""
    global _applied  # noqa: PLW0603 - moto's classes are patched once per process
    if _applied:
        return
    _patch_cloudformation()
    _patch_events()
    _patch_sagemaker()
    _patch_endpoint_search_and_autoscaling()
    _patch_codecommit()
    service_rules.apply()  # what AWS refuses, installed over the gaps filled above
    _applied = True


# --------------------------------------------------------------------------------------- CloudFormation


class _LambdaEventInvokeConfig(CloudFormationModel):
    """AWS::Lambda::EventInvokeConfig: AWS applies it with PutFunctionEventInvokeConfig.

    That is where Lambda keeps the retries and the on-failure destination of asynchronous invocations
    (EventBridge invokes functions asynchronously), and where the local cloud reads them back.
    """

    def __init__(self, function_name: str, qualifier: str) -> None:
        self.function_name = function_name
        self.qualifier = qualifier

    @property
    def physical_resource_id(self) -> str:
        return f"{self.function_name}:{self.qualifier}"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::EventInvokeConfig"

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **_: Any,
    ) -> "_LambdaEventInvokeConfig":
        properties = cloudformation_json["Properties"]
        config = {
            key: properties[key]
            for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")
            if key in properties
        }
        lambda_backends[account_id][region_name].put_function_event_invoke_config(
            properties["FunctionName"], config
        )
        return cls(properties["FunctionName"], properties["Qualifier"])

    def is_created(self) -> bool:
        return True


class _SecretsManagerSecret(CloudFormationModel):
    """AWS::SecretsManager::Secret with a `SecretString` (what the control plane's template uses).

    AWS names a secret without a `Name` after the stack and the logical ID, and `Ref` gives its ARN.
    """

    def __init__(self, arn: str, name: str) -> None:
        self.arn = arn
        self.name = name

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SecretsManager::Secret"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **_: Any,
    ) -> "_SecretsManagerSecret":
        properties = cloudformation_json.get("Properties", {})
        backend = secretsmanager_backends[account_id][region_name]
        backend.create_secret(
            name=resource_name,
            secret_string=properties.get("SecretString"),
            secret_binary=None,
            description=properties.get("Description"),
            tags=properties.get("Tags"),
            kms_key_id=properties.get("KmsKeyId"),
            client_request_token=None,
            replica_regions=[],
            force_overwrite=False,
        )
        return cls(backend.secrets[resource_name].arn, resource_name)

    def is_created(self) -> bool:
        return True


class _ResourceFailedError(Exception):
    def __init__(self, logical_id: str, resource_type: str, cause: Exception) -> None:
        # moto's errors carry their text in `message`; their str() repeats the class name
        self.reason = f"{type(cause).__name__}: {getattr(cause, 'message', None) or cause}"
        super().__init__(f"{logical_id} ({resource_type}): {self.reason}")
        self.logical_id = logical_id
        self.resource_type = resource_type


def _naming_the_failed_resource(create: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(create)
    def parse_and_create_resource(
        logical_id: str, resource_json: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        try:
            return create(logical_id, resource_json, *args, **kwargs)
        except _ResourceFailedError:
            raise  # a resource this one refers to failed first: that one is the cause
        except Exception as cause:
            raise _ResourceFailedError(logical_id, resource_json.get("Type", "?"), cause) from cause

    return parse_and_create_resource


def _failing_the_stack(create_resources: Callable[[Stack], None]) -> Callable[[Stack], None]:
    @functools.wraps(create_resources)
    def failing_create_resources(stack: Stack) -> None:
        try:
            create_resources(stack)
        except _ResourceFailedError as failure:
            stack.events.append(
                StackEvent(
                    stack_id=stack.stack_id,
                    stack_name=stack.name,
                    logical_resource_id=failure.logical_id,
                    physical_resource_id="",
                    resource_type=failure.resource_type,
                    resource_status="CREATE_FAILED",
                    resource_status_reason=failure.reason,
                    resource_properties=None,
                )
            )
            stack.status = "ROLLBACK_COMPLETE"
            stack._add_stack_event(
                "ROLLBACK_COMPLETE",
                resource_status_reason=f"The following resource(s) failed to create: [{failure.logical_id}].",
            )

    return failing_create_resources


class _LambdaUrl(CloudFormationModel):
    """AWS::Lambda::Url: AWS applies it with CreateFunctionUrlConfig (moto has the API, not the resource)."""

    def __init__(self, url: str, function_arn: str) -> None:
        self.url = url
        self.function_arn = function_arn

    @property
    def physical_resource_id(self) -> str:
        return self.function_arn

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::Url"

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("FunctionUrl", "FunctionArn")

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.url if attribute_name == "FunctionUrl" else self.function_arn

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **_: Any,
    ) -> "_LambdaUrl":
        properties = cloudformation_json["Properties"]
        config = {key: properties[key] for key in ("AuthType", "Cors", "InvokeMode") if key in properties}
        url_config = lambda_backends[account_id][region_name].create_function_url_config(
            properties["TargetFunctionArn"], config
        )
        return cls(url_config.url + "/", url_config.function.function_arn)

    def is_created(self) -> bool:
        return True


def _patch_cloudformation() -> None:
    EventBus.physical_resource_id = property(lambda bus: bus.name)  # type: ignore[attr-defined]
    LayerVersion.physical_resource_id = property(lambda layer: layer.arn)  # type: ignore[attr-defined]
    # moto finds resource types among CloudFormationModel's subclasses, and caches what it found.
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()
    parsing.parse_and_create_resource = _naming_the_failed_resource(parsing.parse_and_create_resource)
    Stack.create_resources = _failing_the_stack(Stack.create_resources)  # type: ignore[method-assign,assignment]


# ------------------------------------------------------------------------------------------ EventBridge


def _entry_error(entry: dict[str, Any]) -> dict[str, str] | None:
    """The error EventBridge reports for a PutEvents entry, or None for a valid entry."""
    for field in ("Source", "DetailType", "Detail"):
        if not entry.get(field):
            return {
                "ErrorCode": "InvalidArgument",
                "ErrorMessage": f"Parameter {field} is not valid. Reason: {field} is a required argument.",
            }
    try:
        detail = json.loads(entry["Detail"])
    except ValueError:
        detail = None
    if not isinstance(detail, dict):
        return {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
    return None


def _event_time(entry: dict[str, Any]) -> str | None:
    time = entry.get("Time")
    if isinstance(time, int | float):
        time = datetime.fromtimestamp(time, UTC)
    return aws_events.iso_time(time) if isinstance(time, datetime) else time


def _put_events(backend: EventsBackend, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """PutEvents: EventBridge accepts each valid entry and routes it later, on its own."""
    if len(entries) > 10:
        raise EventsValidationException(
            "1 validation error detected: Value '[PutEventsRequestEntry]' at 'entries' failed to satisfy "
            "constraint: Member must have length less than or equal to 10"
        )
    results: list[dict[str, Any]] = []
    for entry in entries:
        error = _entry_error(entry)
        if error is not None:
            results.append(error)
            continue
        bus = backend.describe_event_bus(backend._normalize_event_bus_arn(entry.get("EventBusName")))
        event = aws_events.envelope(
            source=entry["Source"],
            detail_type=entry["DetailType"],
            detail=json.loads(entry["Detail"]),
            account=backend.account_id,
            region=backend.region_name,
            resources=entry.get("Resources") or [],
            time=_event_time(entry),
        )
        aws_events.put_entry(bus.name, event)
        results.append({"EventId": event["id"]})
    return results


def _patch_events() -> None:
    EventsBackend.put_events = _put_events  # type: ignore[method-assign,assignment]


# -------------------------------------------------------------------------------------------- SageMaker


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
        endpoint.last_deployment_config = deployment_config  # DescribeEndpoint's LastDeploymentConfig
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

    CustomerMetadataProperties, when given, replace the package's map (docs/architecture.md). A change of
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


class _AccessDeniedError(SagemakerClientError):
    code = "AccessDeniedException"


# The resource policy of each model group (PutModelPackageGroupPolicy), as its JSON text.
_group_policies: WeakKeyDictionary[ModelPackageGroup, str] = WeakKeyDictionary()


def _put_model_package_group_policy_response(response: SageMakerResponse) -> ActionResult:
    name = response._get_param("ModelPackageGroupName")
    group = response.sagemaker_backend.model_package_groups.get(name)
    if group is None:
        raise ValidationError(message=f"Model Package Group {name} does not exist.")
    _group_policies[group] = response._get_param("ResourcePolicy")
    return ActionResult({"ModelPackageGroupArn": group.arn})


def _get_model_package_group_policy_response(response: SageMakerResponse) -> ActionResult:
    name = response._get_param("ModelPackageGroupName")
    group = response.sagemaker_backend.model_package_groups.get(name)
    if group is None or group not in _group_policies:
        raise ValidationError(message=f"Model Package Group {name} has no resource policy.")
    return ActionResult({"ResourcePolicy": _group_policies[group]})


def _owner_backend(backend: SageMakerModelBackend, arn: str, action: str) -> SageMakerModelBackend | None:
    """The backend of the account that owns ``arn`` (a model package or group ARN of another account
    or region), once the owner's group policy allows ``action`` to the caller's account; None when
    ``arn`` is the caller's own (or not an ARN)."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    account, region, resource = parts[4], parts[3], parts[5]
    if (account, region) == (backend.account_id, backend.region_name):
        return None
    group_name = resource.split("/")[1] if "/" in resource else ""
    owner = sagemaker_backends[account][region]
    group = owner.model_package_groups.get(group_name)
    statements = json.loads(_group_policies[group]).get("Statement", []) if group in _group_policies else []
    if isinstance(statements, dict):
        statements = [statements]
    caller = {backend.account_id, f"arn:aws:iam::{backend.account_id}:root"}

    def listed(value: Any) -> list[str]:
        return [value] if isinstance(value, str) else list(value or [])

    for statement in statements:
        principals = listed((statement.get("Principal") or {}).get("AWS"))
        if (
            statement.get("Effect") == "Allow"
            and caller & set(principals)
            and {action, "sagemaker:*"} & set(listed(statement.get("Action")))
            and any(fnmatch.fnmatchcase(arn, pattern) for pattern in listed(statement.get("Resource")))
        ):
            return owner
    raise _AccessDeniedError(
        f"User: arn:aws:iam::{backend.account_id}:root is not authorized to perform: {action} on "
        f"resource: {arn} because no resource-based policy allows the {action} action"
    )


def _describing_shared_model_packages(describe: Callable[..., ModelPackage]) -> Callable[..., ModelPackage]:
    @functools.wraps(describe)
    def describe_model_package(backend: SageMakerModelBackend, model_package_name: str) -> ModelPackage:
        owner = _owner_backend(backend, model_package_name, "sagemaker:DescribeModelPackage")
        return describe(owner or backend, model_package_name)

    return describe_model_package


def _listing_shared_model_packages(list_packages: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(list_packages)
    def list_model_packages(backend: SageMakerModelBackend, **kwargs: Any) -> Any:
        group = kwargs.get("model_package_group_name") or ""
        owner = _owner_backend(backend, group, "sagemaker:ListModelPackages")
        return list_packages(owner or backend, **kwargs)

    return list_model_packages


def _creating_models_from_shared_packages(create: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(create)
    def create_model(backend: SageMakerModelBackend, **kwargs: Any) -> Any:
        containers = [*(kwargs.get("containers") or []), kwargs.get("primary_container") or {}]
        for container in containers:
            package_arn = container.get("ModelPackageName") or ""
            owner = _owner_backend(backend, package_arn, "sagemaker:CreateModel")
            if owner is not None:
                owner.describe_model_package(package_arn)  # it must exist
        return create(backend, **kwargs)

    return create_model


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
            config.shadow_production_variants = shadows  # DescribeEndpointConfig's ShadowProductionVariants
        return result

    return create_endpoint_config


def _patch_sagemaker() -> None:
    backend = SageMakerModelBackend
    backend.create_model = _refusing_existing(  # type: ignore[method-assign]
        _creating_models_from_shared_packages(backend.create_model), "_models", "model_name", "model", "model"
    )
    backend.describe_model_package = _describing_shared_model_packages(backend.describe_model_package)  # type: ignore[method-assign]
    backend.list_model_packages = _listing_shared_model_packages(backend.list_model_packages)  # type: ignore[method-assign]
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
    SageMakerResponse.put_model_package_group_policy = _put_model_package_group_policy_response  # type: ignore[method-assign,assignment]
    SageMakerResponse.get_model_package_group_policy = _get_model_package_group_policy_response  # type: ignore[method-assign,assignment]
    SageMakerResponse.create_endpoint_config = _keeping_shadow_variants(  # type: ignore[method-assign]
        SageMakerResponse.create_endpoint_config
    )
    SageMakerResponse.delete_model_package = _delete_model_package_response  # type: ignore[attr-defined]
    SageMakerResponse.delete_model_package_group = _delete_model_package_group_response  # type: ignore[attr-defined]


# -------------------------------------------------------------- SageMaker Search and Application Auto Scaling
# (the endpoint reaper's gaps)

SEARCH_MAX_RESULTS = 100


def _search_value_matches(actual: Any, operator: str, expected: Any) -> bool:
    """One Search filter's comparison, for the text properties the control plane filters on."""
    if operator == "Exists":
        return actual is not None
    if operator == "NotExists":
        return actual is None
    if actual is None:
        return operator == "NotEquals"
    if operator == "Equals":
        return str(actual) == str(expected)
    if operator == "NotEquals":
        return str(actual) != str(expected)
    if operator == "In":
        return str(actual) in [value.strip() for value in str(expected).split(",")]
    if operator == "Contains":
        return str(expected) in str(actual)
    raise ValidationError(message=f"Search operator {operator} is not supported by the local cloud")


def _endpoint_search_record(endpoint: FakeEndpoint) -> dict[str, Any]:
    """An endpoint as Search returns it: DescribeEndpoint's fields plus its tags."""
    record = {key: value for key, value in endpoint.response_object.items() if value is not None}
    record["Tags"] = list(endpoint.tags or [])
    return record


def _endpoint_property(endpoint: FakeEndpoint, name: str) -> Any:
    if name.startswith("Tags."):
        key = name.removeprefix("Tags.")
        return next((tag["Value"] for tag in endpoint.tags or [] if tag["Key"] == key), None)
    return _endpoint_search_record(endpoint).get(name)


def _endpoint_matches(endpoint: FakeEndpoint, expression: dict[str, Any] | None) -> bool:
    """Filters are ANDed; SubExpressions are combined with the expression's Operator (default And)."""
    if not expression:
        return True
    results = [
        _search_value_matches(
            _endpoint_property(endpoint, item["Name"]), item.get("Operator", "Equals"), item.get("Value")
        )
        for item in expression.get("Filters") or []
    ]
    subresults = [_endpoint_matches(endpoint, sub) for sub in expression.get("SubExpressions") or []]
    if expression.get("Operator", "And") == "Or":
        return all(results) and (not subresults or any(subresults))
    return all(results) and all(subresults)


def _searching_endpoints(search: Callable[..., Any]) -> Callable[..., Any]:
    """Search over `Endpoint`: moto stops at the first tag filter (a second filter is never checked),
    returns the endpoints without their tags, knows no `In` and no SubExpressions, and ignores
    MaxResults and NextToken. AWS pages at most 100 results per call, sorted by the SortBy property."""

    @functools.wraps(search)
    def search_with_endpoints(
        backend: SageMakerModelBackend,
        *,
        resource: Any = None,
        search_expression: Any = None,
        max_results: int | None = None,
        next_token: str | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
    ) -> Any:
        if resource != "Endpoint":
            return search(backend, resource=resource, search_expression=search_expression)
        if max_results is not None and not 1 <= int(max_results) <= SEARCH_MAX_RESULTS:
            raise ValidationError(message=f"MaxResults must be between 1 and {SEARCH_MAX_RESULTS}")
        found = [e for e in backend.endpoints.values() if _endpoint_matches(e, search_expression)]
        key = sort_by or "CreationTime"
        found.sort(key=lambda e: (str(_endpoint_property(e, key)), e.endpoint_name))
        if sort_order == "Descending":
            found.reverse()
        start = int(next_token or 0)
        end = start + int(max_results or 10)
        page = {"Results": [{"Endpoint": _endpoint_search_record(e)} for e in found[start:end]]}
        if end < len(found):
            page["NextToken"] = str(end)
        return page

    return search_with_endpoints


def _search_response(response: SageMakerResponse) -> ActionResult:
    return ActionResult(
        response.sagemaker_backend.search(
            resource=response._get_param("Resource"),
            search_expression=response._get_param("SearchExpression"),
            max_results=response._get_param("MaxResults"),
            next_token=response._get_param("NextToken"),
            sort_by=response._get_param("SortBy"),
            sort_order=response._get_param("SortOrder"),
        )
    )


def _refusing_autoscaled_deletion(delete: Callable[..., None]) -> Callable[..., None]:
    """DeleteEndpoint with a variant still registered as an Application Auto Scaling target fails
    on AWS: the scalable target must be deregistered first. (moto deletes, leaving the target.)"""

    @functools.wraps(delete)
    def delete_endpoint(backend: SageMakerModelBackend, endpoint_name: str) -> None:
        scaling = applicationautoscaling_backends[backend.account_id][backend.region_name]
        prefix = f"endpoint/{endpoint_name}/variant/"
        registered = [
            target.resource_id
            for target in scaling.describe_scalable_targets("sagemaker", None, None)
            if target.resource_id.startswith(prefix)
        ]
        if registered:
            raise ValidationError(
                message=f"Endpoint {endpoint_name} has registered scalable targets {registered}; "
                "deregister them before deleting the endpoint."
            )
        delete(backend, endpoint_name)

    return delete_endpoint


def _patch_endpoint_search_and_autoscaling() -> None:
    backend = SageMakerModelBackend
    backend.search = _searching_endpoints(backend.search)  # type: ignore[method-assign]
    SageMakerResponse.search = _search_response  # type: ignore[method-assign]
    backend.delete_endpoint = _refusing_autoscaled_deletion(backend.delete_endpoint)  # type: ignore[method-assign]


# --------------------------------------------------------------------------------------- CodeCommit
# (the artifact copier finds a repository's project by its tags)


def _repository(response: CodeCommitResponse, arn: str) -> Any:
    name = arn.rsplit(":", 1)[-1]
    repository = response.codecommit_backend.repositories.get(name)
    if repository is None:
        raise RepositoryDoesNotExistException(name)
    return repository


def _keeping_repository_tags(
    create: Callable[[CodeCommitResponse], str],
) -> Callable[[CodeCommitResponse], str]:
    @functools.wraps(create)
    def create_repository(response: CodeCommitResponse) -> str:
        result = create(response)
        repository = response.codecommit_backend.repositories[response._get_param("repositoryName")]
        repository.tags = dict(response._get_param("tags") or {})
        return result

    return create_repository


def _list_repository_tags_response(response: CodeCommitResponse) -> str:
    repository = _repository(response, response._get_param("resourceArn"))
    return json.dumps({"tags": getattr(repository, "tags", {})})


def _tag_repository_response(response: CodeCommitResponse) -> str:
    repository = _repository(response, response._get_param("resourceArn"))
    repository.tags = {**getattr(repository, "tags", {}), **(response._get_param("tags") or {})}
    return "{}"


def _patch_codecommit() -> None:
    CodeCommitResponse.create_repository = _keeping_repository_tags(  # type: ignore[method-assign]
        CodeCommitResponse.create_repository
    )
    CodeCommitResponse.list_tags_for_resource = _list_repository_tags_response  # type: ignore[attr-defined]
    CodeCommitResponse.tag_resource = _tag_repository_response  # type: ignore[attr-defined]
