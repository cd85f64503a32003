"""What the reaper needs from outside (SageMaker's endpoints, Application Auto Scaling's targets, S3 for
its full reports), in its own terms. :mod:`mlops_core.adapters.sagemaker`,
:mod:`mlops_core.adapters.application_autoscaling` and :mod:`mlops_core.adapters.reaper_reports`
implement these ports; the unit tests implement them with fakes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

HOURS_PER_DAY = 24


class ReaperServiceError(RuntimeError):
    """A call of the reaper's ports was refused; the message says how (``Code: Message``). The reaper
    records it against the endpoint and goes on with the others."""


@dataclass(frozen=True)
class EndpointSummary:
    """What one Search result tells about an endpoint: enough to decide without another call."""

    name: str
    arn: str
    status: str
    config_name: str
    tags: Mapping[str, str]
    variants: tuple[tuple[str, float], ...] = ()  # (variant name, instance count)

    @property
    def instance_hours_per_day(self) -> float:
        return sum(count for _, count in self.variants) * HOURS_PER_DAY


@dataclass(frozen=True)
class ScalableTarget:
    resource_id: str  # endpoint/{name}/variant/{variant}
    scalable_dimension: str


def variant_resource_id(endpoint_name: str, variant_name: str) -> str:
    """Application Auto Scaling's id of an endpoint variant."""
    return f"endpoint/{endpoint_name}/variant/{variant_name}"


class ReaperSageMakerPort(Protocol):
    """Every method raises :class:`ReaperServiceError` when SageMaker refuses the call."""

    def search_endpoints(self) -> Iterator[EndpointSummary]:
        """Every endpoint of the account and region, with its tags and config."""
        ...

    def models_of_config(self, config_name: str) -> list[str] | None:
        """The models an endpoint config's variants use; None if there is no such config."""
        ...

    def delete_managed_endpoint(self, name: str) -> bool:
        """True if deleted now, False if it was already gone (someone was faster)."""
        ...

    def delete_managed_endpoint_config(self, name: str) -> bool: ...
    def delete_managed_model(self, name: str) -> bool: ...


class ReportStorePort(Protocol):
    """Where the full report of a run goes when it does not fit in ``Endpoints Reaped``."""

    def put_report(self, name: str, report: bytes) -> str:
        """Store the report (JSON) under ``name``; its ``s3://`` URI. Raises :class:`ReaperServiceError`."""
        ...


class AutoscalingPort(Protocol):
    """Every method raises :class:`ReaperServiceError` when Application Auto Scaling refuses the call."""

    def scalable_targets(self, resource_ids: Sequence[str]) -> list[ScalableTarget]: ...
    def deregister(self, target: ScalableTarget) -> None: ...
