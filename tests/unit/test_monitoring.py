"""Monitoring's pure parts: the endpoint alarms' names and requests, an SNS alarm notification read as
the EventBridge event it stands for, and the Slack message of an alarm's state change."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from mlops_core.contract import endpoint_alarms
from mlops_core.contract.cloudwatch_events import (
    ALARM_STATE_CHANGE,
    alarm_state_change_from_sns,
    is_sns_delivery,
)
from mlops_core.contract.endpoint_alarms import (
    EndpointAlarmSettings,
    endpoint_of_alarm,
    health_alarm_definitions,
)
from mlops_core.contract.events.deployment import DeploymentStarted
from mlops_core.contract.events.integration_tests import IntegrationTestsCompleted
from mlops_core.contract.events.reaper import EndpointsReaped
from mlops_core.handlers.alarm_topic import AlarmTopicHandler
from mlops_core.handlers.event_metrics import metric_points, publish_event_metrics
from mlops_core.notifications.alarm_messages import alarm_context, is_news
from mlops_core.notifications.slack_messages import limit_violations, render

FIXTURES = Path(__file__).parents[1] / "fixtures/aws-events"
STATE_CHANGE = json.loads((FIXTURES / "alarm-state-change.json").read_text())
SNS_DELIVERY = json.loads((FIXTURES / "alarm-sns-notification.json").read_text())


@pytest.mark.parametrize("name", endpoint_alarms.every_alarm_name("mlops", "churn-feature-x-dev"))
def test_every_alarm_of_an_endpoint_names_its_endpoint(name):
    assert endpoint_of_alarm("mlops", name) == "churn-feature-x-dev"


@pytest.mark.parametrize(
    "name",
    [
        "mlops/control-plane/ModelDeployerFunction-errors",
        "other-churn-dev-health-5xx-errors",
        "mlops--health-5xx-errors",
    ],
)
def test_other_alarms_name_no_endpoint_of_this_stack(name):
    assert endpoint_of_alarm("mlops", name) is None


def test_instance_and_serverless_endpoints_get_the_alarms_of_the_metrics_they_publish():
    settings = EndpointAlarmSettings(model_latency_p99_ms=250)
    instances = health_alarm_definitions("mlops", "churn-prod", "instances", settings, serving="churn-prod/3")
    serverless = health_alarm_definitions("mlops", "churn-dev", "serverless", settings, serving="churn-dev/7")

    assert {d["MetricName"] for d in instances} == {
        "Invocation5XXErrors",
        "ModelLatency",
        "CPUUtilization",
        "MemoryUtilization",
        "DiskUtilization",
    }
    assert {d["MetricName"] for d in serverless} == {
        "Invocation5XXErrors",
        "ModelLatency",
        "ServerlessConcurrentExecutionsUtilization",
        "MemoryUtilization",
    }
    (latency,) = [d for d in instances if d["MetricName"] == "ModelLatency"]
    assert latency["ExtendedStatistic"] == "p99" and "Statistic" not in latency
    assert latency["Threshold"] == 250_000  # microseconds
    assert all("serving churn-prod/3" in d["AlarmDescription"] for d in instances)
    assert all(d["ActionsEnabled"] is False and d["TreatMissingData"] == "notBreaching" for d in instances)


def test_an_sns_alarm_notification_is_read_as_the_alarm_state_change_it_stands_for():
    (record,) = SNS_DELIVERY["Records"]

    event = alarm_state_change_from_sns(record)

    assert is_sns_delivery(SNS_DELIVERY) and not is_sns_delivery(STATE_CHANGE)
    assert event is not None
    assert (event["detail-type"], event["source"], event["id"]) == (
        ALARM_STATE_CHANGE,
        "aws.cloudwatch",
        record["Sns"]["MessageId"],
    )
    detail = event["detail"]
    assert detail["alarmName"] == "mlops/control-plane/ModelDeployerFunction-errors"
    assert (detail["state"]["value"], detail["previousState"]["value"]) == ("ALARM", "OK")
    assert detail["configuration"]["threshold"] == 1.0
    assert event["region"] == "us-east-1" and event["account"] == "123456789012"


def test_an_sns_message_that_is_no_alarm_notification_is_read_as_nothing():
    record = copy.deepcopy(SNS_DELIVERY["Records"][0])
    record["Sns"]["Message"] = "Hello from SNS!"

    assert alarm_state_change_from_sns(record) is None


def test_the_topic_handler_answers_a_message_that_is_no_alarm_invalid_without_handling_it():
    handled: list[Any] = []
    delivery = copy.deepcopy(SNS_DELIVERY)
    delivery["Records"][0]["Sns"]["Message"] = '{"hello": "world"}'

    answer = AlarmTopicHandler(handled.append)(delivery, None)  # type: ignore[arg-type]

    assert answer == {"status": "invalid"} and handled == []


def alarm_detail(state: str, previous: str, reason: str = "Threshold Crossed") -> dict[str, Any]:
    detail = copy.deepcopy(STATE_CHANGE["detail"])
    detail["alarmName"] = "mlops-churn-prod-health-5xx-errors"
    detail["configuration"]["description"] = "5XX errors of churn-prod (serving churn-prod/3)."
    detail["state"]["value"], detail["previousState"]["value"] = state, previous
    detail["state"]["reason"] = reason
    return alarm_context(detail, stack_name="mlops", region="eu-west-1")


def test_an_endpoint_alarm_says_what_where_which_version_the_value_and_links_the_console():
    message = render(ALARM_STATE_CHANGE, "aws.cloudwatch", alarm_detail("ALARM", "OK")).payload()
    text = json.dumps(message)

    assert message["text"] == ":rotating_light: Alarm on churn-prod"
    assert "serving churn-prod/3" in text and "99.5016" in text and "(threshold 50)" in text
    assert "`churn`" in text and "`prod`" in text
    assert "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1" in text
    assert limit_violations(message) == []


def test_text_from_aws_is_escaped_for_slack():
    message = render(ALARM_STATE_CHANGE, "aws.cloudwatch", alarm_detail("ALARM", "OK", "<!channel> & <@U1>"))

    text = json.dumps(message.blocks)
    assert "&lt;!channel&gt; &amp; &lt;@U1&gt;" in text and "<!channel>" not in text


def test_a_recovery_is_announced_and_a_first_ok_is_no_news():
    recovered = render(ALARM_STATE_CHANGE, "aws.cloudwatch", alarm_detail("OK", "ALARM"))

    assert recovered.text == ":white_check_mark: Recovered: churn-prod"
    assert is_news(alarm_detail("OK", "ALARM")) and is_news(alarm_detail("ALARM", "INSUFFICIENT_DATA"))
    assert not is_news(alarm_detail("OK", "INSUFFICIENT_DATA"))
    assert not is_news(alarm_detail("INSUFFICIENT_DATA", "OK"))


# ------------------------------------------------------------------------------- the events' metrics


def test_a_test_run_counts_per_endpoint_and_outcome_with_its_load_latency():

    points = {
        p.name: p
        for p in metric_points(IntegrationTestsCompleted.DETAIL_TYPE, IntegrationTestsCompleted.EXAMPLE)
    }

    assert points["DomainEvents"].dimensions == (("DetailType", "Integration Tests Completed"),)
    assert points["IntegrationTests"].dimensions == (("EndpointName", "churn-dev"), ("Outcome", "failed"))
    assert points["LoadLatencyP99"].value == IntegrationTestsCompleted.EXAMPLE["load"]["p99_ms"]


def test_a_reaper_run_counts_what_it_deleted_and_saved_and_a_dry_run_nothing():

    points = {p.name: p.value for p in metric_points(EndpointsReaped.DETAIL_TYPE, EndpointsReaped.EXAMPLE)}
    dry = {
        p.name
        for p in metric_points(EndpointsReaped.DETAIL_TYPE, {**EndpointsReaped.EXAMPLE, "dry_run": True})
    }

    projects = EndpointsReaped.EXAMPLE["projects"]
    assert points["EndpointsReaped"] == sum(len(p["deleted"]) for p in projects)
    assert points["InstanceHoursSavedPerDay"] == sum(p["instance_hours_per_day_saved"] for p in projects)
    assert dry == {"DomainEvents"}


def test_every_published_event_becomes_metric_lines(capsys):

    publish_event_metrics([DeploymentStarted.model_validate(DeploymentStarted.EXAMPLE)])

    (line,) = capsys.readouterr().out.splitlines()
    emf = json.loads(line)
    assert emf["DetailType"] == "Deployment Started" and emf["DomainEvents"] == [1.0]
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "MLOpsControlPlane"
