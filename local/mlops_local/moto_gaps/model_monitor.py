"""Model Monitor's gaps in moto, filled: monitoring schedules, and data-quality job definitions listed as AWS
lists them.

- CreateMonitoringSchedule, DescribeMonitoringSchedule, UpdateMonitoringSchedule,
  DeleteMonitoringSchedule and ListMonitoringSchedules (missing in moto): a schedule of a named job
  definition, kept with its tags (ListTags and the local cloud's IAM read them), ``Scheduled`` at once;
  a name in use is refused (``ResourceInUse``), an unknown one is ``ResourceNotFound``. No monitoring
  execution ever runs here: a test that needs one emits its processing job's event itself.
- CreateDataQualityJobDefinition refuses a name in use (``ResourceInUse``; moto replaces the definition).
- ListDataQualityJobDefinitions honours ``EndpointName`` and ``NameContains`` and names each
  definition's endpoint (moto ignores the filters and answers ``"EndpointName"`` for every one).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.sagemaker.exceptions import ResourceNotFound, SagemakerClientError
from moto.sagemaker.models import SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse
from moto.sagemaker.utils import arn_formatter


class ResourceInUseError(SagemakerClientError):
    """SageMaker's ``ResourceInUse`` (a 400)."""

    code = "ResourceInUse"


class FakeMonitoringSchedule:
    def __init__(
        self, backend: SageMakerModelBackend, name: str, config: dict[str, Any], tags: list[Any]
    ) -> None:
        self.name = name
        self.arn = arn_formatter("monitoring-schedule", name, backend.account_id, backend.region_name)
        self.config = config
        self.tags = list(tags)
        self.creation_time = self.last_modified_time = datetime.now(UTC)

    def endpoint_name(self, backend: SageMakerModelBackend) -> str | None:
        definition = backend.data_quality_job_definitions.get(
            str(self.config.get("MonitoringJobDefinitionName"))
        )
        if definition is None:
            return None
        return str((definition.data_quality_job_input.get("EndpointInput") or {}).get("EndpointName") or "")

    def describe(self, backend: SageMakerModelBackend) -> dict[str, Any]:
        return {
            "MonitoringScheduleArn": self.arn,
            "MonitoringScheduleName": self.name,
            "MonitoringScheduleStatus": "Scheduled",
            "MonitoringType": self.config.get("MonitoringType", "DataQuality"),
            "CreationTime": self.creation_time,
            "LastModifiedTime": self.last_modified_time,
            "MonitoringScheduleConfig": self.config,
            **({"EndpointName": endpoint} if (endpoint := self.endpoint_name(backend)) else {}),
        }


def schedules(backend: SageMakerModelBackend) -> dict[str, FakeMonitoringSchedule]:
    """The backend's monitoring schedules, by name."""
    found: dict[str, FakeMonitoringSchedule] | None = getattr(backend, "monitoring_schedules", None)
    if found is None:
        found = {}
        backend.monitoring_schedules = found  # type: ignore[attr-defined]
    return found


def _schedule(backend: SageMakerModelBackend, name: str) -> FakeMonitoringSchedule:
    schedule = schedules(backend).get(name)
    if schedule is None:
        raise ResourceNotFound(f"Monitoring schedule {name} not found")
    return schedule


def _create_monitoring_schedule(response: SageMakerResponse) -> ActionResult:
    backend = response.sagemaker_backend
    name = response._get_param("MonitoringScheduleName")
    if name in schedules(backend):
        raise ResourceInUseError(f"Monitoring schedule {name} already exists")
    schedule = FakeMonitoringSchedule(
        backend, name, response._get_param("MonitoringScheduleConfig"), response._get_param("Tags", [])
    )
    schedules(backend)[name] = schedule
    return ActionResult({"MonitoringScheduleArn": schedule.arn})


def _describe_monitoring_schedule(response: SageMakerResponse) -> ActionResult:
    backend = response.sagemaker_backend
    return ActionResult(_schedule(backend, response._get_param("MonitoringScheduleName")).describe(backend))


