"""CloudWatch's gaps in moto, filled: alarms declared in a template, and what an alarm's state change does.

- `AWS::CloudWatch::Alarm` creates the alarm (moto skips it); `Ref` gives its name, `GetAtt Arn` its ARN.
- PutMetricAlarm (API reference): "When this operation creates an alarm, the alarm state is
  immediately set to INSUFFICIENT_DATA" (moto: OK); "When you update an existing alarm, its state is
  left unchanged" (moto: back to OK), and "If you are using this operation to update an existing
  alarm, any tags you specify in this parameter are ignored" (moto: applied).
- A state change (SetAlarmState: moto only records the new state) does what CloudWatch does when the
  state differs from the previous one: it sends `CloudWatch Alarm State Change` to the default bus
  (CloudWatch User Guide, "Alarm events and EventBridge": every alarm, whatever its actions), and, when
  the alarm's actions are enabled, publishes its notification to each SNS topic among the new state's
  actions (SetAlarmState's API reference: "When the updated state differs from the previous value,
  the action configured for the appropriate state is invoked"). The notification's fields follow AWS's
  sample notification (tests/fixtures/aws-events/alarm-sns-notification.json; inferred, as AWS
  documents it only by example). Other actions (Auto Scaling, EC2) are not run.
"""

import json
from datetime import datetime
from typing import Any, cast

from moto.cloudwatch.models import (
    Alarm,
    CloudWatchBackend,
    Dimension,
    Metric,
    MetricDataQuery,
    MetricStat,
    cloudwatch_backends,
)
from moto.core.common_models import CloudFormationModel
from moto.sns.models import sns_backends

from mlops_local import aws_events
from mlops_local.moto_gaps.template_resources import TemplateResource

_STATE_ACTIONS = {
    "ALARM": "alarm_actions",
    "OK": "ok_actions",
    "INSUFFICIENT_DATA": "insufficient_data_actions",
}


def _metric_data_queries(metrics: list[dict[str, Any]]) -> list[MetricDataQuery] | None:
    """A template's `Metrics` (metric math) as moto's queries."""
    if not metrics:
        return None
    queries = []
    for metric in metrics:
        stat = metric.get("MetricStat")
        metric_stat = None
        if stat:
            dimensions = [Dimension(d["Name"], d["Value"]) for d in stat["Metric"].get("Dimensions", [])]
            metric_stat = MetricStat(
                Metric(stat["Metric"]["MetricName"], stat["Metric"]["Namespace"], dimensions),
                stat["Period"],
                stat["Stat"],
                stat.get("Unit"),
            )
        queries.append(
            MetricDataQuery(
                metric["Id"],
                # moto types them str; AWS's are optional (None: not set)
                cast("str", metric.get("Label")),
                cast("str", metric.get("Period")),
                metric.get("ReturnData", True),
                metric.get("Expression"),
                metric_stat,
            )
        )
    return queries


class _CloudWatchAlarm(TemplateResource, CloudFormationModel):
    """AWS::CloudWatch::Alarm: AWS applies it with PutMetricAlarm."""

    TYPE = "AWS::CloudWatch::Alarm"
    NAME_PROPERTY = "AlarmName"

    def __init__(self, alarm: Alarm) -> None:
        self.alarm = alarm

    @property
    def physical_resource_id(self) -> str:
        return str(self.alarm.name)

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return str(self.alarm.alarm_arn)

    @classmethod
    def create(cls, p: Any, resource_name: str, account_id: str, region_name: str) -> "_CloudWatchAlarm":
        alarm = cloudwatch_backends[account_id][region_name].put_metric_alarm(
            name=p.get("AlarmName") or resource_name,
            namespace=p.get("Namespace"),
            metric_name=p.get("MetricName"),
            metric_data_queries=_metric_data_queries(p.get("Metrics") or []),
            comparison_operator=p["ComparisonOperator"],
            evaluation_periods=int(p["EvaluationPeriods"]),
            datapoints_to_alarm=p.get("DatapointsToAlarm"),
            period=int(p["Period"]) if p.get("Period") else 0,
            threshold=float(p["Threshold"]),
            statistic=p.get("Statistic"),
            extended_statistic=p.get("ExtendedStatistic"),
            description=p.get("AlarmDescription"),
            dimensions=p.get("Dimensions") or [],
            alarm_actions=p.get("AlarmActions") or [],
            ok_actions=p.get("OKActions") or [],
            insufficient_data_actions=p.get("InsufficientDataActions") or [],
            unit=p.get("Unit"),
            actions_enabled=p.get("ActionsEnabled", True) not in (False, "false"),
            treat_missing_data=p.get("TreatMissingData"),
        )
        return cls(alarm)


def _millis(moment: datetime) -> str:
    """CloudWatch's state timestamps: `2019-10-02T17:04:40.989+0000`."""
    return (
        aws_events._as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"
    )


