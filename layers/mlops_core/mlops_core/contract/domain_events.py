"""The control plane's own events, put on the application bus (docs/architecture.md, "Events").

Each event is a pydantic model with its ``detail-type`` and the component (``source`` is
``mlops.<component>``) that emits it. ``EVENTS.md`` beside this module is the catalog of their
fields and examples, generated from these models (``python -m mlops_core.catalog``); a test
keeps it current.
"""

# No ``from __future__ import annotations`` in the model modules: pydantic would compile each string
# annotation back into a type at import, a measurable part of every function's cold start.
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from mlops_core.contract.naming import MAX_NAME_LENGTH, SAGEMAKER_NAME_PATTERN
from mlops_core.contract.topology import Stage

SOURCE_PREFIX = "mlops."
# Model package ARNs in the examples: f"{_PACKAGE_ARN_PREFIX}/{group}/{version}".
_PACKAGE_ARN_PREFIX = "arn:aws:sagemaker:us-east-1:123456789012:model-package"


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
        "model_package_arn": f"{_PACKAGE_ARN_PREFIX}/churn-dev/3",
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
        "model_package_arn": f"{_PACKAGE_ARN_PREFIX}/churn-dev/2",
        "model_package_version": 2,
        "reason": "stale",
        "live_model_package_arn": f"{_PACKAGE_ARN_PREFIX}/churn-dev/3",
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
        "model_package_arn": f"{_PACKAGE_ARN_PREFIX}/churn-dev/3",
        "reason": "endpoint churn-dev is Failed (ResourceLimitExceeded); delete it to redeploy",
    }


class DeploymentDeferred(_StageEndpoint):
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
        "model_package_arn": f"{_PACKAGE_ARN_PREFIX}/churn-prod/4",
        "model_package_version": 4,
        "endpoint_status": "Updating",
    }


class DeploymentRolledBack(_StageEndpoint):
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
        "rolled_back_model_package_arn": f"{_PACKAGE_ARN_PREFIX}/churn-prod/4",
        "model_package_arn": f"{_PACKAGE_ARN_PREFIX}/churn-prod/3",
        "model_package_version": 3,
        "endpoint_config_name": "churn-prod-v3-81d0e7",
    }


# ----------------------------------------------------------------------------- integration tests


class TestOutcome(StrEnum):
    """How a test run ended. ``no-tests-configured`` is a result of its own, never a pass."""

    PASSED = "passed"
    FAILED = "failed"
    NO_TESTS_CONFIGURED = "no-tests-configured"
    INCOMPLETE = "incomplete"


class CaseResult(BaseModel):
    """One test case against the endpoint: passed, or the reasons it failed."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    name: str
    passed: bool
    latency_ms: float | None = None
    latency_budget_ms: float | None = None
    status_code: int | None = None
    error_code: str | None = None
    failures: list[str] = []


class LoadResult(BaseModel):
    """What the load phase measured, next to the budgets it was held to."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    requests: int
    errors: int
    error_rate: float
    duration_seconds: float
    requests_per_second: float
    concurrency: int
    target_rate_per_second: float | None = Field(
        default=None, description="the suite's `rate_per_second` (open loop); null: as fast as it went"
    )
    behind_schedule: int = Field(
        default=0, description="requests that started late (every worker busy) at the target rate"
    )
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    p50_budget_ms: float | None = None
    p95_budget_ms: float | None = None
    p99_budget_ms: float | None = None
    max_error_rate: float
    passed: bool
    failures: list[str] = []
    stopped_early: bool = False


class IntegrationTestsRequested(DomainEvent):
    """A person (or CI) asks for the endpoint's suite to run now, e.g. for endpoint types that emit
    no state change event. Put it on the application bus with ``source`` ``mlops.operator``."""

    DETAIL_TYPE: ClassVar[str] = "Integration Tests Requested"
    COMPONENT: ClassVar[str] = "operator"
    endpoint_name: str = Field(
        min_length=1,
        max_length=MAX_NAME_LENGTH,
        pattern=SAGEMAKER_NAME_PATTERN,
        description="a SageMaker endpoint name (what DescribeEndpoint accepts)",
    )
    requested_by: str | None = None
    reason: str | None = None

    EXAMPLE: ClassVar[dict[str, Any]] = {
        "endpoint_name": "churn-dev",
        "requested_by": "jane@example.com",
        "reason": "suite changed in CI",
    }


