"""Model Monitor's data-quality monitoring of a production endpoint: the setting, the names and requests.

A production stage whose record turns ``model_monitor`` on (it needs data capture, so real-time
instances: serverless inference excludes data capture) gets, once its endpoint serves a version that
carries drift-check baselines (``DriftCheckBaselines.ModelDataQuality``: ``Statistics`` and
``Constraints``, as the project template's pipeline registers them), a data-quality job definition
built from those baselines and one monitoring schedule that runs it:

- the schedule is named after the endpoint (``{endpoint}-data-quality``): one per endpoint, found
  again by name, and the endpoint (so the project) read back from a monitoring execution's event;
- a job definition cannot be changed, so each is named after the version and its request
  (``{endpoint}-dq-v{version}-{fingerprint}``): a new version (or new settings) is a new definition,
  the schedule is pointed at it, and the old one deleted.

A monitoring execution that completes with violations is a processing job that ends ``Completed``
with an ``ExitMessage`` that starts with ``CompletedWithViolations`` (the execution's status, as
``DescribeMonitoringSchedule``'s ``LastMonitoringExecutionSummary`` and the monitoring guide's
"Interpret results" name it; that the processing job's event carries it in ``ExitMessage`` is
inferred). :func:`monitoring_violation` reads one from a ``SageMaker Processing Job State Change`` event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mlops_core.contract.naming import MAX_NAME_LENGTH, fingerprint

SCHEDULE_SUFFIX = "-data-quality"
MONITORING_TYPE = "DataQuality"
PROCESSING_JOB_STATE_CHANGE = "SageMaker Processing Job State Change"
VIOLATIONS_EXIT_MESSAGE_PREFIX = "CompletedWithViolations"
CAPTURE_LOCAL_PATH = "/opt/ml/processing/input/endpoint"
OUTPUT_LOCAL_PATH = "/opt/ml/processing/output"


class ModelMonitorSettings(BaseModel):
    """A stage's data-quality monitoring (``deployment_defaults.{stage}.model_monitor``)."""

    # defer_build: built when a project record is read, not in the cold start of every function that
    # imports this module for the baseline's S3 names (through the SageMaker adapter).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    enabled: bool = False
    schedule_expression: str = Field(
        default="cron(0 * ? * * *)",
        pattern=r"^cron\(.+\)$|^NOW$",
        description="Model Monitor's cron expression (hourly by default)",
    )
    instance_type: str = Field(default="ml.m5.xlarge", pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
    max_runtime_seconds: int = Field(default=3600, ge=1, le=86400)
    output_s3_uri: str | None = Field(
        default=None,
        pattern=r"^s3://[a-z0-9.\-]{3,63}(/.*)?$",
        description="where the reports go (default: the data capture destination's monitoring/ prefix)",
    )


@dataclass(frozen=True)
class DataQualityBaseline:
    """A version's ``DriftCheckBaselines.ModelDataQuality``: both S3 URIs, or the version has none."""

    statistics_s3_uri: str
    constraints_s3_uri: str

    @classmethod
    def from_model_package(cls, package: Mapping[str, Any]) -> DataQualityBaseline | None:
        quality = (package.get("DriftCheckBaselines") or {}).get("ModelDataQuality") or {}
        statistics = (quality.get("Statistics") or {}).get("S3Uri")
        constraints = (quality.get("Constraints") or {}).get("S3Uri")
        if isinstance(statistics, str) and statistics and isinstance(constraints, str) and constraints:
            return cls(statistics, constraints)
        return None


def schedule_name(endpoint_name: str) -> str:
    """The endpoint's monitoring schedule (endpoint names of the contract fit: 43 + 13 characters)."""
    return endpoint_name[: MAX_NAME_LENGTH - len(SCHEDULE_SUFFIX)].rstrip("-") + SCHEDULE_SUFFIX


def endpoint_of_schedule(name: str) -> str | None:
    return name[: -len(SCHEDULE_SUFFIX)] if name.endswith(SCHEDULE_SUFFIX) else None


def job_definition_prefix(endpoint_name: str) -> str:
    return f"{endpoint_name}-dq-v"


def job_definition_name(endpoint_name: str, version: int, request: Mapping[str, Any]) -> str:
    """``{endpoint}-dq-v{version}-{fingerprint of the request}``, shortened to fit 63 characters."""
    suffix = f"{version}-{fingerprint(sorted(_flatten(request)), length=8)}"
    head = job_definition_prefix(endpoint_name)
    return head[: MAX_NAME_LENGTH - len(suffix)] + suffix


def _flatten(value: Any, path: str = "") -> list[str]:
    if isinstance(value, Mapping):
        return [item for key, inner in value.items() for item in _flatten(inner, f"{path}.{key}")]
    if isinstance(value, list | tuple):
        return [item for index, inner in enumerate(value) for item in _flatten(inner, f"{path}[{index}]")]
    return [f"{path}={value}"]


def output_s3_uri(settings: ModelMonitorSettings, capture_destination: str | None, endpoint_name: str) -> str:
    if settings.output_s3_uri:
        return settings.output_s3_uri.rstrip("/") + f"/{endpoint_name}"
    assert capture_destination, "model_monitor needs data capture (validated with the record)"
    return capture_destination.rstrip("/") + f"/monitoring/{endpoint_name}"


def job_definition_request(
    *,
    endpoint_name: str,
    baseline: DataQualityBaseline,
    settings: ModelMonitorSettings,
    output_uri: str,
    image_uri: str,
    role_arn: str,
) -> dict[str, Any]:
    """``CreateDataQualityJobDefinition``'s request, without its name and tags."""
    return {
        "DataQualityBaselineConfig": {
            "ConstraintsResource": {"S3Uri": baseline.constraints_s3_uri},
            "StatisticsResource": {"S3Uri": baseline.statistics_s3_uri},
        },
        "DataQualityAppSpecification": {"ImageUri": image_uri},
        "DataQualityJobInput": {
            "EndpointInput": {"EndpointName": endpoint_name, "LocalPath": CAPTURE_LOCAL_PATH}
        },
        "DataQualityJobOutputConfig": {
            "MonitoringOutputs": [
                {
                    "S3Output": {
                        "S3Uri": output_uri,
                        "LocalPath": OUTPUT_LOCAL_PATH,
                        "S3UploadMode": "EndOfJob",
                    }
                }
            ]
        },
        "JobResources": {
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": settings.instance_type,
                "VolumeSizeInGB": 20,
            }
        },
        "RoleArn": role_arn,
        "StoppingCondition": {"MaxRuntimeInSeconds": settings.max_runtime_seconds},
    }


