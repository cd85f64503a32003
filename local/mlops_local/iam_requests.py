"""From an AWS API request to what IAM authorizes: actions, resource ARNs and the request context.

    call = parse_request(environ, body, service="sagemaker", region="us-east-1", account="123456789012")
    for request in authorizations(call, MotoResources(account, region)):
        evaluate(policies, request)

The operation and its parameters come from moto's botocore-model-based request routers and parsers
(`moto.core.routing`, `moto.core.parse`), the same ones moto uses to serve the request. An operation is
authorized as the IAM action of the same name in the service's prefix, confirmed by the Service
Authorization Reference (`iam_dataset`); the few that differ are in OPERATION_ACTIONS. Each resource
type the reference lists for the action becomes an ARN when the request names it (its ARN template
filled from the request's parameters; a parameter that already holds an ARN of that type is used as
is). The reference's dependent actions, and the EXTRA_REQUIREMENTS that AWS documents elsewhere, are
authorized too. A call that cannot be mapped raises UnmappedCallError: it is never allowed by default.
The tables' sources are in docs/local-cloud.md.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from moto.core.parse import PROTOCOL_PARSERS
from moto.core.request import Request, determine_request_protocol
from moto.core.routing import get_service_router

from mlops_local import iam_dataset
from mlops_local.iam_policies import AuthorizationRequest, ContextValue

# The signing name of a request (its SigV4 credential scope) → the botocore service that serves it.
SERVICES_BY_SIGNING_NAME = {"monitoring": "cloudwatch"}
# A botocore service → its IAM prefix, where the two differ.
IAM_PREFIXES = {"sagemaker-runtime": "sagemaker"}

# Operations whose IAM action is not the action of the same name (see docs/local-cloud.md for the AWS
# page each comes from): (service, operation) → the IAM action names, in the service's prefix.
OPERATION_ACTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("s3", "HeadObject"): ("GetObject",),
    ("s3", "HeadBucket"): ("ListBucket",),
    ("s3", "ListObjects"): ("ListBucket",),
    ("s3", "ListObjectsV2"): ("ListBucket",),
    ("s3", "ListObjectVersions"): ("ListBucketVersions",),
    ("s3", "DeleteObjects"): ("DeleteObject",),
    ("s3", "CreateMultipartUpload"): ("PutObject",),
    ("s3", "UploadPart"): ("PutObject",),
    ("s3", "CompleteMultipartUpload"): ("PutObject",),
    ("s3", "CopyObject"): ("PutObject",),  # and s3:GetObject on the source: _copy_source_requests
    ("s3", "UploadPartCopy"): ("PutObject",),  # likewise
    ("sagemaker-runtime", "InvokeEndpoint"): ("InvokeEndpoint",),
    ("sagemaker-runtime", "InvokeEndpointAsync"): ("InvokeEndpointAsync",),
    # Service Authorization Reference, AWS Lambda: lambda:InvokeFunction "grants permission to invoke
    # a function" (the Invoke API).
    ("lambda", "Invoke"): ("InvokeFunction",),
}
# Reading a given version of an object needs the *Version action (S3 User Guide, "Amazon S3 actions").
VERSIONED_S3_ACTIONS = {"GetObject": "GetObjectVersion", "GetObjectTagging": "GetObjectVersionTagging"}
COPY_SOURCE_OPERATIONS = {"CopyObject", "UploadPartCopy"}
# Reads of an object that answer 404 for a missing object only with s3:ListBucket on its bucket.
OBJECT_READ_OPERATIONS = {"GetObject", "HeadObject"}

# Request parameters that fill an ARN template's placeholder, where the names differ.
PLACEHOLDER_PARAMETERS: dict[tuple[str, str], str] = {
    ("s3", "BucketName"): "Bucket",
    ("s3", "ObjectName"): "Key",
    ("sagemaker", "DataQualityJobDefinitionName"): "JobDefinitionName",
    ("scheduler", "ScheduleName"): "Name",
}
# Parameters naming a role that the service is given (iam:PassRole with iam:PassedToService).
PASSED_ROLE_PARAMETERS = ("ExecutionRoleArn", "RoleArn")
# The request's tags, by the parameter each service keeps them in (a list of Key/Value or a map).
TAG_PARAMETERS = ("Tags", "tags")

# Application Auto Scaling's user guide ("Permissions required for API actions on target services and
# CloudWatch", SageMaker endpoints) lists what a caller needs on SageMaker and CloudWatch besides the
# application-autoscaling action; the split per call is inferred from what each call does.
AUTOSCALING_SAGEMAKER_REQUIREMENTS: dict[str, tuple[str, ...]] = {
    "RegisterScalableTarget": (
        "sagemaker:DescribeEndpoint",
        "sagemaker:DescribeEndpointConfig",
        "sagemaker:UpdateEndpointWeightsAndCapacities",
    ),
    "PutScalingPolicy": ("cloudwatch:DescribeAlarms", "cloudwatch:PutMetricAlarm"),
    "DeleteScalingPolicy": ("cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms"),
    "DeregisterScalableTarget": ("cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms"),
}


class UnmappedCallError(Exception):
    """The call's actions or resources cannot be determined: it is denied (and recorded)."""


