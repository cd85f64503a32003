"""The CloudWatch alarms of the deployer's endpoints: those that guard blue/green rollouts and their
health alarms (created, tagged and deleted by the deployer)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mlops_core.contract import tags as tag_keys


class CloudWatchAlarms:
    def __init__(self, client: Any) -> None:
        self._client = client

    def put_alarm(self, definition: Mapping[str, Any], *, tags: Mapping[str, str]) -> None:
        """Create or update the alarm (PutMetricAlarm is an upsert; the tags apply on creation)."""
        self._client.put_metric_alarm(**definition, Tags=tag_keys.to_aws(tags))

    def existing(self, names: Sequence[str]) -> list[str]:
        """Which of these metric alarms exist (one DescribeAlarms call: at most 100 names)."""
        if not names:
            return []
        response = self._client.describe_alarms(AlarmNames=list(names), AlarmTypes=["MetricAlarm"])
        return [alarm["AlarmName"] for alarm in response.get("MetricAlarms", [])]

    def describe(self, names: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The metric alarms of these names that exist (one DescribeAlarms call: at most 100 names)."""
        if not names:
            return {}
        response = self._client.describe_alarms(AlarmNames=list(names), AlarmTypes=["MetricAlarm"])
        return {alarm["AlarmName"]: alarm for alarm in response.get("MetricAlarms", [])}

    def delete(self, names: Sequence[str]) -> None:
        """Delete existing alarms (DeleteAlarms fails as a whole if one of the names is unknown)."""
        if names:
            self._client.delete_alarms(AlarmNames=list(names))
