"""A push to a local project's branch runs the project's CI definition through the local cloud: the
pushed code decides what the branch does, a training branch registers a version (the local demo model
standing in for training, labelled) with the pushed commit as lineage, dev also syncs its suite, and a
merge into prod puts `Git Branch Updated` on the bus, which the artifact copier receives."""

from __future__ import annotations

import itertools
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from mlops_local import LocalCloud
from mlops_local.local_ci import TRAINED_BY_LOCAL_MODEL, LocalCiError, push

pytestmark = pytest.mark.e2e

FUNCTION = "ProjectLifecycleFunction"
_NUMBERS = itertools.count(1)


@dataclass(frozen=True)
class Project:
    cloud: LocalCloud
    name: str  # also its repository's

    def git(self, *args: str) -> str:
        repository = self.cloud.git_root / f"{self.name}.git"
        return subprocess.run(
            ["git", "-C", str(repository), *args], capture_output=True, text=True, check=True
        ).stdout.strip()

    def versions(self, stage: str) -> list[dict[str, Any]]:
        sagemaker = self.cloud.session.client("sagemaker")
        group = f"{self.name}-{stage}"
        summaries = sagemaker.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"]
        return [sagemaker.describe_model_package(ModelPackageName=s["ModelPackageArn"]) for s in summaries]


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud() as local_cloud:
        yield local_cloud


@pytest.fixture
def project(cloud: LocalCloud) -> Project:
    """A new project of its own (on the local provider), so that no test sees another's pushes."""
    name = f"churn{next(_NUMBERS)}"
    created = cloud.request_custom_resource(
        FUNCTION, "Create", {"SageMakerProjectName": name, "SageMakerProjectId": f"p-{name}"}
    )
    assert created.status == "SUCCESS", created.reason
    return Project(cloud, name)


def test_a_push_to_a_feature_branch_registers_a_version_of_that_commit(project: Project) -> None:
    dev = project.git("rev-parse", "refs/heads/dev")
    result = push(
        project.cloud, project.name, "feature-faster", {"steps/notes.txt": b"faster\n"}, message="F"
    )

    assert result.action == "train"
    assert project.git("rev-parse", "refs/heads/feature-faster") == result.commit
    assert project.git("rev-parse", f"{result.commit}^") == dev  # branched from dev
    assert project.git("show", f"{result.commit}:steps/notes.txt") == "faster"
    (version,) = project.versions("feature")
    assert version["ModelPackageArn"] == result.version_arn
    assert version["ModelApprovalStatus"] == "PendingManualApproval"
    assert version["MetadataProperties"] == {"CommitId": result.commit, "Repository": project.name}
    assert version["CustomerMetadataProperties"] == {
        "mlops:branch": "feature-faster",
        "mlops:trained-by": TRAINED_BY_LOCAL_MODEL,
    }


def test_the_pushed_code_decides_what_its_branch_does(project: Project) -> None:
    # The branching model is the repository's own code: a push that changes it changes what CI does.
    stages = project.git("show", "dev:pipelines/stages.py").encode()
    changed = stages.replace(b'FEATURE_PREFIX = "feature-"', b'FEATURE_PREFIX = "experiment-"')
    assert changed != stages
    renamed = push(project.cloud, project.name, "feature-x", {"pipelines/stages.py": changed}, message="R")
    notes = push(project.cloud, project.name, "notes", {"NOTES.md": b"# notes\n"}, message="Notes")

    assert (renamed.action, renamed.version_arn) == ("none", None)
    assert (notes.action, notes.version_arn) == ("none", None)
    assert project.versions("feature") == []


def test_a_push_to_dev_registers_into_dev_and_syncs_the_suite(project: Project) -> None:
    result = push(project.cloud, project.name, "dev", {"steps/notes.txt": b"dev\n"}, message="Dev")

    assert result.action == "train"
    assert [version["ModelPackageArn"] for version in project.versions("dev")] == [result.version_arn]
    table = project.cloud.session.resource("dynamodb").Table(project.cloud.outputs["ConfigTableName"])
    suite = table.get_item(Key={"pk": f"ENDPOINT#{project.name}-dev", "sk": "TESTS"}).get("Item")
    assert suite is not None and suite["source"] == "integration-tests/suite.yaml"


def test_a_merge_into_prod_puts_git_branch_updated_on_the_bus(project: Project) -> None:
    dev = push(project.cloud, project.name, "dev", {"steps/notes.txt": b"dev\n"}, message="Dev").commit
    result = push(project.cloud, project.name, "prod", {}, message="Release", merge="dev")

    assert result.action == "promote"
    assert project.git("rev-parse", f"{result.commit}^2") == dev
    (event,) = result.events
    assert event["detail-type"] == "Git Branch Updated"
    assert event["detail"] == {
        "repository": project.name,
        "branch": "prod",
        "commit_id": result.commit,
        "merged_commit_id": dev,
        "provider": "local",
        "project": project.name,
    }
    assert result.trace is not None
    (copier,) = result.trace.runs(function="ArtifactCopierFunction")
    assert copier.succeeded
    # The copier found the dev version trained from the merged commit; it was never tested, so it is
    # not promoted (the loop goes on from an approval of that version).
    (outcome,) = copier.emitted
    assert (outcome["detail-type"], outcome["detail"]["reason"]) == ("Promotion Failed", "no-tested-version")
    (dev_version,) = project.versions("dev")
    assert outcome["detail"]["message"].startswith(f"{dev_version['ModelPackageArn']} (the merged commit)")


def test_a_repository_without_the_branch_is_refused(cloud: LocalCloud) -> None:
    with pytest.raises(LocalCiError, match="has neither feature-x nor dev"):
        push(cloud, "nobody", "feature-x", {}, message="x")


def test_a_push_whose_code_fails_says_which_step_failed(project: Project) -> None:
    broken = b"raise SystemExit('the branching model is broken')\n"
    with pytest.raises(
        LocalCiError, match=r"`python -m pipelines.run action` failed: .*branching model is broken"
    ):
        push(project.cloud, project.name, "feature-broken", {"pipelines/run.py": broken}, message="Break")
    assert project.versions("feature") == []
