"""The artifact copier's events (source ``mlops.artifact-copier``): a version promoted, or why not."""

# No ``from __future__ import annotations`` in the model modules: pydantic would compile each string
# annotation back into a type at import, a measurable part of every function's cold start.
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from mlops_core.contract.events.base import EXAMPLE_PACKAGE_ARN_PREFIX, DomainEvent
from mlops_core.contract.topology import Stage


class PromotedVersion(BaseModel):
    """The promoted version: the tested dev version registered in one target group."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    stage: Stage
    model_package_group: str
    model_package_arn: str
    approval_status: str
    artifact_urls: list[str] = []
    created: bool = Field(
        description="false when an earlier attempt had already registered this promoted version"
    )


class ModelPromoted(DomainEvent):
    """A merge into `prod` promoted the tested dev version (artifact and lineage) into the production
    group(s), without retraining; approving the promoted version deploys it."""

    DETAIL_TYPE: ClassVar[str] = "Model Promoted"
    COMPONENT: ClassVar[str] = "artifact-copier"
    project: str
    scenario: str
    trigger: str = Field(description="`codecommit` or `git-branch-updated`")
    commit_id: str | None = Field(default=None, description="the `prod` commit that triggered the promotion")
    source_model_package_arn: str
    source_commit_id: str | None = None
    test_run_id: str | None = None
    selected_by: str = Field(description="`merged-commit` or `newest-tested` (the merged commit had none)")
    promoted: list[PromotedVersion]

    EXAMPLE: ClassVar[dict[str, Any]] = {
        "project": "churn",
        "scenario": "baseline",
        "trigger": "codecommit",
        "commit_id": "5a2a5b1c8e6f3d1f0a7b4c9d2e8f1a3b5c7d9e0f",
        "source_model_package_arn": f"{EXAMPLE_PACKAGE_ARN_PREFIX}/churn-dev/7",
        "source_commit_id": "5a2a5b1c8e6f3d1f0a7b4c9d2e8f1a3b5c7d9e0f",
        "test_run_id": "2026-11-25T18:30:00.000000Z",
        "selected_by": "merged-commit",
        "promoted": [
            {
                "stage": "prod",
                "model_package_group": "churn-prod",
                "model_package_arn": f"{EXAMPLE_PACKAGE_ARN_PREFIX}/churn-prod/2",
                "approval_status": "PendingManualApproval",
                "artifact_urls": ["s3://mlops-promoted-artifacts/churn/prod/churn-dev-v7/model.tar.gz"],
                "created": True,
            }
        ],
    }


class PromotionFailureReason(StrEnum):
    NO_TESTED_VERSION = "no-tested-version"
    TESTS_FAILED = "tests-failed"
    NOT_APPROVED = "not-approved"
    UNKNOWN_PROJECT = "unknown-project"
    COPY_FAILED = "copy-failed"


class PromotionFailed(DomainEvent):
    """A merge into `prod` promoted nothing; ``message`` says what a person should do."""

    DETAIL_TYPE: ClassVar[str] = "Promotion Failed"
    COMPONENT: ClassVar[str] = "artifact-copier"
    project: str | None = None
    repository: str
    trigger: str
    commit_id: str | None = None
    merged_commit_id: str | None = None
    reason: PromotionFailureReason
    message: str

    EXAMPLE: ClassVar[dict[str, Any]] = {
        "project": "churn",
        "repository": "churn-model",
        "trigger": "codecommit",
        "commit_id": "5a2a5b1c8e6f3d1f0a7b4c9d2e8f1a3b5c7d9e0f",
        "reason": "tests-failed",
        "message": "churn-dev/7 (commit 5a2a5b1) failed its integration tests (run 2026-11-25T18:30:00Z); "
        "fix and merge again",
    }
