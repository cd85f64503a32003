"""ModelDeployerFunction against moto: the exact SageMaker requests of every strategy, the rollback
alarms, deployment settings from the project record, and every refusal reason."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer
from mlops_core.adapters.aws_clients import ClientFactory
from mlops_local import endpoints
from moto.sagemaker.models import sagemaker_backends

from tests.function.conftest import (
    ACCOUNT,
    EXECUTION_ROLE,
    REGION,
    REPO,
    STACK,
    Requests,
    approval_event,
    load_handler_module,
)

PROD_STAGES = "prod,champion,challenger"
LINEAGE = {
    "MetadataProperties": {"CommitId": "abc123"},
    "CustomerMetadataProperties": {"mlops:dataset": "s3://data/churn/2026-11-01"},
    "ModelMetrics": {
        "ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": "s3://m/q"}}
    },
}
INFERENCE = {
    "Containers": [
        {"Image": "123.dkr.ecr.us-east-1.amazonaws.com/xgboost:1", "ModelDataUrl": "s3://b/m.tar.gz"}
    ],
    "SupportedContentTypes": ["text/csv"],
    "SupportedResponseMIMETypes": ["text/csv"],
}


@pytest.fixture
def requests(aws: Any) -> Requests:
    recorder = Requests()
    for service in ("sagemaker", "cloudwatch", "dynamodb"):
        aws.events.register(f"provide-client-params.{service}.*", recorder)
    return recorder


@pytest.fixture
def deploy(
    aws: Any, requests: Requests, monkeypatch: pytest.MonkeyPatch, lambda_context: Any
) -> Callable[..., Any]:
    """The deployer of a prod-account stack, its clients recording their requests."""
    monkeypatch.setenv("DEPLOYED_STAGES", PROD_STAGES)
    handler = load_handler_module("model_deployer").handler
    handler._clients = ClientFactory(aws)

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        requests.calls.clear()
        result: dict[str, Any] = handler(event, lambda_context)
        return result

    return invoke


@pytest.fixture
def project(aws: Any) -> Callable[..., None]:
    """Write the project record's deployment settings, as the project-lifecycle function does."""
    dynamodb = aws.client("dynamodb")

    def write(deployment: dict[str, Any], **attributes: Any) -> None:
        item = {"pk": "PROJECT#churn", "sk": "META", "project": "churn", "deployment_defaults": deployment}
        serializer = TypeSerializer()
        dynamodb.put_item(
            TableName="mlops-config",
            Item={k: serializer.serialize(v) for k, v in {**item, **attributes}.items()},
        )

    return write


@pytest.fixture
def version(aws: Any) -> Callable[..., str]:
    sagemaker = aws.client("sagemaker")
    groups: set[str] = set()

    def register(group: str, *, lineage: dict[str, Any] | None = None) -> str:
        if group not in groups:
            sagemaker.create_model_package_group(ModelPackageGroupName=group)
            groups.add(group)
        return sagemaker.create_model_package(
            ModelPackageGroupName=group,
            ModelApprovalStatus="Approved",
            InferenceSpecification=INFERENCE,
            **(LINEAGE if lineage is None else lineage),
        )["ModelPackageArn"]

    return register


def model_package_arn(version: int, group: str = "churn-prod") -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{group}/{version}"