class IntegrationTestsCompleted(_StageEndpoint):
    """The endpoint's integration test suite ran (or there was none): per-case results and load figures."""

    DETAIL_TYPE: ClassVar[str] = "Integration Tests Completed"
    COMPONENT: ClassVar[str] = "endpoint-tester"
    run_id: str
    outcome: TestOutcome
    trigger: str = Field(description="`endpoint-in-service` or `requested`")
    model_package_arn: str | None = None
    endpoint_config_name: str | None = None
    summary: str = Field(description="one line for a person: what failed, or that all passed")
    cases: list[CaseResult] = []
    load: LoadResult | None = None
    stopped_early: str | None = Field(
        default=None, description="why the run stopped before the end (the Lambda's time ran out)"
    )
    version_rejected: bool = Field(
        default=False, description="the failure set the live version to Rejected (the deployer rolls back)"
    )

    EXAMPLE: ClassVar[dict[str, Any]] = {
        "project": "churn",
        "stage": "dev",
        "endpoint_name": "churn-dev",
        "run_id": "2026-11-25T18:30:00.000000Z",
        "outcome": "failed",
        "trigger": "endpoint-in-service",
        "model_package_arn": f"{_PACKAGE_ARN_PREFIX}/churn-dev/3",
        "endpoint_config_name": "churn-dev-v3-81d0e7",
        "summary": "1 of 2 cases failed: loyal-customer-stays",
        "cases": [
            {
                "name": "churner-leaves",
                "passed": True,
                "latency_ms": 12.5,
                "status_code": 200,
                "failures": [],
            },
            {
                "name": "loyal-customer-stays",
                "passed": False,
                "latency_ms": 11.0,
                "status_code": 200,
                "failures": ["$.predictions[0].score: 0.91 is above 0.5"],
            },
        ],
        "load": {
            "requests": 200,
            "errors": 0,
            "error_rate": 0.0,
            "duration_seconds": 1.9,
            "requests_per_second": 105.3,
            "concurrency": 4,
            "behind_schedule": 0,
            "p50_ms": 30.1,
            "p95_ms": 52.0,
            "p99_ms": 61.7,
            "p95_budget_ms": 200.0,
            "max_error_rate": 0.0,
            "passed": True,
            "failures": [],
            "stopped_early": False,
        },
        "version_rejected": True,
    }


# ---------------------------------------------------------------- project lifecycle


class ProjectCreated(DomainEvent):
    """A SageMaker project got its repository (seed code on `prod`, `dev` from it), groups and record."""

    DETAIL_TYPE: ClassVar[str] = "Project Created"
    COMPONENT: ClassVar[str] = "project-lifecycle"
    project: str
    project_id: str
    scenario: str = Field(description="`baseline` or `advanced`")
    registry_backend: str = Field(description="`sagemaker` or `mlflow`")
    git_provider: str = Field(description="`local`, `codecommit` or `github`")
    repository_url: str
    model_groups: tuple[str, ...] = Field(description="none with the mlflow backend")

    EXAMPLE: ClassVar[dict[str, Any]] = {
        "project": "churn",
        "project_id": "p-1a2b3c4d5e6f",
        "scenario": "baseline",
        "registry_backend": "sagemaker",
        "git_provider": "codecommit",
        "repository_url": "https://git-codecommit.us-east-1.amazonaws.com/v1/repos/churn",
        "model_groups": ["churn-feature", "churn-dev", "churn-prod"],
    }


class ProjectDeleted(DomainEvent):
    """A SageMaker project was deleted; what happened to its repository and model groups."""

    DETAIL_TYPE: ClassVar[str] = "Project Deleted"
    COMPONENT: ClassVar[str] = "project-lifecycle"
    project: str
    project_id: str
    repository_name: str
    repository: str = Field(description="`retained`, `archived`, `deleted`, `absent`, or `kept (reason)`")
    model_groups_deleted: tuple[str, ...] = ()
    model_groups_kept: dict[str, str] = Field(
        default_factory=dict, description="model group → why it was kept"
    )

    EXAMPLE: ClassVar[dict[str, Any]] = {
        "project": "churn",
        "project_id": "p-1a2b3c4d5e6f",
        "repository_name": "churn",
        "repository": "retained",
        "model_groups_deleted": ["churn-feature"],
        "model_groups_kept": {"churn-dev": "it holds model versions"},
    }


# ----------------------------------------------------------------------------- promotion


