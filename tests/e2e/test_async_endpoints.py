"""An asynchronous stage end to end: approval → endpoint config with AsyncInferenceConfig → endpoint
InService → each case's input put in the stack's bucket, InvokeEndpointAsync on the local inference
server, the answer (or failure) read back from S3 and checked like a real-time answer."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer
from mlops_core.suite_tool import write_suite
from mlops_local import LocalCloud
from mlops_local.demo_model import BROKEN_MODEL, DEMO_SUITE, GOOD_MODEL, register_demo_version

pytestmark = pytest.mark.e2e

ASYNC_DEV = {"dev": {"compute": {"kind": "async", "instance_type": "ml.m5.large", "instance_count": 1}}}
# An async case's latency includes the queue and the polling for its answer (a first look after 50 ms,
# then at doubling intervals): the demo's 150 ms budgets are a real-time endpoint's, and on a loaded
# machine an answer a little late would fail them. What these tests are about is the queue.
CASES_ONLY = {
    "description": "the demo cases, without their real-time latency budgets",
    "cases": [{k: v for k, v in case.items() if k != "latency_budget_ms"} for case in DEMO_SUITE["cases"]],
}


def set_project(cloud: LocalCloud, deployment: dict[str, Any]) -> None:
    serializer = TypeSerializer()
    item = {
        "pk": "PROJECT#x",
        "sk": "META",
        "project": "x",
        "deployment_defaults": deployment,
        "lineage_policy": {"stages": []},  # the demo versions carry no lineage
    }
    cloud.session.client("dynamodb").put_item(
        TableName=cloud.outputs["ConfigTableName"], Item={k: serializer.serialize(v) for k, v in item.items()}
    )


def deploy(cloud: LocalCloud, model: dict[str, Any]) -> tuple[str, Any]:
    arn = register_demo_version(cloud.session, "x-dev", model)
    cloud.settle()
    cloud.session.client("sagemaker").update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved"
    )
    return arn, cloud.settle()


def completed(trace: Any) -> list[dict[str, Any]]:
    return [event["detail"] for event in trace.events(detail_type="Integration Tests Completed")]


def keys(cloud: LocalCloud, prefix: str) -> list[str]:
    listed = cloud.session.client("s3").list_objects_v2(
        Bucket=cloud.outputs["AsyncInferenceBucketName"], Prefix=prefix
    )
    return [item["Key"] for item in listed.get("Contents", [])]


def test_an_async_stage_is_deployed_with_its_queue_and_tested_through_it(cloud):
    bucket = cloud.outputs["AsyncInferenceBucketName"]
    set_project(cloud, ASYNC_DEV)
    write_suite(
        cloud.session.client("dynamodb"), cloud.outputs["ConfigTableName"], "x-dev", CASES_ONLY, source="t"
    )

    good, trace = deploy(cloud, GOOD_MODEL)

    sagemaker = cloud.session.client("sagemaker")
    config = sagemaker.describe_endpoint_config(
        EndpointConfigName=sagemaker.describe_endpoint(EndpointName="x-dev")["EndpointConfigName"]
    )
    assert config["AsyncInferenceConfig"]["OutputConfig"] == {
        "S3OutputPath": f"s3://{bucket}/x-dev/outputs/",
        "S3FailurePath": f"s3://{bucket}/x-dev/failures/",
    }
    assert config["ProductionVariants"][0]["InstanceType"] == "ml.m5.large"
    [result] = completed(trace)
    assert result["outcome"] == "passed", result["summary"]
    assert result["model_package_arn"] == good
    assert [case["name"] for case in result["cases"]] == [
        "churner-leaves",
        "loyal-customer-stays",
        "malformed-row-is-refused",
    ]
    # Each case went through the queue: three inputs, two answers, one failure (the malformed row).
    assert len(keys(cloud, "x-dev/inputs/")) == 3
    assert len(keys(cloud, "x-dev/outputs/")) == 2
    [failure] = keys(cloud, "x-dev/failures/")
    body = cloud.session.client("s3").get_object(Bucket=bucket, Key=failure)["Body"].read()
    assert b"ModelError" in body or b"client error" in body, body  # the model's refusal, as written

    # The same IN_SERVICE event again (a new id): the deployment was tested, nothing runs twice.
    [in_service] = [
        e
        for e in trace.events(detail_type="SageMaker Endpoint State Change")
        if e["detail"]["EndpointStatus"] == "IN_SERVICE"
    ]
    duplicate = copy.deepcopy(in_service)
    duplicate["id"] = "duplicate-of-" + in_service["id"]
    assert completed(cloud.send(duplicate)) == []

    broken, trace = deploy(cloud, BROKEN_MODEL)

    [result] = completed(trace)
    assert result["outcome"] == "failed" and result["model_package_arn"] == broken
    assert {case["name"] for case in result["cases"] if not case["passed"]} == {
        "churner-leaves",
        "loyal-customer-stays",
    }


def test_a_load_phase_on_an_async_endpoint_fails_and_says_why(cloud):
    set_project(cloud, ASYNC_DEV)
    write_suite(
        cloud.session.client("dynamodb"),
        cloud.outputs["ConfigTableName"],
        "x-dev",
        CASES_ONLY | {"load": DEMO_SUITE["load"]},
        source="t",
    )

    _, trace = deploy(cloud, GOOD_MODEL)

    [result] = completed(trace)
    assert result["outcome"] == "failed"
    assert all(case["passed"] for case in result["cases"])
    assert result["load"]["requests"] == 0
    assert any("asynchronous" in failure for failure in result["load"]["failures"])


@pytest.fixture
def prod_cloud() -> Iterator[LocalCloud]:
    with LocalCloud(parameters={"DeployedStages": "prod,champion,challenger"}) as local_cloud:
        yield local_cloud


def test_a_challenger_in_shadow_mode_is_refused_beside_an_async_champion(prod_cloud):
    cloud = prod_cloud
    set_project(
        cloud,
        {
            "champion": {"compute": {"kind": "async", "instance_type": "ml.m5.large", "instance_count": 1}},
            "challenger": {"strategy": "shadow"},
        },
    )
    arn = register_demo_version(cloud.session, "x-champion", GOOD_MODEL)
    cloud.settle()
    cloud.session.client("sagemaker").update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved"
    )
    cloud.settle()
    challenger = register_demo_version(cloud.session, "x-challenger", GOOD_MODEL)
    cloud.settle()
    cloud.session.client("sagemaker").update_model_package(
        ModelPackageArn=challenger, ModelApprovalStatus="Approved"
    )

    trace = cloud.settle()

    [failed] = [event["detail"] for event in trace.events(detail_type="Deployment Failed")]
    assert failed["endpoint_name"] == "x-challenger"
    assert "champion endpoint x-champion is asynchronous" in failed["reason"]
    config = cloud.session.client("sagemaker").describe_endpoint_config(
        EndpointConfigName=cloud.session.client("sagemaker").describe_endpoint(EndpointName="x-champion")[
            "EndpointConfigName"
        ]
    )
    assert "ShadowProductionVariants" not in config


def test_an_async_production_endpoint_scales_on_its_backlog_down_to_zero(prod_cloud):
    cloud = prod_cloud
    scaling = {"min_capacity": 0, "max_capacity": 4, "target_backlog_per_instance": 5}
    compute = {"kind": "async", "instance_type": "ml.m5.large", "instance_count": 1}
    set_project(cloud, {"prod": {"compute": compute, "autoscaling": scaling}})
    arn = register_demo_version(cloud.session, "x-prod", GOOD_MODEL)
    cloud.settle()
    cloud.session.client("sagemaker").update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved"
    )
    cloud.settle()

    autoscaling = cloud.session.client("application-autoscaling")
    resource = "endpoint/x-prod/variant/AllTraffic"
    [target] = autoscaling.describe_scalable_targets(ServiceNamespace="sagemaker", ResourceIds=[resource])[
        "ScalableTargets"
    ]
    [policy] = autoscaling.describe_scaling_policies(ServiceNamespace="sagemaker", ResourceId=resource)[
        "ScalingPolicies"
    ]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (0, 4)
    tracking = policy["TargetTrackingScalingPolicyConfiguration"]
    assert policy["PolicyName"].endswith("-x-prod-backlog-per-instance")
    assert tracking["TargetValue"] == 5
    assert tracking["CustomizedMetricSpecification"]["MetricName"] == "ApproximateBacklogSizePerInstance"
    assert tracking["CustomizedMetricSpecification"]["Dimensions"] == [
        {"Name": "EndpointName", "Value": "x-prod"}
    ]