def only(items: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(items) == 1, items
    return items[0]


def test_all_at_once_on_instances_is_a_plain_update_with_the_records_instances_and_data_capture(
    aws, deploy, requests, project, version, finish_endpoint_changes
):
    project(
        {
            "prod": {
                "compute": {"kind": "instances", "instance_type": "ml.c5.xlarge", "instance_count": 2},
                "data_capture": {
                    "enabled": True,
                    "sampling_percentage": 20,
                    "destination_s3_uri": "s3://cap/churn",
                },
            }
        }
    )
    version("churn-prod")
    version("churn-prod")
    assert deploy(approval_event("churn-prod", 1))["action"] == "create"
    finish_endpoint_changes()

    result = deploy(approval_event("churn-prod", 2))

    assert (result["status"], result["action"], result["strategy"]) == ("started", "update", "all-at-once")
    config = only(requests.named("CreateEndpointConfig"))
    assert config["ProductionVariants"] == [
        {
            "VariantName": "AllTraffic",
            "ModelName": only(requests.named("CreateModel"))["ModelName"],
            "InstanceType": "ml.c5.xlarge",
            "InitialInstanceCount": 2,
            "InitialVariantWeight": 1.0,
        }
    ]
    assert config["DataCaptureConfig"] == {
        "EnableCapture": True,
        "InitialSamplingPercentage": 20,
        "DestinationS3Uri": "s3://cap/churn",
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {
            "CsvContentTypes": ["text/csv"],
            "JsonContentTypes": ["application/json"],
        },
    }
    assert only(requests.named("UpdateEndpoint")) == {
        "EndpointName": "churn-prod",
        "EndpointConfigName": config["EndpointConfigName"],
    }
    assert requests.named("PutMetricAlarm") == []


def test_serverless_endpoint_config_and_a_plain_update(
    aws, deploy, requests, project, version, finish_endpoint_changes
):
    project({"prod": {"compute": {"kind": "serverless", "memory_size_mb": 4096, "max_concurrency": 20}}})
    version("churn-prod")
    version("churn-prod")
    deploy(approval_event("churn-prod", 1))
    finish_endpoint_changes()

    deploy(approval_event("churn-prod", 2))

    config = only(requests.named("CreateEndpointConfig"))
    assert config["ProductionVariants"] == [
        {
            "VariantName": "AllTraffic",
            "ModelName": only(requests.named("CreateModel"))["ModelName"],
            "ServerlessConfig": {"MemorySizeInMB": 4096, "MaxConcurrency": 20},
            "InitialVariantWeight": 1.0,
        }
    ]
    assert "DataCaptureConfig" not in config
    # Serverless endpoints get no blue/green traffic shifting: a plain update.
    assert only(requests.named("UpdateEndpoint")) == {
        "EndpointName": "churn-prod",
        "EndpointConfigName": config["EndpointConfigName"],
    }


@pytest.mark.parametrize(
    ("strategy", "routing"),
    [
        (
            "canary",
            {
                "Type": "CANARY",
                "WaitIntervalInSeconds": 120,
                "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 25},
            },
        ),
        (
            "linear",
            {
                "Type": "LINEAR",
                "WaitIntervalInSeconds": 120,
                "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 30},
            },
        ),
    ],
)
def test_canary_and_linear_update_with_blue_green_policy_and_rollback_alarms(
    aws, deploy, requests, project, version, finish_endpoint_changes, strategy, routing
):
    project(
        {
            "prod": {
                "compute": {"kind": "instances", "instance_type": "ml.m5.large", "instance_count": 4},
                "strategy": strategy,
                "blue_green": {
                    "canary_percentage": 25,
                    "linear_step_percentage": 30,
                    "wait_interval_seconds": 120,
                    "termination_wait_seconds": 300,
                    "maximum_execution_timeout_seconds": 1800,
                },
                "alarms": {"invocation_5xx_errors_threshold": 3, "model_latency_threshold_ms": 250},
                "rollback_alarms": ["team-churn-business-kpi"],
            }
        }
    )
    version("churn-prod")
    version("churn-prod")
    created = deploy(approval_event("churn-prod", 1))
    finish_endpoint_changes()

    result = deploy(approval_event("churn-prod", 2))

    # A new endpoint has no traffic to shift: it is created all at once, and says so.
    assert (created["action"], created["strategy"]) == ("create", "all-at-once")
    assert result["strategy"] == strategy
    errors, latency = f"{STACK}-churn-prod-invocation-5xx-errors", f"{STACK}-churn-prod-model-latency"
    update = only(requests.named("UpdateEndpoint"))
    assert update["DeploymentConfig"] == {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": routing,
            "TerminationWaitInSeconds": 300,
            "MaximumExecutionTimeoutInSeconds": 1800,
        },
        "AutoRollbackConfiguration": {
            "Alarms": [
                {"AlarmName": errors},
                {"AlarmName": latency},
                {"AlarmName": "team-churn-business-kpi"},
            ]
        },
    }
    config = only(requests.named("CreateEndpointConfig"))
    model_name = only(requests.named("CreateModel"))["ModelName"]
    first_config = aws.client("sagemaker").describe_endpoint(EndpointName="churn-prod")["EndpointConfigName"]
    assert config == {
        "EndpointConfigName": update["EndpointConfigName"],
        "ProductionVariants": [
            {
                "VariantName": "AllTraffic",  # the same as the first config's: blue/green needs it
                "ModelName": model_name,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 4,
                "InitialVariantWeight": 1.0,
            }
        ],
        "Tags": [
            {"Key": "mlops:project", "Value": "churn"},
            {"Key": "mlops:stage", "Value": "prod"},
            {"Key": "mlops:managed-by", "Value": STACK},
            {"Key": "mlops:model-package-arn", "Value": model_package_arn(2)},
            {"Key": "mlops:commit-id", "Value": "abc123"},
            {"Key": "mlops:previous-endpoint-config", "Value": first_config},
        ],
    }
    assert model_name.startswith("churn-prod-v2-") and first_config.startswith("churn-prod-v1-")
    # The alarms exist before the update that names them, and are tagged for the endpoint.
    assert requests.operations().index("PutMetricAlarm") < requests.operations().index("UpdateEndpoint")
    alarms = {a["AlarmName"]: a for a in aws.client("cloudwatch").describe_alarms()["MetricAlarms"]}
    dimensions = [
        {"Name": "EndpointName", "Value": "churn-prod"},
        {"Name": "VariantName", "Value": "AllTraffic"},
    ]
    expected = {
        errors: ("Invocation5XXErrors", "Sum", 3.0, "GreaterThanOrEqualToThreshold"),
        latency: ("ModelLatency", "Average", 250_000.0, "GreaterThanThreshold"),
    }
    assert set(alarms) == set(expected)
    for name, (metric, statistic, threshold, comparison) in expected.items():
        alarm = alarms[name]
        assert (alarm["MetricName"], alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
            metric,
            statistic,
            threshold,
            comparison,
        )
        assert alarm["Namespace"] == "AWS/SageMaker" and alarm["Dimensions"] == dimensions
        assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["TreatMissingData"]) == (
            60,
            2,
            "notBreaching",
        )
        tags = aws.client("cloudwatch").list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
        assert {t["Key"]: t["Value"] for t in tags} == {
            "mlops:project": "churn",
            "mlops:stage": "prod",
            "mlops:managed-by": STACK,
            "mlops:commit-id": "abc123",
        }


