"""Application Auto Scaling's targets and policies of the deployer's production endpoints (the
deployer's :class:`~mlops_core.deployment.ports.ScalingPort`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlops_core.adapters import aws_errors
from mlops_core.contract.endpoint_autoscaling import SCALABLE_DIMENSION, SERVICE_NAMESPACE


class EndpointScaling:
    def __init__(self, client: Any) -> None:
        self._client = client

    def register(self, request: Mapping[str, Any]) -> None:
        self._client.register_scalable_target(**request)

    def put_policy(self, request: Mapping[str, Any]) -> None:
        self._client.put_scaling_policy(**request)

    def is_registered(self, resource_id: str) -> bool:
        response = self._client.describe_scalable_targets(
            ServiceNamespace=SERVICE_NAMESPACE,
            ResourceIds=[resource_id],
            ScalableDimension=SCALABLE_DIMENSION,
        )
        return bool(response.get("ScalableTargets"))

    def policy_exists(self, resource_id: str, policy_name: str) -> bool:
        response = self._client.describe_scaling_policies(
            ServiceNamespace=SERVICE_NAMESPACE,
            ResourceId=resource_id,
            ScalableDimension=SCALABLE_DIMENSION,
            PolicyNames=[policy_name],
        )
        return bool(response.get("ScalingPolicies"))

    def deregister(self, resource_id: str) -> None:
        try:
            self._client.deregister_scalable_target(
                ServiceNamespace=SERVICE_NAMESPACE,
                ResourceId=resource_id,
                ScalableDimension=SCALABLE_DIMENSION,
            )
        except aws_errors.SERVICE_ERRORS as error:
            if not aws_errors.is_not_found(error):
                raise
