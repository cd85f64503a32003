"""CloudWatch alarms' state changes, as the control plane receives them (samples: tests/fixtures/aws-events/).

An alarm's state change reaches the control plane in one of two ways:
- CloudWatch's own EventBridge event ``CloudWatch Alarm State Change`` (every alarm, on the default
  bus, whatever its actions): the endpoint alarms and the rollback alarms the deployer creates;
- an alarm's action: a notification published to an SNS topic, which SNS delivers to Lambda as a
  record (the control plane's own alarms in template.yaml, which notify the operations topic).

:func:`alarm_state_change_from_sns` turns the second into the first, so one route and one message
serve both. The notification's fields (``AlarmName``, ``NewStateValue``, ``Trigger`` ...) are AWS's
sample notification's; AWS documents them only by example (inferred).
"""

import json
from collections.abc import Mapping
from typing import Any

ALARM_STATE_CHANGE = "CloudWatch Alarm State Change"
ALARM_SOURCE = "aws.cloudwatch"
SNS_EVENT_SOURCE = "aws:sns"


def is_sns_delivery(event: Any) -> bool:
    """A Lambda event SNS delivered (``Records`` of ``EventSource`` ``aws:sns``)."""
    records = event.get("Records") if isinstance(event, Mapping) else None
    return (
        isinstance(records, list)
        and bool(records)
        and all(isinstance(r, Mapping) and r.get("EventSource") == SNS_EVENT_SOURCE for r in records)
    )


def alarm_state_change_from_sns(record: Mapping[str, Any]) -> dict[str, Any] | None:
    """The ``CloudWatch Alarm State Change`` event an SNS record's alarm notification stands for, with
    the SNS message id as its id (SNS keeps it across its retries); None if the message is not an
    alarm notification."""
    sns = record.get("Sns")
    if not isinstance(sns, Mapping):
        return None
    try:
        message = json.loads(str(sns.get("Message", "")))
    except ValueError:
        return None
    if not isinstance(message, Mapping) or not message.get("AlarmName") or not message.get("NewStateValue"):
        return None
    alarm_arn = str(message.get("AlarmArn") or "")
    arn_parts = alarm_arn.split(":")
    trigger = message.get("Trigger") if isinstance(message.get("Trigger"), Mapping) else {}
    assert isinstance(trigger, Mapping)
    metric: dict[str, Any] = {
        "name": trigger.get("MetricName"),
        "namespace": trigger.get("Namespace"),
        "dimensions": {
            str(d.get("name")): d.get("value")
            for d in trigger.get("Dimensions") or []
            if isinstance(d, Mapping)
        },
    }
    return {
        "version": "0",
        "id": str(sns.get("MessageId")),
        "detail-type": ALARM_STATE_CHANGE,
        "source": ALARM_SOURCE,
        "account": str(message.get("AWSAccountId") or (arn_parts[4] if len(arn_parts) > 4 else "")),
        "time": str(sns.get("Timestamp") or ""),
        "region": arn_parts[3] if len(arn_parts) > 3 else "",
        "resources": [alarm_arn] if alarm_arn else [],
        "detail": {
            "alarmName": message["AlarmName"],
            "configuration": {
                "description": message.get("AlarmDescription"),
                "metrics": [{"id": "m1", "metricStat": {"metric": metric}, "returnData": True}],
                "threshold": trigger.get("Threshold"),
            },
            "previousState": {"value": message.get("OldStateValue")},
            "state": {
                "value": message["NewStateValue"],
                "reason": message.get("NewStateReason"),
                "timestamp": message.get("StateChangeTime"),
            },
        },
    }
