"""The project-lifecycle handler always answers CloudFormation (through crhelper, over HTTPS), with a
reason a person can act on: provider, registry and validation errors, misconfiguration, timeouts."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from mlops_core.adapters.git_providers import add_git_provider
from mlops_core.contract.project_record import GitProviderName, ProjectRecord
from mlops_core.handlers.custom_resource import CustomResourceFunction
from mlops_core.projects.lifecycle import ProjectLifecycle
from mlops_core.projects.ports import GitProviderError, RegistryError, SeedFile
from mlops_core.projects.settings import ProjectLifecycleSettings
from mlops_local.custom_resources import CustomResourceResponseReceiver
from mlops_local.local_git import LocalGitProvider
from mlops_local.runtime import LambdaContext

from tests.function.conftest import load_handler_module

ENVIRONMENT = {
    "STACK_NAME": "mlops",
    "EVENT_BUS_NAME": "mlops-bus",
    "CONFIG_TABLE_NAME": "mlops-config",
    "IDEMPOTENCY_TABLE_NAME": "mlops-idempotency",
    "DEPLOYED_STAGES": "feature,dev",
    "SEED_CODE_DIR": "/unused",
    "DEFAULT_GIT_PROVIDER": "local",
    "CI_ROLE_PATH": "/mlops-ci/mlops/",
    "CI_ROLE_POLICY_ARN": "arn:aws:iam::123456789012:policy/mlops-ci/mlops/ProjectCiPolicy",
    "CI_ARTIFACT_BUCKET": "sagemaker-us-east-1-123456789012",
    "SAGEMAKER_PIPELINE_ROLE_ARN": "arn:aws:iam::123456789012:role/sagemaker-execution",
    "AWS_REGION": "us-east-1",
}
PROPERTIES = {"SageMakerProjectName": "churn", "SageMakerProjectId": "p-1"}
SEED = (SeedFile("README.md", b"# churn\n"), SeedFile("run.sh", b"#!/bin/sh\n", executable=True))


@dataclass
class FakeModelGroups:
    groups: dict[str, bool] = field(default_factory=dict)  # name -> has versions
    failing: str | None = None  # the operation that raises RegistryError

    def _maybe_fail(self, operation: str, name: str) -> None:
        if self.failing == operation:
            raise RegistryError(f"model group {name}: {operation} failed: AccessDeniedException: not allowed")

    def model_group_exists(self, name: str) -> bool:
        self._maybe_fail("exists", name)
        return name in self.groups

    def create_model_group(self, name: str, *, description: str, tags: Mapping[str, str]) -> None:
        self._maybe_fail("create", name)
        self.groups[name] = False

    def model_group_has_versions(self, name: str) -> bool:
        return self.groups[name]

    def delete_model_group(self, name: str) -> None:
        self._maybe_fail("delete", name)
        del self.groups[name]


@dataclass
class FakeStore:
    records: dict[str, ProjectRecord] = field(default_factory=dict)
    failing: bool = False

    def get(self, project: str) -> ProjectRecord | None:
        return self.records.get(project)

    def put(self, record: ProjectRecord) -> None:
        if self.failing:
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
                "PutItem",
            )
        self.records[record.project] = record


class FakeEvents:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.throttled = False

    def put_events(self, *, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        if self.throttled:
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "PutEvents"
            )
        self.entries += Entries
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "e"} for _ in Entries]}


class FailingProvider:
    name = GitProviderName.GITHUB

    def ensure_repository(self, name: str, **_: Any) -> Any:
        raise GitProviderError("GitHub POST /orgs/acme/repos answered 403: {} (check the token's scopes)")

    def retire_repository(self, name: str, retention: Any) -> str:
        raise GitProviderError("GitHub unreachable")


@dataclass
class Harness:
    receiver: CustomResourceResponseReceiver
    groups: FakeModelGroups
    store: FakeStore
    events: FakeEvents
    handler: CustomResourceFunction[ProjectLifecycleSettings, ProjectLifecycle]

    def request(
        self, request_type: str, properties: dict[str, Any], *, timeout_seconds: float = 30, **extra: Any
    ) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        url, key = self.receiver.new_response_url()
        event = request_event(request_type, url, key, properties, **extra)
        result = self.handler(event, context(timeout_seconds))
        return self.receiver.response(key), result


def request_event(
    request_type: str, url: str, key: str, properties: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    return {
        "RequestType": request_type,
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:f",
        "ResponseURL": url,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/sc-churn/1",
        "RequestId": f"request-{key}",
        "LogicalResourceId": "Project",
        "ResourceType": "Custom::SageMakerProject",
        "ResourceProperties": {
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:f",
            **properties,
        },
        **extra,
    }


def context(timeout_seconds: float) -> LambdaContext:
    return LambdaContext(
        function_name="project-lifecycle",
        function_version="$LATEST",
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:project-lifecycle",
        memory_limit_in_mb=512,
        aws_request_id="00000000-0000-0000-0000-000000000000",
        log_group_name="/aws/lambda/project-lifecycle",
        log_stream_name="stream",
        deadline=time.monotonic() + timeout_seconds,
    )


class FakeClients:
    def __init__(self, events: FakeEvents) -> None:
        self._events = events

    def __call__(self, service_name: str) -> Any:
        assert service_name == "events", f"the harness builds no {service_name} client"
        return self._events


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[CustomResourceResponseReceiver]:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_SAM_LOCAL", "true")
    with CustomResourceResponseReceiver() as started:
        monkeypatch.setenv("SSL_CERT_FILE", str(started.ca_bundle))  # what crhelper's ssl context trusts
        yield started


def harness(
    receiver: CustomResourceResponseReceiver,
    tmp_path: Path,
    *,
    environ: dict[str, str] | None = None,
    groups: FakeModelGroups | None = None,
    provider: Any = None,
    seed: Any = None,
    git_providers: dict[GitProviderName, Any] | None = None,
    batch_schedules: Any = None,
) -> Harness:
    groups = groups or FakeModelGroups()
    store = FakeStore()
    events = FakeEvents()

    def build(settings: ProjectLifecycleSettings, clients: Any) -> ProjectLifecycle:
        return ProjectLifecycle(
            settings=settings,
            git_providers=git_providers
            if git_providers is not None
            else {GitProviderName.LOCAL: lambda: provider or LocalGitProvider(tmp_path)},
            model_groups=groups,
            projects=store,
            seed_code=seed or (lambda: SEED),
            batch_schedules=batch_schedules,
        )

    handler = CustomResourceFunction(
        component="project-lifecycle",
        settings_model=ProjectLifecycleSettings,
        build_service=build,
        on_create=ProjectLifecycle.create,
        on_update=ProjectLifecycle.update,
        on_delete=ProjectLifecycle.delete,
        environ=ENVIRONMENT if environ is None else environ,
        clients=FakeClients(events),  # type: ignore[arg-type]
    )
    return Harness(receiver, groups, store, events, handler)


def test_create_answers_success_with_data_and_publishes_project_created(receiver, tmp_path):
    test = harness(receiver, tmp_path)
    answer, result = test.request("Create", PROPERTIES)
    assert answer is not None
    assert answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == "mlops-project:churn"
    assert answer["Data"]["ModelGroups"] == "churn-feature,churn-dev,churn-prod"
    assert result == {
        "Status": "SUCCESS",
        "Reason": "",
        "PhysicalResourceId": "mlops-project:churn",
        "Answered": True,
    }
    assert [entry["DetailType"] for entry in test.events.entries] == ["Project Created"]
    assert test.store.records["churn"].repository_url == (tmp_path / "churn.git").resolve().as_uri()


def test_a_git_provider_error_is_answered_failed_and_nothing_is_recorded(receiver, tmp_path):
    test = harness(receiver, tmp_path, provider=FailingProvider())
    answer, _ = test.request("Create", PROPERTIES)
    assert answer is not None
    assert answer["Status"] == "FAILED"
    assert "answered 403" in answer["Reason"]
    assert "token's scopes" in answer["Reason"]
    assert test.store.records == {}
    assert test.events.entries == []


def test_a_registry_error_is_answered_failed_and_a_retry_succeeds(receiver, tmp_path):
    groups = FakeModelGroups(failing="create")
    test = harness(receiver, tmp_path, groups=groups)
    answer, _ = test.request("Create", PROPERTIES)
    assert answer is not None
    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith("model group churn-feature: create failed: AccessDeniedException")
    assert test.store.records == {}

    groups.failing = None  # the permission is fixed; CloudFormation's retry (a new Create) succeeds
    answer, _ = test.request("Create", PROPERTIES)
    assert answer is not None
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert set(groups.groups) == {"churn-feature", "churn-dev", "churn-prod"}


def test_delete_succeeds_despite_provider_and_registry_errors_and_reports_what_it_kept(receiver, tmp_path):
    test = harness(receiver, tmp_path)
    answer, _ = test.request("Create", PROPERTIES)
    assert answer is not None and answer["Status"] == "SUCCESS"
    test.groups.failing = "delete"
    test.handler._dependencies[0].git_providers[GitProviderName.LOCAL] = FailingProvider  # type: ignore[index]

    answer, _ = test.request(
        "Delete",
        {**PROPERTIES, "RepositoryRetention": "delete", "ModelGroupRetention": "delete-if-empty"},
        PhysicalResourceId="mlops-project:churn",
    )
    assert answer is not None
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert test.store.records["churn"].status == "deleted"
    deleted = test.events.entries[-1]
    assert deleted["DetailType"] == "Project Deleted"
    assert "kept (GitHub unreachable)" in deleted["Detail"]
    assert "AccessDeniedException" in deleted["Detail"]


def test_a_provider_this_deployment_lacks_is_answered_failed_naming_those_it_has(receiver, tmp_path):
    # DEFAULT_GIT_PROVIDER is local, which only the local cloud adds: in AWS no such provider exists.
    test = harness(receiver, tmp_path, git_providers={GitProviderName.GITHUB: FailingProvider})
    answer, _ = test.request("Create", PROPERTIES)
    assert answer is not None
    assert answer["Status"] == "FAILED"
    assert "git provider local is not available in this deployment (it has github)" in answer["Reason"]
    assert test.store.records == {}


def test_the_products_wiring_has_codecommit_github_and_gitlab_and_local_only_once_added(tmp_path):
    app = load_handler_module("project_lifecycle")
    settings = ProjectLifecycleSettings.model_validate(ENVIRONMENT)

    def wired() -> set[GitProviderName]:
        return set(app.build(settings, lambda service: object()).git_providers)

    product = {GitProviderName.CODECOMMIT, GitProviderName.GITHUB, GitProviderName.GITLAB}
    assert wired() == product
    remove = add_git_provider(GitProviderName.LOCAL, lambda: LocalGitProvider(tmp_path))
    try:
        assert wired() == product | {GitProviderName.LOCAL}
    finally:
        remove()
    assert wired() == product


def test_a_misconfigured_function_answers_failed_naming_the_variable(receiver, tmp_path):
    environ = {name: value for name, value in ENVIRONMENT.items() if name != "SEED_CODE_DIR"}
    test = harness(receiver, tmp_path, environ=environ)
    answer, _ = test.request("Create", PROPERTIES)
    assert answer is not None
    assert answer["Status"] == "FAILED"
    assert "misconfigured" in answer["Reason"]
    assert "SEED_CODE_DIR" in answer["Reason"]


def test_an_operation_still_running_near_the_timeout_is_answered_failed_in_time(receiver, tmp_path):
    release = threading.Event()

    def slow_seed_code() -> tuple[SeedFile, ...]:
        release.wait(timeout=30)
        return SEED

    test = harness(receiver, tmp_path, seed=slow_seed_code)
    url, key = receiver.new_response_url()
    event = {
        "RequestType": "Create",
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:f",
        "ResponseURL": url,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/sc-churn/1",
        "RequestId": "slow",
        "LogicalResourceId": "Project",
        "ResourceType": "Custom::SageMakerProject",
        "ResourceProperties": PROPERTIES,
    }
    call = threading.Thread(target=test.handler, args=(event, context(1.0)))
    call.start()
    try:
        answer = receiver.response(key, wait_seconds=10)  # crhelper's timer answers 0.5 s before the end
    finally:
        release.set()
        call.join()
    assert answer is not None
    assert answer["Status"] == "FAILED"
    assert answer["Reason"] == "Execution timed out"


def test_a_replayed_service_catalog_request_is_answered(receiver, tmp_path):
    fixture = (
        Path(__file__).resolve().parents[1]
        / "fixtures"
        / "aws-events"
        / "cloudformation-custom-resource-create.json"
    )
    event = json.loads(fixture.read_text())
    event["ResponseURL"], key = receiver.new_response_url()
    test = harness(receiver, tmp_path)
    test.handler(event, context(30))
    answer = receiver.response(key)
    assert answer is not None
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["LogicalResourceId"] == event["LogicalResourceId"]
    assert answer["RequestId"] == event["RequestId"]
    assert answer["StackId"] == event["StackId"]
    assert answer["PhysicalResourceId"] == "mlops-project:churn"


def test_a_delete_whose_events_cannot_be_published_still_succeeds_and_says_so(receiver, tmp_path):
    test = harness(receiver, tmp_path)
    answer, _ = test.request("Create", PROPERTIES)
    assert answer is not None and answer["Status"] == "SUCCESS"
    test.events.throttled = True  # EventBridge throttles PutEvents

    answer, _ = test.request("Delete", PROPERTIES, PhysicalResourceId="mlops-project:churn")
    assert answer is not None
    assert answer["Status"] == "SUCCESS", answer["Reason"]  # a FAILED Delete would block the stack
    assert answer["Reason"].startswith("events not published: An error occurred (ThrottlingException)")
    assert answer["Data"]["Notes"] == answer["Reason"]
    assert test.store.records["churn"].status == "deleted"

    # On Create the same failure is answered FAILED: CloudFormation retries, nothing is lost.
    test.store.records.clear()
    answer, _ = test.request("Create", PROPERTIES)
    assert answer is not None
    assert answer["Status"] == "FAILED"
    assert "events not published" in answer["Reason"]


class FakeBatchSchedules:
    """The batch stages' schedules: ``churn-dev`` exists; deleting ``churn-prod`` is throttled."""

    def __init__(self) -> None:
        self.names = {"churn-dev", "churn-prod"}

    def delete(self, name: str) -> bool:
        if name == "churn-prod":
            raise RuntimeError("ThrottlingException: Rate exceeded")
        if name not in self.names:
            return False
        self.names.remove(name)
        return True