@dataclass(frozen=True)
class ApiCall:
    service: str  # botocore's name, e.g. "sagemaker", "cloudwatch", "s3"
    operation: str  # e.g. "CreateEndpoint"
    params: dict[str, Any]
    region: str
    account: str  # the caller's
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def iam_prefix(self) -> str:
        return IAM_PREFIXES.get(self.service, self.service)


class Resources:
    """What the authorization needs to know of existing resources (their tags, a secret's full ARN...):
    MotoResources reads them from the embedded AWS's backends in-process."""

    def tags(self, arn: str) -> dict[str, str] | None:
        """The resource's current tags; None if it does not exist (or its tags cannot be known)."""
        return None

    def secret_arn(self, secret_id: str) -> str | None:
        return None

    def scalable_target_arn(self, namespace: str, resource_id: str, dimension: str) -> str | None:
        return None

    def next_model_package_arn(self, group: str) -> str | None:
        return None

    def partition_key(self, table_arn: str) -> str | None:
        return None

    def bucket_account(self, bucket: str) -> str | None:
        return None

    def object_tags(self, bucket: str, key: str) -> dict[str, str] | None:
        return None

    def object_exists(self, bucket: str, key: str) -> bool | None:
        """Whether the object exists; None when that cannot be known."""
        return None

    def role(self, name: str) -> tuple[str, str | None] | None:
        """An IAM role's path and permissions boundary ARN; None if there is no such role."""
        return None


# --------------------------------------------------------------------------------------------- parsing


def service_of_signing_name(signing_name: str) -> str:
    return SERVICES_BY_SIGNING_NAME.get(signing_name, signing_name)


def parse_request(
    environ: Mapping[str, Any], body: bytes, *, service: str, region: str, account: str
) -> ApiCall:
    """The operation and parameters of a request to the embedded AWS, as moto itself parses them."""
    copy = dict(environ)
    copy["wsgi.input"] = io.BytesIO(body)
    request = Request(copy)
    try:
        operation, uri_params = get_service_router(service).match(request)
        protocol = determine_request_protocol(operation.service_model, request.content_type)
        parser = PROTOCOL_PARSERS[protocol](operation)
        parsed = parser.parse(
            {
                "method": request.method,
                "values": request.values,
                "headers": request.headers,
                "body": b"" if service == "s3" else request.get_data(),
                "url_path": request.path,
                "url_params": uri_params,
            }
        )
    except Exception as error:
        raise UnmappedCallError(
            f"the request could not be parsed ({type(error).__name__}: {error})"
        ) from None
    headers = {name.lower(): value for name, value in request.headers.items()}
    return ApiCall(service, operation.name, dict(parsed), region, account, headers)


# ------------------------------------------------------------------------------------- authorization


def authorizations(
    call: ApiCall, resources: Resources, principal_context: Mapping[str, ContextValue]
) -> list[AuthorizationRequest]:
    """Every (action, resource, context) that IAM must allow for `call` to be allowed."""
    names = OPERATION_ACTIONS.get((call.service, call.operation), (call.operation,))
    requests: list[AuthorizationRequest] = []
    for name in names:
        action = VERSIONED_S3_ACTIONS.get(name, name) if call.params.get("VersionId") else name
        requests.extend(_action_requests(call, call.iam_prefix, action, resources, principal_context))
    if call.service == "s3" and call.operation in COPY_SOURCE_OPERATIONS:
        requests.extend(_copy_source_requests(call, resources, principal_context))
    if call.service == "s3" and call.operation in OBJECT_READ_OPERATIONS:
        requests.extend(_missing_object_requests(call, resources, principal_context))
    requests.extend(_extra_requirements(call, resources, principal_context))
    return requests


