"""Blue/green rollouts in the embedded SageMaker: UpdateEndpoint with a DeploymentConfig shifts traffic
step by step (canary, linear, all at once with its bake), watches the rollback alarms and rolls back as
SageMaker does, with the events and DescribeEndpoint fields AWS documents (docs/local-cloud.md)."""

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from mlops_local import LocalCloud
from mlops_local.demo_model import BROKEN_MODEL, GOOD_MODEL, register_demo_version

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "aws-events"
EVENTS = Path(__file__).resolve().parents[2] / "events"
ALARM = "rollback-5xx"
CHURNER = json.dumps({"instances": [[2, 95.0, 4]]})  # GOOD_MODEL says 1 (churns), BROKEN_MODEL 0
ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture
def cloud(echo_cloud: LocalCloud) -> LocalCloud:
    echo_cloud.session.client("cloudwatch").put_metric_alarm(
        AlarmName=ALARM,
        MetricName="Invocation5XXErrors",
        Namespace="AWS/SageMaker",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    return echo_cloud


def endpoint_config(cloud: LocalCloud, name: str, parameters: dict[str, Any], instances: int = 4) -> str:
    """An endpoint config `name` serving the demo model with `parameters` on `instances` instances."""
    sagemaker = cloud.session.client("sagemaker")
    arn = register_demo_version(cloud.session, f"group-{name}", parameters)
    sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn="arn:aws:iam::123456789012:role/sm",
        Containers=[{"ModelPackageName": arn}],
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": name,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": instances,
                "InitialVariantWeight": 1.0,
            }
        ],
    )
    return name


@pytest.fixture
def live(cloud: LocalCloud) -> str:
    """Endpoint `churn-prod` in service on config `blue` (the good model on 4 instances)."""
    endpoint_config(cloud, "blue", GOOD_MODEL)
    cloud.session.client("sagemaker").create_endpoint(EndpointName="churn-prod", EndpointConfigName="blue")
    cloud.settle()
    return "churn-prod"


def blue_green(routing: dict[str, Any], *, termination: int = 600, timeout: int = 3600) -> dict[str, Any]:
    return {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": routing,
            "TerminationWaitInSeconds": termination,
            "MaximumExecutionTimeoutInSeconds": timeout,
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": ALARM}]},
    }


CANARY = {
    "Type": "CANARY",
    "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 25},
    "WaitIntervalInSeconds": 300,
}


def update(cloud: LocalCloud, config: str, deployment_config: dict[str, Any]) -> None:
    cloud.session.client("sagemaker").update_endpoint(
        EndpointName="churn-prod", EndpointConfigName=config, DeploymentConfig=deployment_config
    )