def test_shadow_challenger_becomes_a_shadow_variant_of_the_champion_and_a_champion_update_keeps_it(
    aws, deploy, requests, project, version, finish_endpoint_changes
):
    project(
        {
            "champion": {
                "compute": {"kind": "instances", "instance_type": "ml.m5.large", "instance_count": 2}
            },
            "challenger": {
                "compute": {"kind": "instances", "instance_type": "ml.m5.xlarge", "instance_count": 1},
                "strategy": "shadow",
                "shadow_sampling_percentage": 25,
            },
        }
    )
    version("churn-champion")
    version("churn-challenger")
    version("churn-champion")
    deploy(approval_event("churn-champion", 1))
    finish_endpoint_changes()
    champion_model = aws.client("sagemaker").list_models()["Models"][0]["ModelName"]

    result = deploy(approval_event("churn-challenger", 1))
    finish_endpoint_changes()

    assert (result["status"], result["endpoint_name"], result["strategy"]) == (
        "started",
        "churn-champion",
        "shadow",
    )
    challenger_model = only(requests.named("CreateModel"))["ModelName"]
    assert challenger_model.startswith("churn-challenger-v1-")
    config = only(requests.named("CreateEndpointConfig"))
    assert config["ProductionVariants"] == [
        {
            "VariantName": "AllTraffic",
            "ModelName": champion_model,
            "InstanceType": "ml.m5.large",
            "InitialInstanceCount": 2,
            "InitialVariantWeight": 1.0,
        }
    ]
    assert config["ShadowProductionVariants"] == [
        {
            "VariantName": "Shadow",
            "ModelName": challenger_model,
            "InstanceType": "ml.m5.xlarge",
            "InitialInstanceCount": 1,
            "InitialVariantWeight": 0.25,
        }
    ]
    assert only(requests.named("UpdateEndpoint")) == {
        "EndpointName": "churn-champion",
        "EndpointConfigName": config["EndpointConfigName"],
    }
    assert "churn-challenger" not in [
        e["EndpointName"] for e in aws.client("sagemaker").list_endpoints()["Endpoints"]
    ]

    again = deploy(approval_event("churn-challenger", 1, event_id="redelivered"))
    assert (again["status"], again["reason"]) == ("skipped", "already-deployed")

    deploy(approval_event("churn-champion", 2))
    config = only(requests.named("CreateEndpointConfig"))
    assert config["ProductionVariants"][0]["ModelName"].startswith("churn-champion-v2-")
    assert config["ShadowProductionVariants"][0]["ModelName"] == challenger_model