def _action_requests(
    call: ApiCall, prefix: str, name: str, resources: Resources, principal_context: Mapping[str, ContextValue]
) -> list[AuthorizationRequest]:
    definition = iam_dataset.action(prefix, name)
    if definition is None:
        raise UnmappedCallError(f"the Service Authorization Reference has no action {prefix}:{name}")
    request_context = {**principal_context, **_request_context(call)}
    arns = _resource_arns(call, definition, resources)
    requests = []
    for arn, resource_type in arns:
        context = {**request_context, **_resource_context(call, arn, resource_type, resources)}
        requests.append(AuthorizationRequest(definition.iam_action, arn, context))
        for dependent in _dependent_actions(definition, resource_type):
            requests.extend(_dependent_requests(call, dependent, arn, context))
    return requests


def _resource_arns(
    call: ApiCall, definition: iam_dataset.ActionDefinition, resources: Resources
) -> list[tuple[str, str]]:
    """(ARN, resource type) of each resource of the action that the request names; ("*", "") for an
    action without resource types, or whose resource types are all optional and named by none."""
    typed = [use for use in definition.resource_types if use.name]
    if not typed:
        return [("*", "")]
    found: list[tuple[str, str]] = []
    missing_required = []
    for use in typed:
        arns = _arns_of_type(call, definition, use, resources)
        if arns:
            found.extend((arn, use.name) for arn in arns if (arn, use.name) not in found)
        elif use.required:
            missing_required.append(use.name)
    if missing_required:
        raise UnmappedCallError(
            f"{definition.iam_action} needs a {', '.join(missing_required)} ARN and the request names none"
        )
    return found or [("*", "")]


def _arns_of_type(
    call: ApiCall,
    definition: iam_dataset.ActionDefinition,
    use: iam_dataset.ResourceTypeUse,
    resources: Resources,
) -> list[str]:
    special = _SPECIAL_RESOURCES.get((definition.service, use.name))
    if special is not None:
        return special(call, resources)
    pattern = _arn_pattern(use.arn_format)
    arns = [
        value
        for value in call.params.values()
        if isinstance(value, str) and value.startswith("arn:") and pattern.fullmatch(value)
    ]
    if arns:
        return arns
    filled = _fill(use.arn_format, call, definition.service)
    return [filled] if filled is not None else []


@functools.cache
def _arn_pattern(arn_format: str) -> re.Pattern[str]:
    parts = re.split(r"(\$\{[^}]+\})", arn_format)
    regex = ""
    for part in parts:
        if part in ("${Partition}", "${Region}", "${Account}"):
            regex += "[^:]*"
        elif part.startswith("${"):
            regex += ".+"
        else:
            regex += re.escape(part)
    return re.compile(regex)


_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


