"""The endpoint tester: runs an endpoint's integration test suite against the live endpoint.

Triggered when a managed endpoint is ``IN_SERVICE`` (a new deployment) or when someone asks
(``Integration Tests Requested``). It really tests: each case invokes the endpoint through
``sagemaker-runtime`` and checks status, error code, content type, JSON paths, CSV columns and
latency; the load phase sends requests with bounded concurrency and holds p50/p95/p99 and the error
rate to their budgets. No suite is a result of its own (``no-tests-configured``), never a pass.

The run stops cleanly before the Lambda's time runs out and reports what it did (``incomplete``).
The outcome is stored as a ``RUN#`` item, merged into the live model version's
``CustomerMetadataProperties`` (UpdateModelPackage replaces the map, so the merged map is sent) and
emitted as ``Integration Tests Completed``. A duplicate ``IN_SERVICE`` event for the same deployment
(endpoint config) runs nothing: the deployment is claimed in the config table when its run really
starts (an event ignored because the endpoint is no longer InService claims nothing), with a lease a
little longer than the function's time, so the retry of a run that was killed may run it again.

Each request gets a timeout that ends before :data:`SAFETY_MARGIN_MS`, the time kept for recording the
outcome; a request that times out is a failed case, named with its error.

An asynchronous endpoint (its endpoint config has ``AsyncInferenceConfig``) is tested through its queue
(:mod:`mlops_core.integration_tests.async_invocations`): each case's input uploaded, InvokeEndpointAsync,
the answer waited for within the request's timeout and checked like any other. A load phase measures
real-time latency, which an async endpoint does not have: in its suite a load phase is a failure that
says so.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from mlops_core.contract import async_inference
from mlops_core.contract import tags as tag_keys
from mlops_core.contract.aws_events import EndpointStatus, EventBridgeEvent
from mlops_core.contract.events.deployment import InServiceCheckEvent
from mlops_core.contract.events.integration_tests import (
    CaseResult,
    IntegrationTestsCompleted,
    IntegrationTestsRequested,
    LoadResult,
    TestOutcome,
)
from mlops_core.contract.naming import StageResource, parse_stage_resource
from mlops_core.contract.outcome import Outcome
from mlops_core.contract.sagemaker_events import EndpointStateChange
from mlops_core.contract.tags import METADATA_OUTCOME, METADATA_RUN_ID, METADATA_TIME
from mlops_core.integration_tests.async_invocations import AsyncInvoker
from mlops_core.integration_tests.load_phase import LoadTally, drive, load_result, schedule_note
from mlops_core.integration_tests.load_workers import (
    WORKER_RETURN_MS,
    WORKER_START_LEAD_SECONDS,
    LoadShare,
    LoadShareRequestedEvent,
)
from mlops_core.integration_tests.ports import (
    CLAIM_TESTED,
    CONNECT_TIMEOUT_SECONDS,
    AsyncInferencePort,
    EndpointInvoker,
    EndpointsPort,
    InvocationResponse,
    LoadWorkerError,
    LoadWorkersPort,
    SuiteStorePort,
    TestedVersionsPort,
)
from mlops_core.integration_tests.settings import TesterSettings
from mlops_core.integration_tests.suites import (
    CsvCheck,
    JsonCheck,
    LoadPhase,
    TestCase,
    TestSuite,
    run_id_for,
)
from mlops_core.observability import logger

if TYPE_CHECKING:
    from mlops_core.contract.sagemaker_resources import Endpoint
    from mlops_core.contract.transform_job_events import TransformJobStateChange
    from mlops_core.integration_tests.batch_runs import BatchStageTests, DeploymentStartedEvent

# Kept free at the end of the Lambda's time for what follows the run: reading and merging the live
# version's metadata (2 calls), maybe rejecting it, storing the run and the claim, and PutEvents, each
# with adaptive retries. No request is started that could still be running inside this margin.
SAFETY_MARGIN_MS = 10_000
# The per-request timeouts the runner chooses from: the largest that ends before the margin. SageMaker
# real-time endpoints answer within 60 s or fail, so 60 s is the longest a request may need.
REQUEST_TIMEOUTS_SECONDS = (60.0, 30.0, 15.0, 8.0, 4.0, 2.0, 1.0)
# A claim on a deployment outlives the invocation that made it by this much: the retry of a run that
# was killed at the timeout (Lambda retries after about a minute) finds the lease expired and runs.
CLAIM_LEASE_GRACE_SECONDS = 30
ASYNC_LOAD_PHASE_REFUSAL = (
    "a load phase measures real-time latency and this endpoint is asynchronous (it queues its "
    "requests): remove the load phase from its suite"
)
# Stages where a failed run may reject the live version (when the project asks for it).
REJECTABLE_STAGES = frozenset({"feature", "dev"})


# ------------------------------------------------------------------------------------------- checking


def json_path_value(document: Any, path: str) -> Any:
    """The value at ``$.a.b[0].c`` in ``document``; KeyError naming the missing step."""
    value = document
    walked = "$"
    for key, index in _PATH_STEP.findall(path.removeprefix("$")):
        if key:
            if not isinstance(value, dict) or key not in value:
                raise KeyError(f"{walked} has no field {key!r}")
            value = value[key]
            walked += f".{key}"
        else:
            position = int(index)
            if not isinstance(value, list) or position >= len(value):
                raise KeyError(f"{walked} has no item [{position}]")
            value = value[position]
            walked += f"[{position}]"
    return value


_PATH_STEP = re.compile(r"\.?([A-Za-z_][\w-]*)|\[(\d+)\]")


def check_response(case: TestCase, response: InvocationResponse) -> list[str]:
    """Why the response fails the case's expectations (empty when it passes)."""
    expect = case.expect
    failures: list[str] = []
    if expect.expects_error:
        if expect.error_code is not None and response.error_code != expect.error_code:
            failures.append(f"expected error {expect.error_code}, got {response.error_code or 'success'}")
        if expect.status is not None and response.status_code != expect.status:
            failures.append(f"expected status {expect.status}, got {response.status_code}")
        return failures
    if response.error_code is not None:
        return [f"{response.error_code} ({response.status_code}): {response.error_message or ''}".strip()]
    expected_status = expect.status or 200
    if response.status_code != expected_status:
        failures.append(f"expected status {expected_status}, got {response.status_code}")
    if expect.content_type is not None and (response.content_type or "").split(";")[0] != expect.content_type:
        failures.append(f"expected content type {expect.content_type}, got {response.content_type}")
    if expect.json_checks:
        failures.extend(_json_failures(expect.json_checks, response.body))
    if expect.csv_checks:
        failures.extend(_csv_failures(expect.csv_checks, response.body))
    if case.latency_budget_ms is not None and response.latency_ms > case.latency_budget_ms:
        failures.append(
            f"latency {response.latency_ms:.0f} ms is over the budget of {case.latency_budget_ms:g} ms"
        )
    return failures


