"""Integration tests of a batch stage: the suite's cases as a small batch transform job.

A batch stage has no endpoint (:mod:`mlops_core.contract.batch_transform`), so its suite (stored under
the stage's name, ``{project}-{stage}``, as an endpoint's) is run as SageMaker runs the stage: when the
deployer puts a version on the stage's schedule (``Deployment Started``, action ``create-schedule`` or
``update-schedule``), each case's request body becomes one input object in the stack's test data bucket
and one transform job runs the stage's new model over them (``SplitType`` ``None``: one record per
case). When the job ends (``SageMaker Transform Job State Change``), each case's output object is
checked with the same checks as an endpoint's answer, and the run is recorded as an endpoint's is (the
tested version's metadata, a ``RUN#`` item, ``Integration Tests Completed``; a failed feature/dev
version is rejected when the project asks, which rolls the schedule back).

What an endpoint run has and a batch run cannot: cases that expect an error (a record the model
refuses fails the whole job) are not sent, and the summary says so; the job answers with no per-record
latency, so latency budgets and the load phase do not apply. A job has one content type and one
accept type: the cases sent are those with the first case's; the others are not sent, and the summary
says so.
A model's deployment is tested once: it is claimed (stage name, model name) before its job starts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Literal, Protocol

from pydantic import Field

from mlops_core.contract import tags as tag_keys
from mlops_core.contract.aws_events import EventBridgeEvent
from mlops_core.contract.batch_transform import SCHEDULE_ACTIONS, BatchCompute, transform_job_name_prefix
from mlops_core.contract.deployment_settings import InvalidDeploymentSettingsError, ProjectDeploymentSettings
from mlops_core.contract.events.deployment import DeploymentStarted
from mlops_core.contract.events.integration_tests import CaseResult
from mlops_core.contract.naming import StageResource, parse_stage_resource
from mlops_core.contract.outcome import Outcome
from mlops_core.contract.transform_job_events import TransformJobStateChange, TransformJobStateChangeDetail
from mlops_core.integration_tests.ports import (
    CLAIM_TESTED,
    BatchTestDataPort,
    InvocationResponse,
    SuiteStorePort,
    TransformJobsPort,
)
from mlops_core.integration_tests.suites import TestCase, TestSuite, run_id_for
from mlops_core.integration_tests.tester import SuiteRun, check_response

BATCH_TRIGGER = "batch-stage-deployed"
TEST_DATA_PREFIX = "integration-tests"
RUN_LEASE_SECONDS = 6 * 3600
"""How long a batch run holds its claim: far longer than a transform job over a suite's few cases."""
ENDED = frozenset({"Completed", "Failed", "Stopped"})


class DeploymentStartedEvent(EventBridgeEvent):
    """The deployer's ``Deployment Started`` as EventBridge delivers it."""

    source: Literal["mlops.model-deployer"]
    detail_type: Literal["Deployment Started"] = Field(alias="detail-type")
    detail: DeploymentStarted


class RunRecorder(Protocol):
    """How the tester records a run (:meth:`mlops_core.integration_tests.tester.EndpointTester.record`)."""

    def __call__(
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
    ) -> Outcome: ...


