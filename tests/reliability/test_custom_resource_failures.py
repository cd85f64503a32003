"""Custom resources (docs/architecture.md, "What every handler guarantees"): every failure path of the project-lifecycle custom resource answers
CloudFormation (SUCCESS or FAILED with a reason), exactly once, through the deployed function.

The paths, from ``mlops_core/handlers/custom_resource.py`` (C) and ``mlops_core/projects/lifecycle.py`` (P), and
the test that covers each:

C1  no https ``ResponseURL``: nothing can be answered; logged and dropped ........ test_unanswerable
C2  envelope missing StackId/RequestId/LogicalResourceId, unknown RequestType:
    FAILED answered directly (crhelper would answer an empty URL) ..................... test_malformed_envelope
C3  that direct answer cannot be delivered (refused, or an HTTP error): three attempts, logged,
    ``Answered: False``, nothing raised ........................................ test_direct_answer_fails
C4  the request does not validate (ServiceToken, ResourceType, properties not an object): FAILED;
    Delete SUCCESS touching nothing ............................................ test_malformed_request
C5  the function is misconfigured (settings from the environment): FAILED naming them; Delete SUCCESS
    touching nothing, the note naming them ....................................... test_misconfigured
C6  the operation raises: FAILED with its message, cut to 256 characters keeping the start
    (P1-P6 below, and ...................................................... test_long_reasons_keep_their_start)
C7  publishing the domain events fails: Create/Update FAILED; Delete SUCCESS with a note test_events_not_published
C8  the Lambda is about to time out: crhelper's timer answers FAILED first; a Delete's SUCCESS
    (nothing more deleted) ........................................................ test_near_the_timeout
P1  invalid properties: Create/Update FAILED; Delete SUCCESS touching nothing, also when it names
    this function's project (a FAILED Delete would block the stack's deletion) ... test_invalid_properties
P2  Update: rename, scenario downgrade, repository move: FAILED ..................... test_update_refusals
P3  Create: the name belongs to another project id: FAILED .......................... test_update_refusals
P4  git provider errors (GitHub not configured, its token secret missing, CodeCommit failing)
    ........................................................................... test_git_provider_errors
P5  registry errors (SageMaker failing): Create FAILED; Delete SUCCESS keeping the groups test_registry_errors
P6  DynamoDB errors: Create FAILED; Delete SUCCESS touching nothing ............... test_dynamodb_errors
An exception in the answer itself: crhelper never raises from it (it retries an unreachable URL until
the Lambda's time runs out), and the direct answer's failures are C3.
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from mlops_local import LocalCloud
from mlops_local.local_git import LocalGitProvider

FUNCTION = "ProjectLifecycleFunction"
_names = iter(range(1, 10_000))


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud() as local_cloud:
        yield local_cloud


def new_name() -> str:
    return f"cr{next(_names):04d}x"


def properties(name: str, **more: Any) -> dict[str, Any]:
    return {"SageMakerProjectName": name, "SageMakerProjectId": f"p-{name}", **more}


def request(cloud: LocalCloud, request_type: str = "Create", **fields: Any) -> tuple[dict[str, Any], str]:
    url, key = cloud.custom_resource_responses.new_response_url()
    event = {
        "RequestType": request_type,
        "ServiceToken": cloud.functions[FUNCTION].arn,
        "ResponseURL": url,
        "StackId": f"arn:aws:cloudformation:us-east-1:123456789012:stack/sc-project/{uuid.uuid4()}",
        "RequestId": str(uuid.uuid4()),
        "ResourceType": "Custom::SageMakerProject",
        "LogicalResourceId": "Project",
        "ResourceProperties": properties(new_name()),
        **fields,
    }
    return event, key


def the_answer(cloud: LocalCloud, key: str) -> dict[str, Any]:
    """The one answer CloudFormation got (a second would race the first)."""
    answers = cloud.custom_resource_responses.answers(key)
    assert len(answers) == 1, answers
    answer = answers[0]
    assert answer["Status"] in ("SUCCESS", "FAILED")
    assert answer["PhysicalResourceId"], answer  # CloudFormation refuses an empty one
    if answer["Status"] == "FAILED":
        assert answer["Reason"].strip()
        assert len(answer["Reason"]) <= 256
    return answer


def ask(cloud: LocalCloud, request_type: str, props: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    answer = cloud.request_custom_resource(FUNCTION, request_type, props, **kwargs)
    assert answer.invocation.succeeded, answer.invocation.error
    return answer.answer


def created(cloud: LocalCloud, **more: Any) -> tuple[str, dict[str, Any]]:
    name = new_name()
    answer = ask(cloud, "Create", properties(name, **more))
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    return name, answer


# ----------------------------------------------------------------------------------------- C1 - C5


@pytest.mark.parametrize("url", [None, "", "http://127.0.0.1:1/x", ["https://x"], 7])
def test_unanswerable(cloud: LocalCloud, url: Any) -> None:
    event, _ = request(cloud, ResponseURL=url)
    with cloud.recording_aws_requests() as requests:
        invocation = cloud.invoke(FUNCTION, event)
    assert invocation.succeeded
    assert invocation.result == {"Status": "FAILED", "Reason": "unanswerable request", "Answered": False}
    assert any("Unanswerable custom resource request" in str(line) for line in invocation.logs)
    assert [r for r in requests if r.mutating] == []


@pytest.mark.parametrize(
    ("broken", "named"),
    [
        ({"StackId": None}, "StackId"),
        ({"RequestId": ""}, "RequestId"),
        ({"LogicalResourceId": 3}, "LogicalResourceId"),
        ({"RequestType": "Upgrade"}, "RequestType 'Upgrade'"),
        ({"RequestType": None}, "RequestType None"),
    ],
)
def test_malformed_envelope(cloud: LocalCloud, broken: dict[str, Any], named: str) -> None:
    event, key = request(cloud, **broken)
    with cloud.recording_aws_requests() as requests:
        invocation = cloud.invoke(FUNCTION, event)
    answer = the_answer(cloud, key)
    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith("malformed custom resource request: missing or invalid")
    assert named in answer["Reason"]
    assert invocation.result["Answered"] is True
    assert [r for r in requests if r.mutating] == []


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_direct_answer_fails(cloud: LocalCloud) -> None:
    receiver = cloud.custom_resource_responses
    # Refused connections, then a URL the receiver answers with HTTP 400 (not a response path).
    for url in (f"https://127.0.0.1:{_closed_port()}/r", receiver.base_url + "/elsewhere"):
        event, _ = request(cloud, RequestType="Upgrade", ResponseURL=url)
        invocation = cloud.invoke(FUNCTION, event)
        assert invocation.succeeded, invocation.error
        assert invocation.result["Answered"] is False
        messages = [line.get("message", "") for line in invocation.logs if isinstance(line, dict)]
        assert sum("Answering the malformed request" in m for m in messages) == 3
        assert "The malformed request could not be answered; CloudFormation will time out waiting" in messages


@pytest.mark.parametrize(
    ("broken", "named"),
    [
        ({"ServiceToken": None}, "ServiceToken"),
        ({"ResourceType": 5}, "ResourceType"),
        ({"ResourceProperties": "SageMakerProjectName=x"}, "ResourceProperties"),
        ({"OldResourceProperties": []}, "OldResourceProperties"),
    ],
)
def test_malformed_request(cloud: LocalCloud, broken: dict[str, Any], named: str) -> None:
    event, key = request(cloud, **broken)
    with cloud.recording_aws_requests() as requests:
        cloud.invoke(FUNCTION, event)
    answer = the_answer(cloud, key)
    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith("malformed custom resource request")
    assert named in answer["Reason"]
    assert [r for r in requests if r.mutating] == []
    # The same request as a Delete never blocks the stack's deletion: SUCCESS, nothing touched.
    event, key = request(cloud, "Delete", PhysicalResourceId="mlops-project:x", **broken)
    with cloud.recording_aws_requests() as requests:
        cloud.invoke(FUNCTION, event)
    answer = the_answer(cloud, key)
    assert answer["Status"] == "SUCCESS"
    assert answer["Reason"].startswith("nothing deleted: malformed custom resource request")
    assert named in answer["Reason"]
    assert [r for r in requests if r.mutating] == []


def variant(
    cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch, name: str, environment: dict[str, str]
) -> str:
    """The deployed function under another logical ID with another environment: its own cold start."""
    deployed = cloud.functions[FUNCTION]
    monkeypatch.setitem(cloud.functions, name, replace(deployed, logical_id=name, environment=environment))
    return name


def test_misconfigured(cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    environment = {k: v for k, v in cloud.functions[FUNCTION].environment.items() if k != "CONFIG_TABLE_NAME"}
    function = variant(cloud, monkeypatch, "Misconfigured", {**environment, "DEFAULT_GIT_PROVIDER": "svn"})
    event, key = request(cloud)
    with cloud.recording_aws_requests() as requests:
        cloud.invoke(function, event)
    answer = the_answer(cloud, key)
    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith("project-lifecycle is misconfigured: check variables")
    assert "CONFIG_TABLE_NAME" in answer["Reason"]
    assert "DEFAULT_GIT_PROVIDER" in answer["Reason"]
    assert [r for r in requests if r.mutating] == []
    event, key = request(cloud, "Delete", PhysicalResourceId="mlops-project:x")
    with cloud.recording_aws_requests() as requests:
        cloud.invoke(function, event)
    answer = the_answer(cloud, key)
    assert answer["Status"] == "SUCCESS"
    assert answer["Reason"].startswith("nothing deleted: project-lifecycle is misconfigured: check variables")
    assert [r for r in requests if r.mutating] == []


# ----------------------------------------------------------------------------------------------- P1


def test_invalid_properties(cloud: LocalCloud) -> None:
    bad = {"SageMakerProjectName": "Bad_Name", "SageMakerProjectId": "p-1"}
    for request_type, extra in (("Create", {}), ("Update", {"physical_id": "mlops-project:Bad_Name"})):
        with cloud.recording_aws_requests() as requests:
            answer = ask(cloud, request_type, bad, **extra)
        assert answer["Status"] == "FAILED"
        assert answer["Reason"].startswith("invalid properties: SageMakerProjectName")
        assert [r for r in requests if r.mutating] == []
    # The rollback of the refused Create: crhelper's physical id; nothing to delete, the stack goes on.
    with cloud.recording_aws_requests() as requests:
        rollback = ask(cloud, "Delete", bad, physical_id="sc-project_Project_ABCDEFGH")
    assert (rollback["Status"], rollback["Reason"]) == (
        "SUCCESS",
        "nothing deleted: the request's properties are invalid, so its Create made nothing",
    )
    assert [r for r in requests if r.mutating] == []
    # A Delete naming this function's own project with invalid properties (rules an older version did not
    # have, say) may be of a project it made: kept as it is, and the stack's deletion goes on.
    with cloud.recording_aws_requests() as requests:
        named = ask(cloud, "Delete", bad, physical_id="mlops-project:Bad_Name")
    assert named["Status"] == "SUCCESS"
    assert named["Reason"].startswith(
        "nothing deleted: the request's invalid properties: SageMakerProjectName"
    )
    assert [r for r in requests if r.mutating] == []


def test_long_reasons_keep_their_start(cloud: LocalCloud) -> None:
    everything_wrong = {
        "SageMakerProjectName": "x" * 400,
        "SageMakerProjectId": "!" * 400,
        "Scenario": "canary",
        "RegistryBackend": "excel",
        "GitProvider": "svn",
        "RepositoryRetention": "forever",
        "ModelGroupRetention": "forever",
    }
    answer = ask(cloud, "Create", everything_wrong)
    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith("invalid properties: SageMakerProjectName")
    assert answer["Reason"].endswith("...")
    assert len(answer["Reason"]) <= 256


# ------------------------------------------------------------------------------------------ P2, P3


def test_update_refusals(cloud: LocalCloud) -> None:
    name, first = created(cloud, Scenario="advanced")
    physical_id = first["PhysicalResourceId"]
    current = properties(name, Scenario="advanced")
    for changed, phrase in (
        (properties(name), "would orphan model groups"),
        ({**current, "SageMakerProjectName": new_name()}, "cannot be renamed"),
        ({**current, "RepositoryName": "elsewhere"}, "its repository cannot be moved"),
        ({**current, "GitProvider": "codecommit"}, "its repository cannot be moved"),
    ):
        answer = ask(cloud, "Update", changed, physical_id=physical_id, old_properties=current)
        assert answer["Status"] == "FAILED", changed
        assert phrase in answer["Reason"]
    clash = ask(cloud, "Create", {**current, "SageMakerProjectId": "p-someone-else"})
    assert clash["Status"] == "FAILED"
    assert f"project {name} already exists with id p-{name}" in clash["Reason"]


# ----------------------------------------------------------------------------------------------- P4


def test_git_provider_errors(cloud: LocalCloud) -> None:
    # The stack has no GitHub organisation or token secret.
    github = ask(cloud, "Create", properties(new_name(), GitProvider="github"))
    assert github["Status"] == "FAILED"
    assert "needs the stack parameters GitHubOrganization and GitHubTokenSecretName" in github["Reason"]
    # Nor a GitLab group or token secret.
    gitlab = ask(cloud, "Create", properties(new_name(), GitProvider="gitlab"))
    assert gitlab["Status"] == "FAILED"
    assert "needs the stack parameters GitLabGroup and GitLabTokenSecretName" in gitlab["Reason"]
    # CodeCommit failing (throttled on every call, retries exhausted).
    with cloud.failing_aws_requests(rate=1.0, services=("codecommit",)) as plan:
        codecommit = ask(cloud, "Create", properties(new_name(), GitProvider="codecommit"))
    assert plan.injected
    assert codecommit["Status"] == "FAILED"
    assert "ServiceUnavailable" in codecommit["Reason"] or "Throttl" in codecommit["Reason"]


def test_git_provider_token_secret_missing(cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    environment = {
        **cloud.functions[FUNCTION].environment,
        "GITHUB_ORGANIZATION": "acme",
        "GITHUB_TOKEN_SECRET_NAME": "github/never-created",
    }
    function = variant(cloud, monkeypatch, "GitHubWithoutItsToken", environment)
    event, key = request(cloud, ResourceProperties=properties(new_name(), GitProvider="github"))
    cloud.invoke(function, event)
    answer = the_answer(cloud, key)
    assert answer["Status"] == "FAILED"
    # The role may read only the secret GitHubTokenSecretName names (empty in this stack), and a secret
    # that was never created has no ARN to match: AWS refuses the read rather than saying it is missing.
    assert (
        "cannot read the GitHub token from secret github/never-created: AccessDeniedException"
        in (answer["Reason"])
    )


# ------------------------------------------------------------------------------------------ P5, P6


@pytest.mark.parametrize("kind", ["throttling", "unavailable"])
def test_registry_errors(cloud: LocalCloud, kind: str) -> None:
    with cloud.failing_aws_requests(rate=1.0, services=("sagemaker",), kinds=(kind,)):
        failed = ask(cloud, "Create", properties(new_name()))
    assert failed["Status"] == "FAILED"
    assert failed["Reason"].startswith("model group cr")
    assert "DescribeModelPackageGroup failed" in failed["Reason"]

    name, answer = created(cloud, ModelGroupRetention="delete-if-empty")
    with cloud.failing_aws_requests(rate=1.0, services=("sagemaker",), kinds=(kind,)):
        deleted = ask(cloud, "Delete", properties(name, ModelGroupRetention="delete-if-empty"),
                      physical_id=answer["PhysicalResourceId"])  # fmt: skip
    assert deleted["Status"] == "SUCCESS", deleted["Reason"]
    groups = cloud.session.client("sagemaker").list_model_package_groups(NameContains=name)
    assert len(groups["ModelPackageGroupSummaryList"]) == 3  # kept: the registry could not be asked


def test_dynamodb_errors(cloud: LocalCloud) -> None:
    with cloud.failing_aws_requests(rate=1.0, services=("dynamodb",)):
        failed = ask(cloud, "Create", properties(new_name()))
    assert failed["Status"] == "FAILED"
    assert "GetItem" in failed["Reason"]

    name, answer = created(cloud, RepositoryRetention="delete", ModelGroupRetention="delete-if-empty")
    props = properties(name, RepositoryRetention="delete", ModelGroupRetention="delete-if-empty")
    with cloud.failing_aws_requests(rate=1.0, services=("dynamodb",)):
        deleted = ask(cloud, "Delete", props, physical_id=answer["PhysicalResourceId"])
    assert deleted["Status"] == "SUCCESS"
    assert deleted["Reason"].startswith(f"nothing deleted: the record of project {name} could not be read")
    assert (cloud.git_root / f"{name}.git").is_dir()  # untouched: the record could not say it is ours


# ------------------------------------------------------------------------------------------ C7, C8


def test_events_not_published(cloud: LocalCloud) -> None:
    with cloud.failing_aws_requests(rate=1.0, services=("events",)):
        failed = ask(cloud, "Create", properties(new_name()))
    assert failed["Status"] == "FAILED"
    assert failed["Reason"].startswith("events not published:")

    name, answer = created(cloud)
    with cloud.failing_aws_requests(rate=1.0, services=("events",)):
        deleted = ask(cloud, "Delete", properties(name), physical_id=answer["PhysicalResourceId"])
    assert deleted["Status"] == "SUCCESS"
    assert "events not published" in deleted["Reason"]
    assert "events not published" in deleted["Data"]["Notes"]


def test_near_the_timeout(cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    """The operation is still working when crhelper's timer (the Lambda's time minus half a second) fires:
    CloudFormation gets FAILED then, and nothing else (Lambda ends the function at its deadline)."""
    deployed = cloud.functions[FUNCTION]
    monkeypatch.setitem(cloud.functions, FUNCTION, replace(deployed, timeout_seconds=2))
    receiver = cloud.custom_resource_responses
    event, key = request(cloud)
    original = LocalGitProvider.ensure_repository

    def slow(self: LocalGitProvider, *args: Any, **kwargs: Any) -> Any:
        # Still working when the timer answers (waits for that answer, then goes on as a slow call would).
        assert receiver.response(key, wait_seconds=30) is not None
        return original(self, *args, **kwargs)

    monkeypatch.setattr(LocalGitProvider, "ensure_repository", slow)
    invocation = cloud.invoke(FUNCTION, event)
    assert invocation.succeeded
    answer = the_answer(cloud, key)
    assert (answer["Status"], answer["Reason"]) == ("FAILED", "Execution timed out")
    assert answer["RequestId"] == event["RequestId"]
    assert json.dumps(answer)  # a well-formed answer
    # A Delete that runs out of time does not block the stack's deletion: what is left stays. The project
    # is created with the function's own timeout (two seconds is short for a whole Create on a busy machine).
    cloud.functions[FUNCTION] = deployed
    name, created_answer = created(cloud)
    cloud.functions[FUNCTION] = replace(deployed, timeout_seconds=2)
    delete, delete_key = request(
        cloud,
        "Delete",
        ResourceProperties=properties(name),
        PhysicalResourceId=created_answer["PhysicalResourceId"],
    )
    original_retire = LocalGitProvider.retire_repository

    def slow_retire(self: LocalGitProvider, *args: Any, **kwargs: Any) -> Any:
        assert receiver.response(delete_key, wait_seconds=30) is not None
        return original_retire(self, *args, **kwargs)

    monkeypatch.setattr(LocalGitProvider, "retire_repository", slow_retire)
    assert cloud.invoke(FUNCTION, delete).succeeded
    answer = the_answer(cloud, delete_key)
    assert (answer["Status"], answer["Reason"]) == ("SUCCESS", "nothing more deleted: Execution timed out")
