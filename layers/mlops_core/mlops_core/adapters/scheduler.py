"""The batch stages' schedules in EventBridge Scheduler (the deployer's
:class:`~mlops_core.deployment.ports.BatchSchedulesPort`): one schedule per batch stage, in the stack's
schedule group (tagged: Scheduler tags schedule groups, not schedules), whose universal target starts
a SageMaker transform job as the stack's scheduler role."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mlops_core.adapters import aws_errors
from mlops_core.contract.batch_transform import CREATE_TRANSFORM_JOB_TARGET

SCHEDULE_NOT_FOUND = "ResourceNotFoundException"
SCHEDULE_EXISTS = "ConflictException"


class SchedulerBatchSchedules:
    def __init__(self, client: Any, *, group_name: str, role_arn: str) -> None:
        self._client = client
        self._group_name = group_name
        self._role_arn = role_arn

    def transform_request(self, name: str) -> dict[str, Any] | None:
        try:
            schedule = self._client.get_schedule(GroupName=self._group_name, Name=name)
        except aws_errors.SERVICE_ERRORS as error:
            if aws_errors.error_code(error) == SCHEDULE_NOT_FOUND:
                return None
            raise
        target = schedule.get("Target") or {}
        if target.get("Arn") != CREATE_TRANSFORM_JOB_TARGET:
            return {}
        request = json.loads(target.get("Input") or "{}")
        return request if isinstance(request, dict) else {}

    def put(
        self, name: str, *, expression: str, timezone: str, transform_request: Mapping[str, Any], exists: bool
    ) -> str:
        """UpdateSchedule replaces every field of a schedule, so both calls send the whole of it. What was
        read may be behind (another invocation's create, or a deletion): the other call is tried then."""
        schedule = {
            "GroupName": self._group_name,
            "Name": name,
            "ScheduleExpression": expression,
            "ScheduleExpressionTimezone": timezone,
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "State": "ENABLED",
            "Target": {
                "Arn": CREATE_TRANSFORM_JOB_TARGET,
                "RoleArn": self._role_arn,
                "Input": json.dumps(transform_request, sort_keys=True),
            },
        }
        calls = [("updated", self._client.update_schedule), ("created", self._client.create_schedule)]
        if not exists:
            calls.reverse()
        (done, call), (other_done, other) = calls
        try:
            call(**schedule)
        except aws_errors.SERVICE_ERRORS as error:
            if aws_errors.error_code(error) != (SCHEDULE_NOT_FOUND if exists else SCHEDULE_EXISTS):
                raise
            other(**schedule)
            return other_done
        return done
