"""SERVICE RULES: WHAT AWS REFUSES AND MOTO 5.2.5 ACCEPTS, FOR THE CALLS THE CONTROL PLANE MAKES.

`moto_gaps` makes moto *do* what AWS does; this module makes it *refuse* what AWS refuses, so a test
that passes here does not fail on AWS with a ValidationException. Every rule quotes the AWS text it
comes from (the API reference as botocore ships it, or a page of the developer guide) and answers
with the error AWS gives, so botocore raises a ClientError with that code. Where the documentation
says *that* something is refused but not *which call* refuses it, the rule says "inferred".
docs/local-cloud.md ("Service rules") lists them, with the rules found and not enforced.

`apply()` installs them once per process, after `moto_gaps.apply()` (which calls it).

Input constraints of the service model (every SageMaker, EventBridge and Application Auto Scaling
request): botocore checks a request's required members, types and minimums before sending it, and
AWS checks the rest: maximum lengths, sizes and values, enumerations and patterns.

SageMaker
- CreateModelPackage with `ModelPackageGroupName` refuses `Tags`: the version uses its group's tags.
- CreateEndpointConfig with a serverless variant refuses what serverless inference excludes: more
  than one production variant, shadow variants, data capture, a KMS key, a VPC, network isolation,
  a cross-Region traffic cap, instance settings on the serverless variant, a provisioned
  concurrency over the maximum concurrency, and models that use a VPC, network isolation, an
  inference pipeline, multi-model mode, a private Docker registry or `ModelDataSource`.
- CreateEndpointConfig with `ShadowProductionVariants` takes exactly one production variant and one
  shadow variant, and no `AsyncInferenceConfig` (asynchronous inference excludes shadow tests).
- CreateEndpoint names are case-insensitive: a name that differs from an existing endpoint's only
  by case is in use.
- UpdateEndpoint refuses the endpoint's current config, an instance-based endpoint turned
  serverless, and `ExcludeRetainedVariantProperties` without `RetainAllVariantProperties`.
- UpdateModelPackage updates versioned model packages only, and a version holds at most 15
  additional inference specifications.
- CreateDataQualityJobDefinition monitors an endpoint that exists and captures its data; a monitoring
  schedule runs exactly one job definition, inline or by the name of one that exists.
- ListModels honours `NameContains`, `CreationTimeBefore`/`After`, `SortBy`/`SortOrder` (default:
  newest first), `MaxResults` and `NextToken` (moto ignores them all); ListEndpoints and
  ListEndpointConfigs sort newest first by default, and ListEndpoints returns 10 per page by default.

S3
- CopyObject copies at most 5 GB (bigger objects are copied in parts, with UploadPartCopy).

EventBridge
- PutEvents refuses a request whose entries total 1 MB or more, and a request in which no entry
  has Source, DetailType and Detail.
- PutTargets refuses an InputTransformer path in bracket notation, and a placeholder as an object key
  of a JSON InputTemplate.

Application Auto Scaling
- RegisterScalableTarget of a new target needs MinCapacity and MaxCapacity, and MinCapacity may not
  exceed MaxCapacity; a SageMaker variant scales to zero (MinCapacity 0) only on an asynchronous
  endpoint.

EventBridge Scheduler
- CreateSchedule and UpdateSchedule: an `at(...)` expression is `at(yyyy-mm-ddThh:mm:ss)`; the `Input` of
  a templated EventBridge, Lambda or Step Functions target is well-formed JSON; and the model's
  constraints (an EventBridge target's `Source` may not begin with `aws.`, names and lengths).

CodeCommit
- CreateRepository refuses a name ending in `.git`.

CloudWatch
- PutMetricAlarm with `MetricName` takes exactly one of `Statistic` and `ExtendedStatistic`; with
  `Metrics` none of `Namespace`, `MetricName`, `Dimensions`, `Period`, `Unit`, `Statistic`,
  `ExtendedStatistic`; its `Period` is 10, 20, 30 or a multiple of 60.
- DeleteAlarms deletes at most 100 alarms.

CloudFormation
- A name CloudFormation generates fits the resource's limit (an EventBridge rule's: 64 characters),
  so the rule's own API accepts it.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import botocore.loaders
from botocore.model import ServiceModel, Shape, StructureShape
from moto.applicationautoscaling.exceptions import AWSValidationException
from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse
from moto.cloudformation import parsing
from moto.cloudwatch.exceptions import InvalidParameterCombination, InvalidParameterValue
from moto.cloudwatch.responses import CloudWatchResponse
from moto.codecommit.exceptions import InvalidRepositoryNameException
from moto.codecommit.responses import CodeCommitResponse
from moto.core.responses import ActionResult, BaseResponse
from moto.events.exceptions import ValidationException as EventsValidationException
from moto.events.responses import EventsHandler
from moto.s3.exceptions import S3ClientError
from moto.s3.models import FakeKey, S3Backend
from moto.sagemaker.exceptions import ResourceNotFound, ValidationError
from moto.sagemaker.models import FakeEndpoint, Model, SageMakerModelBackend, sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse
from moto.scheduler.exceptions import ValidationException as SchedulerValidationException
from moto.scheduler.responses import EventBridgeSchedulerResponse

Params = dict[str, Any]
Check = Callable[[Any, Params], None]

_applied = False
# The checks of each response method, by (response class, method name).
_CHECKS: dict[tuple[type[BaseResponse], str], list[Check]] = {}


def apply() -> None:
    """Install every rule in this module (idempotent); after `moto_gaps.apply()`."""
    global _applied  # noqa: PLW0603 - moto's classes are patched once per process
    if _applied:
        return
    _fill_list_filters()  # before the checks are installed, which wrap what is there
    SageMakerResponse.create_model = _creating_models_with_isolation(  # type: ignore[method-assign]
        SageMakerResponse.create_model
    )
    for service, response_class, error in _SHAPE_CHECKED_SERVICES:
        _check_input_constraints(service, response_class, error)
    for (response_class, method_name), checks in _CHECKS.items():
        _install(response_class, method_name, checks)
    S3Backend.copy_object = _limiting_copy_size(S3Backend.copy_object)  # type: ignore[method-assign]
    parsing.generate_resource_name = _generating_names_within_limits(parsing.generate_resource_name)  # type: ignore[assignment]
    _applied = True


def _rule(response_class: type[BaseResponse], method_name: str) -> Callable[[Check], Check]:
    """Register a check of a request, run before moto answers it."""

    def register(check: Check) -> Check:
        _CHECKS.setdefault((response_class, method_name), []).append(check)
        return check

    return register


def _params(response: BaseResponse) -> Params:
    """The request's JSON body, as the client sent it."""
    try:
        body = json.loads(response.body or "{}")
    except (TypeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def _install(response_class: type[BaseResponse], method_name: str, checks: list[Check]) -> None:
    answer = getattr(response_class, method_name)

    @functools.wraps(answer)
    def checked_answer(response: BaseResponse) -> Any:
        params = _params(response)
        for check in checks:
            check(response, params)
        return answer(response)

    setattr(response_class, method_name, checked_answer)


# ------------------------------------------------------------------ CloudFormation's generated names

# A resource of the template without a name is named "{stack}-{logical id}-{random suffix}" by
# CloudFormation, cut to fit the resource's limit (inferred from the names AWS gives; the resource
# reference says only "CloudFormation generates a unique physical ID and uses that ID for the rule
# name"). moto does not cut, and the name it makes is then refused by the resource's own API, e.g.
# an EventBridge rule's: "Member must have length less than or equal to 64".
GENERATED_NAME_LIMITS = {"AWS::Events::Rule": 64}


def _generating_names_within_limits(
    generate: Callable[[str, str, str], str],
) -> Callable[[str, str, str], str]:
    @functools.wraps(generate)
    def generate_resource_name(resource_type: str, stack_name: str, logical_id: str) -> str:
        name = generate(resource_type, stack_name, logical_id)
        limit = GENERATED_NAME_LIMITS.get(resource_type)
        if limit is None or len(name) <= limit:
            return name
        head, suffix = name.rsplit("-", 1)
        return f"{head[: limit - len(suffix) - 1].rstrip('-')}-{suffix}"

    return generate_resource_name


# ------------------------------------------------------------------------------ input constraints


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


@functools.cache
def _service_model(service: str) -> ServiceModel:
    """botocore's model of `service`, read from botocore's data files: not through a botocore session,
    whose first model read resolves the environment's AWS profile (and fails on one that does not
    exist, which a test of the local cloud's environment handling sets on purpose)."""
    return ServiceModel(botocore.loaders.create_loader().load_service_model(service, "service-2"), service)


@functools.cache
def _pattern(pattern: str) -> re.Pattern[str] | None:
    """A model pattern as Python reads it; None when it uses Java syntax Python lacks (e.g. \\p{L}),
    which is then not checked."""
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 100 else text[:97] + "..."


def _constraint_violations(shape: Shape, value: Any, path: str) -> Iterable[str]:
    """What AWS's own validation reports about `value`: the constraints botocore leaves to it."""
    if value is None:
        return
    metadata = shape.metadata
    kind = shape.type_name
    at = f"Value '{_shown(value)}' at '{path}' failed to satisfy constraint: Member must"
    if kind == "structure" and isinstance(value, dict):
        assert isinstance(shape, StructureShape)
        for name, member in shape.members.items():
            if name in value:
                yield from _constraint_violations(
                    member, value[name], f"{path}.{_lower_first(name)}" if path else _lower_first(name)
                )
    elif kind == "list" and isinstance(value, list):
        if "max" in metadata and len(value) > metadata["max"]:
            yield f"{at} have length less than or equal to {metadata['max']}"
        for index, item in enumerate(value, start=1):
            yield from _constraint_violations(shape.member, item, f"{path}.{index}.member")
    elif kind == "map" and isinstance(value, dict):
        if "max" in metadata and len(value) > metadata["max"]:
            yield f"{at} have length less than or equal to {metadata['max']}"
        for key, item in value.items():
            yield from _constraint_violations(shape.key, key, f"{path}.{key}.key")
            yield from _constraint_violations(shape.value, item, f"{path}.{key}.value")
    elif kind == "string" and isinstance(value, str):
        enum = getattr(shape, "enum", None) or []
        if enum and value not in enum:
            yield f"{at} satisfy enum value set: [{', '.join(enum)}]"
        if "max" in metadata and len(value) > metadata["max"]:
            yield f"{at} have length less than or equal to {metadata['max']}"
        pattern = _pattern(metadata["pattern"]) if "pattern" in metadata else None
        if pattern is not None and not pattern.fullmatch(value):
            yield f"{at} satisfy regular expression pattern: {metadata['pattern']}"
    elif (
        kind in ("integer", "long", "float", "double")
        and isinstance(value, int | float)
        and "max" in metadata
        and value > metadata["max"]
    ):
        yield f"{at} have value less than or equal to {metadata['max']}"


def _check_input_constraints(
    service: str, response_class: type[BaseResponse], error: Callable[[str], Exception]
) -> None:
    """AWS validates every request against its service model; botocore only checks required members,
    types and minimums (its ParamValidator reports no maximum, enum or pattern), so a request that
    botocore sends can still be refused: ``1 validation error detected: Value '...' at 'tags'
    failed to satisfy constraint: Member must have length less than or equal to 50``."""
    model = _service_model(service)
    for operation_name in model.operation_names:
        method_name = botocore.xform_name(operation_name)
        if not hasattr(response_class, method_name):
            continue
        input_shape = model.operation_model(operation_name).input_shape

        def check(response: Any, params: Params, shape: Shape | None = input_shape) -> None:
            if shape is None:
                return
            violations = list(_constraint_violations(shape, params, ""))
            if violations:
                count = len(violations)
                raise error(
                    f"{count} validation error{'s' if count > 1 else ''} detected: {'; '.join(violations)}"
                )

        _CHECKS.setdefault((response_class, method_name), []).insert(0, check)


_SHAPE_CHECKED_SERVICES: tuple[tuple[str, type[BaseResponse], Callable[[str], Exception]], ...] = (
    ("sagemaker", SageMakerResponse, lambda message: ValidationError(message=message)),
    ("events", EventsHandler, EventsValidationException),
    ("application-autoscaling", ApplicationAutoScalingResponse, AWSValidationException),
    ("scheduler", EventBridgeSchedulerResponse, SchedulerValidationException),
)


# ---------------------------------------------------------------------------------------- SageMaker


@_rule(SageMakerResponse, "create_model_package")
def _versions_take_the_tags_of_their_group(response: SageMakerResponse, params: Params) -> None:
    """CreateModelPackage, ``Tags`` (API reference): "If you supply ModelPackageGroupName, your model
    package belongs to the model group you specify and uses the tags associated with the model group.
    In this case, you cannot supply a tag argument." """
    if params.get("ModelPackageGroupName") and params.get("Tags"):
        raise ValidationError(
            message="Tags cannot be supplied with ModelPackageGroupName: a model version uses the tags "
            f"of its model group {params['ModelPackageGroupName']}."
        )


# "Some of the features currently available for SageMaker Real-time Inference are not supported for
# Serverless Inference, including GPUs, AWS marketplace model packages, private Docker registries,
# Multi-Model Endpoints, KMS keys, VPC configuration, network isolation, data capture, multiple
# production variants, Model Monitor, and inference pipelines." (Developer Guide, Serverless
# Inference, Feature exclusions.) CreateEndpointConfig is the first call that sees a serverless
# variant together with those features (inferred: the guide does not name the refusing call).
SERVERLESS_EXCLUSIONS_SOURCE = "Serverless Inference feature exclusions"
INSTANCE_SETTINGS = ("InstanceType", "InitialInstanceCount", "InstancePools", "ManagedInstanceScaling")


def _serverless_refusal(what: str) -> ValidationError:
    return ValidationError(
        message=f"Serverless endpoints do not support {what} ({SERVERLESS_EXCLUSIONS_SOURCE})."
    )


def _model_containers(backend: SageMakerModelBackend, model: Model) -> list[dict[str, Any]]:
    """A model's containers, and for a container made from a model package, the package's."""
    containers = list(model.containers or []) or (
        [model.primary_container] if model.primary_container else []
    )
    resolved = []
    for container in containers:
        resolved.append(container)
        package_name = container.get("ModelPackageName")
        if package_name:
            package = backend.describe_model_package(package_name)
            resolved += list((package.inference_specification or {}).get("Containers") or [])
    return resolved


def _refuse_serverless_models(backend: SageMakerModelBackend, model_name: str) -> None:
    model = backend._models.get(model_name)
    if model is None:
        return  # moto answers that the model does not exist
    if model.vpc_config:
        raise _serverless_refusal(f"VPC configuration (model {model_name} has a VpcConfig)")
    if model.enable_network_isolation:
        raise _serverless_refusal(f"network isolation (model {model_name} enables it)")
    if len(model.containers or []) > 1:
        raise _serverless_refusal(f"inference pipelines (model {model_name} has several containers)")
    for container in _model_containers(backend, model):
        if container.get("Mode") == "MultiModel":
            raise _serverless_refusal(f"multi-model endpoints (model {model_name} is in MultiModel mode)")
        if (container.get("ImageConfig") or {}).get("RepositoryAccessMode") == "Vpc":
            raise _serverless_refusal(f"private Docker registries (model {model_name})")
        if container.get("ModelDataSource"):
            # ContainerDefinition.ModelDataSource (API reference): "Currently you cannot use
            # ModelDataSource in conjunction with SageMaker batch transform, SageMaker serverless
            # endpoints, SageMaker multi-model endpoints, and SageMaker Marketplace."
            raise ValidationError(
                message=f"Model {model_name} uses ModelDataSource, which cannot be used with serverless "
                "endpoints; register the model with a ModelDataUrl (.tar.gz) to serve it serverless."
            )


@_rule(SageMakerResponse, "create_endpoint_config")
def _serverless_feature_exclusions(response: SageMakerResponse, params: Params) -> None:
    """See SERVERLESS_EXCLUSIONS_SOURCE; also ``CrossRegionTrafficConfig`` (API reference): "You can't
    specify it with serverless variants", ``ProvisionedConcurrency``: "Should be less than or equal to
    MaxConcurrency", and ``ServerlessConfig``: "Specifies a serverless endpoint configuration instead
    of an instance-based endpoint configuration" (inferred: instance settings on the same variant are
    refused)."""
    variants = params.get("ProductionVariants") or []
    serverless = [variant for variant in variants if variant.get("ServerlessConfig")]
    if not serverless:
        return
    if len(variants) > 1:
        raise _serverless_refusal("multiple production variants")
    if params.get("ShadowProductionVariants"):
        raise _serverless_refusal("shadow variants (multiple production variants)")
    config_features = {
        "DataCaptureConfig": "data capture",
        "KmsKeyId": "KMS keys",
        "VpcConfig": "VPC configuration",
        "EnableNetworkIsolation": "network isolation",
    }
    for field, feature in config_features.items():
        if params.get(field):
            raise _serverless_refusal(f"{feature} ({field})")
    if params.get("CrossRegionTrafficConfig"):
        raise ValidationError(
            message="CrossRegionTrafficConfig cannot be specified with serverless variants."
        )
    variant = serverless[0]
    instance_settings = [name for name in INSTANCE_SETTINGS if variant.get(name) is not None]
    if instance_settings:
        raise ValidationError(
            message=f"Variant {variant.get('VariantName')} has a ServerlessConfig and instance settings "
            f"{instance_settings}: a variant is either serverless or instance-based."
        )
    config = variant["ServerlessConfig"]
    provisioned, maximum = config.get("ProvisionedConcurrency"), config.get("MaxConcurrency")
    if provisioned is not None and maximum is not None and provisioned > maximum:
        raise ValidationError(
            message=f"ProvisionedConcurrency ({provisioned}) must be less than or equal to "
            f"MaxConcurrency ({maximum})."
        )
    _refuse_serverless_models(response.sagemaker_backend, variant.get("ModelName", ""))


@_rule(SageMakerResponse, "create_endpoint_config")
def _one_production_variant_beside_a_shadow(response: SageMakerResponse, params: Params) -> None:
    """CreateEndpointConfig, ``ShadowProductionVariants`` (API reference): "If you use this field, you
    can only specify one variant for ProductionVariants and one variant for
    ShadowProductionVariants." """
    shadows = params.get("ShadowProductionVariants")
    if shadows and (len(shadows) != 1 or len(params.get("ProductionVariants") or []) != 1):
        raise ValidationError(
            message="With ShadowProductionVariants, specify exactly one variant in ProductionVariants and "
            f"one in ShadowProductionVariants (got {len(params.get('ProductionVariants') or [])} and "
            f"{len(shadows)})."
        )


@_rule(SageMakerResponse, "create_endpoint_config")
def _no_shadow_of_an_async_endpoint(response: SageMakerResponse, params: Params) -> None:
    """Developer guide, "Create a shadow test": "If your endpoint uses any of the following features,
    you cannot use shadow tests on your endpoint, and your request to set up shadow tests will result in
    validation errors: Serverless inference, Asynchronous inference, ..." (inferred: CreateEndpointConfig
    with both is the request refused)."""
    if params.get("ShadowProductionVariants") and params.get("AsyncInferenceConfig"):
        raise ValidationError(
            message="Shadow variants are not supported with asynchronous inference: an endpoint config "
            "with AsyncInferenceConfig cannot have ShadowProductionVariants."
        )


@_rule(SageMakerResponse, "create_endpoint")
def _endpoint_names_ignore_case(response: SageMakerResponse, params: Params) -> None:
    """CreateEndpoint, ``EndpointName`` (API reference): "The name must be unique within an Amazon Web
    Services Region in your Amazon Web Services account. The name is case-insensitive in
    CreateEndpoint, but the case is preserved and must be matched in InvokeEndpoint." (moto compares
    names exactly.)"""
    name = str(params.get("EndpointName") or "")
    backend = response.sagemaker_backend
    for existing in backend.endpoints.values():
        if existing.endpoint_name.lower() == name.lower() and existing.endpoint_name != name:
            arn = FakeEndpoint.arn_formatter(name, backend.account_id, backend.region_name)
            raise ValidationError(message=f'Cannot create already existing endpoint "{arn}".')


@_rule(SageMakerResponse, "create_data_quality_job_definition")
def _monitored_endpoints_capture_their_data(response: SageMakerResponse, params: Params) -> None:
    """CreateDataQualityJobDefinition, ``DataQualityJobInput.EndpointInput.EndpointName`` (API
    reference): "An endpoint in customer's account which has enabled DataCaptureConfig enabled." That
    the create refuses another endpoint (one that does not exist, or captures nothing) is inferred."""
    endpoint_input = (params.get("DataQualityJobInput") or {}).get("EndpointInput")
    if not isinstance(endpoint_input, dict):
        return
    name = str(endpoint_input.get("EndpointName") or "")
    backend = response.sagemaker_backend
    endpoint = backend.endpoints.get(name)
    config = backend.endpoint_configs.get(endpoint.endpoint_config_name) if endpoint is not None else None
    if config is None or not (config.data_capture_config or {}).get("EnableCapture"):
        raise ValidationError(
            message=f"Endpoint {name} does not exist or has no data capture enabled (DataCaptureConfig): "
            "a monitoring job reads the endpoint's captured data."
        )


@_rule(SageMakerResponse, "create_monitoring_schedule")
@_rule(SageMakerResponse, "update_monitoring_schedule")
def _schedules_run_one_existing_job_definition(response: SageMakerResponse, params: Params) -> None:
    """``MonitoringScheduleConfig`` (API reference) defines its job either inline
    (``MonitoringJobDefinition``) or by ``MonitoringJobDefinitionName`` with its ``MonitoringType``;
    that a request giving both, or neither, is refused, and that the named definition must exist
    (``ResourceNotFound``), is inferred."""
    config = params.get("MonitoringScheduleConfig") or {}
    inline, named = config.get("MonitoringJobDefinition"), config.get("MonitoringJobDefinitionName")
    if bool(inline) == bool(named):
        raise ValidationError(
            message="MonitoringScheduleConfig needs exactly one of MonitoringJobDefinition and "
            "MonitoringJobDefinitionName."
        )
    definitions = response.sagemaker_backend.data_quality_job_definitions
    if named and config.get("MonitoringType", "DataQuality") == "DataQuality" and named not in definitions:
        raise ResourceNotFound(f"Job definition {named} not found")


UPDATABLE_STATUSES = ("InService", "UpdateRollbackFailed")


def _is_serverless(variants: Iterable[dict[str, Any]]) -> bool:
    return any(variant.get("ServerlessConfig") for variant in variants)


@_rule(SageMakerResponse, "update_endpoint")
def _update_to_a_new_config(response: SageMakerResponse, params: Params) -> None:
    """UpdateEndpoint (API reference): "To update an endpoint, you must create a new EndpointConfig.";
    the Serverless Inference guide: "You cannot convert your instance-based, real-time endpoint to a
    serverless endpoint. If you try to update your real-time endpoint to serverless, you receive a
    ValidationError message."; ``ExcludeRetainedVariantProperties``: "When you are updating endpoint
    resources with RetainAllVariantProperties, whose value is set to true,
    ExcludeRetainedVariantProperties specifies the list of type VariantProperty to override"
    (inferred: without RetainAllVariantProperties it is refused)."""
    if params.get("ExcludeRetainedVariantProperties") and not params.get("RetainAllVariantProperties"):
        raise ValidationError(
            message="ExcludeRetainedVariantProperties can only be given with RetainAllVariantProperties=true."
        )
    backend = response.sagemaker_backend
    endpoint = backend.endpoints.get(params.get("EndpointName", ""))
    new_config = backend.endpoint_configs.get(params.get("EndpointConfigName", ""))
    if endpoint is None or new_config is None or endpoint.endpoint_status not in UPDATABLE_STATUSES:
        return  # moto answers that it does not exist, or that the endpoint cannot be updated now
    if endpoint.endpoint_config_name == new_config.endpoint_config_name:
        raise ValidationError(
            message=f"Endpoint {endpoint.endpoint_name} already uses endpoint config "
            f"{new_config.endpoint_config_name}; to update an endpoint, create a new endpoint config."
        )
    current = backend.endpoint_configs.get(endpoint.endpoint_config_name)
    if (
        current is not None
        and not _is_serverless(current.production_variants)
        and _is_serverless(new_config.production_variants)
    ):
        raise ValidationError(
            message=f"Endpoint {endpoint.endpoint_name} is instance-based and cannot be updated to the "
            f"serverless endpoint config {new_config.endpoint_config_name}; delete the endpoint and "
            "create it again with that config."
        )


MAX_ADDITIONAL_INFERENCE_SPECIFICATIONS = 15


@_rule(SageMakerResponse, "update_model_package")
def _only_versions_are_updated(response: SageMakerResponse, params: Params) -> None:
    """UpdateModelPackage (API reference): "Updates a versioned model."; and
    ``AdditionalInferenceSpecificationsToAdd``: "Total number of additional Inference Specifications
    can not exceed 15." """
    backend = response.sagemaker_backend
    try:
        package = backend.describe_model_package(str(params.get("ModelPackageArn") or ""))
    except ValidationError:
        return  # moto answers that it does not exist
    if not package.model_package_group_name:
        raise ValidationError(
            message=f"Model package {package.arn} is not versioned (it is in no model package group); "
            "UpdateModelPackage updates versioned model packages only."
        )
    added = params.get("AdditionalInferenceSpecificationsToAdd") or []
    total = len(package.additional_inference_specifications or []) + len(added)
    if added and total > MAX_ADDITIONAL_INFERENCE_SPECIFICATIONS:
        raise ValidationError(
            message=f"Model package {package.arn} would have {total} additional inference specifications; "
            f"the total can not exceed {MAX_ADDITIONAL_INFERENCE_SPECIFICATIONS}."
        )


# ----------------------------------------------------------------------------------- List filters

LIST_ENDPOINTS_DEFAULT_MAX_RESULTS = 10  # ListEndpoints, MaxResults: "This value defaults to 10."
LIST_MAX_RESULTS = 100


def _as_time(value: Any) -> datetime | None:
    """A timestamp parameter as the JSON protocol sends it (seconds since the epoch)."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return datetime.fromisoformat(str(value))


def _aware(time: datetime) -> datetime:
    return time if time.tzinfo else time.replace(tzinfo=UTC)


def _list_models_response(response: SageMakerResponse) -> ActionResult:
    """ListModels (moto lists every model, ignoring every parameter): ``NameContains`` "returns only
    models whose name contains the specified string"; ``CreationTimeAfter`` "a creation time greater
    than or equal to the specified time"; ``SortBy`` "The default is CreationTime", ``SortOrder``
    "The default is Descending"; paged by ``MaxResults`` (1-100) and ``NextToken``."""
    params = _params(response)
    contains = params.get("NameContains")
    before, after = _as_time(params.get("CreationTimeBefore")), _as_time(params.get("CreationTimeAfter"))
    models = [
        model
        for model in response.sagemaker_backend._models.values()
        if (not contains or contains in model.model_name)
        and (before is None or _aware(model.creation_time) < before)
        and (after is None or _aware(model.creation_time) >= after)
    ]
    if params.get("SortBy") == "Name":
        models.sort(key=lambda model: model.model_name)
    else:
        models.sort(key=lambda model: (_aware(model.creation_time), model.model_name))
    if params.get("SortOrder", "Descending") == "Descending":
        models.reverse()
    start = int(params.get("NextToken") or 0)
    end = start + int(params.get("MaxResults") or LIST_MAX_RESULTS)
    page: dict[str, Any] = {
        "Models": [
            {"ModelName": model.model_name, "ModelArn": model.arn, "CreationTime": model.creation_time}
            for model in models[start:end]
        ]
    }
    if end < len(models):
        page["NextToken"] = str(end)
    return ActionResult(page)


def _newest_first_by_default(list_page: Callable[..., Any], default_max_results: int | None = None) -> Any:
    """ListEndpoints and ListEndpointConfigs, ``SortOrder`` (API reference): "The default is
    Descending." (moto sorts ascending unless told otherwise)."""

    @functools.wraps(list_page)
    def list_newest_first(backend: SageMakerModelBackend, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("sort_order") is None:
            kwargs["sort_order"] = "Descending"
        if default_max_results is not None and kwargs.get("max_results") is None:
            kwargs["max_results"] = default_max_results
        return list_page(backend, *args, **kwargs)

    return list_newest_first


def _creating_models_with_isolation(create: Callable[[SageMakerResponse], Any]) -> Callable[..., Any]:
    """CreateModel keeps ``EnableNetworkIsolation`` (moto drops it and DescribeModel shows False), so
    the serverless rule can see it."""

    @functools.wraps(create)
    def create_model(response: SageMakerResponse) -> Any:
        result = create(response)
        model = response.sagemaker_backend._models.get(response._get_param("ModelName"))
        if model is not None:
            model.enable_network_isolation = bool(response._get_param("EnableNetworkIsolation"))
        return result

    return create_model


def _fill_list_filters() -> None:
    SageMakerResponse.list_models = _list_models_response  # type: ignore[method-assign,assignment]
    SageMakerModelBackend.list_endpoints = _newest_first_by_default(  # type: ignore[method-assign]
        SageMakerModelBackend.list_endpoints, LIST_ENDPOINTS_DEFAULT_MAX_RESULTS
    )
    SageMakerModelBackend.list_endpoint_configs = _newest_first_by_default(  # type: ignore[method-assign]
        SageMakerModelBackend.list_endpoint_configs
    )


# ----------------------------------------------------------------------------------------------- S3

COPY_OBJECT_MAX_BYTES = 5 * 1024**3


def _limiting_copy_size(copy: Callable[..., None]) -> Callable[..., None]:
    """CopyObject (API reference): "You can store individual objects of up to 5 TB in Amazon S3. You
    create a copy of your object up to 5 GB in size in a single atomic action using this API. However,
    to copy an object greater than 5 GB, you must use the multipart upload Upload Part - Copy
    (UploadPartCopy) API." """

    @functools.wraps(copy)
    def copy_object(backend: S3Backend, src_key: FakeKey, *args: Any, **kwargs: Any) -> None:
        if src_key.size > COPY_OBJECT_MAX_BYTES:
            raise S3ClientError(
                "InvalidRequest",
                "The specified copy source is larger than the maximum allowable size for a copy source: "
                f"{COPY_OBJECT_MAX_BYTES}",
            )
        copy(backend, src_key, *args, **kwargs)

    return copy_object


# ---------------------------------------------------------------------------------------- EventBridge

PUT_EVENTS_MAX_BYTES = 1024 * 1024
PUT_EVENTS_TIME_BYTES = 14


def put_events_entry_size(entry: dict[str, Any]) -> int:
    """An entry's size as EventBridge counts it (User Guide, "Calculating PutEvents event entry
    size"): "If specified, the Time parameter is 14 bytes. The Source and DetailType parameters are
    the number of bytes for their UTF-8 encoded forms. If specified, the Detail parameter is the
    number of bytes for its UTF-8 encoded form. If specified, each entry of the Resources parameter is
    the number of bytes for its UTF-8 encoded forms." """
    size = PUT_EVENTS_TIME_BYTES if entry.get("Time") is not None else 0
    for field in ("Source", "DetailType", "Detail"):
        size += len(str(entry.get(field) or "").encode())
    return size + sum(len(str(resource).encode()) for resource in entry.get("Resources") or [])


@_rule(EventsHandler, "put_events")
def _put_events_limits(response: EventsHandler, params: Params) -> None:
    """PutEvents (API reference): "You can batch multiple event entries into one request for
    efficiency. However, the total entry size must be less than 1MB." (AWS answers ValidationException
    "Total size of the entries in the request is over the limit."); and for Source, DetailType and
    Detail: "If you submit a request in which none of the entries have each of these properties,
    EventBridge fails the entire request." """
    entries = params.get("Entries") or []
    if sum(put_events_entry_size(entry) for entry in entries) >= PUT_EVENTS_MAX_BYTES:
        raise EventsValidationException("Total size of the entries in the request is over the limit.")
    if entries and not any(
        all(entry.get(f) for f in ("Source", "DetailType", "Detail")) for entry in entries
    ):
        raise EventsValidationException(
            "No entry in the request has Source, DetailType and Detail: EventBridge fails the entire request."
        )


_OBJECT_KEY_PLACEHOLDER = re.compile(r"[{,]\s*<[A-Za-z0-9_.-]+>\s*:")


@_rule(EventsHandler, "put_targets")
def _input_transformer_syntax(response: EventsHandler, params: Params) -> None:
    """PutTargets, InputTransformer (API reference): InputPathsMap: "each value is a valid JSON path
    [...] You must use JSON dot notation, not bracket notation"; InputTemplate: "If InputTemplate is a
    JSON object (surrounded by curly braces), the following restrictions apply: The placeholder cannot
    be used as an object key." (The error AWS gives is inferred: ValidationException.)"""
    for target in params.get("Targets") or []:
        transformer = target.get("InputTransformer") or {}
        for key, path in (transformer.get("InputPathsMap") or {}).items():
            if "[" in str(path) or not str(path).startswith("$"):
                raise EventsValidationException(
                    f"InputPathsMap {key}: {path} is not a JSON path in dot notation (brackets are refused)."
                )
        template = str(transformer.get("InputTemplate") or "")
        if template.lstrip().startswith("{") and _OBJECT_KEY_PLACEHOLDER.search(template):
            raise EventsValidationException(
                "InputTemplate: a placeholder cannot be used as an object key of a JSON template."
            )


# -------------------------------------------------------------------------------- Application Auto Scaling


@_rule(ApplicationAutoScalingResponse, "register_scalable_target")
def _capacity_range(response: ApplicationAutoScalingResponse, params: Params) -> None:
    """RegisterScalableTarget (API reference): "When you register a new scalable target, you must
    specify values for the minimum and maximum capacity." A minimum above the maximum is no range
    (inferred from MinCapacity, "The minimum value that you plan to scale in to", and MaxCapacity,
    "The maximum value that you plan to scale out to")."""
    minimum, maximum = params.get("MinCapacity"), params.get("MaxCapacity")
    backend = response.applicationautoscaling_backend
    exists = params.get("ResourceId") in backend.targets.get(params.get("ScalableDimension", ""), {})
    if not exists and (minimum is None or maximum is None):
        raise AWSValidationException(
            "MinCapacity and MaxCapacity are required to register a new scalable target."
        )
    if minimum is not None and maximum is not None and minimum > maximum:
        raise AWSValidationException(
            f"Minimum capacity ({minimum}) cannot be greater than maximum capacity ({maximum})."
        )


@_rule(ApplicationAutoScalingResponse, "register_scalable_target")
def _only_async_variants_scale_to_zero(response: ApplicationAutoScalingResponse, params: Params) -> None:
    """Developer guide, "Autoscale an asynchronous endpoint": "Unlike other hosted models Amazon
    SageMaker AI supports, with Asynchronous Inference you can also scale down your asynchronous
    endpoints instances to zero." (inferred: RegisterScalableTarget refuses MinCapacity 0 for the variant
    of an endpoint that is not asynchronous.)"""
    resource = str(params.get("ResourceId") or "")
    if params.get("ServiceNamespace") != "sagemaker" or params.get("MinCapacity") != 0:
        return
    if not resource.startswith("endpoint/"):
        return
    sagemaker = sagemaker_backends[response.current_account][response.region]
    endpoint = sagemaker.endpoints.get(resource.split("/")[1])
    config = sagemaker.endpoint_configs.get(endpoint.endpoint_config_name) if endpoint else None
    if config is not None and not getattr(config, "async_inference_config", None):
        raise AWSValidationException(
            f"MinCapacity 0 is not supported for {resource}: only asynchronous inference endpoints scale "
            "to zero instances."
        )


# ------------------------------------------------------------------------------- EventBridge Scheduler

_AT_EXPRESSION = re.compile(r"^at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\)$")
# Templated targets by the ARN they name (Scheduler User Guide, "Using templated targets").
_JSON_INPUT_TARGETS = re.compile(
    r"^arn:aws[a-z-]*:(events|lambda|states):[a-z0-9-]+:\d{12}:(event-bus|function|stateMachine)[/:]"
)


@_rule(EventBridgeSchedulerResponse, "create_schedule")
@_rule(EventBridgeSchedulerResponse, "update_schedule")
def _schedule_expression_and_input(response: EventBridgeSchedulerResponse, params: Params) -> None:
    """CreateSchedule (API reference): ``ScheduleExpression``: "at expression - at(yyyy-mm-ddThh:mm:ss)";
    ``Target.Input``: "If you are configuring a templated Lambda, AWS Step Functions, or Amazon
    EventBridge target, the input must be a well-formed JSON." """
    expression = str(params.get("ScheduleExpression") or "")
    if expression.startswith("at(") and not _AT_EXPRESSION.match(expression):
        raise SchedulerValidationException(f"Invalid Schedule Expression {expression}.")
    target = params.get("Target") or {}
    if _JSON_INPUT_TARGETS.match(str(target.get("Arn") or "")) and "Input" in target:
        try:
            json.loads(str(target["Input"]))
        except ValueError:
            raise SchedulerValidationException(
                "Invalid request provided: Input for a templated target must be a well-formed JSON."
            ) from None


# ------------------------------------------------------------------------------------------ CodeCommit


@_rule(CodeCommitResponse, "create_repository")
def _no_git_suffix(response: CodeCommitResponse, params: Params) -> None:
    """CreateRepository, ``repositoryName`` (API reference): "The suffix .git is prohibited." """
    if str(params.get("repositoryName") or "").endswith(".git"):
        raise InvalidRepositoryNameException()


# ------------------------------------------------------------------------------------------ CloudWatch

_METRIC_ALARM_SINGLE_METRIC = ("Namespace", "MetricName", "Dimensions", "Period", "Unit", "Statistic")


@_rule(CloudWatchResponse, "put_metric_alarm")
def _one_statistic_of_one_kind(response: CloudWatchResponse, params: Params) -> None:
    """PutMetricAlarm (API reference): ``Statistic``: "When you call PutMetricAlarm and specify a
    MetricName, you must specify either Statistic or ExtendedStatistic, but not both." ``Metrics``:
    "If you use the Metrics parameter, you cannot include the Namespace, MetricName, Dimensions,
    Period, Unit, Statistic, or ExtendedStatistic parameters of PutMetricAlarm in the same
    operation." ``Period``: "Valid values are 10, 20, 30, and any multiple of 60." (CloudWatch's
    query protocol: the request is read with the response's own parser.)"""
    given = {
        name
        for name in (*_METRIC_ALARM_SINGLE_METRIC, "ExtendedStatistic", "Metrics")
        if response._get_param(name)
    }
    if "Metrics" in given and given & {*_METRIC_ALARM_SINGLE_METRIC, "ExtendedStatistic"}:
        raise InvalidParameterCombination(
            "The parameters MetricName, Namespace, Dimensions, Period, Unit, Statistic and "
            "ExtendedStatistic cannot be used with Metrics."
        )
    if "MetricName" in given and len(given & {"Statistic", "ExtendedStatistic"}) != 1:
        raise InvalidParameterCombination("Exactly one of Statistic or ExtendedStatistic must be specified.")
    period = response._get_param("Period")
    if period is not None and not (int(period) in (10, 20, 30) or int(period) % 60 == 0):
        raise InvalidParameterValue(
            f"The parameter Period must be 10, 20, 30 or a multiple of 60, not {period}."
        )


@_rule(CloudWatchResponse, "delete_alarms")
def _at_most_100_alarms_deleted(response: CloudWatchResponse, params: Params) -> None:
    """DeleteAlarms (API reference): "You can delete up to 100 alarms in one operation." """
    names = response._get_param("AlarmNames") or []
    if len(names) > 100:
        raise InvalidParameterValue(
            f"The parameter AlarmNames has {len(names)} members; at most 100 alarms are deleted at once."
        )
