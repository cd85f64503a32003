"""What a SageMaker endpoint and its config are, as the components that read them see them (the
deployer and the endpoint tester), whichever adapter reads them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mlops_core.contract.aws_events import EndpointStatus


@dataclass(frozen=True)
class Endpoint:
    name: str
    arn: str
    status: EndpointStatus
    config_name: str
    tags: Mapping[str, str] = field(default_factory=dict)
    model_package_arn: str | None = None
    failure_reason: str | None = None


@dataclass(frozen=True)
class EndpointConfig:
    """An endpoint config's variants in AWS's shape (a new config copies what it keeps)."""

    name: str
    production_variants: list[dict[str, Any]]
    shadow_variants: list[dict[str, Any]] = field(default_factory=list)
    data_capture: dict[str, Any] | None = None
    arn: str | None = None
    creation_time: datetime | None = None

    def model_names(self) -> set[str]:
        return {variant["ModelName"] for variant in [*self.production_variants, *self.shadow_variants]}
