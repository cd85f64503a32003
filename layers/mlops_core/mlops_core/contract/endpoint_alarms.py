"""The health alarms of a managed endpoint: their settings (from the project record), names and
``PutMetricAlarm`` requests, shared by the deployer (creates and updates them with the endpoint), the
reaper (deletes them with it) and the Slack notifier (finds the endpoint an alarm is about).

Every managed endpoint gets:
- ``5xx-errors``: ``Invocation5XXErrors`` (Sum) per period, both kinds of compute;
- ``model-latency-p99``: ``ModelLatency`` p99 against the stage's latency budget;
- instances: ``cpu-utilization``, ``memory-utilization``, ``disk-utilization`` (the endpoint instance
  metrics in ``/aws/sagemaker/Endpoints``; CPU is summed over the instance's vCPUs, 0-100% each);
- serverless: ``concurrency-utilization`` (``ServerlessConcurrentExecutionsUtilization``, AWS/SageMaker)
  and ``memory-utilization`` ("Alarms and logs for tracking metrics from serverless endpoints" lists
  ``MemoryUtilization``; its namespace for serverless endpoints, ``/aws/sagemaker/Endpoints``, is
  inferred).

They watch the production variant (``AllTraffic``: stable across updates, so the alarms hold) and a
period with no data is not breaching (an endpoint without traffic is healthy). Their names start with
``{stack}-{endpoint}-health-`` (IAM scopes the stack's alarms by the ``{stack}-`` prefix). They have no
actions: CloudWatch sends every state change to EventBridge, and the notifier's rule picks them up.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PRODUCTION_VARIANT = "AllTraffic"
HEALTH = "health"
INSTANCE_METRICS_NAMESPACE = "/aws/sagemaker/Endpoints"
INVOCATION_METRICS_NAMESPACE = "AWS/SageMaker"

INSTANCE_ALARMS = (
    "5xx-errors",
    "model-latency-p99",
    "cpu-utilization",
    "memory-utilization",
    "disk-utilization",
)
SERVERLESS_ALARMS = ("5xx-errors", "model-latency-p99", "concurrency-utilization", "memory-utilization")
ALL_ALARMS = tuple(dict.fromkeys((*INSTANCE_ALARMS, *SERVERLESS_ALARMS)))
ROLLBACK_ALARMS = ("invocation-5xx-errors", "model-latency")
"""The suffixes of the rollback alarms of a canary or linear endpoint (the deployer's endpoint_configs)."""

Compute = Literal["instances", "serverless"]


class EndpointAlarmSettings(BaseModel):
    """``monitoring`` of a stage in the project record: the health alarms' thresholds."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    enabled: bool = True
    invocation_5xx_errors_threshold: int = Field(default=5, ge=1, description="5XX errors per period")
    model_latency_p99_ms: int = Field(default=1000, ge=1, description="the stage's latency budget (p99)")
    cpu_utilization_percent: float = Field(
        default=80, gt=0, le=12800, description="summed over the instance's vCPUs (0-100% each)"
    )
    memory_utilization_percent: float = Field(default=85, gt=0, le=100)
    disk_utilization_percent: float = Field(default=85, gt=0, le=100)
    concurrency_utilization: float = Field(
        default=0.9, gt=0, le=1, description="serverless: concurrent executions / max concurrency"
    )
    period_seconds: Literal[60, 300] = 300
    evaluation_periods: int = Field(default=2, ge=1, le=10)


def alarm_prefix(stack_name: str, endpoint_name: str) -> str:
    return f"{stack_name}-{endpoint_name}-"


def health_alarm_names(stack_name: str, endpoint_name: str, compute: Compute | None = None) -> list[str]:
    """The endpoint's health alarms for this compute (None: every name either compute may have)."""
    suffixes = {"instances": INSTANCE_ALARMS, "serverless": SERVERLESS_ALARMS, None: ALL_ALARMS}[compute]
    return [f"{alarm_prefix(stack_name, endpoint_name)}{HEALTH}-{suffix}" for suffix in suffixes]


def every_alarm_name(stack_name: str, endpoint_name: str) -> list[str]:
    """Every alarm the control plane may have made for the endpoint: health and rollback alarms."""
    rollback = [f"{alarm_prefix(stack_name, endpoint_name)}{suffix}" for suffix in ROLLBACK_ALARMS]
    return [*health_alarm_names(stack_name, endpoint_name), *rollback]


def endpoint_of_alarm(stack_name: str, alarm_name: str) -> str | None:
    """The endpoint a health or rollback alarm of this stack is about (None for any other alarm)."""
    if not alarm_name.startswith(f"{stack_name}-"):
        return None
    rest = alarm_name.removeprefix(f"{stack_name}-")
    for suffix in (*(f"{HEALTH}-{s}" for s in ALL_ALARMS), *ROLLBACK_ALARMS):
        if rest.endswith(f"-{suffix}") and len(rest) > len(suffix) + 1:
            return rest.removesuffix(f"-{suffix}")
    return None


def health_alarm_definitions(
    stack_name: str,
    endpoint_name: str,
    compute: Compute,
    settings: EndpointAlarmSettings,
    *,
    serving: str,
) -> list[dict[str, Any]]:
    """``PutMetricAlarm`` requests (without tags) of the endpoint's health alarms; ``serving`` names
    the version the endpoint serves (in each description, so a state change says which version)."""
    names = dict(
        zip(
            INSTANCE_ALARMS if compute == "instances" else SERVERLESS_ALARMS,
            health_alarm_names(stack_name, endpoint_name, compute),
            strict=True,
        )
    )
    dimensions = [
        {"Name": "EndpointName", "Value": endpoint_name},
        {"Name": "VariantName", "Value": PRODUCTION_VARIANT},
    ]
    common: dict[str, Any] = {
        "Dimensions": dimensions,
        "Period": settings.period_seconds,
        "EvaluationPeriods": settings.evaluation_periods,
        "TreatMissingData": "notBreaching",
        "ActionsEnabled": False,
        "ComparisonOperator": "GreaterThanThreshold",
    }
    about = f"{endpoint_name} (serving {serving})"
    metrics: dict[str, dict[str, Any]] = {
        "5xx-errors": {
            "AlarmDescription": f"5XX errors of {about}.",
            "Namespace": INVOCATION_METRICS_NAMESPACE,
            "MetricName": "Invocation5XXErrors",
            "Statistic": "Sum",
            "Threshold": float(settings.invocation_5xx_errors_threshold),
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        },
        "model-latency-p99": {
            "AlarmDescription": f"Model latency p99 of {about} over its budget "
            f"({settings.model_latency_p99_ms} ms).",
            "Namespace": INVOCATION_METRICS_NAMESPACE,
            "MetricName": "ModelLatency",
            "ExtendedStatistic": "p99",
            "Threshold": float(settings.model_latency_p99_ms * 1000),  # ModelLatency is in microseconds
        },
        "cpu-utilization": {
            "AlarmDescription": f"CPU utilization of {about}.",
            "Namespace": INSTANCE_METRICS_NAMESPACE,
            "MetricName": "CPUUtilization",
            "Statistic": "Average",
            "Threshold": float(settings.cpu_utilization_percent),
        },
        "memory-utilization": {
            "AlarmDescription": f"Memory utilization of {about}.",
            "Namespace": INSTANCE_METRICS_NAMESPACE,
            "MetricName": "MemoryUtilization",
            "Statistic": "Average",
            "Threshold": float(settings.memory_utilization_percent),
        },
        "disk-utilization": {
            "AlarmDescription": f"Disk utilization of {about}.",
            "Namespace": INSTANCE_METRICS_NAMESPACE,
            "MetricName": "DiskUtilization",
            "Statistic": "Average",
            "Threshold": float(settings.disk_utilization_percent),
        },
        "concurrency-utilization": {
            "AlarmDescription": f"Concurrent executions of {about} near its maximum concurrency.",
            "Namespace": INVOCATION_METRICS_NAMESPACE,
            "MetricName": "ServerlessConcurrentExecutionsUtilization",
            "Statistic": "Average",
            "Threshold": float(settings.concurrency_utilization),
        },
    }
    return [{"AlarmName": name, **common, **metrics[suffix]} for suffix, name in names.items()]


def serving_label(version_arn: str) -> str:
    """How an alarm's description names the version an endpoint serves: ``churn-prod/3`` for a
    model package ARN, the ``models:/...`` URI of an MLflow version as it is."""
    return version_arn.partition(":model-package/")[2] or version_arn