class BatchStageTests:
    """Starts a batch stage's test job when its model changes, and checks the job's output."""

    def __init__(
        self,
        *,
        stack_name: str,
        store: SuiteStorePort,
        data: BatchTestDataPort,
        jobs: TransformJobsPort,
        record: RunRecorder,
        expires_at: Callable[[], int],
        now: Callable[[], datetime],
    ) -> None:
        self._stack_name = stack_name
        self._store = store
        self._data = data
        self._jobs = jobs
        self._record = record
        self._expires_at = expires_at
        self._now = now

    def start(self, event: DeploymentStartedEvent) -> Outcome:
        detail = event.detail
        if detail.action not in SCHEDULE_ACTIONS.values():
            return _ignored(f"{detail.endpoint_name}: a deployment to an endpoint, not to a batch stage")
        stage_name, model_name = detail.endpoint_name, detail.model_name
        target = parse_stage_resource(stage_name)
        if target is None:
            return _ignored(f"{stage_name} does not follow the {{project}}-{{stage}} naming contract")
        compute = self._batch_compute(target)
        if isinstance(compute, str):
            return _ignored(compute)
        started = self._now()
        run_id = run_id_for(started)
        now = int(started.timestamp())
        if not self._store.claim_deployment(
            stage_name, model_name, now=now, lease_until=now + RUN_LEASE_SECONDS
        ):
            claim = self._store.deployment_claim(stage_name, model_name) or {}
            state = "was already tested" if claim.get("state") == CLAIM_TESTED else "is being tested"
            return Outcome("skipped", {"reason": f"model {model_name} of {stage_name} {state}"})
        try:
            return self._start(target, detail, run_id, compute)
        except Exception:  # Lambda retries the event: let the retry start the job
            self._store.release_deployment(stage_name, model_name)
            raise

    def _start(
        self, target: StageResource, detail: DeploymentStarted, run_id: str, compute: BatchCompute
    ) -> Outcome:
        stage_name, model_name = target.name, detail.model_name
        suite = self._store.get_suite(stage_name)
        sendable = [case for case in suite.cases if not case.expect.expects_error] if suite else []
        # A job has one content type and one accept type: the first case's.
        kind = (sendable[0].request.resolved_content_type, sendable[0].request.accept) if sendable else None
        cases = [
            case for case in sendable if (case.request.resolved_content_type, case.request.accept) == kind
        ]
        notes = _notes(suite, sendable, cases) if suite else []
        if not cases:
            outcome = self._record(
                stage_name,
                target,
                run_id=run_id,
                trigger=BATCH_TRIGGER,
                run=None,
                version=detail.model_package_arn,
                in_registry=True,
                deployment=model_name,
                note="; ".join(notes) or None,
            )
            self._store.finish_deployment(
                stage_name, model_name, run_id=run_id, expires_at=self._expires_at()
            )
            return outcome
        prefix = f"{TEST_DATA_PREFIX}/{stage_name}/{''.join(c for c in run_id if c.isalnum())}"
        content_type, accept = cases[0].request.resolved_content_type, cases[0].request.accept
        for number, case in enumerate(cases):
            self._data.put(f"{prefix}/input/{number:03d}", case.request.body)
        self._data.put(
            f"{prefix}/run.json",
            json.dumps(
                {
                    "run_id": run_id,
                    "model_package_arn": detail.model_package_arn,
                    "notes": notes,
                    "cases": [
                        case.model_dump(mode="json", by_alias=True, exclude_none=True) for case in cases
                    ],
                }
            ).encode(),
        )
        run_key = prefix.rsplit("/", 1)[-1]  # 20261206T053722123456Z
        job_name = f"{transform_job_name_prefix(stage_name)[:36].rstrip('-')}-test-{run_key[:21]}"
        tags = tag_keys.resource_tags(
            project=target.project,
            stage=target.stage,
            managed_by=self._stack_name,
            model_package_arn=detail.model_package_arn,
        )
        tags[tag_keys.INTEGRATION_TEST_RUN] = prefix
        self._jobs.create_transform_job(
            {
                "TransformJobName": job_name,
                "ModelName": model_name,
                "TransformInput": {
                    "DataSource": {
                        "S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": self._data.uri(f"{prefix}/input/"),
                        }
                    },
                    "ContentType": content_type,
                    "SplitType": "None",
                },
                "TransformOutput": {
                    "S3OutputPath": self._data.uri(f"{prefix}/output"),
                    **({"Accept": accept} if accept else {}),
                },
                "TransformResources": {"InstanceType": compute.instance_type, "InstanceCount": 1},
                "Tags": tag_keys.to_aws(tags),
            }
        )
        details = {"stage": stage_name, "transform_job_name": job_name, "run_id": run_id, "cases": len(cases)}
        return Outcome("started", details)

    def finish(self, event: TransformJobStateChange) -> Outcome:
        detail = event.detail
        prefix = detail.Tags.get(tag_keys.INTEGRATION_TEST_RUN)
        if prefix is None or detail.Tags.get(tag_keys.MANAGED_BY) != self._stack_name:
            return _ignored(f"transform job {detail.TransformJobName} is not a test run of this stack")
        if detail.TransformJobStatus not in ENDED:
            return _ignored(f"transform job {detail.TransformJobName} is {detail.TransformJobStatus}")
        folder, stage_name, run = prefix.split("/") if prefix.count("/") == 2 else ("", "", "")
        target = parse_stage_resource(stage_name)
        # Only a folder this tester writes is read (its role may read nothing else in the bucket).
        stored = (
            self._data.get(f"{prefix}/run.json")
            if folder == TEST_DATA_PREFIX and target is not None and run.isalnum()
            else None
        )
        model_name = detail.ModelName or ""
        if target is None or stored is None:
            return _ignored(f"transform job {detail.TransformJobName}: no test run at {prefix}")
        claim = self._store.deployment_claim(stage_name, model_name) or {}
        if claim.get("state") == CLAIM_TESTED:
            return Outcome("skipped", {"reason": f"model {model_name} of {stage_name} was already tested"})
        run = json.loads(stored)
        cases = [TestCase.model_validate(case) for case in run["cases"]]
        results = [self._result(number, case, cases[0], prefix, detail) for number, case in enumerate(cases)]
        notes = [str(note) for note in run.get("notes") or []]
        outcome = self._record(
            stage_name,
            target,
            run_id=str(run["run_id"]),
            trigger=BATCH_TRIGGER,
            run=SuiteRun(results, None, None),
            version=str(run["model_package_arn"]),
            in_registry=True,
            deployment=model_name,
            note="; ".join(notes) or None,
        )
        self._store.finish_deployment(
            stage_name, model_name, run_id=str(run["run_id"]), expires_at=self._expires_at()
        )
        return outcome

    def _result(
        self,
        number: int,
        case: TestCase,
        first: TestCase,
        prefix: str,
        detail: TransformJobStateChangeDetail,
    ) -> CaseResult:
        sent = first.request
        if detail.TransformJobStatus != "Completed":
            failures = [
                f"transform job {detail.TransformJobName} {detail.TransformJobStatus}: "
                f"{detail.FailureReason or 'no reason given'}"
            ]
        else:
            body = self._data.get(f"{prefix}/output/{number:03d}.out")
            if body is None:
                failures = [f"transform job {detail.TransformJobName} wrote no output for this case"]
            else:
                response = InvocationResponse(
                    200, 0.0, body, content_type=sent.accept or sent.resolved_content_type
                )
                failures = check_response(case.model_copy(update={"latency_budget_ms": None}), response)
        return CaseResult(name=case.name, passed=not failures, failures=failures)

    def _batch_compute(self, target: StageResource) -> BatchCompute | str:
        try:
            settings = ProjectDeploymentSettings.from_record(self._store.project_record(target.project))
        except InvalidDeploymentSettingsError as error:
            return f"deployment settings of {target.project} are invalid: {error}"
        compute = settings.for_stage(target.stage).compute
        if not isinstance(compute, BatchCompute):
            return f"{target.name} is no longer a batch stage"
        return compute


def _notes(suite: TestSuite, sendable: list[TestCase], cases: list[TestCase]) -> list[str]:
    """What of the suite a batch run does not run, and why."""
    notes = []
    if len(sendable) < len(suite.cases):
        notes.append(
            f"{len(suite.cases) - len(sendable)} error case(s) not run: a batch stage has no endpoint to "
            "answer them"
        )
    if len(cases) < len(sendable):
        first = cases[0].request
        notes.append(
            f"{len(sendable) - len(cases)} case(s) not run: a transform job sends one content type, the "
            f"first case's ({first.resolved_content_type}, accept {first.accept or 'any'})"
        )
    if suite.load is not None:
        notes.append("no load phase: a batch stage has no endpoint to load")
    return notes


def _ignored(reason: str) -> Outcome:
    return Outcome("ignored", {"reason": reason})