class GitBranchUpdated(DomainEvent):
    """A branch of a GitHub or GitLab repository moved. The seed code's CI puts it on the
    application bus (``source`` ``mlops.ci``) because those providers emit no AWS event; CodeCommit
    repositories need no CI step (``CodeCommit Repository State Change`` says the same)."""

    DETAIL_TYPE: ClassVar[str] = "Git Branch Updated"
    COMPONENT: ClassVar[str] = "ci"
    # Bounded, so that no event CI can send makes the copier's own event outgrow PutEvents' 256 KB
    # (a repository URL: GitLab's paths go up to 255 characters per level; a commit: SHA-1 or SHA-256 hex).
    repository: str = Field(
        min_length=1, max_length=1024, description="repository name or URL, e.g. `acme/churn-model`"
    )
    branch: str = Field(min_length=1, max_length=255)
    commit_id: str = Field(min_length=1, max_length=64, description="the branch's new head")
    merged_commit_id: str | None = Field(
        default=None,
        max_length=64,
        description="the head of the branch merged in (the `dev` commit), when known",
    )
    project: str | None = Field(default=None, max_length=64, description="the project, when CI knows it")
    provider: str | None = Field(default=None, max_length=32, description="`github` or `gitlab`")

    EXAMPLE: ClassVar[dict[str, Any]] = {
        "repository": "acme/churn-model",
        "branch": "prod",
        "commit_id": "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432",
        "merged_commit_id": "5a2a5b1c8e6f3d1f0a7b4c9d2e8f1a3b5c7d9e0f",
        "project": "churn",
        "provider": "github",
    }


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
        "source_model_package_arn": f"{_PACKAGE_ARN_PREFIX}/churn-dev/7",
        "source_commit_id": "5a2a5b1c8e6f3d1f0a7b4c9d2e8f1a3b5c7d9e0f",
        "test_run_id": "2026-11-25T18:30:00.000000Z",
        "selected_by": "merged-commit",
        "promoted": [
            {
                "stage": "prod",
                "model_package_group": "churn-prod",
                "model_package_arn": f"{_PACKAGE_ARN_PREFIX}/churn-prod/2",
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


# ----------------------------------------------------------------------------- endpoint reaper


class EndpointsReapRequested(DomainEvent):
    """A person asks the reaper to run now (``source`` ``mlops.operator``), e.g. a dry run to preview."""

    DETAIL_TYPE: ClassVar[str] = "Endpoints Reap Requested"
    COMPONENT: ClassVar[str] = "operator"
    dry_run: bool | None = Field(default=None, description="unset: the stack's `ReaperDryRun`")
    requested_by: str | None = None

    EXAMPLE: ClassVar[dict[str, Any]] = {"dry_run": True, "requested_by": "jane@example.com"}


class KeepReason(StrEnum):
    PRODUCTION_STAGE = "production-stage"
    STAGE_NOT_REAPABLE = "stage-not-reapable"
    UNKNOWN_STAGE = "unknown-stage"
    KEEP_UNTIL = "keep-until"
    INVALID_KEEP_UNTIL = "invalid-keep-until"
    ALREADY_DELETING = "already-deleting"
    NOT_MANAGED = "not-managed"
    BUSY = "busy"  # Creating/Updating: tried again on the next run
    NOT_REACHED = "not-reached"  # the run's time ran out before this endpoint: the next run deletes it


class ReapedEndpoint(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    endpoint_name: str
    stage: str | None = None
    instance_hours_per_day: float
    deregistered_scalable_targets: list[str] = []
    deleted_endpoint_configs: list[str] = []
    deleted_models: list[str] = []
    notes: list[str] = Field(default=[], description="what was left behind, and why")


class KeptEndpoint(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    endpoint_name: str
    stage: str | None = None
    reason: KeepReason
    explanation: str | None = None


class FailedEndpoint(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    endpoint_name: str
    stage: str | None = None
    reason: str


class ProjectReapSummary(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    project: str
    deleted: list[ReapedEndpoint] = []
    kept: list[KeptEndpoint] = Field(default=[], description="kept for a reason other than production")
    production_endpoints: list[str] = Field(default=[], description="never reaped; named, not detailed")
    failed: list[FailedEndpoint] = []
    instance_hours_per_day_saved: float = 0.0


class EndpointsReaped(DomainEvent):
    """The reaper ran: per project, what was deleted (in a dry run: would be), kept and why, and failed."""

    DETAIL_TYPE: ClassVar[str] = "Endpoints Reaped"
    COMPONENT: ClassVar[str] = "endpoint-reaper"
    dry_run: bool
    trigger: str = Field(description="`schedule` or `requested`")
    reapable_stages: list[str]
    endpoints_examined: int
    deleted_count: int
    kept_count: int
    failed_count: int
    instance_hours_per_day_saved: float
    projects: list[ProjectReapSummary] = []
    details_dropped: bool = Field(
        default=False,
        description="details were dropped to fit EventBridge's 256 KiB (the per-endpoint details, then "
        "for very large fleets the per-project lists); the function's log has the full summary",
    )

    EXAMPLE: ClassVar[dict[str, Any]] = {
        "dry_run": False,
        "trigger": "schedule",
        "reapable_stages": ["dev", "feature"],
        "endpoints_examined": 4,
        "deleted_count": 1,
        "kept_count": 2,
        "failed_count": 1,
        "instance_hours_per_day_saved": 24.0,
        "projects": [
            {
                "project": "churn",
                "deleted": [
                    {
                        "endpoint_name": "churn-dev",
                        "stage": "dev",
                        "instance_hours_per_day": 24.0,
                        "deregistered_scalable_targets": ["endpoint/churn-dev/variant/AllTraffic"],
                        "deleted_endpoint_configs": ["churn-dev-v3-81d0e7"],
                        "deleted_models": ["churn-dev-v3-4f2a9c"],
                        "notes": [],
                    }
                ],
                "kept": [
                    {
                        "endpoint_name": "churn-feature",
                        "stage": "feature",
                        "reason": "keep-until",
                        "explanation": "mlops:keep-until=2026-12-01",
                    }
                ],
                "production_endpoints": ["churn-prod"],
                "failed": [],
                "instance_hours_per_day_saved": 24.0,
            },
            {
                "project": "fraud",
                "deleted": [],
                "kept": [],
                "production_endpoints": [],
                "failed": [
                    {
                        "endpoint_name": "fraud-dev",
                        "stage": "dev",
                        "reason": "ThrottlingException: Rate exceeded",
                    }
                ],
                "instance_hours_per_day_saved": 0.0,
            },
        ],
        "details_dropped": False,
    }


# ----------------------------------------------------------------------------- MLflow


class MlflowModelAliasChanged(DomainEvent):
    """An MLflow alias of a project's registered model now names another version (or none): seen by
    the alias watcher's poll or received from a self-hosted MLflow 3 webhook. First sight of an
    alias counts as a change (``old_version`` unset); a removed alias has no ``new_version``."""

    DETAIL_TYPE: ClassVar[str] = "MLflow Model Alias Changed"
    COMPONENT: ClassVar[str] = "mlflow-alias-watcher"
    project: str
    stage: Stage = Field(description="the stage the alias maps to (`MlflowAliases`)")
    model: str = Field(description="the MLflow registered model name")
    alias: str
    old_version: int | None = Field(default=None, description="unset at first sight")
    new_version: int | None = Field(default=None, description="unset when the alias was removed")
    source_uri: str | None = Field(
        default=None, description="the new version's artifact location (MLflow's `source`; an S3 URI)"
    )
    run_id: str | None = None
    tags: dict[str, str] = Field(default_factory=dict, description="the new version's MLflow tags")
    trigger: str = Field(default="poll", description="`poll` (schedule) or `webhook`")

    EXAMPLE: ClassVar[dict[str, Any]] = {
        "project": "churn",
        "stage": "dev",
        "model": "churn",
        "alias": "dev",
        "old_version": 2,
        "new_version": 3,
        "source_uri": "s3://mlflow-artifacts/1/models/m-4f2a9c/artifacts",
        "run_id": "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        "tags": {"git_commit": "5a2a5b1"},
        "trigger": "poll",
    }


CATALOG: tuple[type[DomainEvent], ...] = (
    DeploymentStarted,
    DeploymentSkipped,
    DeploymentFailed,
    DeploymentDeferred,
    DeploymentRolledBack,
    IntegrationTestsRequested,
    IntegrationTestsCompleted,
    ProjectCreated,
    ProjectDeleted,
    GitBranchUpdated,
    ModelPromoted,
    PromotionFailed,
    EndpointsReapRequested,
    EndpointsReaped,
    MlflowModelAliasChanged,
)
