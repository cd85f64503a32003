"""What happened when events were delivered: which rules matched, which functions ran, what they emitted.

A `Trace` is an ordered list of deliveries, one per event taken off a bus. A delivery runs each
matching Lambda target asynchronously, as EventBridge does: every attempt is kept, and a run whose
attempts all failed names the on-failure destination the event went to. A CodeBuild target is started
once, as its role, and the build (or the refusal) is kept.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from mlops_local.runtime import Invocation


@dataclass(frozen=True)
class FunctionRun:
    """One asynchronous invocation of one function by one rule: its attempts and how it ended."""

    function: str  # logical ID
    rule: str
    attempts: tuple[Invocation, ...]
    on_failure_destination: str | None = None  # where the event went after the last failed attempt

    @property
    def succeeded(self) -> bool:
        return self.attempts[-1].succeeded

    @property
    def emitted(self) -> tuple[dict[str, Any], ...]:
        return tuple(event for attempt in self.attempts for event in attempt.emitted)


@dataclass(frozen=True)
class StartedBuild:
    """One CodeBuild target of one rule: StartBuild called as the target's role with the target's input
    (EventBridge's own call), and the build it started or the error it got."""

    rule: str
    project_arn: str
    role_arn: str | None
    request: dict[str, Any]  # StartBuild's parameters besides projectName
    build_id: str | None
    error: str | None = None


@dataclass(frozen=True)
class Delivery:
    """One event taken off a bus and delivered to every target whose rule matched it."""

    bus: str
    event: dict[str, Any]
    emitted_by: str | None  # the function that put it with PutEvents, if one did
    rules: tuple[str, ...]  # names of the rules that matched
    runs: tuple[FunctionRun, ...]
    builds: tuple[StartedBuild, ...] = ()  # CodeBuild targets


@dataclass
class Trace:
    deliveries: list[Delivery] = field(default_factory=list)

    def __iter__(self) -> Iterator[Delivery]:
        return iter(self.deliveries)

    def __len__(self) -> int:
        return len(self.deliveries)

    def events(
        self, *, detail_type: str | None = None, source: str | None = None, bus: str | None = None
    ) -> list[dict[str, Any]]:
        """The events delivered, in order, optionally only those of a detail-type, source or bus."""
        return [
            delivery.event
            for delivery in self.deliveries
            if (detail_type is None or delivery.event.get("detail-type") == detail_type)
            and (source is None or delivery.event.get("source") == source)
            and (bus is None or delivery.bus == bus)
        ]

    def runs(self, *, function: str | None = None) -> list[FunctionRun]:
        return [
            run
            for delivery in self.deliveries
            for run in delivery.runs
            if function is None or run.function == function
        ]

    def builds(self, *, rule: str | None = None) -> list[StartedBuild]:
        """The CodeBuild targets started (or refused), in order, optionally of one rule."""
        return [
            build
            for delivery in self.deliveries
            for build in delivery.builds
            if rule is None or build.rule == rule
        ]

    def invocations(self, *, function: str | None = None) -> list[Invocation]:
        """Every attempt of every function run, in order, optionally of one function (logical ID)."""
        return [attempt for run in self.runs(function=function) for attempt in run.attempts]

    def failures(self) -> list[FunctionRun]:
        """The runs that failed on every attempt."""
        return [run for run in self.runs() if not run.succeeded]

    def timeline(self) -> str:
        """One line a delivery: source, detail-type, the gist of the event, and what the functions did."""
        rows = [
            (delivery.event.get("source", ""), delivery.event.get("detail-type", ""), gist(delivery.event))
            for delivery in self.deliveries
        ]
        widths = [max((len(row[column]) for row in rows), default=0) for column in range(3)]
        lines = []
        for (source, detail_type, summary), delivery in zip(rows, self.deliveries, strict=True):
            columns = f"{source:<{widths[0]}}  {detail_type:<{widths[1]}}  {summary:<{widths[2]}}"
            lines.append(f"  {columns}  -> {_outcome(delivery)}")
        return "\n".join(lines)


def gist(event: dict[str, Any]) -> str:
    """A few words that tell one event from another of the same type."""
    detail = event.get("detail") or {}
    if "ModelApprovalStatus" in detail:
        version = f"{detail.get('ModelPackageGroupName')}/{detail.get('ModelPackageVersion')}"
        return f"{version} {detail['ModelApprovalStatus']}"
    if "EndpointStatus" in detail:
        said = f"{detail.get('EndpointName')} {detail['EndpointStatus']}"
        pending = (detail.get("PendingDeploymentSummary") or {}).get("ProductionVariants") or [{}]
        statuses = pending[0].get("VariantStatus") or []
        if statuses:  # a blue/green deployment's step, and how much of the new fleet takes traffic
            said += (
                f" {statuses[0].get('Status')} "
                f"{pending[0].get('CurrentInstanceCount')}/{pending[0].get('DesiredInstanceCount')}"
            )
        return said
    scalars = [f"{key}={value}" for key, value in detail.items() if isinstance(value, str | int | float)]
    return " ".join(scalars[:3])


def _outcome(delivery: Delivery) -> str:
    if not delivery.runs and not delivery.builds:
        return "no rule matched"
    outcomes = [f"{run.function}: {_run_outcome(run)}" for run in delivery.runs]
    outcomes += [
        f"CodeBuild {build.project_arn.rsplit('/', 1)[-1]}: "
        + (f"build {build.build_id}" if build.error is None else f"refused ({build.error})")
        for build in delivery.builds
    ]
    return "; ".join(outcomes)


def _run_outcome(run: FunctionRun) -> str:
    if run.succeeded:
        emitted = [event.get("detail-type", "?") for event in run.emitted]
        retried = f" (after {len(run.attempts) - 1} failed attempts)" if len(run.attempts) > 1 else ""
        return (", ".join(emitted) or "no events") + retried
    error = run.attempts[-1].error
    assert error is not None
    destination = run.on_failure_destination
    ended = f" -> on-failure {destination.rsplit(':', 1)[-1]}" if destination else ""
    return f"raised {error.type}: {error.message} ({len(run.attempts)} attempts){ended}"
