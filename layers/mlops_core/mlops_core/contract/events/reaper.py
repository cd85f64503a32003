"""The endpoint reaper's events (source ``mlops.endpoint-reaper``), and the operator's request for a
reaper run: ``Endpoints Reap Requested`` and ``Endpoints Reaped``, with what was deleted and kept.
"""

# No ``from __future__ import annotations`` in the model modules: pydantic would compile each string
# annotation back into a type at import, a measurable part of every function's cold start.
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from mlops_core.contract.events.base import DomainEvent


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
        "for very large fleets the per-project lists); `report_uri` has the full summary",
    )
    report_uri: str | None = Field(
        default=None,
        description="`s3://` URI of the full summary (this event's detail with every detail, JSON) when "
        "details were dropped; unset if it could not be stored (the function's log has it then)",
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