def test_a_delete_removes_the_projects_batch_schedules_and_a_failure_is_said_not_blocking(receiver, tmp_path):
    schedules = FakeBatchSchedules()
    test = harness(receiver, tmp_path, batch_schedules=schedules)
    answer, _ = test.request("Create", PROPERTIES)
    assert answer is not None and answer["Status"] == "SUCCESS"

    answer, _ = test.request("Delete", PROPERTIES, PhysicalResourceId="mlops-project:churn")

    assert answer is not None
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["Data"]["BatchSchedulesDeleted"] == "churn-dev"
    assert schedules.names == {"churn-prod"}
    assert "the batch schedule churn-prod is left as it was: ThrottlingException" in answer["Reason"]
    assert test.store.records["churn"].status == "deleted"


def test_a_delete_whose_record_cannot_be_written_still_succeeds_and_says_so(receiver, tmp_path):
    test = harness(receiver, tmp_path)
    answer, _ = test.request("Create", PROPERTIES)
    assert answer is not None and answer["Status"] == "SUCCESS"
    test.store.failing = True

    answer, _ = test.request("Delete", PROPERTIES, PhysicalResourceId="mlops-project:churn")
    assert answer is not None
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["Reason"].startswith("the record of project churn is still marked active")
    assert "ProvisionedThroughputExceededException" in answer["Reason"]
    assert [entry["DetailType"] for entry in test.events.entries][-1] == "Project Deleted"


