"""CodeCommit's branches and commits, and CodeBuild's projects and build overrides, as the local cloud
fills them into moto (mlops_local.moto_gaps.codecommit, .codebuild): what the project lifecycle and a
CodeCommit project's push trigger rely on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from mlops_local import aws_events
from mlops_local.moto_gaps.codebuild import _CodeBuildProject

ACCOUNT, REGION = "123456789012", "us-east-1"


@pytest.fixture
def emitted() -> Iterator[list[dict[str, Any]]]:
    """The events AWS services emit meanwhile (what a LocalCloud would route)."""
    events: list[dict[str, Any]] = []
    aws_events.listen(lambda bus, event, from_aws: events.append(event))
    try:
        yield events
    finally:
        aws_events.stop_listening()


def code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_commits_and_branches_move_like_codecommits_and_each_move_is_an_event(aws, emitted):
    codecommit = aws.client("codecommit")
    arn = codecommit.create_repository(repositoryName="churn")["repositoryMetadata"]["Arn"]
    first = codecommit.create_commit(
        repositoryName="churn",
        branchName="prod",
        commitMessage="seed",
        putFiles=[{"filePath": "a.py", "fileContent": b"a"}],
    )["commitId"]
    codecommit.create_branch(repositoryName="churn", branchName="dev", commitId=first)
    with pytest.raises(ClientError) as no_parent:
        codecommit.create_commit(repositoryName="churn", branchName="dev", commitMessage="x")
    second = codecommit.create_commit(
        repositoryName="churn", branchName="dev", parentCommitId=first, commitMessage="change"
    )["commitId"]
    with pytest.raises(ClientError) as outdated:
        codecommit.create_commit(
            repositoryName="churn", branchName="dev", parentCommitId=first, commitMessage="stale"
        )
    with pytest.raises(ClientError) as missing:
        codecommit.get_branch(repositoryName="churn", branchName="feature-x")
    with pytest.raises(ClientError) as exists:
        codecommit.create_branch(repositoryName="churn", branchName="dev", commitId=first)

    assert (code(no_parent), code(outdated)) == (
        "ParentCommitIdRequiredException",
        "ParentCommitIdOutdatedException",
    )
    assert (code(missing), code(exists)) == ("BranchDoesNotExistException", "BranchNameExistsException")
    assert codecommit.get_branch(repositoryName="churn", branchName="dev")["branch"]["commitId"] == second
    assert codecommit.get_commit(repositoryName="churn", commitId=second)["commit"]["parents"] == [first]
    assert codecommit.get_repository(repositoryName="churn")["repositoryMetadata"]["defaultBranch"] == "prod"
    assert [
        (event["detail"]["event"], event["detail"]["referenceName"], event["detail"]["commitId"])
        for event in emitted
    ] == [
        ("referenceCreated", "prod", first),
        ("referenceCreated", "dev", first),
        ("referenceUpdated", "dev", second),
    ]
    assert emitted[-1]["detail"]["oldCommitId"] == first
    assert {event["source"] for event in emitted} == {"aws.codecommit"}
    assert all(event["resources"] == [arn] for event in emitted)


def test_a_build_keeps_the_role_variables_and_source_it_was_started_with(aws):
    _CodeBuildProject.create(
        {
            "Name": "shared",
            "ServiceRole": f"arn:aws:iam::{ACCOUNT}:role/default",
            "Source": {"Type": "NO_SOURCE", "BuildSpec": "version: 0.2"},
            "Artifacts": {"Type": "NO_ARTIFACTS"},
            "Environment": {
                "Type": "ARM_CONTAINER",
                "ComputeType": "BUILD_GENERAL1_SMALL",
                "Image": "aws/codebuild/amazonlinux-aarch64-standard:4.0",
                "EnvironmentVariables": [
                    {"Name": "KEPT", "Value": "project"},
                    {"Name": "BRANCH", "Value": "x"},
                ],
            },
        },
        "SharedProject",
        ACCOUNT,
        REGION,
    )
    codebuild = aws.client("codebuild")
    role = f"arn:aws:iam::{ACCOUNT}:role/mlops-ci/mlops/mlops-ci-churn"

    build = codebuild.start_build(
        projectName="shared",
        sourceVersion="c0ffee",
        sourceTypeOverride="CODECOMMIT",
        sourceLocationOverride="https://git-codecommit.us-east-1.amazonaws.com/v1/repos/churn",
        buildspecOverride="buildspec.yml",
        serviceRoleOverride=role,
        environmentVariablesOverride=[{"name": "BRANCH", "value": "dev", "type": "PLAINTEXT"}],
    )["build"]
    (read,) = codebuild.batch_get_builds(ids=[build["id"]])["builds"]
    default = codebuild.start_build(projectName="shared")["build"]

    assert read["serviceRole"] == role
    assert read["sourceVersion"] == "c0ffee"
    assert (read["source"]["type"], read["source"]["buildspec"]) == ("CODECOMMIT", "buildspec.yml")
    assert read["source"]["location"].endswith("/repos/churn")
    assert {v["name"]: v["value"] for v in read["environment"]["environmentVariables"]} == {
        "KEPT": "project",
        "BRANCH": "dev",
    }
    assert read["environment"]["type"] == "ARM_CONTAINER"
    assert default["serviceRole"] == f"arn:aws:iam::{ACCOUNT}:role/default"
    assert default["source"]["type"] == "NO_SOURCE"
