"""Autoscaling of a production stage's endpoint: its settings (``autoscaling`` of a stage in the project
record) and the Application Auto Scaling requests they make, shared by the deployer (registers the
variant and puts its target-tracking policy once the endpoint is in service) and the docs.

One target-tracking policy per endpoint on SageMaker's predefined metric
``SageMakerVariantInvocationsPerInstance`` (invocations per instance per minute), on the production
variant (``AllTraffic``: stable across updates, so the target and its policy hold).

An asynchronous endpoint scales on its queue instead (``target_backlog_per_instance``): the metric
``ApproximateBacklogSizePerInstance`` (AWS, "Autoscale an asynchronous endpoint", which "strongly
recommends" it for async endpoints), and it may scale to zero instances (``min_capacity`` 0: "Unlike
other hosted models Amazon SageMaker AI supports, with Asynchronous Inference you can also scale down
your asynchronous endpoints instances to zero"; without the optional step policy, "your endpoint only
initiates scaling up from zero after the number of backlog requests exceeds the target tracking value").
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

SERVICE_NAMESPACE = "sagemaker"
SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
PREDEFINED_METRIC = "SageMakerVariantInvocationsPerInstance"
BACKLOG_METRIC = "ApproximateBacklogSizePerInstance"
PRODUCTION_VARIANT = "AllTraffic"


class EndpointAutoscalingSettings(BaseModel):
    """``autoscaling`` of a production stage in the project record."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    min_capacity: int = Field(default=1, ge=0, le=100, description="0: async endpoints only")
    max_capacity: int = Field(ge=1, le=100)
    target_invocations_per_instance: float | None = Field(
        default=None, gt=0, description="invocations per instance per minute the policy keeps the fleet at"
    )
    target_backlog_per_instance: float | None = Field(
        default=None, gt=0, description="async endpoints: queued requests per instance the policy keeps"
    )
    scale_in_cooldown_seconds: int = Field(default=300, ge=0, le=3600)
    scale_out_cooldown_seconds: int = Field(default=60, ge=0, le=3600)

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.target_invocations_per_instance is None) == (self.target_backlog_per_instance is None):
            raise ValueError(
                "give exactly one of target_invocations_per_instance (real-time endpoints) and "
                "target_backlog_per_instance (async endpoints)"
            )
        return self

    @property
    def scales_on_backlog(self) -> bool:
        return self.target_backlog_per_instance is not None

    @model_validator(mode="after")
    def _a_range(self) -> Self:
        if self.min_capacity > self.max_capacity:
            raise ValueError(
                f"min_capacity ({self.min_capacity}) is greater than max_capacity ({self.max_capacity})"
            )
        return self


def resource_id(endpoint_name: str) -> str:
    """Application Auto Scaling's id of the endpoint's production variant."""
    return f"endpoint/{endpoint_name}/variant/{PRODUCTION_VARIANT}"


def policy_name(stack_name: str, endpoint_name: str, *, backlog: bool = False) -> str:
    return f"{stack_name}-{endpoint_name}-{'backlog' if backlog else 'invocations'}-per-instance"


def policy_names(stack_name: str, endpoint_name: str) -> tuple[str, str]:
    """Both names the deployer may have given an endpoint's policy."""
    return policy_name(stack_name, endpoint_name), policy_name(stack_name, endpoint_name, backlog=True)


def scalable_target_request(endpoint_name: str, settings: EndpointAutoscalingSettings) -> dict[str, Any]:
    """``RegisterScalableTarget`` (an upsert: registers, or updates the range)."""
    return {
        "ServiceNamespace": SERVICE_NAMESPACE,
        "ResourceId": resource_id(endpoint_name),
        "ScalableDimension": SCALABLE_DIMENSION,
        "MinCapacity": settings.min_capacity,
        "MaxCapacity": settings.max_capacity,
    }


def scaling_policy_request(
    stack_name: str, endpoint_name: str, settings: EndpointAutoscalingSettings
) -> dict[str, Any]:
    """``PutScalingPolicy`` (an upsert by name) of the endpoint's target-tracking policy."""
    metric: dict[str, Any]
    if settings.target_backlog_per_instance is not None:
        target = settings.target_backlog_per_instance
        metric = {
            "CustomizedMetricSpecification": {
                "MetricName": BACKLOG_METRIC,
                "Namespace": "AWS/SageMaker",
                "Dimensions": [{"Name": "EndpointName", "Value": endpoint_name}],
                "Statistic": "Average",
            }
        }
    else:
        assert settings.target_invocations_per_instance is not None  # one of the two: _one_target
        target = settings.target_invocations_per_instance
        metric = {"PredefinedMetricSpecification": {"PredefinedMetricType": PREDEFINED_METRIC}}
    return {
        "PolicyName": policy_name(stack_name, endpoint_name, backlog=settings.scales_on_backlog),
        "ServiceNamespace": SERVICE_NAMESPACE,
        "ResourceId": resource_id(endpoint_name),
        "ScalableDimension": SCALABLE_DIMENSION,
        "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": {
            "TargetValue": target,
            **metric,
            "ScaleInCooldown": settings.scale_in_cooldown_seconds,
            "ScaleOutCooldown": settings.scale_out_cooldown_seconds,
        },
    }
