"""The SageMaker requests of a deployment, built from a stage's deployment settings.

Pure functions from :mod:`mlops_core.contract.deployment_settings` to the shapes of ``CreateEndpointConfig``,
``UpdateEndpoint`` and ``PutMetricAlarm``, so each strategy's exact request is testable without AWS.

Variant names never change (``AllTraffic`` for the production variant, ``Shadow`` for the shadow):
blue/green updates require the new endpoint config to keep the variant names of the old one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mlops_core.contract.deployment_settings import (
    AlarmSettings,
    Compute,
    DataCaptureSettings,
    InstanceCompute,
    ServerlessCompute,
    StageDeploymentSettings,
    Strategy,
)

PRODUCTION_VARIANT = "AllTraffic"
SHADOW_VARIANT = "Shadow"


def production_variant(
    model_name: str, compute: Compute, *, name: str = PRODUCTION_VARIANT
) -> dict[str, Any]:
    """One ``ProductionVariants`` entry: instances (real-time or asynchronous: the endpoint config's
    ``AsyncInferenceConfig`` makes the difference), or ``ServerlessConfig`` for serverless inference."""
    variant: dict[str, Any] = {"VariantName": name, "ModelName": model_name}
    if isinstance(compute, ServerlessCompute):
        variant["ServerlessConfig"] = {
            "MemorySizeInMB": compute.memory_size_mb,
            "MaxConcurrency": compute.max_concurrency,
        }
    else:
        variant["InstanceType"] = compute.instance_type
        variant["InitialInstanceCount"] = compute.instance_count
    variant["InitialVariantWeight"] = 1.0
    return variant


def shadow_variant(model_name: str, compute: InstanceCompute, sampling_percentage: int) -> dict[str, Any]:
    """A ``ShadowProductionVariants`` entry. SageMaker copies to a shadow the share of requests given
    by its weight relative to the production variant's (1.0), so the weight is the sampling share."""
    return {
        "VariantName": SHADOW_VARIANT,
        "ModelName": model_name,
        "InstanceType": compute.instance_type,
        "InitialInstanceCount": compute.instance_count,
        "InitialVariantWeight": sampling_percentage / 100,
    }


def data_capture_config(settings: DataCaptureSettings) -> dict[str, Any] | None:
    """``DataCaptureConfig`` of requests and responses (Model Monitor's input), or None when off."""
    if not settings.enabled:
        return None
    return {
        "EnableCapture": True,
        "InitialSamplingPercentage": settings.sampling_percentage,
        "DestinationS3Uri": settings.destination_s3_uri,
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {
            "CsvContentTypes": ["text/csv"],
            "JsonContentTypes": ["application/json"],
        },
    }


def alarm_names(stack_name: str, endpoint_name: str) -> tuple[str, str]:
    """The rollback alarms of an endpoint, prefixed with the stack so IAM can scope them."""
    prefix = f"{stack_name}-{endpoint_name}"
    return f"{prefix}-invocation-5xx-errors", f"{prefix}-model-latency"


def alarm_definitions(stack_name: str, endpoint_name: str, settings: AlarmSettings) -> list[dict[str, Any]]:
    """``PutMetricAlarm`` requests (without tags) of the alarms that roll a rollout back.

    They watch the production variant (its name is stable, so the alarms hold across updates);
    no data is not an alarm (an endpoint without traffic is healthy).
    """
    errors_name, latency_name = alarm_names(stack_name, endpoint_name)
    common: dict[str, Any] = {
        "Namespace": "AWS/SageMaker",
        "Dimensions": [
            {"Name": "EndpointName", "Value": endpoint_name},
            {"Name": "VariantName", "Value": PRODUCTION_VARIANT},
        ],
        "Period": settings.period_seconds,
        "EvaluationPeriods": settings.evaluation_periods,
        "TreatMissingData": "notBreaching",
        "ActionsEnabled": False,
    }
    return [
        {
            "AlarmName": errors_name,
            "AlarmDescription": f"Rolls back a deployment of {endpoint_name} that returns 5XX errors.",
            "MetricName": "Invocation5XXErrors",
            "Statistic": "Sum",
            "Threshold": float(settings.invocation_5xx_errors_threshold),
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            **common,
        },
        {
            "AlarmName": latency_name,
            "AlarmDescription": f"Rolls back a deployment of {endpoint_name} whose model is slow.",
            "MetricName": "ModelLatency",
            "Statistic": "Average",
            # ModelLatency is reported in microseconds.
            "Threshold": float(settings.model_latency_threshold_ms * 1000),
            "ComparisonOperator": "GreaterThanThreshold",
            **common,
        },
    ]


def deployment_config(settings: StageDeploymentSettings, alarms: list[str]) -> dict[str, Any] | None:
    """``UpdateEndpoint``'s ``DeploymentConfig`` for canary and linear; None for all-at-once."""
    if not settings.strategy.shifts_traffic:
        return None
    blue_green = settings.blue_green
    routing: dict[str, Any] = {"WaitIntervalInSeconds": blue_green.wait_interval_seconds}
    if settings.strategy is Strategy.CANARY:
        routing["Type"] = "CANARY"
        routing["CanarySize"] = {"Type": "CAPACITY_PERCENT", "Value": blue_green.canary_percentage}
    else:
        routing["Type"] = "LINEAR"
        routing["LinearStepSize"] = {"Type": "CAPACITY_PERCENT", "Value": blue_green.linear_step_percentage}
    return {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": routing,
            "TerminationWaitInSeconds": blue_green.termination_wait_seconds,
            "MaximumExecutionTimeoutInSeconds": blue_green.maximum_execution_timeout_seconds,
        },
        "AutoRollbackConfiguration": {
            "Alarms": [{"AlarmName": name} for name in [*alarms, *settings.rollback_alarms]]
        },
    }


def endpoint_config_request(
    production: Sequence[Mapping[str, Any]],
    *,
    shadows: Sequence[Mapping[str, Any]] | None = None,
    data_capture: Mapping[str, Any] | None = None,
    async_inference: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``CreateEndpointConfig``'s body without name and tags."""
    request: dict[str, Any] = {"ProductionVariants": [dict(variant) for variant in production]}
    if shadows:
        request["ShadowProductionVariants"] = [dict(variant) for variant in shadows]
    if data_capture:
        request["DataCaptureConfig"] = dict(data_capture)
    if async_inference:
        request["AsyncInferenceConfig"] = dict(async_inference)
    return request
