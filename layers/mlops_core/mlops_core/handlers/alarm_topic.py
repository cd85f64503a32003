"""A Lambda handler that also reads an SNS topic of CloudWatch alarm notifications.

The control plane's own alarms notify the operations topic (template.yaml), which SNS delivers to
the Slack notifier as ``Records``. Each record's alarm notification becomes the
``CloudWatch Alarm State Change`` event CloudWatch sends EventBridge for the same change
(:func:`~mlops_core.contract.cloudwatch_events.alarm_state_change_from_sns`, its id the SNS message
id), and the wrapped :class:`~mlops_core.handlers.event_function.EventFunction` handles it like any
event: validated, at most once, its outcome logged. Anything else is the wrapped handler's.

A record that is not an alarm notification (a test message published by hand) is logged and
answered ``invalid``: raising would only make SNS and Lambda retry it.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mlops_core.contract.cloudwatch_events import alarm_state_change_from_sns, is_sns_delivery
from mlops_core.handlers.event_function import EventFunction
from mlops_core.observability import logger


class AlarmTopicHandler:
    def __init__(self, events: EventFunction[Any, Any]) -> None:
        self.events = events

    def __call__(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        if not is_sns_delivery(event):
            return self.events(event, context)
        results = []
        for record in event["Records"]:
            alarm_event = alarm_state_change_from_sns(record)
            if alarm_event is None:
                logger.error(
                    "Invalid event: an SNS message that is not a CloudWatch alarm notification",
                    extra={"topic": record.get("Sns", {}).get("TopicArn")},
                )
                results.append({"status": "invalid"})
                continue
            results.append(self.events(alarm_event, context))
        return results[0] if len(results) == 1 else {"status": "records", "records": results}