def _update_monitoring_schedule(response: SageMakerResponse) -> ActionResult:
    schedule = _schedule(response.sagemaker_backend, response._get_param("MonitoringScheduleName"))
    schedule.config = response._get_param("MonitoringScheduleConfig")
    schedule.last_modified_time = datetime.now(UTC)
    return ActionResult({"MonitoringScheduleArn": schedule.arn})


def _delete_monitoring_schedule(response: SageMakerResponse) -> EmptyResult:
    backend = response.sagemaker_backend
    name = response._get_param("MonitoringScheduleName")
    _schedule(backend, name)
    del schedules(backend)[name]
    return EmptyResult()


def _list_monitoring_schedules(response: SageMakerResponse) -> ActionResult:
    backend = response.sagemaker_backend
    endpoint = response._get_param("EndpointName")
    summaries = [
        {
            key: value
            for key, value in schedule.describe(backend).items()
            if key not in ("MonitoringScheduleConfig",)
        }
        for schedule in schedules(backend).values()
        if endpoint is None or schedule.endpoint_name(backend) == endpoint
    ]
    return ActionResult({"MonitoringScheduleSummaries": summaries})


def _refusing_job_definitions_in_use(create: Callable[..., Any]) -> Callable[..., Any]:
    def create_data_quality_job_definition(backend: SageMakerModelBackend, **kwargs: Any) -> Any:
        name = kwargs["job_definition_name"]
        if name in backend.data_quality_job_definitions:
            raise ResourceInUseError(f"Job definition {name} already exists")
        return create(backend, **kwargs)

    return create_data_quality_job_definition


def _list_data_quality_job_definitions(response: SageMakerResponse) -> ActionResult:
    backend = response.sagemaker_backend
    endpoint = response._get_param("EndpointName")
    contains = response._get_param("NameContains") or ""
    summaries = []
    for definition in backend.data_quality_job_definitions.values():
        on = str((definition.data_quality_job_input.get("EndpointInput") or {}).get("EndpointName") or "")
        if (endpoint is None or on == endpoint) and contains in definition.job_definition_name:
            summaries.append({**definition.summary_object, "EndpointName": on})
    summaries.sort(key=lambda summary: summary["CreationTime"], reverse=True)
    return ActionResult({"JobDefinitionSummaries": summaries})


def _resolving_schedule_arns(find: Callable[[SageMakerModelBackend, str], Any]) -> Callable[..., Any]:
    def resource_from_arn(backend: SageMakerModelBackend, arn: str) -> Any:
        kind, _, name = arn.rsplit(":", maxsplit=1)[-1].partition("/")
        if kind == "monitoring-schedule":
            return _schedule(backend, name)
        return find(backend, arn)

    return resource_from_arn


def patch() -> None:
    SageMakerResponse.create_monitoring_schedule = _create_monitoring_schedule  # type: ignore[attr-defined]
    SageMakerResponse.describe_monitoring_schedule = _describe_monitoring_schedule  # type: ignore[attr-defined]
    SageMakerResponse.update_monitoring_schedule = _update_monitoring_schedule  # type: ignore[attr-defined]
    SageMakerResponse.delete_monitoring_schedule = _delete_monitoring_schedule  # type: ignore[attr-defined]
    SageMakerResponse.list_monitoring_schedules = _list_monitoring_schedules  # type: ignore[attr-defined]
    SageMakerResponse.list_data_quality_job_definitions = _list_data_quality_job_definitions  # type: ignore[method-assign,assignment]
    backend = SageMakerModelBackend
    backend.create_data_quality_job_definition = _refusing_job_definitions_in_use(  # type: ignore[method-assign]
        backend.create_data_quality_job_definition
    )
    backend._get_resource_from_arn = _resolving_schedule_arns(backend._get_resource_from_arn)  # type: ignore[method-assign]