def progress(events: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    """(EndpointStatus, VariantStatus, new fleet's instances taking traffic) of each deployment event."""
    steps = []
    for event in events:
        if event["detail-type"] != "SageMaker Endpoint Deployment State Change":
            continue
        [variant] = event["detail"]["PendingDeploymentSummary"]["ProductionVariants"]
        [status] = variant["VariantStatus"]
        steps.append((event["detail"]["EndpointStatus"], status["Status"], variant["CurrentInstanceCount"]))
    return steps


def endpoint_statuses(events: list[dict[str, Any]]) -> list[str]:
    return [
        event["detail"]["EndpointStatus"]
        for event in events
        if event["detail-type"] == "SageMaker Endpoint State Change"
    ]


def answers(cloud: LocalCloud, requests: int = 200) -> Counter[str]:
    """Which model answered each of `requests` requests: `new` (the broken model) or `old`."""
    runtime = cloud.session.client("sagemaker-runtime", endpoint_url=cloud.sagemaker_runtime_url)
    seen: Counter[str] = Counter()
    for _ in range(requests):
        body = runtime.invoke_endpoint(
            EndpointName="churn-prod", Body=CHURNER, ContentType="application/json"
        )
        label = json.loads(body["Body"].read())["predictions"][0]["label"]
        seen["old" if label == 1 else "new"] += 1
    return seen


def test_a_canary_rollout_shifts_the_canary_bakes_then_shifts_the_rest(cloud: LocalCloud, live: str) -> None:
    sagemaker = cloud.session.client("sagemaker")
    endpoint_config(cloud, "green", BROKEN_MODEL)
    cloud.hold_rollout(live, at="Baking")
    update(cloud, "green", blue_green(CANARY))

    to_canary = cloud.settle().events()
    assert endpoint_statuses(to_canary) == ["UPDATING"]
    assert progress(to_canary) == [
        ("UPDATING", "Creating", 0),
        ("UPDATING", "ActivatingTraffic", 1),
        ("UPDATING", "Baking", 1),
    ]
    described = sagemaker.describe_endpoint(EndpointName=live)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("Updating", "blue")
    pending = described["PendingDeploymentSummary"]
    assert pending["EndpointConfigName"] == "green"
    [variant] = pending["ProductionVariants"]
    assert (variant["CurrentInstanceCount"], variant["DesiredInstanceCount"]) == (1, 4)
    assert variant["VariantStatus"][0]["Status"] == "Baking"
    assert variant["VariantStatus"][0]["StatusMessage"] == (
        "Baking for 300 seconds (WaitIntervalInSeconds) with traffic enabled on canary capacity of 1 instance(s)."
    )
    # The canary (1 of 4 instances) answers about a quarter of the requests.
    during = answers(cloud, 400)
    assert 60 <= during["new"] <= 140 and during["old"] + during["new"] == 400

    cloud.release_endpoint(live)
    finished = cloud.settle().events()
    assert progress(finished) == [("UPDATING", "ActivatingTraffic", 4), ("UPDATING", "Baking", 4)]
    [final_bake] = [e for e in finished if e["detail-type"] == "SageMaker Endpoint Deployment State Change"][
        1:
    ]
    assert (
        final_bake["detail"]["PendingDeploymentSummary"]["ProductionVariants"][0]["VariantStatus"][0][
            "StatusMessage"
        ]
        == "Baking for 600 seconds (TerminationWaitInSeconds) with traffic enabled on full capacity of 4 instance(s)."
    )
    assert endpoint_statuses(finished) == ["IN_SERVICE"]
    described = sagemaker.describe_endpoint(EndpointName=live)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", "green")
    assert "PendingDeploymentSummary" not in described
    assert answers(cloud, 20) == Counter(new=20)


def test_an_alarm_mid_rollout_rolls_the_update_back_to_the_old_fleet(cloud: LocalCloud, live: str) -> None:
    sagemaker = cloud.session.client("sagemaker")
    endpoint_config(cloud, "green", BROKEN_MODEL)
    cloud.hold_rollout(live, at="Baking")
    update(cloud, "green", blue_green(CANARY))
    cloud.settle()
    assert cloud.settle().events() == []  # held: time stands still while the canary bakes

    cloud.session.client("cloudwatch").set_alarm_state(
        AlarmName=ALARM, StateValue="ALARM", StateReason="5XX errors on the canary"
    )
    rolled_back = cloud.settle().events()

    assert endpoint_statuses(rolled_back) == ["ROLLING_BACK", "IN_SERVICE"]
    assert progress(rolled_back) == [("ROLLING_BACK", "Deleting", 0)]
    [notice] = [e for e in rolled_back if e["detail-type"] == "SageMaker Endpoint Deployment State Change"]
    assert notice["detail"]["EndpointConfigName"] == "blue"  # the config the endpoint goes back to
    assert notice["detail"]["PendingDeploymentSummary"]["EndpointConfigName"] == "green"  # the one undone
    assert isinstance(notice["detail"]["PendingDeploymentSummary"]["StartTime"], int)
    described = sagemaker.describe_endpoint(EndpointName=live)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", "blue")
    assert "PendingDeploymentSummary" not in described
    assert described["ProductionVariants"][0]["CurrentInstanceCount"] == 4
    assert described["LastDeploymentConfig"] == blue_green(CANARY)
    assert answers(cloud, 50) == Counter(old=50)  # the old version keeps serving, all of it
    assert cloud.settle().events() == []  # nothing left of the update

    # The hold ended with the rollout it stopped: the next rollout runs to its end.
    cloud.session.client("cloudwatch").set_alarm_state(AlarmName=ALARM, StateValue="OK", StateReason="fixed")
    endpoint_config(cloud, "green-fixed", GOOD_MODEL)
    update(cloud, "green-fixed", blue_green(CANARY))
    assert endpoint_statuses(cloud.settle().events()) == ["UPDATING", "IN_SERVICE"]
    assert sagemaker.describe_endpoint(EndpointName=live)["EndpointConfigName"] == "green-fixed"


def test_a_linear_rollout_moves_one_step_at_a_time_and_shrinks_the_old_fleet(
    cloud: LocalCloud, live: str
) -> None:
    endpoint_config(cloud, "green", BROKEN_MODEL)
    linear = {
        "Type": "LINEAR",
        "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 25},
        "WaitIntervalInSeconds": 60,
    }
    update(cloud, "green", blue_green(linear, termination=0))

    events = cloud.settle().events()

    assert [(status, active) for _, status, active in progress(events)] == [
        ("Creating", 0),
        *[(status, active) for active in (1, 2, 3, 4) for status in ("ActivatingTraffic", "Baking")],
    ]
    old_fleet = [
        event["detail"]["ProductionVariants"][0]["CurrentInstanceCount"]
        for event in events
        if event["detail-type"] == "SageMaker Endpoint Deployment State Change"
    ]
    assert old_fleet == [4, 3, 3, 2, 2, 1, 1, 0, 0]
    messages = [
        event["detail"]["PendingDeploymentSummary"]["ProductionVariants"][0]["VariantStatus"][0][
            "StatusMessage"
        ]
        for event in events
        if event["detail-type"] == "SageMaker Endpoint Deployment State Change"
    ]
    assert messages[:3] == [
        "Launching 4 instance(s).",
        "Activating traffic on linear step capacity of 1 instance(s).",
        "Baking for 60 seconds (WaitIntervalInSeconds) with traffic enabled on linear step capacity of 1 instance(s).",
    ]
    assert endpoint_statuses(events) == ["UPDATING", "IN_SERVICE"]
    described = cloud.session.client("sagemaker").describe_endpoint(EndpointName=live)
    assert described["EndpointConfigName"] == "green"
    assert described["ProductionVariants"][0]["CurrentInstanceCount"] == 4
    assert answers(cloud, 20) == Counter(new=20)


def test_all_at_once_with_its_bake_rolls_back_on_an_alarm_during_the_bake(
    cloud: LocalCloud, live: str
) -> None:
    endpoint_config(cloud, "green", BROKEN_MODEL)
    cloud.hold_rollout(live, at="Baking")
    update(cloud, "green", blue_green({"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}, termination=900))

    baking = cloud.settle().events()
    assert progress(baking) == [
        ("UPDATING", "Creating", 0),
        ("UPDATING", "ActivatingTraffic", 4),
        ("UPDATING", "Baking", 4),
    ]
    assert answers(cloud, 20) == Counter(new=20)  # all traffic on the new fleet while it bakes

    cloud.session.client("cloudwatch").set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="x")
    assert endpoint_statuses(cloud.settle().events()) == ["ROLLING_BACK", "IN_SERVICE"]
    assert (
        cloud.session.client("sagemaker").describe_endpoint(EndpointName=live)["EndpointConfigName"] == "blue"
    )
    assert answers(cloud, 20) == Counter(old=20)


def test_a_rollout_that_runs_past_its_maximum_execution_timeout_is_rolled_back(
    cloud: LocalCloud, live: str
) -> None:
    endpoint_config(cloud, "green", GOOD_MODEL)
    slow_canary = {**CANARY, "WaitIntervalInSeconds": 600}
    update(cloud, "green", blue_green(slow_canary, termination=600, timeout=900))  # 600 + 600 > 900

    events = cloud.settle().events()

    assert [status for _, status, _ in progress(events)] == [
        "Creating",
        "ActivatingTraffic",
        "Baking",
        "ActivatingTraffic",
        "Baking",
        "Deleting",
    ]
    assert endpoint_statuses(events) == ["UPDATING", "ROLLING_BACK", "IN_SERVICE"]
    assert (
        cloud.session.client("sagemaker").describe_endpoint(EndpointName=live)["EndpointConfigName"] == "blue"
    )


def test_an_alarm_already_in_alarm_rolls_back_before_any_traffic_moves(cloud: LocalCloud, live: str) -> None:
    endpoint_config(cloud, "green", BROKEN_MODEL)
    cloud.session.client("cloudwatch").set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="x")
    update(cloud, "green", blue_green(CANARY))

    events = cloud.settle().events()

    assert [status for _, status, _ in progress(events)] == ["Creating", "Deleting"]
    assert endpoint_statuses(events) == ["UPDATING", "ROLLING_BACK", "IN_SERVICE"]


@pytest.mark.parametrize(
    ("deployment_config", "refusal"),
    [
        (
            blue_green({**CANARY, "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 60}}),
            "CanarySize must be",
        ),
        (blue_green({**CANARY, "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 3}}), "CanarySize must be"),
        (blue_green({"Type": "CANARY", "WaitIntervalInSeconds": 60}), "CanarySize is required"),
        (
            blue_green(
                {
                    "Type": "LINEAR",
                    "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 5},
                    "WaitIntervalInSeconds": 60,
                }
            ),
            "LinearStepSize must be 10-50%",
        ),
        (
            blue_green(
                {
                    "Type": "LINEAR",
                    "LinearStepSize": {"Type": "INSTANCE_COUNT", "Value": 3},
                    "WaitIntervalInSeconds": 60,
                }
            ),
            "LinearStepSize must be 10-50%",
        ),
        (blue_green({**CANARY, "WaitIntervalInSeconds": 3601}), "waitIntervalInSeconds' failed to satisfy"),
        (blue_green(CANARY, termination=3601), "terminationWaitInSeconds' failed to satisfy"),
        (blue_green(CANARY, timeout=28801), "maximumExecutionTimeoutInSeconds' failed to satisfy"),
        (
            {"AutoRollbackConfiguration": {"Alarms": [{"AlarmName": f"a{n}"} for n in range(11)]}},
            "alarms' failed to satisfy constraint: Member must have length less than or equal to 10",
        ),
    ],
)
def test_update_endpoint_refuses_a_deployment_config_that_sagemaker_refuses(
    cloud: LocalCloud, live: str, deployment_config: dict[str, Any], refusal: str
) -> None:
    endpoint_config(cloud, "green", GOOD_MODEL)
    cloud.settle()

    with pytest.raises(ClientError, match=refusal) as raised:
        update(cloud, "green", deployment_config)

    assert raised.value.response["Error"]["Code"] == "ValidationException"
    described = cloud.session.client("sagemaker").describe_endpoint(EndpointName=live)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", "blue")
    assert "LastDeploymentConfig" not in described
    assert cloud.settle().events() == []


def test_a_blue_green_update_keeps_the_variant_names(cloud: LocalCloud, live: str) -> None:
    sagemaker = cloud.session.client("sagemaker")
    model = sagemaker.describe_endpoint_config(EndpointConfigName="blue")["ProductionVariants"][0][
        "ModelName"
    ]
    sagemaker.create_endpoint_config(
        EndpointConfigName="renamed",
        ProductionVariants=[
            {
                "VariantName": "Other",
                "ModelName": model,
                "InitialInstanceCount": 4,
                "InstanceType": "ml.m5.large",
            }
        ],
    )

    with pytest.raises(ClientError, match="must have the same variant names"):
        update(cloud, "renamed", blue_green(CANARY))

    sagemaker.update_endpoint(EndpointName=live, EndpointConfigName="renamed")  # no DeploymentConfig: allowed
    cloud.settle()
    assert sagemaker.describe_endpoint(EndpointName=live)["EndpointConfigName"] == "renamed"


def shape(value: Any) -> Any:
    """The fields of an event and the kinds of their values (a list: its first item), tags left out."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items() if key != "Tags"}
    if isinstance(value, list):
        return [shape(item) for item in value[:1]]
    return "number" if isinstance(value, int | float) else type(value).__name__


def test_the_deployment_event_has_the_shape_of_aws_sample(cloud: LocalCloud, live: str) -> None:
    """Every field of AWS's sample (UPDATING, a canary baking), with the same types; `time` ISO-8601 and
    the timestamps epoch milliseconds, as in the sample."""
    sample = json.loads((FIXTURES / "endpoint-deployment-state-change.json").read_text())
    endpoint_config(cloud, "green", GOOD_MODEL)
    cloud.hold_rollout(live, at="Baking")
    update(cloud, "green", blue_green(CANARY))

    *_, baking = [
        e for e in cloud.settle().events() if e["detail-type"] == "SageMaker Endpoint Deployment State Change"
    ]

    assert shape(baking) == shape(sample)
    assert ISO_TIME.match(baking["time"])
    assert baking["detail"]["Tags"] == {}
    assert baking["resources"] == [baking["detail"]["EndpointArn"]]


def test_the_rollback_notice_has_the_shape_of_the_inferred_sample_the_deployer_is_tested_with(
    cloud: LocalCloud, live: str
) -> None:
    """events/endpoint-deployment-rolling-back.json (inferred: AWS publishes no ROLLING_BACK sample) is what
    the embedded SageMaker emits, so the deployer's tests and the emulator cannot drift apart."""
    sample = json.loads((EVENTS / "endpoint-deployment-rolling-back.json").read_text())
    endpoint_config(cloud, "green", BROKEN_MODEL)
    cloud.session.client("cloudwatch").set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="x")
    update(cloud, "green", blue_green(CANARY))

    [notice] = [
        e
        for e in cloud.settle().events()
        if e["detail-type"] == "SageMaker Endpoint Deployment State Change"
        and e["detail"]["EndpointStatus"] == "ROLLING_BACK"
    ]

    assert shape(notice) == shape(sample)
    assert ISO_TIME.match(notice["time"]) and ISO_TIME.match(sample["time"])
