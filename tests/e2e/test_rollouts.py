"""Canary and linear rollouts of prod end to end through the local cloud: the project record says how,
the deployer asks SageMaker for a blue/green update guarded by its alarms, the embedded SageMaker shifts
traffic step by step, and an alarm mid-rollout rolls it back, reported once."""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer
from mlops_core.deployment.endpoint_configs import alarm_names
from mlops_local import LocalCloud
from mlops_local.demo_model import BROKEN_MODEL, GOOD_MODEL, register_demo_version

ENDPOINT = "churn-prod"
CHURNER = json.dumps({"instances": [[2, 95.0, 4]]})  # GOOD_MODEL says 1 (churns), BROKEN_MODEL 0


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(parameters={"DeployedStages": "prod"}) as local_cloud:
        yield local_cloud


def set_strategy(cloud: LocalCloud, prod: dict[str, Any]) -> None:
    """The project record's deployment settings for prod, as the project-lifecycle function writes them."""
    serializer = TypeSerializer()
    item = {"pk": "PROJECT#churn", "sk": "META", "project": "churn", "deployment_defaults": {"prod": prod}}
    cloud.session.client("dynamodb").put_item(
        TableName=cloud.outputs["ConfigTableName"], Item={k: serializer.serialize(v) for k, v in item.items()}
    )


def release(cloud: LocalCloud, parameters: dict[str, Any]) -> str:
    """A version of the demo model in churn-prod with the lineage prod requires, approved; its ARN."""
    arn = register_demo_version(cloud.session, ENDPOINT, parameters, dataset="s3://data/churn/2026-11-01")
    cloud.session.client("sagemaker").update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved"
    )
    return arn


def answers(cloud: LocalCloud, requests: int) -> Counter[str]:
    """Which version answered each request: `v1` (the good model) or `v2` (the broken one)."""
    runtime = cloud.session.client("sagemaker-runtime", endpoint_url=cloud.sagemaker_runtime_url)
    seen: Counter[str] = Counter()
    for _ in range(requests):
        answer = runtime.invoke_endpoint(EndpointName=ENDPOINT, Body=CHURNER, ContentType="application/json")
        seen["v1" if json.loads(answer["Body"].read())["predictions"][0]["label"] == 1 else "v2"] += 1
    return seen