def _json_failures(checks: list[JsonCheck], body: bytes) -> list[str]:
    try:
        document = json.loads(body)
    except ValueError:
        return [f"response is not JSON: {body[:80]!r}"]
    failures = []
    for check in checks:
        try:
            value = json_path_value(document, check.path)
        except KeyError as missing:
            failures.append(f"{check.path}: {missing.args[0]}")
            continue
        failure = check.failure(value)
        if failure is not None:
            failures.append(f"{check.path}: {failure}")
    return failures


def _csv_failures(checks: list[CsvCheck], body: bytes) -> list[str]:
    rows = [line.split(",") for line in body.decode(errors="replace").splitlines() if line.strip()]
    if not rows:  # "every row" of nothing would pass every check
        return [f"response has no CSV rows to check ({len(body)} bytes)"]
    failures = []
    for check in checks:
        row_numbers = range(len(rows)) if check.row is None else [check.row]
        for row_number in row_numbers:
            where = f"row {row_number} column {check.column}"
            if row_number >= len(rows) or check.column >= len(rows[row_number]):
                failures.append(f"{where}: missing ({len(rows)} rows in the response)")
                continue
            failure = check.failure(rows[row_number][check.column].strip())
            if failure is not None:
                failures.append(f"{where}: {failure}")
    return failures


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of an ascending list (None when empty)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


# --------------------------------------------------------------------------------------------- running


class IntegrationTestsRequestedEvent(EventBridgeEvent):
    """The manual request as EventBridge delivers it: the domain event inside its envelope."""

    detail_type: Literal["Integration Tests Requested"] = Field(alias="detail-type")
    detail: IntegrationTestsRequested


RemainingMillis = Callable[[], int]


