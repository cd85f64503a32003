"""A CodeCommit project's CI through the local cloud: creating the project creates its repository (seed
code on ``prod``, ``dev`` branched from it), its CI role (trusted by CodeBuild for the stack's shared
project only, bounded by the stack's CI policy) and its push trigger (an EventBridge rule on its
repository whose one target is the shared CodeBuild project). A push to a CI branch starts one build of
the shared project, as the trigger role, with the project's role, the pushed commit and the CI
variables; a push elsewhere starts none. Deleting the project removes the trigger and the role."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from mlops_local import LocalCloud

from tests.e2e.conftest import expected_ci_variables

pytestmark = pytest.mark.e2e

FUNCTION = "ProjectLifecycleFunction"


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud() as local_cloud:
        yield local_cloud


def project(name: str, **properties: Any) -> dict[str, Any]:
    return {
        "SageMakerProjectName": name,
        "SageMakerProjectId": f"p-{name}0001",
        "GitProvider": "codecommit",
        "RepositoryRetention": "delete",
        **properties,
    }


def push(cloud: LocalCloud, repository: str, branch: str, path: str = "steps/preprocess.py") -> str:
    """A commit on ``branch`` (created from ``dev`` first when it is new), as a person pushes it."""
    codecommit = cloud.session.client("codecommit")
    try:
        parent = codecommit.get_branch(repositoryName=repository, branchName=branch)["branch"]["commitId"]
    except codecommit.exceptions.BranchDoesNotExistException:
        parent = codecommit.get_branch(repositoryName=repository, branchName="dev")["branch"]["commitId"]
        codecommit.create_branch(repositoryName=repository, branchName=branch, commitId=parent)
    commit: str = codecommit.create_commit(
        repositoryName=repository,
        branchName=branch,
        parentCommitId=parent,
        commitMessage=f"Change {path}",
        putFiles=[{"filePath": path, "fileContent": f"# {branch}\n".encode()}],
    )["commitId"]
    return commit


def variables(build: dict[str, Any]) -> dict[str, str]:
    return {variable["name"]: variable["value"] for variable in build["environment"]["environmentVariables"]}


def test_a_codecommit_project_gets_a_ci_role_and_a_push_trigger_that_builds_its_pushes(
    cloud: LocalCloud,
) -> None:
    environment = cloud.functions[FUNCTION].environment
    policy_arn = environment["CI_ROLE_POLICY_ARN"]
    build_project_arn = environment["CI_BUILD_PROJECT_ARN"]
    trigger_role_arn = environment["CI_BUILD_TRIGGER_ROLE_ARN"]
    iam, events = cloud.session.client("iam"), cloud.session.client("events")
    codebuild = cloud.session.client("codebuild")
    (shared,) = codebuild.batch_get_projects(names=[build_project_arn])["projects"]
    assert shared["environment"]["type"] == "ARM_CONTAINER"
    assert shared["source"]["type"] == "NO_SOURCE"

    created = cloud.request_custom_resource(FUNCTION, "Create", project("churn"))

    assert created.status == "SUCCESS", created.reason
    repository = cloud.session.client("codecommit").get_repository(repositoryName="churn")[
        "repositoryMetadata"
    ]
    role = iam.get_role(RoleName="mlops-ci-churn")["Role"]
    assert created.data["CiRoleArn"] == role["Arn"]
    assert role["Path"] == f"/mlops-ci/{cloud.stack_name}/"
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == policy_arn
    assert {tag["Key"]: tag["Value"] for tag in role["Tags"]} == {
        "mlops:project": "churn",
        "mlops:managed-by": cloud.stack_name,
    }
    attached = iam.list_attached_role_policies(RoleName="mlops-ci-churn")["AttachedPolicies"]
    assert [policy["PolicyArn"] for policy in attached] == [policy_arn]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Sid": "ProjectBuilds",
            "Effect": "Allow",
            "Principal": {"Service": "codebuild.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": cloud.account_id},
                "ArnEquals": {"aws:SourceArn": build_project_arn},
            },
        }
    ]
    rule = events.describe_rule(Name="mlops-ci-churn")
    assert rule["State"] == "ENABLED"
    assert json.loads(rule["EventPattern"]) == {
        "source": ["aws.codecommit"],
        "detail-type": ["CodeCommit Repository State Change"],
        "resources": [repository["Arn"]],
        "detail": {
            "event": ["referenceCreated", "referenceUpdated"],
            "referenceType": ["branch"],
            "referenceName": [{"prefix": "feature-"}, "dev", "prod"],
        },
    }
    assert {
        tag["Key"]: tag["Value"] for tag in events.list_tags_for_resource(ResourceARN=rule["Arn"])["Tags"]
    } == {
        "mlops:project": "churn",
        "mlops:managed-by": cloud.stack_name,
    }
    (target,) = events.list_targets_by_rule(Rule="mlops-ci-churn")["Targets"]
    assert (target["Arn"], target["RoleArn"]) == (build_project_arn, trigger_role_arn)
    # Creating the repository moved prod and dev before the rule existed: that built nothing.
    assert cloud.settle().builds() == []

    # The same Create again (Lambda may deliver it twice): nothing changes, nothing is built.
    again = cloud.request_custom_resource(FUNCTION, "Create", project("churn"))
    assert again.status == "SUCCESS", again.reason
    assert len(events.list_targets_by_rule(Rule="mlops-ci-churn")["Targets"]) == 1
    assert cloud.settle().builds() == []

    commit = push(cloud, "churn", "feature-faster")  # the branch created, then a commit on it
    trace = cloud.settle()

    started = trace.builds(rule="mlops-ci-churn")
    assert [build.error for build in started] == [None, None]
    assert f"CodeBuild {build_project_arn.rsplit('/', 1)[-1]}: build " in trace.timeline()
    assert {build.role_arn for build in started} == {trigger_role_arn}  # EventBridge's call, as its role
    (build,) = codebuild.batch_get_builds(ids=[started[-1].build_id])["builds"]
    assert build["projectName"] == build_project_arn.rsplit("/", 1)[-1]
    assert build["serviceRole"] == role["Arn"]
    assert build["sourceVersion"] == commit
    assert build["source"]["type"] == "CODECOMMIT"
    assert build["source"]["location"] == repository["cloneUrlHttp"]
    assert build["source"]["buildspec"] == "buildspec.yml"
    assert variables(build) == {
        "BRANCH": "feature-faster",
        **expected_ci_variables(cloud, "churn", role["Arn"]),
    }

    # A push to dev builds once; a push to a branch CI ignores builds nothing.
    dev_commit = push(cloud, "churn", "dev")
    (dev_build,) = cloud.settle().builds()
    assert dev_build.request["sourceVersion"] == dev_commit
    push(cloud, "churn", "experiment")
    assert cloud.settle().builds() == []

    deleted = cloud.request_custom_resource(
        FUNCTION, "Delete", project("churn"), physical_id=created.physical_id
    )

    assert deleted.status == "SUCCESS", deleted.reason
    assert deleted.data["CiAccess"] == "CI trigger deleted; CI role deleted"
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_rule(Name="mlops-ci-churn")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName="mlops-ci-churn")


def test_a_push_to_another_projects_repository_builds_only_that_project(cloud: LocalCloud) -> None:
    for name in ("alpha", "beta"):
        assert cloud.request_custom_resource(FUNCTION, "Create", project(name)).status == "SUCCESS"
    cloud.settle()

    commit = push(cloud, "beta", "feature-x", path="README.md")
    started = cloud.settle().builds()

    assert {build.rule for build in started} == {"mlops-ci-beta"}
    (build,) = cloud.session.client("codebuild").batch_get_builds(ids=[started[-1].build_id])["builds"]
    assert build["serviceRole"].endswith(":role/mlops-ci/" + cloud.stack_name + "/mlops-ci-beta")
    assert (build["sourceVersion"], variables(build)["MLOPS_PROJECT"]) == (commit, "beta")


def test_the_trigger_role_may_start_builds_only_with_the_stacks_ci_roles(cloud: LocalCloud) -> None:
    """EventBridge's StartBuild is evaluated as the trigger role: a target changed to run the build as
    another role (the pipeline role, say) is refused, so a rule cannot lend CI more than a CI role."""
    assert cloud.request_custom_resource(FUNCTION, "Create", project("gamma")).status == "SUCCESS"
    cloud.settle()
    events = cloud.session.client("events")
    (target,) = events.list_targets_by_rule(Rule="mlops-ci-gamma")["Targets"]
    template = json.loads(target["InputTransformer"]["InputTemplate"])
    template["serviceRoleOverride"] = cloud.functions[FUNCTION].environment["SAGEMAKER_PIPELINE_ROLE_ARN"]
    target["InputTransformer"]["InputTemplate"] = json.dumps(template)
    events.put_targets(Rule="mlops-ci-gamma", Targets=[target])

    push(cloud, "gamma", "feature-y")
    started = cloud.settle().builds(rule="mlops-ci-gamma")

    assert started and all(build.build_id is None for build in started)
    assert all("iam:PassRole" in str(build.error) for build in started)
