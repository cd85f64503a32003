"""The deployer's schedules in EventBridge Scheduler, each kind in a schedule group of the stack's (tagged:
Scheduler tags schedule groups, not schedules):
- the batch stages' (:class:`~mlops_core.deployment.ports.BatchSchedulesPort`, and the project
  lifecycle's :class:`~mlops_core.projects.ports.BatchSchedulesPort` to delete them): one schedule per
  batch stage, whose universal target starts a SageMaker transform job as the stack's batch scheduler role;
- the in-service checks (:class:`~mlops_core.deployment.ports.InServiceChecksPort`): one-time schedules
  whose templated EventBridge target puts a check on the application's bus, deleted once they ran."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from mlops_core.adapters import aws_errors
from mlops_core.contract.batch_transform import CREATE_TRANSFORM_JOB_TARGET

if TYPE_CHECKING:  # the project lifecycle uses this module too, and loads no deployer event
    from mlops_core.contract.events.deployment import InServiceCheck

SCHEDULE_NOT_FOUND = "ResourceNotFoundException"
SCHEDULE_EXISTS = "ConflictException"


class SchedulerBatchSchedules:
    """The deployer's (``transform_request``, ``put``, with ``role_arn``) and the project lifecycle's
    (``delete``: a project's schedules go with it)."""

    def __init__(self, client: Any, *, group_name: str, role_arn: str = "") -> None:
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

    def delete(self, name: str) -> bool:
        try:
            self._client.delete_schedule(GroupName=self._group_name, Name=name)
        except aws_errors.SERVICE_ERRORS as error:
            if aws_errors.error_code(error) == SCHEDULE_NOT_FOUND:
                return False
            raise
        return True

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


# A check that cannot be delivered is retried for an hour at most: the next check, or the endpoint's own
# event, comes by then (Scheduler's default is 185 retries over 24 hours).
CHECK_RETRY_POLICY = {"MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 3600}


class SchedulerInServiceChecks:
    def __init__(
        self,
        client: Any,
        *,
        group_name: str,
        role_arn: str,
        event_bus_arn: str,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._client = client
        self._group_name = group_name
        self._role_arn = role_arn
        self._event_bus_arn = event_bus_arn
        self._now = now

    def schedule(self, check: InServiceCheck, *, in_minutes: int) -> bool:
        due = self._now().astimezone(UTC) + timedelta(minutes=in_minutes)
        try:
            self._client.create_schedule(
                GroupName=self._group_name,
                Name=check_schedule_name(check),
                Description=f"In-service check {check.attempt} of {check.endpoint_name}"[:512],
                ScheduleExpression=f"at({due:%Y-%m-%dT%H:%M:%S})",
                ScheduleExpressionTimezone="UTC",
                FlexibleTimeWindow={"Mode": "OFF"},
                ActionAfterCompletion="DELETE",
                Target={
                    "Arn": self._event_bus_arn,
                    "RoleArn": self._role_arn,
                    "Input": json.dumps(check.detail(), sort_keys=True),
                    "EventBridgeParameters": {"Source": check.source(), "DetailType": check.DETAIL_TYPE},
                    "RetryPolicy": CHECK_RETRY_POLICY,
                },
            )
        except aws_errors.SERVICE_ERRORS as error:
            if aws_errors.error_code(error) == SCHEDULE_EXISTS:
                return False
            raise
        return True


def check_schedule_name(check: InServiceCheck) -> str:
    """One name per endpoint change and attempt (at most 64 characters): the endpoint's name, cut, and a
    digest of the change's config and the attempt, so a redelivered check schedules nothing new."""
    digest = hashlib.sha256(f"{check.endpoint_config_name}/{check.attempt}".encode()).hexdigest()[:16]
    return f"{check.endpoint_name[:47]}-{digest}"