def _fill(arn_format: str, call: ApiCall, service: str) -> str | None:
    """The ARN template filled from the request's parameters; None if one has no value."""
    lowered = {name.lower(): value for name, value in call.params.items()}
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        name = match.group(1)
        if name == "Partition":
            return _partition(call.region)
        if name == "Region":
            return call.region
        if name == "Account":
            return call.account
        parameter = PLACEHOLDER_PARAMETERS.get((service, name), name)
        found = lowered.get(parameter.lower())
        if not isinstance(found, str) or not found:
            missing = True
            return ""
        return found

    filled = _PLACEHOLDER.sub(value, arn_format)
    return None if missing else filled


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _arn(call: ApiCall, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
    return (
        f"arn:{_partition(call.region)}:{service}:{call.region if region else ''}:"
        f"{call.account if account else ''}:{resource}"
    )


# Resource types whose ARN is not a template filled from the request.


def _secret_arns(call: ApiCall, resources: Resources) -> list[str]:
    secret_id = call.params.get("SecretId")
    if not isinstance(secret_id, str):
        return []
    resolved = resources.secret_arn(secret_id)
    if resolved is not None:
        return [resolved]
    return [
        secret_id if secret_id.startswith("arn:") else _arn(call, "secretsmanager", f"secret:{secret_id}")
    ]


NEW_SCALABLE_TARGET_ID = "new-target"  # stands for the id AWS gives a target it registers now


def _scalable_target_arns(call: ApiCall, resources: Resources) -> list[str]:
    namespace, resource_id, dimension = (
        call.params.get("ServiceNamespace"),
        call.params.get("ResourceId"),
        call.params.get("ScalableDimension"),
    )
    if not (isinstance(namespace, str) and isinstance(resource_id, str) and isinstance(dimension, str)):
        return []
    arn = resources.scalable_target_arn(namespace, resource_id, dimension)
    if arn is None and call.operation == "RegisterScalableTarget":
        # Registered now: AWS gives the new target an ARN with an opaque id of its own, which no
        # policy can name in advance; a statement on `scalable-target/*` matches it, one naming
        # another target's ARN does not (inferred: the Service Authorization Reference requires the
        # scalable-target resource type for RegisterScalableTarget, new targets included).
        return [_arn(call, "application-autoscaling", f"scalable-target/{NEW_SCALABLE_TARGET_ID}")]
    if arn is None:
        raise UnmappedCallError(
            f"no scalable target {namespace} {resource_id} {dimension}: its ARN is unknown"
        )
    return [arn]


def _event_bus_arns(call: ApiCall, resources: Resources) -> list[str]:
    if call.operation == "PutEvents":
        names = [entry.get("EventBusName") or "default" for entry in call.params.get("Entries", [])]
    else:
        name = call.params.get("EventBusName") or call.params.get("Name")
        names = [name] if isinstance(name, str) else []
    arns = []
    for name in names:
        arn = name if name.startswith("arn:") else _arn(call, "events", f"event-bus/{name}")
        if arn not in arns:
            arns.append(arn)
    return arns


def _rule_arns(custom_bus: bool) -> Callable[[ApiCall, Resources], list[str]]:
    """An EventBridge rule, named by ``Name`` (PutRule, DescribeRule, DeleteRule) or ``Rule`` (the
    targets' calls), on the default bus (``rule/{name}``) or another (``rule/{bus}/{name}``): the
    Service Authorization Reference's two resource types, of which a request names one."""

    def arns(call: ApiCall, resources: Resources) -> list[str]:
        given = [
            value
            for value in call.params.values()
            if isinstance(value, str) and value.startswith("arn:") and ":rule/" in value
        ]
        if given:  # a rule's ARN (ListTagsForResource's ResourceARN...): rule/{name} or rule/{bus}/{name}
            return [arn for arn in given if (arn.split(":rule/", 1)[1].count("/") == 1) == custom_bus]
        name = call.params.get("Rule") or call.params.get("Name")
        if not isinstance(name, str):
            return []
        bus = str(call.params.get("EventBusName") or "default")
        bus = bus.rsplit("/", 1)[-1] if bus.startswith("arn:") else bus
        if (bus != "default") != custom_bus:
            return []
        return [_arn(call, "events", f"rule/{bus}/{name}" if custom_bus else f"rule/{name}")]

    return arns


def _model_package_arns(call: ApiCall, resources: Resources) -> list[str]:
    if call.operation == "CreateModelPackage":
        group = call.params.get("ModelPackageGroupName")
        if isinstance(group, str):
            arn = resources.next_model_package_arn(group)
            return [arn] if arn is not None else []
        name = call.params.get("ModelPackageName")
        return [_arn(call, "sagemaker", f"model-package/{name}")] if isinstance(name, str) else []
    arns = []
    for parameter in ("ModelPackageArn", "ModelPackageName"):
        value = call.params.get(parameter)
        if isinstance(value, str):
            arns.append(
                value if value.startswith("arn:") else _arn(call, "sagemaker", f"model-package/{value}")
            )
    return arns


def _model_package_group_arns(call: ApiCall, resources: Resources) -> list[str]:
    value = call.params.get("ModelPackageGroupName")
    if not isinstance(value, str):
        arn = call.params.get("ResourceArn")  # AddTags, ListTags...
        return [arn] if isinstance(arn, str) and ":model-package-group/" in arn else []
    return [value if value.startswith("arn:") else _arn(call, "sagemaker", f"model-package-group/{value}")]


def _alarm_arns(call: ApiCall, resources: Resources) -> list[str]:
    names = call.params.get("AlarmNames")
    if names is None and isinstance(call.params.get("AlarmName"), str):
        names = [call.params["AlarmName"]]
    if names:
        return [_arn(call, "cloudwatch", f"alarm:{name}") for name in names]
    arn = call.params.get("ResourceARN")  # TagResource, ListTagsForResource
    if isinstance(arn, str) and ":alarm:" in arn:
        return [arn]
    if call.operation == "DescribeAlarms":
        # Named by none (every alarm, or a prefix): the alarms it may return (inferred).
        prefix = call.params.get("AlarmNamePrefix") or ""
        return [_arn(call, "cloudwatch", f"alarm:{prefix}*")]
    return []


def _kms_key_arns(call: ApiCall, resources: Resources) -> list[str]:
    key = call.params.get("KeyId")
    if not isinstance(key, str):
        return []
    return [key if key.startswith("arn:") else _arn(call, "kms", f"key/{key}")]


def _role_arns(call: ApiCall, resources: Resources) -> list[str]:
    """An IAM role's ARN holds its path (``role/{path}{name}``): the request's ``Path`` for a role it
    creates, the existing role's otherwise (the root path for one that does not exist)."""
    name = call.params.get("RoleName")
    if not isinstance(name, str):
        return []
    if call.operation == "CreateRole":
        path = call.params.get("Path") or "/"
    else:
        existing = resources.role(name)
        path = existing[0] if existing is not None else "/"
    return [f"arn:{_partition(call.region)}:iam::{call.account}:role{path}{name}"]


_SPECIAL_RESOURCES: dict[tuple[str, str], Callable[[ApiCall, Resources], list[str]]] = {
    ("secretsmanager", "Secret"): _secret_arns,
    ("application-autoscaling", "ScalableTarget"): _scalable_target_arns,
    ("events", "event-bus"): _event_bus_arns,
    ("events", "rule-on-default-event-bus"): _rule_arns(custom_bus=False),
    ("events", "rule-on-custom-event-bus"): _rule_arns(custom_bus=True),
    ("sagemaker", "model-package"): _model_package_arns,
    ("sagemaker", "model-package-group"): _model_package_group_arns,
    ("cloudwatch", "alarm"): _alarm_arns,
    ("kms", "key"): _kms_key_arns,
    ("iam", "role"): _role_arns,
}


# ------------------------------------------------------------------------------------------ context


def request_tags(params: Mapping[str, Any]) -> dict[str, str] | None:
    """The tags a request sets, in any service's shape; None if it sets none."""
    for name in TAG_PARAMETERS:
        tags = params.get(name)
        if isinstance(tags, Mapping):
            return {str(key): str(value) for key, value in tags.items()}
        if isinstance(tags, list):
            return {str(tag.get("Key")): str(tag.get("Value", "")) for tag in tags}
    return None


def _request_context(call: ApiCall) -> dict[str, ContextValue]:
    context: dict[str, ContextValue] = {"aws:RequestedRegion": call.region}
    tags = request_tags(call.params)
    if call.service == "s3" and call.headers.get("x-amz-tagging"):
        tags = dict(parse_qsl(call.headers["x-amz-tagging"]))
    if tags is not None:
        context.update({f"aws:RequestTag/{key}": value for key, value in tags.items()})
        context["aws:TagKeys"] = list(tags)
    if call.service == "application-autoscaling":
        for parameter, key in (
            ("ServiceNamespace", "application-autoscaling:service-namespace"),
            ("ScalableDimension", "application-autoscaling:scalable-dimension"),
        ):
            if isinstance(call.params.get(parameter), str):
                context[key] = call.params[parameter]
    if call.service == "secretsmanager" and isinstance(call.params.get("SecretId"), str):
        context["secretsmanager:SecretId"] = call.params["SecretId"]
    if call.service == "sagemaker" and isinstance(call.params.get("ModelApprovalStatus"), str):
        context["sagemaker:ModelApprovalStatus"] = call.params["ModelApprovalStatus"]
    if call.service == "events" and call.operation == "PutEvents":
        # The Service Authorization Reference lists events:source and events:detail-type for PutEvents;
        # a request whose entries differ in one of them gets no value for it, so a condition on it
        # fails (inferred: AWS's own evaluation of a mixed request is not documented).
        entries = call.params.get("Entries") or []
        for parameter, key in (("Source", "events:source"), ("DetailType", "events:detail-type")):
            values = {entry.get(parameter) for entry in entries}
            if len(values) == 1 and isinstance(next(iter(values)), str):
                context[key] = next(iter(values))
    if call.service == "events" and call.operation == "PutTargets":
        # The Service Authorization Reference lists events:TargetArn for PutTargets, a multi-valued key
        # (ArrayOfARN): the ARN of each target the request puts.
        context["events:TargetArn"] = [
            str(target["Arn"]) for target in call.params.get("Targets") or [] if target.get("Arn")
        ]
    if call.service == "s3" and isinstance(call.params.get("Prefix"), str):
        # S3 User Guide, "Condition key examples": s3:prefix is the listing's Prefix parameter.
        context["s3:prefix"] = call.params["Prefix"]
    if call.service == "iam":
        # IAM User Guide, "IAM condition context keys": iam:PolicyARN is the managed policy a request
        # attaches or detaches; iam:PermissionsBoundary the boundary a CreateRole sets (an existing
        # role's is added with the role: _resource_context).
        if isinstance(call.params.get("PolicyArn"), str):
            context["iam:PolicyARN"] = call.params["PolicyArn"]
        if call.operation == "CreateRole" and isinstance(call.params.get("PermissionsBoundary"), str):
            context["iam:PermissionsBoundary"] = call.params["PermissionsBoundary"]
    return context


def _resource_context(
    call: ApiCall, arn: str, resource_type: str, resources: Resources
) -> dict[str, ContextValue]:
    if arn == "*":
        return {}
    context: dict[str, ContextValue] = {}
    account = arn.split(":")[4] if arn.count(":") >= 5 else ""
    tags_of = arn
    if (
        call.service == "sagemaker"
        and call.operation == "CreateModelPackage"
        and resource_type == "model-package"
    ):
        # A version registered in a group "uses the tags associated with the model group" (SageMaker's
        # API text for CreateModelPackage): its resource tags are the group's (inferred).
        group = call.params.get("ModelPackageGroupName")
        if isinstance(group, str):
            tags_of = (
                group if group.startswith("arn:") else _arn(call, "sagemaker", f"model-package-group/{group}")
            )
    if call.service == "s3":
        bucket = arn.split(":::", 1)[-1].split("/", 1)[0]
        account = resources.bucket_account(bucket) or ""
        if "/" in arn.split(":::", 1)[-1]:
            key = arn.split(":::", 1)[-1].split("/", 1)[1]
            object_tags = resources.object_tags(bucket, key)
            for tag_key, value in (object_tags or {}).items():
                context[f"s3:ExistingObjectTag/{tag_key}"] = value
    if account:
        context["aws:ResourceAccount"] = account
    tags = resources.tags(tags_of)
    if tags is not None:
        for key, value in tags.items():
            context[f"aws:ResourceTag/{key}"] = value
            if call.iam_prefix in ("secretsmanager", "sagemaker"):
                context[f"{call.iam_prefix}:ResourceTag/{key}"] = value
    if call.service == "iam" and resource_type == "role" and call.operation != "CreateRole":
        existing = resources.role(arn.rsplit("/", 1)[-1])
        if existing is not None and existing[1] is not None:
            context["iam:PermissionsBoundary"] = existing[1]
    if call.service == "dynamodb":
        leading = _leading_keys(call, arn, resources)
        if leading is not None:
            context["dynamodb:LeadingKeys"] = leading
    return context


def _leading_keys(call: ApiCall, table_arn: str, resources: Resources) -> list[str] | None:
    """The partition key values the request touches (dynamodb:LeadingKeys); None for a Scan."""
    if "/index/" in table_arn:
        return None
    key_name = resources.partition_key(table_arn)
    if key_name is None:
        return None
    item = call.params.get("Key") or call.params.get("Item")
    if isinstance(item, Mapping) and key_name in item:
        return [_attribute_text(item[key_name])]
    if call.operation == "Query":
        return _query_partition_values(call.params, key_name)
    return None


def _query_partition_values(params: Mapping[str, Any], key_name: str) -> list[str] | None:
    expression = params.get("KeyConditionExpression") or ""
    names = params.get("ExpressionAttributeNames") or {}
    values = params.get("ExpressionAttributeValues") or {}
    for match in re.finditer(r"(#?[\w.]+)\s*=\s*(:\w+)", expression):
        name = names.get(match.group(1), match.group(1))
        if name == key_name and match.group(2) in values:
            return [_attribute_text(values[match.group(2)])]
    conditions = params.get("KeyConditions") or {}
    if key_name in conditions:
        return [_attribute_text(value) for value in conditions[key_name].get("AttributeValueList", [])]
    return None


def _attribute_text(value: Any) -> str:
    if isinstance(value, Mapping) and len(value) == 1:
        return str(next(iter(value.values())))
    return str(value)


# ---------------------------------------------------------------------------------- dependent actions


def _dependent_actions(definition: iam_dataset.ActionDefinition, resource_type: str) -> tuple[str, ...]:
    for use in definition.resource_types:
        if use.name == resource_type:
            return use.dependent_actions
    return ()


def _dependent_requests(
    call: ApiCall, dependent: str, arn: str, context: Mapping[str, ContextValue]
) -> Iterator[AuthorizationRequest]:
    prefix, _, name = dependent.partition(":")
    if name in ("AddTags", "TagResource") and prefix == call.iam_prefix:
        # Tags in a create request are authorized as the service's tagging action on the new resource,
        # with the request's tags and (SageMaker) the operation as sagemaker:TaggingAction.
        if request_tags(call.params):
            tagging = dict(context)
            if prefix == "sagemaker":
                tagging["sagemaker:TaggingAction"] = call.operation
            yield AuthorizationRequest(dependent, arn, tagging)
        return
    if dependent == "iam:PassRole":
        for parameter in PASSED_ROLE_PARAMETERS:
            role = call.params.get(parameter)
            if isinstance(role, str):
                yield AuthorizationRequest(
                    dependent,
                    role,
                    {
                        **{key: value for key, value in context.items() if key.startswith("aws:Principal")},
                        "iam:PassedToService": f"{call.iam_prefix}.amazonaws.com",
                        "aws:ResourceAccount": role.split(":")[4],
                    },
                )
        return
    if _dependent_applies(call, dependent):
        raise UnmappedCallError(
            f"dependent action {dependent} of {call.iam_prefix}:{call.operation} is not mapped"
        )


def _dependent_applies(call: ApiCall, dependent: str) -> bool:
    """Whether a dependent action this module does not map is needed by this request.

    The reference lists a dependent action for any request that may need it (a KMS key, a VPC...); those
    are needed only when the request uses the feature, which these parameters name (at any depth)."""
    feature_parameters = {
        "kms:CreateGrant": ("KmsKeyId", "VolumeKmsKeyId"),
        "kms:Decrypt": ("KmsKeyId",),
        "kms:GenerateDataKey": ("KmsKeyId",),
        "kms:DescribeKey": ("KmsKeyId",),
        "ec2:CreateNetworkInterface": ("VpcConfig",),
    }
    parameters = feature_parameters.get(dependent)
    return parameters is None or _names_any(call.params, parameters)


def _names_any(node: Any, names: tuple[str, ...]) -> bool:
    if isinstance(node, Mapping):
        return any((key in names and value) or _names_any(value, names) for key, value in node.items())
    if isinstance(node, list):
        return any(_names_any(item, names) for item in node)
    return False


# ----------------------------------------------------------------------------- other requirements


def _copy_source_requests(
    call: ApiCall, resources: Resources, principal_context: Mapping[str, ContextValue]
) -> list[AuthorizationRequest]:
    """CopyObject and UploadPartCopy read the source object: s3:GetObject (s3:GetObjectVersion for a
    versionId) on it (S3 API reference, CopyObject)."""
    source = call.params.get("CopySource") or call.headers.get("x-amz-copy-source") or ""
    if isinstance(source, Mapping):
        bucket, key, version = source.get("Bucket"), source.get("Key"), source.get("VersionId")
    else:
        path, _, query = str(source).partition("?")
        bucket, _, key = unquote(path).lstrip("/").partition("/")
        version = query.removeprefix("versionId=") if query.startswith("versionId=") else None
    if not bucket or not key:
        raise UnmappedCallError("the copy names no source object")
    source_call = ApiCall(
        "s3", "GetObject", {"Bucket": bucket, "Key": key, "VersionId": version}, call.region, call.account
    )
    name = "GetObjectVersion" if version else "GetObject"
    return _action_requests(source_call, "s3", name, resources, principal_context)


def _missing_object_requests(
    call: ApiCall, resources: Resources, principal_context: Mapping[str, ContextValue]
) -> list[AuthorizationRequest]:
    """A read of a missing object (S3 API reference, GetObject): "If the object that you request doesn't
    exist, the error that Amazon S3 returns depends on whether you also have the s3:ListBucket
    permission. If you have the s3:ListBucket permission on the bucket, Amazon S3 returns an HTTP status
    code 404 Not Found error. If you don't have the s3:ListBucket permission, Amazon S3 returns an HTTP
    status code 403 Access Denied error." So the 404 needs s3:ListBucket on the bucket."""
    bucket, key = call.params.get("Bucket"), call.params.get("Key")
    if not bucket or not key or call.params.get("VersionId"):
        return []
    if resources.object_exists(str(bucket), str(key)) is not False:
        return []
    listing = ApiCall("s3", "ListObjectsV2", {"Bucket": bucket}, call.region, call.account)
    return _action_requests(listing, "s3", "ListBucket", resources, principal_context)


# Roles a request passes to a service in parameters PASSED_ROLE_PARAMETERS does not reach: (service,
# operation) → (the service the role is passed to, the roles the request names).
# - EventBridge User Guide, "Using identity-based policies for EventBridge": a rule's target that uses
#   a role (Targets[].RoleArn) needs iam:PassRole for it, and EventBridge assumes it.
# - CodeBuild: StartBuild's serviceRoleOverride is the role the build runs as; passing a role to a
#   service needs iam:PassRole (IAM User Guide, "Grant a user permissions to pass a role to an AWS
#   service"); that StartBuild checks it for the override is inferred.
NESTED_PASSED_ROLES: dict[tuple[str, str], tuple[str, Callable[[Mapping[str, Any]], list[str]]]] = {
    ("events", "PutTargets"): (
        "events.amazonaws.com",
        lambda params: [
            str(target["RoleArn"]) for target in params.get("Targets") or [] if target.get("RoleArn")
        ],
    ),
    ("codebuild", "StartBuild"): (
        "codebuild.amazonaws.com",
        lambda params: [str(params["serviceRoleOverride"])] if params.get("serviceRoleOverride") else [],
    ),
}


def _nested_passed_role_requests(
    call: ApiCall, principal_context: Mapping[str, ContextValue]
) -> list[AuthorizationRequest]:
    passing = NESTED_PASSED_ROLES.get((call.service, call.operation))
    if passing is None:
        return []
    service, roles_of = passing
    requests = []
    for role in dict.fromkeys(roles_of(call.params)):
        arn = (
            role
            if role.startswith("arn:")
            else f"arn:{_partition(call.region)}:iam::{call.account}:role/{role}"
        )
        context = {
            **{key: value for key, value in principal_context.items() if key.startswith("aws:Principal")},
            "iam:PassedToService": service,
            "aws:ResourceAccount": arn.split(":")[4],
        }
        requests.append(AuthorizationRequest("iam:PassRole", arn, context))
    return requests


def _rule_tagging_requests(
    call: ApiCall, resources: Resources, principal_context: Mapping[str, ContextValue]
) -> list[AuthorizationRequest]:
    """PutRule with Tags (EventBridge API reference, PutRule): "To use the PutRule operation and assign
    tags, you must have both the events:PutRule and events:TagResource permissions." (Also when the rule
    exists and the tags are ignored: inferred, the text makes no exception.)"""
    if (call.service, call.operation) != ("events", "PutRule") or not request_tags(call.params):
        return []
    arns = _rule_arns(custom_bus=False)(call, resources) + _rule_arns(custom_bus=True)(call, resources)
    context = {**principal_context, **_request_context(call)}
    return [AuthorizationRequest("events:TagResource", arn, context) for arn in arns]


def _extra_requirements(
    call: ApiCall, resources: Resources, principal_context: Mapping[str, ContextValue]
) -> list[AuthorizationRequest]:
    requests = _nested_passed_role_requests(call, principal_context)
    requests += _rule_tagging_requests(call, resources, principal_context)
    if call.service != "application-autoscaling" or call.params.get("ServiceNamespace") != "sagemaker":
        return requests
    actions = AUTOSCALING_SAGEMAKER_REQUIREMENTS.get(call.operation, ())
    resource_id = str(call.params.get("ResourceId", ""))  # endpoint/{name}/variant/{variant}
    endpoint = resource_id.split("/")[1] if resource_id.startswith("endpoint/") else "*"
    for action in actions:
        prefix, _, name = action.partition(":")
        if prefix == "sagemaker":
            if name == "DescribeEndpointConfig":
                arn = _arn(call, "sagemaker", "endpoint-config/*")  # whichever config the endpoint has
            else:
                arn = _arn(call, "sagemaker", f"endpoint/{endpoint}")
        else:
            # The alarms Application Auto Scaling manages for the target's target tracking policies are
            # named TargetTracking-{ResourceId}-... (Application Auto Scaling user guide, target tracking).
            arn = _arn(call, "cloudwatch", f"alarm:TargetTracking-{resource_id}-*")
        context = {**principal_context, "aws:RequestedRegion": call.region}
        tags = resources.tags(arn) if prefix == "sagemaker" else None
        for key, value in (tags or {}).items():
            context[f"aws:ResourceTag/{key}"] = value
        requests.append(AuthorizationRequest(action, arn, context))
    return requests