def schedule_config(job_definition: str, settings: ModelMonitorSettings) -> dict[str, Any]:
    """``MonitoringScheduleConfig`` of the endpoint's schedule (a named job definition)."""
    return {
        "ScheduleConfig": {"ScheduleExpression": settings.schedule_expression},
        "MonitoringJobDefinitionName": job_definition,
        "MonitoringType": MONITORING_TYPE,
    }


def monitoring_violation(detail: Mapping[str, Any]) -> dict[str, Any] | None:
    """What a Slack message says of a monitoring execution that completed with violations (None: the
    processing job is not one, or not of an endpoint's data-quality schedule of this contract)."""
    exit_message = str(detail.get("ExitMessage") or "")
    if detail.get("ProcessingJobStatus") != "Completed" or not exit_message.startswith(
        VIOLATIONS_EXIT_MESSAGE_PREFIX
    ):
        return None
    schedule_arn = str(detail.get("MonitoringScheduleArn") or "")
    schedule = schedule_arn.rpartition("/")[2]
    endpoint = endpoint_of_schedule(schedule)
    if not endpoint:
        return None
    outputs = ((detail.get("ProcessingOutputConfig") or {}).get("Outputs")) or []
    report = next(
        (
            str(output["S3Output"]["S3Uri"])
            for output in outputs
            if isinstance(output, Mapping) and isinstance(output.get("S3Output"), Mapping)
        ),
        None,
    )
    return {
        "endpoint_name": endpoint,
        "monitoring_schedule": schedule,
        "processing_job": str(detail.get("ProcessingJobName") or ""),
        "exit_message": exit_message,
        "report_s3_uri": report,
    }
