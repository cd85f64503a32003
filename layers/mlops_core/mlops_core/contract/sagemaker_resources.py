"""SageMaker's resources as the components see them, whichever adapter reads them: an endpoint and its
config (the deployer, the endpoint tester), a model version and a listed model or config (the
deployer), and the two refusals creating or updating them can meet."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mlops_core.contract.aws_events import EndpointStatus, ModelApprovalStatus
from mlops_core.contract.model_monitor import DataQualityBaseline


@dataclass(frozen=True)
class Endpoint:
    name: str
    arn: str
    status: EndpointStatus
    config_name: str
    tags: Mapping[str, str] = field(default_factory=dict)
    model_package_arn: str | None = None
    failure_reason: str | None = None
    creation_time: datetime | None = None


@dataclass(frozen=True)
class EndpointConfig:
    """An endpoint config's variants in AWS's shape (a new config copies what it keeps)."""

    name: str
    production_variants: list[dict[str, Any]]
    shadow_variants: list[dict[str, Any]] = field(default_factory=list)
    data_capture: dict[str, Any] | None = None
    arn: str | None = None
    creation_time: datetime | None = None
    async_inference: dict[str, Any] | None = None
    """``AsyncInferenceConfig``: the endpoint queues its requests (``InvokeEndpointAsync``)."""

    def model_names(self) -> set[str]:
        return {variant["ModelName"] for variant in [*self.production_variants, *self.shadow_variants]}


@dataclass(frozen=True)
class ModelPackage:
    arn: str
    group: str
    version: int
    approval_status: ModelApprovalStatus
    commit_id: str | None = None
    dataset: str | None = None
    has_metrics: bool = False
    data_quality_baseline: DataQualityBaseline | None = None
    """``DriftCheckBaselines.ModelDataQuality``, the baselines of a data-quality monitoring schedule."""

    def missing_lineage(self, required: Iterable[str]) -> list[str]:
        """Which of ``commit-id``, ``dataset``, ``metrics`` the version does not carry."""
        present = {
            "commit-id": bool(self.commit_id),
            "dataset": bool(self.dataset),
            "metrics": self.has_metrics,
        }
        return sorted(field for field in required if not present.get(field, False))


@dataclass(frozen=True)
class ManagedResource:
    """A model or endpoint config listed for housekeeping."""

    name: str
    creation_time: datetime


class ResourceConflictError(RuntimeError):
    """A create found a resource of the same name that is not the one it would have made."""


class EndpointBusyError(RuntimeError):
    """UpdateEndpoint refused: the endpoint is being created, updated or rolled back."""