def test_a_version_without_lineage_is_refused_for_production_naming_what_is_missing(
    aws, deploy, requests, project, version, domain_events
):
    version("churn-prod", lineage={"MetadataProperties": {"CommitId": "abc123"}})

    result = deploy(approval_event("churn-prod", 1))

    assert result["status"] == "failed"
    assert "lacks lineage required for prod: dataset, metrics" in result["reason"]
    assert aws.client("sagemaker").list_models()["Models"] == []
    assert domain_events.detail_types() == ["Deployment Failed"]


def test_the_lineage_policy_is_configurable_per_project(aws, deploy, project, version):
    project({}, lineage_policy={"stages": ["prod"], "required": ["commit-id"]})
    version("churn-prod", lineage={"MetadataProperties": {"CommitId": "abc123"}})

    assert deploy(approval_event("churn-prod", 1))["status"] == "started"


@pytest.mark.parametrize(
    ("deployment", "reason"),
    [
        (
            {"prod": {"compute": {"kind": "instances", "instance_type": "m5.large", "instance_count": 1}}},
            "stages.prod.compute.instances.instance_type: String should match pattern",
        ),
        ({"prod": {"strategy": "blue-green"}}, "stages.prod.strategy: Input should be 'all-at-once'"),
        ({"staging": {}}, "stages.staging"),
        (
            {"prod": {"data_capture": {"enabled": True}}},
            "data capture is enabled but destination_s3_uri is not set",
        ),
        ({"prod": {"strategy": "shadow"}}, "strategy shadow applies to the challenger stage only"),
        (
            {"prod": {"strategy": "canary"}},
            "strategy canary needs at least 2 instances to shift traffic in steps (instance_count is 1)",
        ),
        (
            {"prod": {"strategy": "linear", "compute": {"kind": "serverless"}}},
            "serverless endpoints do not support blue/green traffic shifting",
        ),
        (
            {"challenger": {"strategy": "shadow", "compute": {"kind": "serverless"}}},
            "shadow variants cannot be serverless",
        ),
        (
            {
                "prod": {
                    "compute": {"kind": "serverless"},
                    "data_capture": {"enabled": True, "destination_s3_uri": "s3://cap/churn"},
                }
            },
            "serverless endpoints do not support data capture",
        ),
        (
            {"prod": {"rollback_alarms": [f"team-alarm-{n}" for n in range(9)]}},
            "stages.prod.rollback_alarms: Tuple should have at most 8 items",
        ),
    ],
)
def test_invalid_settings_are_refused_with_the_reason_and_change_nothing(
    aws, deploy, project, version, domain_events, deployment, reason
):
    project(deployment)
    stage = next(iter(deployment)) if next(iter(deployment)) in PROD_STAGES.split(",") else "prod"
    version(f"churn-{stage}")

    result = deploy(approval_event(f"churn-{stage}", 1))

    assert result["status"] == "failed"
    assert reason in result["reason"]
    assert aws.client("sagemaker").list_models()["Models"] == []
    [failed] = domain_events.received
    assert failed["detail-type"] == "Deployment Failed" and reason in failed["detail"]["reason"]


