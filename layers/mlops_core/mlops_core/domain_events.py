"""The control plane's own events, put on the application's bus (DESIGN §3, §4).

Each event is a pydantic model with its ``detail-type`` and the component (``source`` is
``mlops.<component>``) that emits it. ``EVENTS.md`` beside this module is the catalog of their
fields and examples, generated from these models (``python -m mlops_core.catalog``); a test
keeps it current.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from mlops_core.topology import Stage

SOURCE_PREFIX = "mlops."


class DomainEvent(BaseModel):
    """Base of every domain event: the model is the ``detail``; class vars give the envelope."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=True, defer_build=True)

    DETAIL_TYPE: ClassVar[str]
    COMPONENT: ClassVar[str]
    EXAMPLE: ClassVar[dict[str, Any]]

    @classmethod
    def source(cls) -> str:
        return SOURCE_PREFIX + cls.COMPONENT

    def detail(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class _StageEndpoint(DomainEvent):
    project: str
    stage: Stage
    endpoint_name: str


class DeploymentStarted(_StageEndpoint):
    """An endpoint is being created or updated with an approved model version."""

    DETAIL_TYPE: ClassVar[str] = "Deployment Started"
    COMPONENT: ClassVar[str] = "model-deployer"
    model_package_arn: str
    model_package_version: int
    model_name: str
    endpoint_config_name: str
    action: str = Field(description="`create` (new endpoint) or `update` (existing endpoint)")
    strategy: str = Field(default="all-at-once", description="how traffic moves to the new version")

    EXAMPLE: ClassVar[dict[str, Any]] = {
        "project": "churn",
        "stage": "dev",
        "endpoint_name": "churn-dev",
        "model_package_arn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-dev/3",
        "model_package_version": 3,
        "model_name": "churn-dev-v3-4f2a9c",
        "endpoint_config_name": "churn-dev-v3-81d0e7",
        "action": "update",
        "strategy": "all-at-once",
    }


class SkipReason(StrEnum):
    STALE = "stale"
    ALREADY_DEPLOYED = "already-deployed"


class DeploymentSkipped(_StageEndpoint):
    """An approval was not deployed because the endpoint already runs this or a newer version."""

    DETAIL_TYPE: ClassVar[str] = "Deployment Skipped"
    COMPONENT: ClassVar[str] = "model-deployer"
    model_package_arn: str
    model_package_version: int
    reason: SkipReason
    live_model_package_arn: str

    EXAMPLE: ClassVar[dict[str, Any]] = {
        "project": "churn",
        "stage": "dev",
        "endpoint_name": "churn-dev",
        "model_package_arn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-dev/2",
        "model_package_version": 2,
        "reason": "stale",
        "live_model_package_arn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-dev/3",
    }


class DeploymentFailed(_StageEndpoint):
    """A deployment could not be started; ``reason`` says what a person should do."""

    DETAIL_TYPE: ClassVar[str] = "Deployment Failed"
    COMPONENT: ClassVar[str] = "model-deployer"
    model_package_arn: str | None = None
    reason: str

    EXAMPLE: ClassVar[dict[str, Any]] = {
        "project": "churn",
        "stage": "dev",
        "endpoint_name": "churn-dev",
        "model_package_arn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-dev/3",
        "reason": "endpoint churn-dev is Failed (ResourceLimitExceeded); delete it to redeploy",
    }


CATALOG: tuple[type[DomainEvent], ...] = (DeploymentStarted, DeploymentSkipped, DeploymentFailed)
