"""The model deployer's events (source ``mlops.model-deployer``): a deployment started, skipped,
failed, deferred (stored as the endpoint's pending deployment) or rolled back; and the in-service
check an endpoint change schedules (delivered by EventBridge Scheduler, not put by the deployer).
"""

# No ``from __future__ import annotations`` in the model modules: pydantic would compile each string
# annotation back into a type at import, a measurable part of every function's cold start.
from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import Field

from mlops_core.contract.aws_events import EventBridgeEvent
from mlops_core.contract.events.base import EXAMPLE_PACKAGE_ARN_PREFIX, StageEndpointEvent
from mlops_core.contract.naming import MAX_NAME_LENGTH, SAGEMAKER_NAME_PATTERN


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


class InServiceCheck(StageEndpointEvent):
    """Time to look at an endpoint the deployer changed: SageMaker delivers its state-change events on a
    best-effort basis, so a lost ``IN_SERVICE`` must not leave a deployment untested and untidied. The
    deployer schedules one of these (a one-time EventBridge Scheduler schedule) with every endpoint
    change; when it comes, the deployer and the tester do what an ``IN_SERVICE`` event makes them do
    (once per deployment either way), or the deployer schedules the next ``attempt`` while the endpoint
    is still changing. Not announced on Slack."""

    DETAIL_TYPE: ClassVar[str] = "Endpoint In-Service Check"
    COMPONENT: ClassVar[str] = "model-deployer"
    ANNOUNCED: ClassVar[bool] = False
    endpoint_name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH, pattern=SAGEMAKER_NAME_PATTERN)
    endpoint_config_name: str = Field(
        min_length=1,
        max_length=MAX_NAME_LENGTH,
        pattern=SAGEMAKER_NAME_PATTERN,
        description="the endpoint config the change put on the endpoint",
    )
    attempt: int = Field(ge=1, description="1 for the first check after the change, then 2, 3 ...")

    EXAMPLE: ClassVar[dict[str, Any]] = {
        "project": "churn",
        "stage": "dev",
        "endpoint_name": "churn-dev",
        "endpoint_config_name": "churn-dev-v3-81d0e7",
        "attempt": 1,
    }


class InServiceCheckEvent(EventBridgeEvent):
    """An :class:`InServiceCheck` as EventBridge delivers it (from the check's schedule)."""

    source: Literal["mlops.model-deployer"]
    detail_type: Literal["Endpoint In-Service Check"] = Field(alias="detail-type")
    detail: InServiceCheck