def _metrics(alarm: Alarm) -> list[dict[str, Any]]:
    if alarm.metric_data_queries:
        return [
            {
                "id": query.id,
                **({"expression": query.expression} if query.expression else {}),
                **({"label": query.label} if query.label else {}),
                **(
                    {
                        "metricStat": {
                            "metric": {
                                "namespace": query.metric_stat.metric.namespace,
                                "name": query.metric_stat.metric.metric_name,
                                "dimensions": {d.name: d.value for d in query.metric_stat.metric.dimensions},
                            },
                            "period": query.metric_stat.period,
                            "stat": query.metric_stat.stat,
                        }
                    }
                    if query.metric_stat
                    else {}
                ),
                "returnData": query.return_data not in (False, "false"),
            }
            for query in alarm.metric_data_queries
        ]
    return [
        {
            "id": "m1",
            "metricStat": {
                "metric": {
                    "namespace": alarm.namespace,
                    "name": alarm.metric_name,
                    "dimensions": {d.name: d.value for d in alarm.dimensions},
                },
                "period": alarm.period,
                "stat": alarm.statistic or alarm.extended_statistic,
            },
            "returnData": True,
        }
    ]


def alarm_state_change(
    alarm: Alarm, previous: dict[str, Any], *, account: str, region: str
) -> dict[str, Any]:
    """`CloudWatch Alarm State Change`, as the CloudWatch User Guide's single metric sample has it."""
    return aws_events.envelope(
        source="aws.cloudwatch",
        detail_type="CloudWatch Alarm State Change",
        detail={
            "alarmName": alarm.name,
            "configuration": {"description": alarm.description, "metrics": _metrics(alarm)},
            "previousState": previous,
            "state": {
                "reason": alarm.state_reason,
                "reasonData": alarm.state_reason_data,
                "timestamp": _millis(alarm.state_updated_timestamp),
                "value": alarm.state_value,
            },
        },
        account=account,
        region=region,
        resources=[alarm.alarm_arn],
    )


def alarm_notification(alarm: Alarm, old_state: str, *, account: str) -> dict[str, Any]:
    """The message an alarm publishes to its SNS actions (AWS's sample notification's fields)."""
    return {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": account,
        "NewStateValue": alarm.state_value,
        "NewStateReason": alarm.state_reason,
        "StateChangeTime": _millis(alarm.state_updated_timestamp),
        "Region": alarm.region_name,
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": old_state,
        "Trigger": {
            "MetricName": alarm.metric_name,
            "Namespace": alarm.namespace,
            "StatisticType": "ExtendedStatistic" if alarm.extended_statistic else "Statistic",
            "Statistic": (alarm.statistic or "").upper() or None,
            "Unit": alarm.unit,
            "Dimensions": [{"value": d.value, "name": d.name} for d in alarm.dimensions],
            "Period": alarm.period,
            "EvaluationPeriods": alarm.evaluation_periods,
            "ComparisonOperator": alarm.comparison_operator,
            "Threshold": alarm.threshold,
            "TreatMissingData": alarm.treat_missing_data or "",
            "EvaluateLowSampleCountPercentile": "",
        },
    }


_moto_put_metric_alarm = CloudWatchBackend.put_metric_alarm


def _put_metric_alarm(self: CloudWatchBackend, name: str, *args: Any, **kwargs: Any) -> Alarm:
    existing = self.alarms.get(name)
    if existing is not None:
        kwargs["tags"] = None  # ignored on an update
    alarm: Alarm = _moto_put_metric_alarm(self, name, *args, **kwargs)
    if existing is None:
        alarm.state_value = "INSUFFICIENT_DATA"
    else:
        for kept in (
            "state_value",
            "state_reason",
            "state_reason_data",
            "state_updated_timestamp",
            "history",
        ):
            setattr(alarm, kept, getattr(existing, kept))
    return alarm


_moto_set_alarm_state = CloudWatchBackend.set_alarm_state


def _set_alarm_state(
    self: CloudWatchBackend, alarm_name: str, reason: str, reason_data: str, state_value: str
) -> None:
    alarm = self.alarms.get(alarm_name)
    before = None
    if alarm is not None:
        before = {
            "reason": alarm.state_reason,
            "reasonData": alarm.state_reason_data,
            "timestamp": _millis(alarm.state_updated_timestamp),
            "value": alarm.state_value,
        }
    _moto_set_alarm_state(self, alarm_name, reason, reason_data, state_value)
    if alarm is None or before is None or before["value"] == state_value:
        return
    aws_events.emit(alarm_state_change(alarm, before, account=self.account_id, region=self.region_name))
    if not alarm.actions_enabled:
        return
    for action in getattr(alarm, _STATE_ACTIONS[state_value]):
        if action.split(":")[2:3] == ["sns"]:
            region = action.split(":")[3]
            message = alarm_notification(alarm, before["value"], account=self.account_id)
            sns_backends[self.account_id][region].publish(
                json.dumps(message), arn=action, subject=f'{state_value}: "{alarm.name}"'[:100]
            )


def patch() -> None:
    CloudWatchBackend.put_metric_alarm = _put_metric_alarm  # type: ignore[method-assign]
    CloudWatchBackend.set_alarm_state = _set_alarm_state  # type: ignore[method-assign]
