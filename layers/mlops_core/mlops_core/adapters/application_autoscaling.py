"""Application Auto Scaling's targets of SageMaker endpoint variants (the reaper's
:class:`~mlops_core.reaper.ports.AutoscalingPort`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlops_core.adapters import aws_errors
from mlops_core.reaper.ports import ReaperServiceError, ScalableTarget

SCALABLE_TARGETS_BATCH = 50  # DescribeScalableTargets takes at most 50 resource ids
SAGEMAKER_NAMESPACE = "sagemaker"


def _reaper_error(error: Exception) -> ReaperServiceError:
    return ReaperServiceError(aws_errors.describe(error))


class AutoscalingAdapter:
    def __init__(self, client: Any) -> None:
        self._client = client

    def scalable_targets(self, resource_ids: Sequence[str]) -> list[ScalableTarget]:
        targets: list[ScalableTarget] = []
        with aws_errors.reraised_as(_reaper_error):
            for start in range(0, len(resource_ids), SCALABLE_TARGETS_BATCH):
                request: dict[str, Any] = {
                    "ServiceNamespace": SAGEMAKER_NAMESPACE,
                    "ResourceIds": list(resource_ids[start : start + SCALABLE_TARGETS_BATCH]),
                }
                while True:
                    page = self._client.describe_scalable_targets(**request)
                    targets += [
                        ScalableTarget(target["ResourceId"], target["ScalableDimension"])
                        for target in page.get("ScalableTargets", [])
                    ]
                    if not page.get("NextToken"):
                        break
                    request["NextToken"] = page["NextToken"]
        return targets

    def deregister(self, target: ScalableTarget) -> None:
        """Deregister the target; one already gone is fine."""
        with aws_errors.reraised_as(_reaper_error):
            try:
                self._client.deregister_scalable_target(
                    ServiceNamespace=SAGEMAKER_NAMESPACE,
                    ResourceId=target.resource_id,
                    ScalableDimension=target.scalable_dimension,
                )
            except aws_errors.SERVICE_ERRORS as error:
                if not aws_errors.is_not_found(error):
                    raise