def deployment_steps(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [
        (
            event["detail"]["EndpointStatus"],
            event["detail"]["PendingDeploymentSummary"]["ProductionVariants"][0]["VariantStatus"][0][
                "Status"
            ],
        )
        for event in events
        if event["detail-type"] == "SageMaker Endpoint Deployment State Change"
    ]


def deployer_outcomes(trace: Any, detail_type: str) -> list[str]:
    return [
        invocation.result["status"]
        for invocation in trace.invocations(function="ModelDeployerFunction")
        if invocation.event["detail-type"] == detail_type
    ]


def test_an_alarm_mid_canary_rolls_back_the_old_version_keeps_serving_and_slack_hears_it_once(cloud):
    sagemaker = cloud.session.client("sagemaker")
    set_strategy(
        cloud,
        {
            "instance_type": "ml.m5.large",
            "instance_count": 4,
            "strategy": "canary",
            "blue_green": {"canary_percentage": 25, "wait_interval_seconds": 300},
        },
    )
    v1 = release(cloud, GOOD_MODEL)
    cloud.settle()
    v1_config = sagemaker.describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"]

    # v2 is rolled out as a canary: held while the canary (1 of 4 instances) bakes.
    cloud.hold_rollout(ENDPOINT, at="Baking")
    v2 = release(cloud, BROKEN_MODEL)
    started = cloud.settle()
    [start] = started.events(detail_type="Deployment Started")
    assert (start["detail"]["action"], start["detail"]["strategy"]) == ("update", "canary")
    assert deployment_steps(started.events()) == [
        ("UPDATING", "Creating"),
        ("UPDATING", "ActivatingTraffic"),
        ("UPDATING", "Baking"),
    ]
    described = sagemaker.describe_endpoint(EndpointName=ENDPOINT)
    assert described["EndpointStatus"] == "Updating"
    assert (
        described["PendingDeploymentSummary"]["EndpointConfigName"] == start["detail"]["endpoint_config_name"]
    )
    during = answers(cloud, 200)
    assert during["v2"] > 0 and during["v1"] > during["v2"]  # the canary takes a share, the rest stays on v1

    # The deployer's 5XX alarm fires: SageMaker rolls the update back, the deployer reports it once.
    errors_alarm, _latency_alarm = alarm_names("mlops", ENDPOINT)
    cloud.session.client("cloudwatch").set_alarm_state(
        AlarmName=errors_alarm, StateValue="ALARM", StateReason="5XX errors on the canary"
    )
    slack_before = len(cloud.slack_messages)
    rolled_back = cloud.settle()

    assert deployment_steps(rolled_back.events()) == [("ROLLING_BACK", "Deleting")]
    assert deployer_outcomes(rolled_back, "SageMaker Endpoint Deployment State Change") == ["rolled-back"]
    [announced] = rolled_back.events(detail_type="Deployment Rolled Back")
    assert announced["detail"]["trigger"] == "alarm"
    assert (
        announced["detail"]["rolled_back_model_package_arn"],
        announced["detail"]["model_package_arn"],
    ) == (
        v2,
        v1,
    )
    rollback_messages = [m for m in cloud.slack_messages[slack_before:] if "rolled back" in m["text"]]
    assert len(rollback_messages) == 1
    described = sagemaker.describe_endpoint(EndpointName=ENDPOINT)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", v1_config)
    assert "PendingDeploymentSummary" not in described
    assert answers(cloud, 50) == Counter(v1=50)

    # SageMaker's notice again, with a new id: nothing more is announced.
    [notice] = [
        event
        for event in rolled_back.events(detail_type="SageMaker Endpoint Deployment State Change")
        if event["detail"]["EndpointStatus"] == "ROLLING_BACK"
    ]
    again = copy.deepcopy(notice)
    again["id"] = "the-same-rollback-noticed-again"
    slack_before = len(cloud.slack_messages)
    repeated = cloud.send(again)
    assert deployer_outcomes(repeated, "SageMaker Endpoint Deployment State Change") == ["ignored"]
    assert repeated.events(detail_type="Deployment Rolled Back") == []
    assert cloud.slack_messages[slack_before:] == []
    assert sagemaker.describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"] == v1_config


def test_a_linear_rollout_that_no_alarm_stops_ends_on_the_new_config_with_all_traffic(cloud):
    sagemaker = cloud.session.client("sagemaker")
    set_strategy(
        cloud,
        {
            "instance_type": "ml.m5.large",
            "instance_count": 4,
            "strategy": "linear",
            "blue_green": {"linear_step_percentage": 25, "wait_interval_seconds": 120},
        },
    )
    release(cloud, GOOD_MODEL)
    cloud.settle()

    v2 = release(cloud, BROKEN_MODEL)
    trace = cloud.settle()

    [start] = trace.events(detail_type="Deployment Started")
    assert (start["detail"]["model_package_arn"], start["detail"]["strategy"]) == (v2, "linear")
    rollout = sagemaker.describe_endpoint(EndpointName=ENDPOINT)["LastDeploymentConfig"]
    assert rollout["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]["Type"] == "LINEAR"
    assert deployment_steps(trace.events()) == [
        ("UPDATING", "Creating"),
        *[("UPDATING", status) for _ in range(4) for status in ("ActivatingTraffic", "Baking")],
    ]
    shares = [
        event["detail"]["PendingDeploymentSummary"]["ProductionVariants"][0]["CurrentInstanceCount"]
        for event in trace.events(detail_type="SageMaker Endpoint Deployment State Change")
    ]
    assert shares == [0, 1, 1, 2, 2, 3, 3, 4, 4]
    described = sagemaker.describe_endpoint(EndpointName=ENDPOINT)
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"] == start["detail"]["endpoint_config_name"]
    assert "PendingDeploymentSummary" not in described
    assert trace.events(detail_type="Deployment Rolled Back") == []
    assert answers(cloud, 30) == Counter(v2=30)
