"""Monitoring end to end on the local cloud: the control plane's own alarms (deployed from the template,
notifying the operations topic, which the Slack notifier reads), and every managed endpoint's health
alarms (created, updated and deleted by the deployer; their state changes in the project's channel)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer
from mlops_core.catalog import CATALOG
from mlops_core.contract.endpoint_alarms import health_alarm_names
from mlops_core.handlers import event_metrics
from mlops_core.observability import METRICS_NAMESPACE
from mlops_local import LocalCloud
from mlops_local.demo_model import GOOD_MODEL, register_demo_version
from mlops_local.slack import SlackWebhookReceiver
from mlops_local.testing import SOURCE_BUCKET, register_dev_version

FUNCTIONS = (
    "ModelDeployerFunction",
    "MlflowAliasWatcherFunction",
    "EndpointTesterFunction",
    "SlackNotifierFunction",
    "ProjectLifecycleFunction",
    "EndpointReaperFunction",
    "ArtifactCopierFunction",
)


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(parameters={"DeployedStages": "dev,prod"}) as local_cloud:
        local_cloud.session.client("s3").create_bucket(Bucket=SOURCE_BUCKET)
        yield local_cloud


def alarms(cloud: LocalCloud, prefix: str) -> dict[str, dict[str, Any]]:
    pages = (
        cloud.session.client("cloudwatch").get_paginator("describe_alarms").paginate(AlarmNamePrefix=prefix)
    )
    return {alarm["AlarmName"]: alarm for page in pages for alarm in page["MetricAlarms"]}


def slack_texts_since(cloud: LocalCloud, count: int) -> list[str]:
    return [json.dumps(message, ensure_ascii=False) for message in cloud.slack_messages[count:]]


def set_state(cloud: LocalCloud, name: str, state: str, reason_data: dict[str, Any] | None = None) -> None:
    cloud.session.client("cloudwatch").set_alarm_state(
        AlarmName=name,
        StateValue=state,
        StateReason=f"Threshold Crossed: set to {state} by the test <!channel>",
        **({"StateReasonData": json.dumps(reason_data)} if reason_data else {}),
    )


def test_the_stack_alarms_on_each_functions_errors_and_throttles_the_failed_events_queue_and_dynamodb(cloud):
    own = alarms(cloud, "mlops/control-plane/")
    topic = cloud.outputs["OperationsAlarmTopicArn"]

    for function in FUNCTIONS:
        for metric, suffix in (("Errors", "errors"), ("Throttles", "throttles")):
            alarm = own[f"mlops/control-plane/{function}-{suffix}"]
            assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Lambda", metric)
            assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": cloud.functions[function].name}]
    queue = own["mlops/control-plane/FailedEventsQueue-depth"]
    assert queue["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert queue["Dimensions"][0]["Value"] == cloud.outputs["FailedEventsQueueUrl"].rpartition("/")[2]
    throttling = own["mlops/control-plane/ConfigTable-throttling"]
    assert {m["MetricStat"]["Metric"]["MetricName"] for m in throttling["Metrics"] if "MetricStat" in m} == {
        "ReadThrottleEvents",
        "WriteThrottleEvents",
    }
    assert "mlops/control-plane/IdempotencyTable-throttling" in own
    assert len(own) == 2 * len(FUNCTIONS) + 3
    assert all(a["AlarmActions"] == [topic] and a["OKActions"] == [topic] for a in own.values())


def test_a_control_plane_alarm_and_its_recovery_reach_the_platform_channel_through_the_topic(cloud):
    name = "mlops/control-plane/ModelDeployerFunction-errors"
    before = len(cloud.slack_messages)

    set_state(cloud, name, "ALARM", {"recentDatapoints": [3.0], "threshold": 1.0})
    trace = cloud.settle()

    (delivery,) = [d for d in trace if d.bus.startswith("sns:")]
    assert delivery.runs[0].function == "SlackNotifierFunction" and delivery.runs[0].succeeded
    (alarm_text,) = slack_texts_since(cloud, before)
    assert "Alarm on mlops/control-plane/ModelDeployerFunction-errors" in alarm_text
    assert "*Threshold:* 1" in alarm_text  # an SNS notification has no datapoints, only the reason's text
    assert "&lt;!channel&gt;" in alarm_text and "<!channel>" not in alarm_text
    assert "alarmsV2:alarm/mlops%2Fcontrol-plane%2FModelDeployerFunction-errors" in alarm_text

    set_state(cloud, name, "OK")
    cloud.settle()
    (recovered,) = slack_texts_since(cloud, before + 1)
    assert "Recovered: mlops/control-plane/ModelDeployerFunction-errors" in recovered


def test_a_new_alarms_first_ok_is_no_news_and_the_same_state_again_changes_nothing(cloud):
    name = "mlops/control-plane/EndpointReaperFunction-throttles"
    assert alarms(cloud, name)[name]["StateValue"] == "INSUFFICIENT_DATA"  # as CloudWatch creates it
    before = len(cloud.slack_messages)

    set_state(cloud, name, "OK")
    first = cloud.settle()
    set_state(cloud, name, "OK")
    again = cloud.settle()

    (notification,) = [d for d in first if d.bus.startswith("sns:")]  # the OK action ran
    assert notification.runs[0].attempts[-1].result["status"] == "not-news"
    assert len(again) == 0  # no state change: no event, no action
    assert len(cloud.slack_messages) == before


# ------------------------------------------------------------------------------- endpoint alarms


@pytest.fixture(scope="module")
def project_channel(cloud: LocalCloud) -> Iterator[SlackWebhookReceiver]:
    """The churn project's own Slack channel: its record names a webhook secret of its own."""
    with SlackWebhookReceiver() as receiver:
        cloud.session.client("secretsmanager").create_secret(
            Name="slack/churn/webhook",
            SecretString=json.dumps({"webhook_url": receiver.url}),
            Tags=[{"Key": "mlops:managed-by", "Value": cloud.stack_name}],
        )
        yield receiver