@dataclass(frozen=True)
class SuiteRun:
    cases: list[CaseResult]
    load: LoadResult | None
    stopped_early: str | None

    @property
    def outcome(self) -> TestOutcome:
        if any(not case.passed for case in self.cases) or (self.load is not None and not self.load.passed):
            return TestOutcome.FAILED
        if self.stopped_early is not None:
            return TestOutcome.INCOMPLETE
        return TestOutcome.PASSED


class SuiteRunner:
    """Runs a suite's cases, then its load phase, within the time the Lambda has left."""

    def __init__(
        self,
        invoker: EndpointInvoker,
        remaining_ms: RemainingMillis,
        safety_margin_ms: int = SAFETY_MARGIN_MS,
        *,
        clock: Callable[[], float] = time.perf_counter,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
        workers: LoadWorkersPort | None = None,
        max_load_workers: int = 1,
        load_refusal: str | None = None,
    ) -> None:
        self._invoker = invoker
        self._load_refusal = load_refusal  # why this endpoint's load phase cannot run, if it cannot
        self._remaining_ms = remaining_ms
        self._margin_ms = safety_margin_ms
        self._clock = clock  # seconds, monotonic: the load phase's duration and its schedule
        self._sleep = sleep
        self._wall_clock = wall_clock  # epoch seconds: when the workers of a phase start together
        self._workers = workers
        self._max_load_workers = max_load_workers

    def request_timeout(self, starting_in_seconds: float = 0.0) -> float | None:
        """The timeout for a request started now (or ``starting_in_seconds`` from now): the largest of
        :data:`REQUEST_TIMEOUTS_SECONDS` that (with the connection) ends before the safety margin; None
        when no request fits any more."""
        budget_seconds = (
            (self._remaining_ms() - self._margin_ms) / 1000 - starting_in_seconds - CONNECT_TIMEOUT_SECONDS
        )
        return next((t for t in REQUEST_TIMEOUTS_SECONDS if t <= budget_seconds), None)

    def run(self, endpoint_name: str, suite: TestSuite) -> SuiteRun:
        results: list[CaseResult] = []
        for case in suite.cases:
            timeout = self.request_timeout()
            if timeout is None:
                return SuiteRun(
                    results, None, self._stop_reason(f"after {len(results)} of {len(suite.cases)} cases")
                )
            response = self._invoker.invoke(endpoint_name, case.request, timeout_seconds=timeout)
            failures = check_response(case, response)
            results.append(
                CaseResult(
                    name=case.name,
                    passed=not failures,
                    latency_ms=round(response.latency_ms, 2),
                    latency_budget_ms=case.latency_budget_ms,
                    status_code=response.status_code,
                    error_code=response.error_code,
                    failures=failures,
                )
            )
        if suite.load is None:
            return SuiteRun(results, None, None)
        if self._load_refusal is not None:
            return SuiteRun(
                results, load_result(suite.load, LoadTally(), failures=[self._load_refusal]), None
            )
        if self.request_timeout() is None:
            return SuiteRun(results, None, self._stop_reason("before the load phase"))
        load = self.run_load(endpoint_name, suite.load)
        stopped = (
            self._stop_reason(f"during the load phase, after {load.requests} requests")
            if load.stopped_early
            else schedule_note(load)
        )
        return SuiteRun(results, load, stopped)

    def _stop_reason(self, where: str) -> str:
        return f"stopped {where}: the function had {self._remaining_ms()} ms left"

    def run_load(self, endpoint_name: str, phase: LoadPhase) -> LoadResult:
        """The phase (:mod:`mlops_core.integration_tests.load_phase`): sent by this invocation, or with
        ``phase.workers`` > 1 by that many invocations together (:mod:`.load_workers`)."""
        if phase.workers == 1:
            return load_result(phase, self._drive(endpoint_name, phase))
        if phase.workers > self._max_load_workers or self._workers is None:
            return load_result(
                phase,
                LoadTally(),
                failures=[
                    f"the load phase asks for {phase.workers} workers; this stack allows at most "
                    f"{self._max_load_workers} (its LoadWorkersCap parameter)"
                ],
            )
        return self._run_with_workers(endpoint_name, phase, self._workers)

    def _drive(self, endpoint_name: str, phase: LoadPhase, worker: int = 0, workers: int = 1) -> LoadTally:
        return drive(
            self._invoker,
            endpoint_name,
            phase,
            request_timeout=lambda starting_in: self.request_timeout(starting_in_seconds=starting_in),
            clock=self._clock,
            sleep=self._sleep,
            worker=worker,
            workers=workers,
        )

    def _run_with_workers(self, endpoint_name: str, phase: LoadPhase, port: LoadWorkersPort) -> LoadResult:
        """Workers 1 to n - 1 in other invocations, share 0 here, all starting at the same time; the
        tallies merged. A worker that does not report is a failure of the phase, named."""
        now = self._wall_clock()
        starts_at = now + WORKER_START_LEAD_SECONDS
        deadline = now + (self._remaining_ms() - self._margin_ms) / 1000

        def share(worker: int) -> dict[str, Any]:
            return LoadShare(
                endpoint_name=endpoint_name,
                phase=phase,
                worker=worker,
                workers=phase.workers,
                starts_at=starts_at,
                deadline=deadline,
            ).model_dump(mode="json", by_alias=True, exclude_none=True)

        failures = []
        with ThreadPoolExecutor(max_workers=phase.workers - 1, thread_name_prefix="load-worker") as pool:
            futures = [pool.submit(port.run_share, share(worker)) for worker in range(1, phase.workers)]
            self._wait_until(starts_at)
            tally = self._drive(endpoint_name, phase, 0, phase.workers)
            for worker, future in enumerate(futures, 1):
                try:
                    tally.merge(LoadTally.decode(future.result()))
                except (LoadWorkerError, KeyError, TypeError, ValueError) as error:
                    failures.append(f"worker {worker} of {phase.workers} did not report: {error}")
        return load_result(phase, tally, failures=failures)

    def run_share(self, share: LoadShare) -> LoadTally:
        """A worker's share, sent by this invocation from ``share.starts_at``; it stops starting
        requests in time to return before the coordinator's time runs out."""

        def remaining_ms() -> int:
            coordinator_ms = int((share.deadline - self._wall_clock()) * 1000) - WORKER_RETURN_MS
            return min(self._remaining_ms(), coordinator_ms + self._margin_ms)

        self._wait_until(share.starts_at)
        runner = SuiteRunner(
            self._invoker, remaining_ms, self._margin_ms, clock=self._clock, sleep=self._sleep
        )
        return runner._drive(share.endpoint_name, share.phase, share.worker, share.workers)

    def _wait_until(self, epoch_seconds: float) -> None:
        if (wait := epoch_seconds - self._wall_clock()) > 0:
            self._sleep(wait)