def test_an_invalid_lineage_policy_is_refused_and_changes_nothing(
    aws, deploy, project, version, domain_events
):
    project({}, lineage_policy={"stages": ["prod"], "required": ["commit-id", "colour"]})
    version("churn-prod")

    result = deploy(approval_event("churn-prod", 1))

    assert result["status"] == "failed"
    assert (
        "are invalid: lineage.required.1: Input should be 'commit-id', 'dataset' or 'metrics'"
        in result["reason"]
    )
    assert aws.client("sagemaker").list_models()["Models"] == []
    assert domain_events.detail_types() == ["Deployment Failed"]


def test_a_shadow_challenger_is_refused_while_the_champion_is_failed(aws, deploy, project, version):
    project({"challenger": {"strategy": "shadow"}})
    version("churn-champion")
    version("churn-challenger")
    deploy(approval_event("churn-champion", 1))
    endpoints.fail(sagemaker_backends[ACCOUNT][REGION].endpoints["churn-champion"], "CapacityError")
    models_before = aws.client("sagemaker").list_models()["Models"]

    result = deploy(approval_event("churn-challenger", 1))

    assert result["status"] == "failed"
    assert (
        "champion endpoint churn-champion is Failed; deploy a champion before its shadow" in result["reason"]
    )
    assert aws.client("sagemaker").list_models()["Models"] == models_before


def test_a_shadow_challenger_is_refused_when_the_champions_config_is_gone(
    aws, deploy, project, version, finish_endpoint_changes
):
    project({"challenger": {"strategy": "shadow"}})
    version("churn-champion")
    version("churn-challenger")
    deploy(approval_event("churn-champion", 1))
    finish_endpoint_changes()
    sagemaker = aws.client("sagemaker")
    config = sagemaker.describe_endpoint(EndpointName="churn-champion")["EndpointConfigName"]
    sagemaker.delete_endpoint_config(EndpointConfigName=config)

    result = deploy(approval_event("churn-challenger", 1))

    assert result["status"] == "failed"
    assert result["reason"] == f"champion endpoint config {config} is gone"
    assert not [m for m in sagemaker.list_models()["Models"] if m["ModelName"].startswith("churn-challenger")]


def test_a_shadow_challenger_without_a_champion_is_refused(aws, deploy, project, version):
    project({"challenger": {"strategy": "shadow"}})
    version("churn-challenger")

    result = deploy(approval_event("churn-challenger", 1))

    assert result["status"] == "failed" and "deploy the champion first" in result["reason"]
    assert aws.client("sagemaker").list_models()["Models"] == []


def test_a_shadow_challenger_is_refused_beside_a_serverless_champion(
    aws, deploy, requests, project, version, finish_endpoint_changes
):
    # Serverless inference excludes multiple production variants: SageMaker would refuse the config.
    project({"champion": {"compute": {"kind": "serverless"}}, "challenger": {"strategy": "shadow"}})
    version("churn-champion")
    version("churn-challenger")
    deploy(approval_event("churn-champion", 1))
    finish_endpoint_changes()

    result = deploy(approval_event("churn-challenger", 1))

    assert result["status"] == "failed"
    assert "champion endpoint churn-champion is serverless" in result["reason"]
    assert requests.named("CreateModel") == requests.named("CreateEndpointConfig") == []


def test_an_instance_based_endpoint_is_not_updated_to_serverless(
    aws, deploy, requests, project, version, finish_endpoint_changes
):
    version("churn-prod")
    version("churn-prod")
    deploy(approval_event("churn-prod", 1))
    finish_endpoint_changes()
    sagemaker = aws.client("sagemaker")
    config = sagemaker.describe_endpoint(EndpointName="churn-prod")["EndpointConfigName"]
    project({"prod": {"compute": {"kind": "serverless"}}})

    result = deploy(approval_event("churn-prod", 2))

    assert result["status"] == "failed"
    assert "cannot update an instance-based endpoint to serverless: delete the endpoint" in result["reason"]
    assert requests.named("CreateEndpointConfig") == requests.named("UpdateEndpoint") == []
    assert sagemaker.describe_endpoint(EndpointName="churn-prod")["EndpointConfigName"] == config