def put_churn_record(cloud: LocalCloud, dev: dict[str, Any]) -> None:
    serializer = TypeSerializer()
    item = {
        "pk": "PROJECT#churn",
        "sk": "META",
        "project": "churn",
        "slack_webhook_secret": "slack/churn/webhook",
        "deployment_defaults": {"dev": dev},
    }
    cloud.session.client("dynamodb").put_item(
        TableName=cloud.outputs["ConfigTableName"], Item={k: serializer.serialize(v) for k, v in item.items()}
    )


def test_an_endpoint_gets_health_alarms_with_the_projects_thresholds_tagged_and_naming_its_version(
    cloud, project_channel
):
    put_churn_record(
        cloud, {"monitoring": {"invocation_5xx_errors_threshold": 7, "model_latency_p99_ms": 250}}
    )
    arn = register_dev_version(cloud.session, "churn", "c0ffee1")
    cloud.settle()

    health = alarms(cloud, "mlops-churn-dev-health-")
    assert sorted(health) == sorted(health_alarm_names("mlops", "churn-dev", "instances"))
    errors, latency = (
        health["mlops-churn-dev-health-5xx-errors"],
        health["mlops-churn-dev-health-model-latency-p99"],
    )
    assert errors["Threshold"] == 7 and errors["MetricName"] == "Invocation5XXErrors"
    assert (latency["ExtendedStatistic"], latency["Threshold"]) == ("p99", 250_000)  # microseconds
    assert health["mlops-churn-dev-health-cpu-utilization"]["Namespace"] == "/aws/sagemaker/Endpoints"
    assert f"serving {arn.partition(':model-package/')[2]}" in errors["AlarmDescription"]
    tags = cloud.session.client("cloudwatch").list_tags_for_resource(ResourceARN=errors["AlarmArn"])["Tags"]
    assert {"Key": "mlops:managed-by", "Value": "mlops"} in tags
    assert {"Key": "mlops:project", "Value": "churn"} in tags


def test_back_in_service_the_alarms_are_put_only_where_they_changed(cloud, project_channel):
    put_churn_record(cloud, {"monitoring": {"invocation_5xx_errors_threshold": 7}})
    register_dev_version(cloud.session, "churn", "c0ffee3")
    cloud.settle()
    (in_service, *_) = [
        event
        for event in reversed(cloud.history.events(detail_type="SageMaker Endpoint State Change"))
        if event["detail"]["EndpointName"] == "churn-dev"
        and event["detail"]["EndpointStatus"] == "IN_SERVICE"
    ]
    again = {key: value for key, value in in_service.items() if key != "id"}

    with cloud.recording_aws_requests() as unchanged:
        cloud.send(again)
    put_churn_record(cloud, {"monitoring": {"invocation_5xx_errors_threshold": 9}})
    with cloud.recording_aws_requests() as changed:
        cloud.send(again)

    assert {r.operation for r in unchanged if r.service == "monitoring"} == {"DescribeAlarms"}  # no change
    assert [r.operation for r in changed if r.operation == "PutMetricAlarm"] == ["PutMetricAlarm"]
    assert (
        alarms(cloud, "mlops-churn-dev-health-5xx-errors")["mlops-churn-dev-health-5xx-errors"]["Threshold"]
        == 9
    )


