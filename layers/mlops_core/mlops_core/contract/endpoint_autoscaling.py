"""Autoscaling of a production stage's endpoint: its settings (``autoscaling`` of a stage in the project
record) and the Application Auto Scaling requests they make, shared by the deployer (registers the
variant and puts its target-tracking policy once the endpoint is in service) and the docs.

One target-tracking policy per endpoint on SageMaker's predefined metric
``SageMakerVariantInvocationsPerInstance`` (invocations per instance per minute), on the production
variant (``AllTraffic``: stable across updates, so the target and its policy hold).
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

SERVICE_NAMESPACE = "sagemaker"
SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
PREDEFINED_METRIC = "SageMakerVariantInvocationsPerInstance"
PRODUCTION_VARIANT = "AllTraffic"


class EndpointAutoscalingSettings(BaseModel):
    """``autoscaling`` of a production stage in the project record."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    min_capacity: int = Field(default=1, ge=1, le=100)
    max_capacity: int = Field(ge=1, le=100)
    target_invocations_per_instance: float = Field(
        gt=0, description="invocations per instance per minute the policy keeps the fleet at"
    )
    scale_in_cooldown_seconds: int = Field(default=300, ge=0, le=3600)
    scale_out_cooldown_seconds: int = Field(default=60, ge=0, le=3600)

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


def policy_name(stack_name: str, endpoint_name: str) -> str:
    return f"{stack_name}-{endpoint_name}-invocations-per-instance"


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
    return {
        "PolicyName": policy_name(stack_name, endpoint_name),
        "ServiceNamespace": SERVICE_NAMESPACE,
        "ResourceId": resource_id(endpoint_name),
        "ScalableDimension": SCALABLE_DIMENSION,
        "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": {
            "TargetValue": settings.target_invocations_per_instance,
            "PredefinedMetricSpecification": {"PredefinedMetricType": PREDEFINED_METRIC},
            "ScaleInCooldown": settings.scale_in_cooldown_seconds,
            "ScaleOutCooldown": settings.scale_out_cooldown_seconds,
        },
    }
