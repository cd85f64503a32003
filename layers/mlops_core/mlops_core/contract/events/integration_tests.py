"""The endpoint tester's events (source ``mlops.endpoint-tester``), and the operator's request for a
test run: ``Integration Tests Requested`` and ``Integration Tests Completed``, with the results they carry.
"""

# No ``from __future__ import annotations`` in the model modules: pydantic would compile each string
# annotation back into a type at import, a measurable part of every function's cold start.
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from mlops_core.contract.events.base import EXAMPLE_PACKAGE_ARN_PREFIX, DomainEvent, StageEndpointEvent
from mlops_core.contract.naming import MAX_NAME_LENGTH, SAGEMAKER_NAME_PATTERN


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
    concurrency: int = Field(description="requests in flight at most, in each worker")
    workers: int = Field(default=1, description="the tester's invocations that ran the phase together")
    target_rate_per_second: float | None = Field(
        default=None, description="the suite's `rate_per_second` (open loop); null: as fast as it went"
    )
    waited_for_concurrency: int = Field(
        default=0,
        description="requests that fell due with `concurrency` requests in flight (the endpoint did not "
        "keep up), with those still waiting at the end of a duration_seconds phase",
    )
    behind_schedule: int = Field(
        default=0,
        description="requests a free sender sent more than `schedule_tolerance_ms` after their due time: "
        "the tester's own lateness, never the endpoint's",
    )
    schedule_tolerance_ms: float | None = Field(
        default=None, description="the tester's lateness tolerated (open loop); null: closed loop"
    )
    schedule_held: bool = Field(
        default=True, description="false: too many requests behind schedule, the rate was not measured"
    )
    p50_ms: float | None = Field(default=None, description="latency from each request's due time")
    p95_ms: float | None = Field(default=None, description="latency from each request's due time")
    p99_ms: float | None = Field(default=None, description="latency from each request's due time")
    p50_from_send_ms: float | None = Field(default=None, description="latency from when it was sent")
    p95_from_send_ms: float | None = Field(default=None, description="latency from when it was sent")
    p99_from_send_ms: float | None = Field(default=None, description="latency from when it was sent")
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


class IntegrationTestsCompleted(StageEndpointEvent):
    """The endpoint's integration test suite ran (or there was none): per-case results and load figures."""

    DETAIL_TYPE: ClassVar[str] = "Integration Tests Completed"
    COMPONENT: ClassVar[str] = "endpoint-tester"
    run_id: str
    outcome: TestOutcome
    trigger: str = Field(
        description="`endpoint-in-service`, `in-service-check` (the deployer's check of an endpoint change), "
        "`batch-stage-deployed` or `requested`"
    )
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
        "model_package_arn": f"{EXAMPLE_PACKAGE_ARN_PREFIX}/churn-dev/3",
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
            "workers": 1,
            "target_rate_per_second": 100.0,
            "waited_for_concurrency": 0,
            "behind_schedule": 0,
            "schedule_tolerance_ms": 10.0,
            "schedule_held": True,
            "p50_ms": 30.1,
            "p95_ms": 52.0,
            "p99_ms": 61.7,
            "p50_from_send_ms": 29.8,
            "p95_from_send_ms": 51.2,
            "p99_from_send_ms": 60.3,
            "p95_budget_ms": 200.0,
            "max_error_rate": 0.0,
            "passed": True,
            "failures": [],
            "stopped_early": False,
        },
        "version_rejected": True,
    }