def test_an_endpoint_alarm_and_its_recovery_reach_the_projects_channel(cloud, project_channel):
    if "mlops-churn-dev-health-5xx-errors" not in alarms(cloud, "mlops-churn-dev-health-"):
        put_churn_record(cloud, {})
        register_dev_version(cloud.session, "churn", "c0ffee2")
        cloud.settle()
    platform_before, project_before = len(cloud.slack_messages), len(project_channel.messages)

    set_state(
        cloud, "mlops-churn-dev-health-5xx-errors", "ALARM", {"recentDatapoints": [12.0], "threshold": 7.0}
    )
    trace = cloud.settle()

    assert trace.deliveries[0].rules[0].startswith("mlops-SlackNotifierFunction")
    (message,) = [json.dumps(m) for m in project_channel.messages[project_before:]]
    assert "Alarm on churn-dev" in message and "12 (threshold 7)" in message
    assert "churn-dev/" in message  # the version it serves, from the alarm's description
    assert "alarmsV2:alarm/mlops-churn-dev-health-5xx-errors" in message
    assert len(cloud.slack_messages) == platform_before  # not in the platform team's channel

    set_state(cloud, "mlops-churn-dev-health-5xx-errors", "OK")
    cloud.settle()
    assert "Recovered: churn-dev" in json.dumps(project_channel.messages[project_before + 1])


def test_a_rollback_alarm_firing_is_announced_too_though_its_actions_are_off(cloud, project_channel):
    """SageMaker watches a canary's rollback alarms itself (their actions are off); their state
    changes still reach EventBridge, and so the project's channel."""
    name = "mlops-churn-dev-invocation-5xx-errors"  # as the deployer names them (endpoint_configs)
    cloud.session.client("cloudwatch").put_metric_alarm(
        AlarmName=name,
        AlarmDescription="Rolls back a deployment of churn-dev that returns 5XX errors.",
        Namespace="AWS/SageMaker",
        MetricName="Invocation5XXErrors",
        Dimensions=[
            {"Name": "EndpointName", "Value": "churn-dev"},
            {"Name": "VariantName", "Value": "AllTraffic"},
        ],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=2,
        Threshold=1.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        ActionsEnabled=False,
    )
    before = len(project_channel.messages)

    set_state(cloud, name, "ALARM")
    cloud.settle()

    (message,) = [json.dumps(m) for m in project_channel.messages[before:]]
    assert "Alarm on churn-dev" in message and "Rolls back a deployment of churn-dev" in message


def test_a_serverless_endpoint_gets_the_alarms_of_the_metrics_serverless_endpoints_publish(cloud):
    serializer = TypeSerializer()
    item = {
        "pk": "PROJECT#fraud",
        "sk": "META",
        "project": "fraud",
        "deployment_defaults": {"dev": {"compute": {"kind": "serverless"}}},
    }
    cloud.session.client("dynamodb").put_item(
        TableName=cloud.outputs["ConfigTableName"], Item={k: serializer.serialize(v) for k, v in item.items()}
    )
    register_dev_version(cloud.session, "fraud", "beef")
    cloud.settle()

    health = alarms(cloud, "mlops-fraud-dev-health-")
    assert sorted(health) == sorted(health_alarm_names("mlops", "fraud-dev", "serverless"))
    assert "mlops-fraud-dev-health-cpu-utilization" not in health


def test_the_reaper_deleting_an_endpoint_leaves_no_alarm_of_it(cloud):
    register_dev_version(cloud.session, "reaped", "f00d")
    cloud.settle()
    assert alarms(cloud, "mlops-reaped-dev-")

    cloud.send(
        {"source": "mlops.operator", "detail-type": "Endpoints Reap Requested", "detail": {"dry_run": False}},
        bus=cloud.outputs["EventBusName"],
    )

    endpoints = cloud.session.client("sagemaker").list_endpoints(NameContains="reaped")["Endpoints"]
    assert endpoints == []
    assert alarms(cloud, "mlops-reaped-dev-") == {}


# ------------------------------------------------------------------------------------------- dashboard


def test_the_stacks_dashboard_shows_the_domain_events_metrics_and_each_functions_errors(cloud):
    name = cloud.outputs["DashboardName"]
    body = json.loads(cloud.session.client("cloudwatch").get_dashboard(DashboardName=name)["DashboardBody"])
    metrics = [m for w in body["widgets"] for m in w["properties"]["metrics"] if len(m) > 1]  # not SEARCH
    text = json.dumps(body)

    titles = [w["properties"]["title"] for w in body["widgets"]]
    assert name == "mlops-control-plane" and len(titles) == 8
    errors = {m[3] for m in metrics if m[:2] == ["AWS/Lambda", "Errors"]}
    assert errors == {cloud.functions[function].name for function in FUNCTIONS}
    shown_types = {m[3] for m in metrics if m[1] == event_metrics.DOMAIN_EVENTS}
    assert shown_types <= {event.DETAIL_TYPE for event in CATALOG}
    assert {
        "Deployment Started",
        "Deployment Failed",
        "Deployment Rolled Back",
        "Model Promoted",
    } <= shown_types
    for metric in (event_metrics.INTEGRATION_TESTS, event_metrics.LOAD_LATENCY["p99_ms"]):
        assert f'MetricName=\\"{metric}\\"' in text
    assert {m[1] for m in metrics if m[0] == METRICS_NAMESPACE} >= {
        event_metrics.ENDPOINTS_REAPED,
        event_metrics.INSTANCE_HOURS_SAVED,
    }
    assert "${" not in text  # every reference resolved


