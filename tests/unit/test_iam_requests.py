"""Each AWS request the functions send maps to the IAM actions, resources and context AWS evaluates.

The requests are the real ones: botocore serializes and signs them (the client is stopped before it
sends), and the WSGI environ is built from what it would have sent.
"""

import functools
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSPreparedRequest
from mlops_local.iam_policies import AuthorizationRequest
from mlops_local.iam_requests import (
    ApiCall,
    Resources,
    UnmappedCallError,
    authorizations,
    parse_request,
    service_of_signing_name,
)
from werkzeug.test import EnvironBuilder

ACCOUNT = "123456789012"
REGION = "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/sagemaker-execution"
PRINCIPAL = {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/deployer"}


class _Sent(Exception):
    def __init__(self, request: AWSPreparedRequest) -> None:
        self.request = request


def _stop(request: AWSPreparedRequest, **_: Any) -> None:
    raise _Sent(request)


@functools.cache
def _client(service: str) -> Any:
    """A client whose requests are stopped before they are sent (one per service: they are slow to make)."""
    client = _SESSION.client(service, endpoint_url="http://127.0.0.1:9")
    client.meta.events.register("before-send", _stop)
    return client


_SESSION = boto3.Session(aws_access_key_id="ASIAEXAMPLE", aws_secret_access_key="secret", region_name=REGION)


def sent(service: str, operation: str, **params: Any) -> tuple[dict[str, Any], bytes, str]:
    """The WSGI environ and body of the request botocore sends for `operation`, and its signing name."""
    client = _client(service)
    with pytest.raises(_Sent) as captured:
        getattr(client, operation)(**params)
    request = captured.value.request
    body = request.body or b""
    body = (
        body.encode() if isinstance(body, str) else bytes(body) if not hasattr(body, "read") else body.read()
    )
    path, _, query = request.url.removeprefix("http://127.0.0.1:9").partition("?")
    headers = {
        name: value.decode() if isinstance(value, bytes) else value for name, value in request.headers.items()
    }
    environ = EnvironBuilder(
        method=request.method, path=path or "/", query_string=query, headers=headers, data=body
    ).get_environ()
    signing_name = request.headers["Authorization"].decode().split("/")[3]
    return environ, body, signing_name


def call_of(service: str, operation: str, **params: Any) -> ApiCall:
    environ, body, signing_name = sent(service, operation, **params)
    assert service_of_signing_name(signing_name) == service
    return parse_request(
        environ, b"" if service == "s3" else body, service=service, region=REGION, account=ACCOUNT
    )


class FakeResources(Resources):
    def __init__(self, tags: dict[str, dict[str, str]] | None = None, **facts: Any) -> None:
        self._tags = tags or {}
        self._facts = facts

    def tags(self, arn: str) -> dict[str, str] | None:
        return self._tags.get(arn)

    def secret_arn(self, secret_id: str) -> str | None:
        return self._facts.get("secrets", {}).get(secret_id)

    def scalable_target_arn(self, namespace: str, resource_id: str, dimension: str) -> str | None:
        return self._facts.get("targets", {}).get(resource_id)

    def next_model_package_arn(self, group: str) -> str | None:
        return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{group}/3"

    def partition_key(self, table_arn: str) -> str | None:
        return "pk"

    def bucket_account(self, bucket: str) -> str | None:
        return ACCOUNT

    def object_tags(self, bucket: str, key: str) -> dict[str, str] | None:
        return {"classification": "model"}

    def role(self, name: str) -> tuple[str, str | None] | None:
        return self._facts.get("roles", {}).get(name)


def mapped(call: ApiCall, resources: Resources | None = None) -> list[AuthorizationRequest]:
    return authorizations(call, resources or FakeResources(), PRINCIPAL)


def actions_and_resources(requests: list[AuthorizationRequest]) -> list[tuple[str, str]]:
    return [(request.action, request.resource) for request in requests]


def arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


MANAGED = [{"Key": "mlops:managed-by", "Value": "mlops"}]


# ------------------------------------------------------------------------------------------- SageMaker


def test_create_endpoint_is_authorized_on_the_endpoint_and_its_config_and_its_tags_as_add_tags():
    call = call_of(
        "sagemaker", "create_endpoint", EndpointName="churn-dev", EndpointConfigName="c1", Tags=MANAGED
    )
    requests = mapped(call)

    assert actions_and_resources(requests) == [
        ("sagemaker:CreateEndpoint", arn("sagemaker", "endpoint/churn-dev")),
        ("sagemaker:AddTags", arn("sagemaker", "endpoint/churn-dev")),
        ("sagemaker:CreateEndpoint", arn("sagemaker", "endpoint-config/c1")),
    ]
    add_tags = requests[1].context
    assert add_tags["sagemaker:TaggingAction"] == "CreateEndpoint"
    assert add_tags["aws:RequestTag/mlops:managed-by"] == "mlops"
    assert add_tags["aws:TagKeys"] == ["mlops:managed-by"]
    assert "sagemaker:TaggingAction" not in requests[0].context


def test_create_model_passes_its_execution_role_to_sagemaker():
    call = call_of(
        "sagemaker",
        "create_model",
        ModelName="m1",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": "img", "ModelDataUrl": "s3://b/m.tar.gz"},
    )
    requests = mapped(call)

    assert actions_and_resources(requests) == [
        ("sagemaker:CreateModel", arn("sagemaker", "model/m1")),
        ("iam:PassRole", ROLE),
    ]
    assert requests[1].context["iam:PassedToService"] == "sagemaker.amazonaws.com"


def test_add_tags_on_an_existing_endpoint_carries_its_current_tags():
    endpoint = arn("sagemaker", "endpoint/churn-dev")
    call = call_of(
        "sagemaker", "add_tags", ResourceArn=endpoint, Tags=[{"Key": "mlops:commit-id", "Value": "c"}]
    )
    [request] = mapped(call, FakeResources({endpoint: {"mlops:managed-by": "other"}}))

    assert (request.action, request.resource) == ("sagemaker:AddTags", endpoint)
    assert request.context["aws:ResourceTag/mlops:managed-by"] == "other"
    assert request.context["aws:TagKeys"] == ["mlops:commit-id"]
    assert "sagemaker:TaggingAction" not in request.context


def test_a_version_registered_in_a_group_has_the_groups_tags_as_its_resource_tags():
    group = arn("sagemaker", "model-package-group/churn-prod")
    call = call_of(
        "sagemaker",
        "create_model_package",
        ModelPackageGroupName="churn-prod",
        InferenceSpecification={
            "Containers": [{"Image": "img"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )
    requests = mapped(call, FakeResources({group: {"mlops:managed-by": "mlops"}}))

    assert actions_and_resources(requests) == [
        ("sagemaker:CreateModelPackage", arn("sagemaker", "model-package/churn-prod/3")),
        ("sagemaker:CreateModelPackage", group),
    ]
    assert requests[0].context["aws:ResourceTag/mlops:managed-by"] == "mlops"


def test_search_names_no_resource():
    [request] = mapped(call_of("sagemaker", "search", Resource="Endpoint"))
    assert (request.action, request.resource) == ("sagemaker:Search", "*")


def test_a_required_resource_the_request_does_not_name_is_unmapped():
    call = ApiCall("sagemaker", "DescribeEndpoint", {}, REGION, ACCOUNT)
    with pytest.raises(UnmappedCallError, match="endpoint"):
        mapped(call)


def test_an_operation_without_an_iam_action_is_unmapped():
    with pytest.raises(UnmappedCallError, match="no action sagemaker:NotAnOperation"):
        mapped(ApiCall("sagemaker", "NotAnOperation", {}, REGION, ACCOUNT))


# -------------------------------------------------------------------------------------------- DynamoDB


def test_dynamodb_item_calls_carry_their_partition_key_as_leading_keys():
    table = arn("dynamodb", "table/config")
    put = mapped(call_of("dynamodb", "put_item", TableName="config", Item={"pk": {"S": "ENDPOINT#x"}}))
    query = mapped(
        call_of(
            "dynamodb",
            "query",
            TableName="config",
            KeyConditionExpression="#p = :p",
            ExpressionAttributeNames={"#p": "pk"},
            ExpressionAttributeValues={":p": {"S": "MLFLOW#m"}},
        )
    )
    scan = mapped(call_of("dynamodb", "scan", TableName="config"))

    assert actions_and_resources(put) == [("dynamodb:PutItem", table)]
    assert put[0].context["dynamodb:LeadingKeys"] == ["ENDPOINT#x"]
    assert query[0].context["dynamodb:LeadingKeys"] == ["MLFLOW#m"]
    assert "dynamodb:LeadingKeys" not in scan[0].context


# ----------------------------------------------------------------------------------------------- S3


def test_s3_operations_whose_action_differs():
    head = mapped(call_of("s3", "head_object", Bucket="models", Key="churn/model.tar.gz"))
    listing = mapped(call_of("s3", "list_objects_v2", Bucket="models", Prefix="churn/"))
    versioned = mapped(call_of("s3", "get_object", Bucket="models", Key="k", VersionId="v1"))

    assert actions_and_resources(head) == [("s3:GetObject", "arn:aws:s3:::models/churn/model.tar.gz")]
    assert head[0].context["aws:ResourceAccount"] == ACCOUNT
    assert head[0].context["s3:ExistingObjectTag/classification"] == "model"
    assert actions_and_resources(listing) == [("s3:ListBucket", "arn:aws:s3:::models")]
    assert actions_and_resources(versioned) == [("s3:GetObjectVersion", "arn:aws:s3:::models/k")]


def test_copy_object_needs_put_on_the_target_and_get_on_the_source():
    call = call_of(
        "s3", "copy_object", Bucket="promoted", Key="churn/m.tar.gz", CopySource="models/churn/m.tar.gz"
    )
    assert actions_and_resources(mapped(call)) == [
        ("s3:PutObject", "arn:aws:s3:::promoted/churn/m.tar.gz"),
        ("s3:GetObject", "arn:aws:s3:::models/churn/m.tar.gz"),
    ]


# ------------------------------------------------------------------------------------ the others


def test_put_events_is_authorized_on_each_bus_named():
    call = call_of(
        "events",
        "put_events",
        Entries=[
            {"Source": "mlops.x", "DetailType": "d", "Detail": "{}", "EventBusName": "mlops-bus"},
            {"Source": "mlops.x", "DetailType": "d", "Detail": "{}"},
        ],
    )
    assert actions_and_resources(mapped(call)) == [
        ("events:PutEvents", arn("events", "event-bus/mlops-bus")),
        ("events:PutEvents", arn("events", "event-bus/default")),
    ]


def test_a_secret_named_by_name_is_authorized_on_its_full_arn_with_its_tags():
    full = arn("secretsmanager", "secret:slack/churn-AbCdEf")
    resources = FakeResources({full: {"mlops:managed-by": "mlops"}}, secrets={"slack/churn": full})
    [request] = mapped(call_of("secretsmanager", "get_secret_value", SecretId="slack/churn"), resources)

    assert (request.action, request.resource) == ("secretsmanager:GetSecretValue", full)
    assert request.context["secretsmanager:ResourceTag/mlops:managed-by"] == "mlops"
    assert request.context["aws:ResourceTag/mlops:managed-by"] == "mlops"


def test_codecommit_create_repository_carries_its_tags():
    call = call_of(
        "codecommit", "create_repository", repositoryName="churn", tags={"mlops:managed-by": "mlops"}
    )
    [request] = mapped(call)

    assert (request.action, request.resource) == ("codecommit:CreateRepository", arn("codecommit", "churn"))
    assert request.context["aws:RequestTag/mlops:managed-by"] == "mlops"


def test_deregistering_a_sagemaker_target_needs_cloudwatch_permissions_on_its_alarms():
    target = arn("application-autoscaling", "scalable-target/0123abcd")
    resource_id = "endpoint/churn-feature/variant/AllTraffic"
    call = call_of(
        "application-autoscaling",
        "deregister_scalable_target",
        ServiceNamespace="sagemaker",
        ResourceId=resource_id,
        ScalableDimension="sagemaker:variant:DesiredInstanceCount",
    )
    requests = mapped(call, FakeResources(targets={resource_id: target}))

    alarms = arn("cloudwatch", f"alarm:TargetTracking-{resource_id}-*")
    assert actions_and_resources(requests) == [
        ("application-autoscaling:DeregisterScalableTarget", target),
        ("cloudwatch:DescribeAlarms", alarms),
        ("cloudwatch:DeleteAlarms", alarms),
    ]
    assert requests[0].context["application-autoscaling:service-namespace"] == "sagemaker"


def test_cloudwatch_alarms_are_named_one_by_one():
    put = mapped(call_of("cloudwatch", "put_metric_alarm", **_alarm("mlops-churn-dev-errors"), Tags=MANAGED))
    delete = mapped(call_of("cloudwatch", "delete_alarms", AlarmNames=["a1", "a2"]))

    assert actions_and_resources(put) == [
        ("cloudwatch:PutMetricAlarm", arn("cloudwatch", "alarm:mlops-churn-dev-errors"))
    ]
    assert put[0].context["aws:RequestTag/mlops:managed-by"] == "mlops"
    assert actions_and_resources(delete) == [
        ("cloudwatch:DeleteAlarms", arn("cloudwatch", "alarm:a1")),
        ("cloudwatch:DeleteAlarms", arn("cloudwatch", "alarm:a2")),
    ]


def test_sts_assume_role_is_authorized_on_the_role():
    role = "arn:aws:iam::210987654321:role/mlops-promotion"
    [request] = mapped(call_of("sts", "assume_role", RoleArn=role, RoleSessionName="copy"))
    assert (request.action, request.resource) == ("sts:AssumeRole", role)


def _alarm(name: str) -> dict[str, Any]:
    return {
        "AlarmName": name,
        "MetricName": "Invocation5XXErrors",
        "Namespace": "AWS/SageMaker",
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
    }


def test_reading_a_missing_object_needs_list_bucket_for_its_404():
    class Missing(FakeResources):
        def object_exists(self, bucket: str, key: str) -> bool | None:
            return key != "answers/missing.out"

    missing = mapped(call_of("s3", "get_object", Bucket="queue", Key="answers/missing.out"), Missing())
    head = mapped(call_of("s3", "head_object", Bucket="queue", Key="answers/missing.out"), Missing())
    there = mapped(call_of("s3", "get_object", Bucket="queue", Key="answers/1.out"), Missing())

    assert actions_and_resources(missing) == [
        ("s3:GetObject", "arn:aws:s3:::queue/answers/missing.out"),
        ("s3:ListBucket", "arn:aws:s3:::queue"),
    ]
    assert actions_and_resources(head)[1:] == [("s3:ListBucket", "arn:aws:s3:::queue")]
    assert actions_and_resources(there) == [("s3:GetObject", "arn:aws:s3:::queue/answers/1.out")]


# ----------------------------------------------------------------------------------- CI access (IAM)

BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/mlops-ci/mlops/ProjectCiPolicy"


def test_create_role_is_authorized_on_its_path_with_the_boundary_and_tags_it_sets():
    call = call_of(
        "iam",
        "create_role",
        RoleName="mlops-ci-churn",
        Path="/mlops-ci/mlops/",
        AssumeRolePolicyDocument="{}",
        PermissionsBoundary=BOUNDARY,
        Tags=MANAGED,
    )
    (request,) = mapped(call)
    assert request.action == "iam:CreateRole"
    assert request.resource == f"arn:aws:iam::{ACCOUNT}:role/mlops-ci/mlops/mlops-ci-churn"
    assert request.context["iam:PermissionsBoundary"] == BOUNDARY
    assert request.context["aws:RequestTag/mlops:managed-by"] == "mlops"


def test_calls_on_an_existing_role_carry_its_path_and_boundary_and_the_policy_attached():
    resources = FakeResources(roles={"mlops-ci-churn": ("/mlops-ci/mlops/", BOUNDARY)})
    call = call_of("iam", "attach_role_policy", RoleName="mlops-ci-churn", PolicyArn=BOUNDARY)
    (request,) = mapped(call, resources)
    assert request.resource == f"arn:aws:iam::{ACCOUNT}:role/mlops-ci/mlops/mlops-ci-churn"
    assert request.context["iam:PolicyARN"] == BOUNDARY
    assert request.context["iam:PermissionsBoundary"] == BOUNDARY
    # A role that does not exist is named on the root path, with no boundary.
    (missing,) = mapped(call_of("iam", "get_role", RoleName="mlops-ci-other"), resources)
    assert missing.resource == f"arn:aws:iam::{ACCOUNT}:role/mlops-ci-other"
    assert "iam:PermissionsBoundary" not in missing.context


def test_a_listing_carries_its_prefix_as_s3_prefix():
    (request,) = mapped(call_of("s3", "list_objects_v2", Bucket="b", Prefix="churn/"))
    assert (request.action, request.context["s3:prefix"]) == ("s3:ListBucket", "churn/")
    (unprefixed,) = mapped(call_of("s3", "list_objects_v2", Bucket="b"))
    assert "s3:prefix" not in unprefixed.context


def test_put_events_carries_the_source_and_detail_type_its_entries_share():
    def entry(source: str, detail_type: str) -> dict[str, str]:
        return {"Source": source, "DetailType": detail_type, "Detail": "{}", "EventBusName": "mlops-bus"}

    (same,) = mapped(call_of("events", "put_events", Entries=[entry("mlops.ci", "Git Branch Updated")] * 2))
    assert same.context["events:source"] == "mlops.ci"
    assert same.context["events:detail-type"] == "Git Branch Updated"
    (mixed,) = mapped(
        call_of("events", "put_events", Entries=[entry("mlops.ci", "a"), entry("mlops.other", "a")])
    )
    assert "events:source" not in mixed.context
    assert mixed.context["events:detail-type"] == "a"


# ----------------------------------------------------- EventBridge rules and CodeBuild (CodeCommit's CI)

CI_ROLE = f"arn:aws:iam::{ACCOUNT}:role/mlops-ci/mlops/mlops-ci-churn"
TRIGGER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/mlops-CodeCommitBuildTriggerRole-1"
BUILD_PROJECT = arn("codebuild", "project/mlops-codecommit-ci")


@pytest.mark.parametrize(
    ("operation", "parameters"),
    [
        ("put_rule", {"Name": "mlops-ci-churn", "EventPattern": "{}"}),
        ("describe_rule", {"Name": "mlops-ci-churn"}),
        ("delete_rule", {"Name": "mlops-ci-churn"}),
        ("list_targets_by_rule", {"Rule": "mlops-ci-churn"}),
        ("remove_targets", {"Rule": "mlops-ci-churn", "Ids": ["t"]}),
        ("list_tags_for_resource", {"ResourceARN": arn("events", "rule/mlops-ci-churn")}),
    ],
)
def test_a_rule_on_the_default_bus_is_authorized_on_its_arn(operation, parameters):
    """A policy scoped to rule/mlops-ci-* must see the rule's ARN, not `*` (both rule resource types
    of the Service Authorization Reference are optional, so an unnamed one would fall back to `*`)."""
    [request] = mapped(call_of("events", operation, **parameters))

    assert request.resource == arn("events", "rule/mlops-ci-churn")


def test_a_rule_on_another_bus_is_authorized_on_its_bus_and_name():
    [request] = mapped(call_of("events", "describe_rule", Name="r", EventBusName="mlops-bus"))

    assert request.resource == arn("events", "rule/mlops-bus/r")


def test_put_targets_passes_each_targets_role_to_eventbridge_and_carries_their_arns():
    call = call_of(
        "events",
        "put_targets",
        Rule="mlops-ci-churn",
        Targets=[{"Id": "build", "Arn": BUILD_PROJECT, "RoleArn": TRIGGER_ROLE, "Input": "{}"}],
    )
    requests = mapped(call)

    assert actions_and_resources(requests) == [
        ("events:PutTargets", arn("events", "rule/mlops-ci-churn")),
        ("iam:PassRole", TRIGGER_ROLE),
    ]
    assert requests[0].context["events:TargetArn"] == [BUILD_PROJECT]
    assert requests[1].context["iam:PassedToService"] == "events.amazonaws.com"


def test_start_build_passes_the_overriding_service_role_to_codebuild():
    call = call_of("codebuild", "start_build", projectName="mlops-codecommit-ci", serviceRoleOverride=CI_ROLE)
    requests = mapped(call)

    assert actions_and_resources(requests) == [
        ("codebuild:StartBuild", BUILD_PROJECT),
        ("iam:PassRole", CI_ROLE),
    ]
    assert requests[1].context["iam:PassedToService"] == "codebuild.amazonaws.com"
    # Without an override, the project's own role is used and nothing is passed.
    assert actions_and_resources(mapped(call_of("codebuild", "start_build", projectName="p"))) == [
        ("codebuild:StartBuild", arn("codebuild", "project/p"))
    ]


def test_put_rule_with_tags_also_needs_tag_resource_with_the_request_tags():
    call = call_of(
        "events",
        "put_rule",
        Name="mlops-ci-churn",
        EventPattern="{}",
        Tags=[{"Key": "mlops:managed-by", "Value": "mlops"}],
    )
    requests = mapped(call)

    assert actions_and_resources(requests) == [
        ("events:PutRule", arn("events", "rule/mlops-ci-churn")),
        ("events:TagResource", arn("events", "rule/mlops-ci-churn")),
    ]
    assert requests[1].context["aws:RequestTag/mlops:managed-by"] == "mlops"
    assert actions_and_resources(mapped(call_of("events", "put_rule", Name="r", EventPattern="{}"))) == [
        ("events:PutRule", arn("events", "rule/r"))
    ]
