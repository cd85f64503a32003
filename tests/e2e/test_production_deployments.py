"""A prod-account stack through the local cloud: approvals racing a busy endpoint, rejections that
roll back, housekeeping, champion/challenger endpoints, shadow mode and the lineage gate."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer
from mlops_local import LocalCloud

LINEAGE = {
    "MetadataProperties": {"CommitId": "c0ffee"},
    "CustomerMetadataProperties": {"mlops:dataset": "s3://data/x/2026-11-01"},
    "ModelMetrics": {
        "ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": "s3://m/q"}}
    },
}


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(parameters={"DeployedStages": "prod,champion,challenger"}) as local_cloud:
        yield local_cloud


@pytest.fixture
def release(cloud: LocalCloud) -> Callable[..., str]:
    """Register a version with its lineage and approve it; return its ARN (events wait for settle)."""
    sagemaker = cloud.session.client("sagemaker")
    groups: set[str] = set()

    def register_and_approve(group: str, *, lineage: dict[str, Any] | None = None) -> str:
        if group not in groups:
            sagemaker.create_model_package_group(ModelPackageGroupName=group)
            groups.add(group)
        arn: str = sagemaker.create_model_package(
            ModelPackageGroupName=group,
            ModelApprovalStatus="PendingManualApproval",
            InferenceSpecification={
                "Containers": [{"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:1"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            **(LINEAGE if lineage is None else lineage),
        )["ModelPackageArn"]
        sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
        return arn

    return register_and_approve


def set_project(cloud: LocalCloud, deployment: dict[str, Any]) -> None:
    serializer = TypeSerializer()
    item = {"pk": "PROJECT#x", "sk": "META", "project": "x", "deployment_defaults": deployment}
    cloud.session.client("dynamodb").put_item(
        TableName=cloud.outputs["ConfigTableName"], Item={k: serializer.serialize(v) for k, v in item.items()}
    )


def serving(cloud: LocalCloud, endpoint: str) -> tuple[str, list[str]]:
    """(production model package, shadow model names) of an endpoint, as SageMaker describes it."""
    sagemaker = cloud.session.client("sagemaker")
    config = sagemaker.describe_endpoint_config(
        EndpointConfigName=sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    )
    model = sagemaker.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    shadows = [variant["ModelName"] for variant in config.get("ShadowProductionVariants", [])]
    return model["Containers"][0]["ModelPackageName"], shadows


def deployer_results(trace: Any) -> list[tuple[str, str]]:
    return [
        (invocation.event["detail-type"], invocation.result["status"])
        for invocation in trace.invocations(function="ModelDeployerFunction")
    ]


def test_busy_endpoint_defers_then_applies_the_newest_and_rejection_rolls_back(cloud, release):
    sagemaker = cloud.session.client("sagemaker")
    first = release("x-prod")
    cloud.settle()
    assert serving(cloud, "x-prod")[0] == first

    # Two approvals while the endpoint is Updating: both deferred, only the newest is applied.
    cloud.hold_endpoint("x-prod", "Updating")
    second = release("x-prod")
    third = release("x-prod")
    busy = cloud.settle()
    deferred = busy.events(detail_type="Deployment Deferred")
    assert [event["detail"]["model_package_version"] for event in deferred] == [2, 3]
    assert serving(cloud, "x-prod")[0] == first

    cloud.release_endpoint("x-prod")  # back InService: the pending deployment is applied
    applied = cloud.settle()
    [started] = applied.events(detail_type="Deployment Started")
    assert started["detail"]["model_package_arn"] == third
    assert serving(cloud, "x-prod")[0] == third
    assert not any(model["ModelName"].startswith("x-prod-v2-") for model in sagemaker.list_models()["Models"])
    pending = cloud.session.client("dynamodb").get_item(
        TableName=cloud.outputs["ConfigTableName"],
        Key={"pk": {"S": "ENDPOINT#x-prod"}, "sk": {"S": "PENDING"}},
    )
    assert "Item" not in pending

    # Housekeeping leaves exactly the current config and the previous one (and their models).
    configs = sorted(
        config["EndpointConfigName"] for config in sagemaker.list_endpoint_configs()["EndpointConfigs"]
    )
    assert [name.split("-")[2] for name in configs] == ["v1", "v3"]
    assert sorted(model["ModelName"].split("-")[2] for model in sagemaker.list_models()["Models"]) == [
        "v1",
        "v3",
    ]

    # Rejecting a version that is not live changes nothing.
    sagemaker.update_model_package(ModelPackageArn=second, ModelApprovalStatus="Rejected")
    not_live = cloud.settle()
    assert deployer_results(not_live) == [("SageMaker Model Package State Change", "ignored")]
    assert serving(cloud, "x-prod")[0] == third

    # Rejecting the live version puts the newest older approved version (1; 2 is rejected) back.
    sagemaker.update_model_package(ModelPackageArn=third, ModelApprovalStatus="Rejected")
    rollback = cloud.settle()
    [rolled_back] = rollback.events(detail_type="Deployment Rolled Back")
    assert rolled_back["detail"]["trigger"] == "rejection"
    assert rolled_back["detail"]["rolled_back_model_package_arn"] == third
    assert rolled_back["detail"]["model_package_arn"] == first
    assert serving(cloud, "x-prod")[0] == first

    # The rejection delivered again (a new event id): one side effect only.
    [rejection] = [
        event
        for event in rollback.events(detail_type="SageMaker Model Package State Change")
        if event["detail"]["ModelApprovalStatus"] == "Rejected"
    ]
    again = copy.deepcopy(rejection)
    again["id"] = "redelivered-rejection"
    assert deployer_results(cloud.send(again)) == [("SageMaker Model Package State Change", "ignored")]
    assert serving(cloud, "x-prod")[0] == first


def test_champion_and_challenger_endpoints_then_shadow_mode_and_the_lineage_gate(cloud, release):
    sagemaker = cloud.session.client("sagemaker")
    champion = release("x-champion")
    challenger = release("x-challenger")
    cloud.settle()
    assert serving(cloud, "x-champion") == (champion, [])
    assert serving(cloud, "x-challenger") == (challenger, [])

    # Shadow mode: the next challenger version becomes a shadow variant of the champion endpoint.
    set_project(cloud, {"challenger": {"strategy": "shadow", "shadow_sampling_percentage": 50}})
    release("x-challenger")
    shadowed = cloud.settle()
    [started] = shadowed.events(detail_type="Deployment Started")
    assert (started["detail"]["endpoint_name"], started["detail"]["strategy"]) == ("x-champion", "shadow")
    production, shadows = serving(cloud, "x-champion")
    assert production == champion and [name.split("-v")[1][0] for name in shadows] == ["2"]
    assert shadows[0].startswith("x-challenger-v2-")
    assert serving(cloud, "x-challenger") == (challenger, [])  # the challenger endpoint is untouched

    # A champion update keeps the shadow.
    new_champion = release("x-champion")
    updated = cloud.settle()
    assert serving(cloud, "x-champion") == (new_champion, shadows)
    *_, in_service = [
        event
        for event in updated.events(detail_type="SageMaker Endpoint State Change")
        if event["detail"]["EndpointStatus"] == "IN_SERVICE"
    ]

    # The lineage gate: a version without its dataset and metrics is refused, nothing changes.
    before = sagemaker.list_endpoint_configs()["EndpointConfigs"]
    release("x-champion", lineage={"MetadataProperties": {"CommitId": "c0ffee"}})
    refused = cloud.settle()
    [failed] = refused.events(detail_type="Deployment Failed")
    assert "lacks lineage required for champion: dataset, metrics" in failed["detail"]["reason"]
    assert sagemaker.list_endpoint_configs()["EndpointConfigs"] == before
    assert serving(cloud, "x-champion") == (new_champion, shadows)

    # The IN_SERVICE event delivered again: nothing pending to apply, nothing more to delete.
    models = sagemaker.list_models()["Models"]
    again = copy.deepcopy(in_service)
    again["id"] = "redelivered-in-service"
    [invocation] = cloud.send(again).invocations(function="ModelDeployerFunction")
    assert invocation.result["status"] == "tidied"
    assert invocation.result["deleted_endpoint_configs"] == invocation.result["deleted_models"] == []
    assert sagemaker.list_models()["Models"] == models


def test_a_failed_endpoint_is_reported_and_the_next_approval_recreates_it(cloud, release):
    cloud.hold_endpoint("x-prod", "Creating")
    release("x-prod")
    cloud.settle()

    cloud.fail_endpoint("x-prod", "ResourceLimitExceeded: ml.m5.large")
    failed = cloud.settle()
    [event] = failed.events(detail_type="Deployment Failed")
    assert "ResourceLimitExceeded: ml.m5.large" in event["detail"]["reason"]

    cloud.release_endpoint("x-prod")
    second = release("x-prod")
    recreated = cloud.settle()
    [started] = recreated.events(detail_type="Deployment Started")
    assert started["detail"]["action"] == "create"
    assert serving(cloud, "x-prod")[0] == second
    assert (
        cloud.session.client("sagemaker").describe_endpoint(EndpointName="x-prod")["EndpointStatus"]
        == "InService"
    )


def test_a_deployment_deferred_while_creating_survives_the_endpoint_failing(cloud, release):
    cloud.hold_endpoint("x-prod", "Creating")
    release("x-prod")
    second = release("x-prod")
    busy = cloud.settle()
    [deferred] = busy.events(detail_type="Deployment Deferred")
    assert deferred["detail"]["model_package_arn"] == second

    cloud.fail_endpoint("x-prod", "ResourceLimitExceeded: ml.m5.large")
    cloud.release_endpoint("x-prod")
    recovered = cloud.settle()

    [failed] = recovered.events(detail_type="Deployment Failed")
    assert (
        "ResourceLimitExceeded" in failed["detail"]["reason"]
        and "pending version 2" in failed["detail"]["reason"]
    )
    [started] = recovered.events(detail_type="Deployment Started")
    assert (started["detail"]["model_package_arn"], started["detail"]["action"]) == (second, "create")
    statuses = [
        event["detail"]["EndpointStatus"]
        for event in recovered.events(detail_type="SageMaker Endpoint State Change")
    ]
    assert statuses == ["FAILED", "DELETING", "CREATING", "IN_SERVICE"]
    assert serving(cloud, "x-prod")[0] == second


def test_rejecting_the_challenger_live_as_the_shadow_rolls_the_shadow_back(cloud, release):
    champion = release("x-champion")
    cloud.settle()
    set_project(cloud, {"challenger": {"strategy": "shadow"}})
    release("x-challenger")
    newest = release("x-challenger")
    cloud.settle()
    assert serving(cloud, "x-champion")[1][0].startswith("x-challenger-v2-")

    cloud.session.client("sagemaker").update_model_package(
        ModelPackageArn=newest, ModelApprovalStatus="Rejected"
    )
    rollback = cloud.settle()

    [rolled_back] = rollback.events(detail_type="Deployment Rolled Back")
    assert (
        rolled_back["detail"]["endpoint_name"],
        rolled_back["detail"]["rolled_back_model_package_arn"],
    ) == (
        "x-champion",
        newest,
    )
    production, shadows = serving(cloud, "x-champion")
    assert production == champion and shadows[0].startswith("x-challenger-v1-")