def test_without_a_project_record_the_stacks_defaults_apply(aws, deploy, requests, version):
    version("churn-prod")

    deploy(approval_event("churn-prod", 1))

    [variant] = only(requests.named("CreateEndpointConfig"))["ProductionVariants"]
    assert (variant["InstanceType"], variant["InitialInstanceCount"]) == ("ml.m5.large", 1)
    assert only(requests.named("CreateModel"))["ExecutionRoleArn"] == EXECUTION_ROLE


def test_a_plain_create_takes_at_most_six_aws_calls(aws, deploy, requests, version):
    version("churn-prod")

    deploy(approval_event("churn-prod", 1))

    domain_calls = [op for op in requests.operations() if op not in {"PutItem", "UpdateItem", "DeleteItem"}]
    assert domain_calls == [
        "GetItem",  # the project record
        "Search",  # the endpoint (none yet)
        "DescribeModelPackage",
        "CreateModel",
        "CreateEndpointConfig",
        "CreateEndpoint",
    ]


def test_a_plain_update_takes_at_most_six_aws_calls(aws, deploy, requests, version, finish_endpoint_changes):
    version("churn-prod")
    version("churn-prod")
    deploy(approval_event("churn-prod", 1))
    finish_endpoint_changes()

    assert deploy(approval_event("churn-prod", 2))["action"] == "update"

    domain_calls = [op for op in requests.operations() if op not in {"PutItem", "UpdateItem", "DeleteItem"}]
    assert domain_calls == [
        "GetItem",  # the project record
        "Search",  # the endpoint with its tags (managed-by) in one call
        "DescribeModelPackage",
        "CreateModel",
        "CreateEndpointConfig",  # tagged with the previous config on creation: no AddTags
        "UpdateEndpoint",
    ]


def test_sagemakers_own_rollback_is_reported_as_rolled_back(aws, deploy, domain_events):
    event = json.loads((REPO / "tests/fixtures/aws-events/endpoint-deployment-state-change.json").read_text())
    arn = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/churn-prod"
    event["detail"].update(
        EndpointName="churn-prod",
        EndpointArn=arn,
        EndpointConfigName="churn-prod-v3-81d0e7",
        EndpointStatus="ROLLING_BACK",
        Tags={
            "mlops:managed-by": STACK,
            "mlops:model-package-arn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-prod/4",
        },
    )
    event["detail"]["PendingDeploymentSummary"]["EndpointConfigName"] = "churn-prod-v4-0a1b2c"

    result = deploy(event)
    again = deploy(copy.deepcopy(event))  # EventBridge delivers at least once

    assert result["status"] == "rolled-back" and again == result
    [rolled_back] = domain_events.received
    assert rolled_back["detail-type"] == "Deployment Rolled Back"
    assert rolled_back["detail"]["trigger"] == "alarm"
    assert rolled_back["detail"]["model_package_version"] == 3
    assert rolled_back["detail"]["rolled_back_model_package_arn"].endswith("model-package/churn-prod/4")
    assert rolled_back["detail"]["model_package_arn"].endswith("model-package/churn-prod/3")

    # The same rollback's notice again with a new id (SageMaker repeats itself, EventBridge redelivers):
    # the conditional write on the rollback's identity says it was announced.
    renewed = copy.deepcopy(event)
    renewed["id"] = "another-notice-of-the-same-rollback"
    assert deploy(renewed)["status"] == "ignored"
    assert len(domain_events.received) == 1
    claim = aws.client("dynamodb").get_item(
        TableName="mlops-config",
        Key={"pk": {"S": "ENDPOINT#churn-prod"}, "sk": {"S": "ROLLBACK#churn-prod-v4-0a1b2c#1635195269181"}},
    )["Item"]
    assert claim["event_id"] == {"S": event["id"]} and int(claim["expires_at"]["N"]) > 0

    foreign = copy.deepcopy(event)
    foreign["id"] = "foreign"
    foreign["detail"]["Tags"] = {"mlops:managed-by": "another-stack"}
    assert deploy(foreign)["status"] == "ignored"