def test_a_long_reason_keeps_its_beginning(receiver, tmp_path):
    class VerboseProvider(FailingProvider):
        def ensure_repository(self, name: str, **_: Any) -> Any:
            raise GitProviderError("GitHub POST /orgs/acme/repos answered 422: " + "detail " * 100 + "END")

    test = harness(receiver, tmp_path, provider=VerboseProvider())
    answer, _ = test.request("Create", PROPERTIES)
    assert answer is not None
    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith("GitHub POST /orgs/acme/repos answered 422: detail")
    assert answer["Reason"].endswith("...")
    assert len(answer["Reason"]) <= 256
    assert "END" not in answer["Reason"]


@pytest.mark.parametrize("missing", ["StackId", "RequestId", "LogicalResourceId", "RequestType"])
def test_a_request_missing_what_crhelper_needs_is_answered_failed_directly(receiver, tmp_path, missing):
    test = harness(receiver, tmp_path)
    # A first, valid request warms the function (crhelper then remembers its ResponseURL).
    first_url, first_key = receiver.new_response_url()
    test.handler(request_event("Create", first_url, first_key, PROPERTIES), context(30))
    first = receiver.response(first_key)
    assert first is not None and first["Status"] == "SUCCESS"

    url, key = receiver.new_response_url()
    event = request_event("Create", url, key, {**PROPERTIES, "SageMakerProjectName": "fraud"})
    del event[missing]
    result = test.handler(event, context(30))

    answer = receiver.response(key)
    assert answer is not None
    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith("malformed custom resource request: missing or invalid")
    assert missing in answer["Reason"]
    assert result["Answered"] is True
    assert receiver.response(first_key) == first  # the earlier request is not answered again
    assert "fraud" not in test.store.records  # nothing ran
    assert not (tmp_path / "fraud.git").exists()


def test_a_request_without_a_response_url_is_dropped_without_running(receiver, tmp_path):
    test = harness(receiver, tmp_path)
    url, key = receiver.new_response_url()
    event = request_event("Create", url, key, PROPERTIES)
    del event["ResponseURL"]
    del event["StackId"]
    result = test.handler(event, context(30))
    assert result["Answered"] is False
    assert test.store.records == {}
    assert receiver.response(key) is None
