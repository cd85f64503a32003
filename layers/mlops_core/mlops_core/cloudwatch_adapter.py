"""The CloudWatch alarms that guard blue/green rollouts (created and tagged by the deployer)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from mlops_core import tags as tag_keys


class AlarmsPort(Protocol):
    def put_alarm(self, definition: Mapping[str, Any], *, tags: Mapping[str, str]) -> None: ...


class CloudWatchAlarms:
    def __init__(self, client: Any) -> None:
        self._client = client

    def put_alarm(self, definition: Mapping[str, Any], *, tags: Mapping[str, str]) -> None:
        """Create or update the alarm (PutMetricAlarm is an upsert; the tags apply on creation)."""
        self._client.put_metric_alarm(**definition, Tags=tag_keys.to_aws(tags))