def summarise(run: SuiteRun | None) -> str:
    """One line for a person: what failed, or that everything passed."""
    if run is None:
        return "no tests configured for this endpoint: add a suite with python -m mlops_core.suite_tool"
    failed = [case.name for case in run.cases if not case.passed]
    parts = []
    if failed:
        parts.append(f"{len(failed)} of {len(run.cases)} cases failed: {', '.join(failed)}")
    if run.load is not None and not run.load.passed:
        parts.append("load phase failed: " + "; ".join(run.load.failures))
    if run.stopped_early:
        parts.append(run.stopped_early)
    if not parts:
        load = f" and the load phase ({run.load.requests} requests)" if run.load else ""
        return f"all {len(run.cases)} cases{load} passed"
    return "; ".join(parts)


# --------------------------------------------------------------------------------------------- service


class EndpointTester:
    def __init__(
        self,
        settings: TesterSettings,
        *,
        sagemaker: EndpointsPort,
        registry: TestedVersionsPort,
        store: SuiteStorePort,
        invoker: EndpointInvoker,
        remaining_ms: RemainingMillis,
        workers: LoadWorkersPort | None = None,
        async_inference: AsyncInferencePort | None = None,
        batch: Callable[[EndpointTester], BatchStageTests] | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._settings = settings
        self._async_inference = async_inference
        self._sagemaker = sagemaker
        self._registry = registry
        self._store = store
        self._runner = SuiteRunner(
            invoker, remaining_ms, workers=workers, max_load_workers=settings.max_load_workers
        )
        self._remaining_ms = remaining_ms
        self._now = now
        # Batch stages (mlops_core.integration_tests.batch_runs), which record their runs through this.
        self._batch = batch(self) if batch is not None else None

    def on_endpoint_state_change(self, event: EndpointStateChange) -> Outcome:
        detail = event.detail
        if detail.EndpointStatus is not EndpointStatus.IN_SERVICE:
            return Outcome("ignored", {"reason": f"endpoint is {detail.EndpointStatus}, not InService"})
        if detail.Tags.get(tag_keys.MANAGED_BY) != self._settings.stack_name:
            return Outcome(
                "ignored", {"reason": f"endpoint {detail.EndpointName} is not managed by this stack"}
            )
        return self.run(detail.EndpointName, trigger="endpoint-in-service", once_per_deployment=True)

    def on_in_service_check(self, event: InServiceCheckEvent) -> Outcome:
        """The deployer's check of an endpoint change (in case its ``IN_SERVICE`` event was lost): the
        same run as on ``IN_SERVICE``, if the endpoint is in service with the change's config."""
        check = event.detail
        return self.run(
            check.endpoint_name,
            trigger="in-service-check",
            once_per_deployment=True,
            deployment=check.endpoint_config_name,
        )

    def on_integration_tests_requested(self, event: IntegrationTestsRequestedEvent) -> Outcome:
        return self.run(event.detail.endpoint_name, trigger="requested")

    def on_deployment_started(self, event: DeploymentStartedEvent) -> Outcome:
        """A version put on a batch stage's schedule: its test job starts."""
        if self._batch is None:
            return Outcome("ignored", {"reason": "this tester has no test data bucket for batch stages"})
        return self._batch.start(event)

    def on_transform_job_state_change(self, event: TransformJobStateChange) -> Outcome:
        """A batch stage's test job ended: its output is checked and the run recorded."""
        if self._batch is None:
            return Outcome("ignored", {"reason": "this tester has no test data bucket for batch stages"})
        return self._batch.finish(event)

    def on_load_share_requested(self, event: LoadShareRequestedEvent) -> Outcome:
        """A worker of a load phase: send the share, return the tally (nothing stored, nothing emitted)."""
        tally = self._runner.run_share(event.detail)
        return Outcome("measured", {"worker": event.detail.worker, "tally": tally.encode()})

    def run(
        self,
        endpoint_name: str,
        *,
        trigger: str,
        once_per_deployment: bool = False,
        deployment: str | None = None,
    ) -> Outcome:
        """Test what ``endpoint_name`` serves now (only if that is endpoint config ``deployment``, when
        given). With ``once_per_deployment`` (IN_SERVICE events, in-service checks), the deployment (the
        endpoint config it serves) is claimed only once the run really starts, and a deployment that
        was tested, or is being tested, is skipped."""
        target = parse_stage_resource(endpoint_name)
        endpoint = self._sagemaker.describe_endpoint(endpoint_name)
        if (
            target is None
            or endpoint is None
            or endpoint.tags.get(tag_keys.MANAGED_BY) != self._settings.stack_name
        ):
            return Outcome("ignored", {"reason": f"{endpoint_name} is not an endpoint this stack manages"})
        if endpoint.status is not EndpointStatus.IN_SERVICE:
            return Outcome(
                "ignored", {"reason": f"endpoint {endpoint_name} is {endpoint.status}, not InService"}
            )
        if deployment is not None and endpoint.config_name != deployment:
            return Outcome(
                "ignored",
                {"reason": f"endpoint {endpoint_name} serves {endpoint.config_name} now, not {deployment}"},
            )
        if not once_per_deployment:
            return self._test(endpoint_name, target, endpoint, trigger)
        deployment = endpoint.config_name
        now = int(self._now().timestamp())
        lease_until = now + math.ceil(self._remaining_ms() / 1000) + CLAIM_LEASE_GRACE_SECONDS
        if not self._store.claim_deployment(endpoint_name, deployment, now=now, lease_until=lease_until):
            claim = self._store.deployment_claim(endpoint_name, deployment) or {}
            state = "was already tested" if claim.get("state") == CLAIM_TESTED else "is being tested"
            return Outcome("skipped", {"reason": f"deployment {deployment} of {endpoint_name} {state}"})
        try:
            outcome = self._test(endpoint_name, target, endpoint, trigger)
            self._store.finish_deployment(
                endpoint_name, deployment, run_id=outcome.details["run_id"], expires_at=self.expires_at()
            )
        except Exception:  # Lambda retries the event: let the retry run the suite
            self._store.release_deployment(endpoint_name, deployment)
            raise
        return outcome

    def _test(self, endpoint_name: str, target: StageResource, endpoint: Endpoint, trigger: str) -> Outcome:
        run_id = run_id_for(self._now())
        suite = self._store.get_suite(endpoint_name)
        run = self._runner_for(endpoint).run(endpoint_name, suite) if suite is not None else None
        # An endpoint deployed from MLflow serves no Model Registry version: the run is only stored
        # and reported (with the version's models:/ URI), never written to a model package.
        mlflow_version = endpoint.tags.get(tag_keys.MLFLOW_MODEL_VERSION)
        return self.record(
            endpoint_name,
            target,
            run_id=run_id,
            trigger=trigger,
            run=run,
            version=mlflow_version or endpoint.model_package_arn,
            in_registry=not mlflow_version,
            deployment=endpoint.config_name,
        )

    def record(
        self,
        endpoint_name: str,
        target: StageResource,
        *,
        run_id: str,
        trigger: str,
        run: SuiteRun | None,
        version: str | None,
        in_registry: bool,
        deployment: str,
        note: str | None = None,
    ) -> Outcome:
        """Record a run's outcome: on the tested Model Registry version (rejected when it failed and
        the project asks), as a ``RUN#`` item, and as ``Integration Tests Completed``."""
        outcome = run.outcome if run is not None else TestOutcome.NO_TESTS_CONFIGURED
        summary = summarise(run) + (f"; {note}" if note else "")
        rejected = False
        registry_version = version if in_registry else None
        if registry_version is not None:
            self._registry.merge_model_package_metadata(
                registry_version,
                {METADATA_OUTCOME: outcome.value, METADATA_RUN_ID: run_id, METADATA_TIME: run_id},
            )
            if outcome is TestOutcome.FAILED and self._rejects_on_failure(target.project, target.stage):
                self._reject(registry_version, f"integration tests failed ({run_id}): {summary}")
                rejected = True
        event = IntegrationTestsCompleted(
            project=target.project,
            stage=target.stage,
            endpoint_name=endpoint_name,
            run_id=run_id,
            outcome=outcome,
            trigger=trigger,
            model_package_arn=version,
            endpoint_config_name=deployment,
            summary=summary,
            cases=run.cases if run else [],
            load=run.load if run else None,
            stopped_early=run.stopped_early if run else None,
            version_rejected=rejected,
        )
        self._store.put_run(
            endpoint_name, run_id, outcome=outcome.value, result=event.detail(), expires_at=self.expires_at()
        )
        logger.info(f"Integration tests of {endpoint_name}: {outcome.value}", extra={"summary": summary})
        return Outcome(outcome.value, {"run_id": run_id, "summary": summary}, [event])

    def _runner_for(self, endpoint: Endpoint) -> SuiteRunner:
        """The runner of real-time endpoints, or one that goes through the queue of an async endpoint."""
        if self._async_inference is None:
            return self._runner
        config = self._sagemaker.describe_endpoint_config(endpoint.config_name)
        if config is None or not config.async_inference:
            return self._runner
        inputs = async_inference.location(
            self._settings.async_inference_bucket, endpoint.name, async_inference.INPUTS
        )
        return SuiteRunner(
            AsyncInvoker(self._async_inference, inputs),
            self._remaining_ms,
            load_refusal=ASYNC_LOAD_PHASE_REFUSAL,
        )

    def _reject(self, model_package_arn: str, reason: str) -> None:
        """Only versions of ``feature``/``dev`` groups are ever rejected by a test run (the IAM policy
        cannot tell a metadata update from an approval change, so this is where that line is held)."""
        group = model_package_arn.partition(":model-package/")[2].rpartition("/")[0]
        target = parse_stage_resource(group)
        if target is None or target.stage not in REJECTABLE_STAGES:
            raise ValueError(f"refusing to reject {model_package_arn}: not a feature or dev version")
        self._registry.reject_model_package(model_package_arn, reason)

    def _rejects_on_failure(self, project: str, stage: str) -> bool:
        """The project record's ``reject_on_test_failure``
        (:class:`mlops_core.contract.project_record.ProjectRecord`, set from the custom resource's
        ``RejectOnTestFailure``), for feature/dev only."""
        if stage not in REJECTABLE_STAGES:
            return False
        return self._store.project_record(project).get("reject_on_test_failure") is True

    def expires_at(self) -> int:
        return int(self._now().timestamp()) + self._settings.test_run_retention_days * 86_400
