"""Model Monitor's data-quality job definitions and monitoring schedules of the deployer's production
endpoints (the deployer's :class:`~mlops_core.deployment.ports.MonitoringPort`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlops_core.adapters import aws_errors


def _tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in sorted(tags.items())]


class SageMakerMonitoring:
    def __init__(self, client: Any) -> None:
        self._client = client

    def scheduled_job_definition(self, schedule_name: str) -> str | None:
        try:
            schedule = self._client.describe_monitoring_schedule(MonitoringScheduleName=schedule_name)
        except aws_errors.SERVICE_ERRORS as error:
            if aws_errors.is_not_found(error):
                return None
            raise
        name = (schedule.get("MonitoringScheduleConfig") or {}).get("MonitoringJobDefinitionName")
        return str(name) if name else ""

    def create_job_definition(
        self, name: str, *, request: Mapping[str, Any], tags: Mapping[str, str]
    ) -> None:
        """Create it; one of the same name exists already (a redelivered event): its name says its request."""
        try:
            self._client.create_data_quality_job_definition(
                JobDefinitionName=name, **request, Tags=_tag_list(tags)
            )
        except aws_errors.SERVICE_ERRORS as error:
            if aws_errors.error_code(error) != "ResourceInUse" and not aws_errors.is_already_exists(error):
                raise

    def create_schedule(self, name: str, *, config: Mapping[str, Any], tags: Mapping[str, str]) -> None:
        self._client.create_monitoring_schedule(
            MonitoringScheduleName=name, MonitoringScheduleConfig=dict(config), Tags=_tag_list(tags)
        )

    def update_schedule(self, name: str, *, config: Mapping[str, Any]) -> None:
        self._client.update_monitoring_schedule(
            MonitoringScheduleName=name, MonitoringScheduleConfig=dict(config)
        )

    def delete_schedule(self, name: str) -> bool:
        try:
            self._client.delete_monitoring_schedule(MonitoringScheduleName=name)
        except aws_errors.SERVICE_ERRORS as error:
            if aws_errors.is_not_found(error):
                return False
            raise
        return True

    def job_definitions(self, endpoint_name: str, name_prefix: str) -> list[str]:
        names: list[str] = []
        request: dict[str, Any] = {
            "EndpointName": endpoint_name,
            "NameContains": name_prefix,
            "MaxResults": 100,
        }
        while True:
            page = self._client.list_data_quality_job_definitions(**request)
            names.extend(
                str(summary["MonitoringJobDefinitionName"])
                for summary in page.get("JobDefinitionSummaries") or []
                if str(summary.get("MonitoringJobDefinitionName", "")).startswith(name_prefix)
            )
            if not page.get("NextToken"):
                return sorted(names)
            request["NextToken"] = page["NextToken"]

    def delete_job_definition(self, name: str) -> None:
        try:
            self._client.delete_data_quality_job_definition(JobDefinitionName=name)
        except aws_errors.SERVICE_ERRORS as error:
            if not aws_errors.is_not_found(error):
                raise