# ----------------------------------------------------------------------------------------- autoscaling


def put_record(cloud: LocalCloud, project: str, defaults: dict[str, Any]) -> None:
    serializer = TypeSerializer()
    item = {"pk": f"PROJECT#{project}", "sk": "META", "project": project, "deployment_defaults": defaults}
    cloud.session.client("dynamodb").put_item(
        TableName=cloud.outputs["ConfigTableName"], Item={k: serializer.serialize(v) for k, v in item.items()}
    )


def release(cloud: LocalCloud, group: str) -> str:
    arn = register_demo_version(cloud.session, group, GOOD_MODEL, dataset="s3://data/scaled/2026-11-01")
    cloud.session.client("sagemaker").update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved"
    )
    return arn


def scaling_of(cloud: LocalCloud, endpoint: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    scaling = cloud.session.client("application-autoscaling")
    resource = f"endpoint/{endpoint}/variant/AllTraffic"
    targets = scaling.describe_scalable_targets(ServiceNamespace="sagemaker", ResourceIds=[resource])
    policies = scaling.describe_scaling_policies(ServiceNamespace="sagemaker", ResourceId=resource)
    return targets["ScalableTargets"], policies["ScalingPolicies"]


def test_a_production_endpoint_scales_as_its_record_says_across_updates_until_the_record_says_no(cloud):
    autoscaling = {"min_capacity": 2, "max_capacity": 6, "target_invocations_per_instance": 700}
    put_record(cloud, "scaled", {"prod": {"instance_count": 2, "autoscaling": autoscaling}})
    release(cloud, "scaled-prod")
    cloud.settle()

    (target,), (policy,) = scaling_of(cloud, "scaled-prod")
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 6)
    assert policy["PolicyName"] == "mlops-scaled-prod-invocations-per-instance"
    configuration = policy["TargetTrackingScalingPolicyConfiguration"]
    assert configuration["TargetValue"] == 700
    assert configuration["PredefinedMetricSpecification"]["PredefinedMetricType"] == (
        "SageMakerVariantInvocationsPerInstance"
    )

    put_record(
        cloud, "scaled", {"prod": {"instance_count": 2, "autoscaling": {**autoscaling, "max_capacity": 8}}}
    )
    release(cloud, "scaled-prod")  # version 2: an update of the endpoint
    cloud.settle()
    (target,), (_,) = scaling_of(cloud, "scaled-prod")
    assert target["MaxCapacity"] == 8

    put_record(cloud, "scaled", {"prod": {"instance_count": 2}})
    release(cloud, "scaled-prod")
    cloud.settle()
    assert scaling_of(cloud, "scaled-prod") == ([], [])


def test_a_failed_autoscaled_endpoint_is_deregistered_before_the_deployer_deletes_and_recreates_it(cloud):
    autoscaling = {"min_capacity": 2, "max_capacity": 4, "target_invocations_per_instance": 500}
    put_record(cloud, "broken", {"prod": {"instance_count": 2, "autoscaling": autoscaling}})
    release(cloud, "broken-prod")
    cloud.settle()
    assert scaling_of(cloud, "broken-prod")[0]
    cloud.hold_endpoint("broken-prod")
    release(cloud, "broken-prod")  # v2 waits (deferred) while the endpoint is busy
    cloud.settle()
    denied_before = len(cloud.iam.denials)

    cloud.fail_endpoint("broken-prod", "the update failed")
    trace = (
        cloud.settle()
    )  # failed with v2 pending: deleted (SageMaker refuses it while autoscaled), recreated

    statuses = [
        e["detail"]["EndpointStatus"] for e in trace.events(detail_type="SageMaker Endpoint State Change")
    ]
    assert statuses == ["FAILED", "DELETING", "CREATING", "IN_SERVICE"]
    assert len(cloud.iam.denials) == denied_before
    (target,), (_,) = scaling_of(cloud, "broken-prod")  # registered again once the new one is in service
    assert target["MaxCapacity"] == 4
