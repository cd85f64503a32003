"""The model deployer's events (source ``mlops.model-deployer``): a deployment started, skipped,
failed, deferred (stored as the endpoint's pending deployment) or rolled back.
"""

# No ``from __future__ import annotations`` in the model modules: pydantic would compile each string
# annotation back into a type at import, a measurable part of every function's cold start.
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import Field

from mlops_core.contract.events.base import EXAMPLE_PACKAGE_ARN_PREFIX, StageEndpointEvent


class DeploymentStarted(StageEndpointEvent):
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
        "model_package_arn": f"{EXAMPLE_PACKAGE_ARN_PREFIX}/churn-dev/3",
        "model_package_version": 3,
        "model_name": "churn-dev-v3-4f2a9c",
        "endpoint_config_name": "churn-dev-v3-81d0e7",
        "action": "update",
        "strategy": "all-at-once",
    }


class SkipReason(StrEnum):
    STALE = "stale"
    ALREADY_DEPLOYED = "already-deployed"


class DeploymentSkipped(StageEndpointEvent):
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
        "model_package_arn": f"{EXAMPLE_PACKAGE_ARN_PREFIX}/churn-dev/2",
        "model_package_version": 2,
        "reason": "stale",
        "live_model_package_arn": f"{EXAMPLE_PACKAGE_ARN_PREFIX}/churn-dev/3",
    }


class DeploymentFailed(StageEndpointEvent):
    """A deployment could not be started; ``reason`` says what a person should do."""

    DETAIL_TYPE: ClassVar[str] = "Deployment Failed"
    COMPONENT: ClassVar[str] = "model-deployer"
    model_package_arn: str | None = None
    reason: str

    EXAMPLE: ClassVar[dict[str, Any]] = {
        "project": "churn",
        "stage": "dev",
        "endpoint_name": "churn-dev",
        "model_package_arn": f"{EXAMPLE_PACKAGE_ARN_PREFIX}/churn-dev/3",
        "reason": "endpoint churn-dev is Failed (ResourceLimitExceeded); delete it to redeploy",
    }


class DeploymentDeferred(StageEndpointEvent):
    """An approval arrived while the endpoint was busy; it is stored as the endpoint's pending
    deployment (the newest version wins) and applied when the endpoint is back in service."""

    DETAIL_TYPE: ClassVar[str] = "Deployment Deferred"
    COMPONENT: ClassVar[str] = "model-deployer"
    model_package_arn: str
    model_package_version: int
    endpoint_status: str = Field(description="the status that made the endpoint busy")

    EXAMPLE: ClassVar[dict[str, Any]] = {
        "project": "churn",
        "stage": "prod",
        "endpoint_name": "churn-prod",
        "model_package_arn": f"{EXAMPLE_PACKAGE_ARN_PREFIX}/churn-prod/4",
        "model_package_version": 4,
        "endpoint_status": "Updating",
    }


class DeploymentRolledBack(StageEndpointEvent):
    """The endpoint went back to an earlier version: the live one was rejected (the deployer
    redeployed the newest older approved version), or SageMaker's alarms rolled a rollout back."""

    DETAIL_TYPE: ClassVar[str] = "Deployment Rolled Back"
    COMPONENT: ClassVar[str] = "model-deployer"
    trigger: str = Field(
        description="`rejection` (of the live version) or `alarm` (SageMaker's auto-rollback)"
    )
    rolled_back_model_package_arn: str | None = Field(
        default=None, description="the version taken off the endpoint"
    )
    model_package_arn: str | None = Field(default=None, description="the version the endpoint goes back to")
    model_package_version: int | None = None
    endpoint_config_name: str | None = None
    reason: str | None = None

    EXAMPLE: ClassVar[dict[str, Any]] = {
        "project": "churn",
        "stage": "prod",
        "endpoint_name": "churn-prod",
        "trigger": "rejection",
        "rolled_back_model_package_arn": f"{EXAMPLE_PACKAGE_ARN_PREFIX}/churn-prod/4",
        "model_package_arn": f"{EXAMPLE_PACKAGE_ARN_PREFIX}/churn-prod/3",
        "model_package_version": 3,
        "endpoint_config_name": "churn-prod-v3-81d0e7",
    }
