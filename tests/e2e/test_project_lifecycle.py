"""A SageMaker project's life through the local cloud: the custom resource request is answered over
HTTPS, the repository is a real git repository, the groups and the record are in the embedded AWS."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from mlops_core.adapters.git_providers import load_seed_code
from mlops_local import LocalCloud
from moto.sagemaker.exceptions import SagemakerClientError
from moto.sagemaker.models import SageMakerModelBackend

pytestmark = pytest.mark.e2e

FUNCTION = "ProjectLifecycleFunction"
SEED_CODE = Path(__file__).resolve().parents[2] / "seed-code"


def git(repository: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repository), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def project(name: str = "churn", **properties: Any) -> dict[str, Any]:
    return {"SageMakerProjectName": name, "SageMakerProjectId": f"p-{name}0001", **properties}


def model_groups(cloud: LocalCloud) -> dict[str, dict[str, str]]:
    sagemaker = cloud.session.client("sagemaker")
    groups = {}
    for summary in sagemaker.list_model_package_groups()["ModelPackageGroupSummaryList"]:
        arn = summary["ModelPackageGroupArn"]
        tags = sagemaker.list_tags(ResourceArn=arn)["Tags"]
        groups[summary["ModelPackageGroupName"]] = {tag["Key"]: tag["Value"] for tag in tags}
    return groups


def project_record(cloud: LocalCloud, name: str) -> dict[str, Any] | None:
    table = cloud.session.resource("dynamodb").Table(cloud.outputs["ConfigTableName"])
    return table.get_item(Key={"pk": f"PROJECT#{name}", "sk": "META"}).get("Item")


class ResourceLimitExceeded(SagemakerClientError):
    code = "ResourceLimitExceeded"


@contextmanager
def registry_refuses(group: str) -> Iterator[None]:
    """The embedded SageMaker refuses to create ``group``, as a real account at its quota would."""
    original = SageMakerModelBackend.create_model_package_group

    def refuse(self: SageMakerModelBackend, model_package_group_name: str, *args: Any, **kwargs: Any) -> str:
        if model_package_group_name == group:
            raise ResourceLimitExceeded("The account-level service limit for model package groups is 100")
        return original(self, model_package_group_name, *args, **kwargs)

    SageMakerModelBackend.create_model_package_group = refuse  # type: ignore[method-assign]
    try:
        yield
    finally:
        SageMakerModelBackend.create_model_package_group = original  # type: ignore[method-assign]


def emitted(answer: Any) -> list[dict[str, Any]]:
    return [{"detail-type": event["detail-type"], **event["detail"]} for event in answer.invocation.emitted]


def test_create_update_and_delete_a_project_keeping_its_work():
    with LocalCloud() as cloud:
        created = cloud.request_custom_resource(FUNCTION, "Create", project())

        assert created.status == "SUCCESS", created.reason
        assert created.physical_id == "mlops-project:churn"
        repository = cloud.git_root / "churn.git"
        assert created.data["RepositoryUrl"] == repository.resolve().as_uri()
        # prod holds exactly the seed code; dev starts at the same commit.
        prod = git(repository, "rev-parse", "refs/heads/prod")
        assert git(repository, "rev-parse", "refs/heads/dev") == prod
        assert git(repository, "rev-list", "--count", "prod") == "1"
        committed = set(git(repository, "ls-tree", "-r", "--name-only", "prod").splitlines())
        assert committed == {file.path for file in load_seed_code(SEED_CODE)}
        some_file = sorted(committed)[0]
        assert (
            git(repository, "show", f"prod:{some_file}").encode()
            == (SEED_CODE / some_file).read_bytes().strip()
        )

        groups = model_groups(cloud)
        assert set(groups) == {"churn-feature", "churn-dev", "churn-prod"}
        assert groups["churn-dev"]["mlops:project"] == "churn"
        assert groups["churn-dev"]["mlops:stage"] == "dev"
        assert groups["churn-dev"]["mlops:managed-by"] == cloud.stack_name

        record = project_record(cloud, "churn")
        assert record is not None
        assert record["status"] == "active"
        assert record["scenario"] == "baseline"
        assert record["git_provider"] == "local"
        assert record["repository_url"] == created.data["RepositoryUrl"]
        assert [event["detail-type"] for event in emitted(created)] == ["Project Created"]

        # Create again (a retried request): nothing fails, nothing is committed twice.
        again = cloud.request_custom_resource(FUNCTION, "Create", project())
        assert again.status == "SUCCESS", again.reason
        assert again.physical_id == created.physical_id
        assert git(repository, "rev-parse", "refs/heads/prod") == prod

        # Update baseline → advanced adds the champion and challenger groups, keeps everything else.
        defaults = {"champion": {"instance_type": "ml.c5.xlarge", "instance_count": 2, "strategy": "canary"}}
        updated = cloud.request_custom_resource(
            FUNCTION,
            "Update",
            project(Scenario="advanced", DeploymentDefaults=json.dumps(defaults)),
            physical_id=created.physical_id,
            old_properties=project(),
        )
        assert updated.status == "SUCCESS", updated.reason
        assert updated.physical_id == created.physical_id
        assert set(model_groups(cloud)) == {
            "churn-feature",
            "churn-dev",
            "churn-prod",
            "churn-champion",
            "churn-challenger",
        }
        record = project_record(cloud, "churn")
        assert record is not None
        assert record["scenario"] == "advanced"
        assert record["deployment_defaults"]["champion"]["compute"]["instance_count"] == 2
        assert record["deployment_defaults"]["champion"]["strategy"] == "canary"
        assert "blue_green" not in record["deployment_defaults"]["champion"]  # the deployer's defaults apply
        assert record["created_at"] <= record["updated_at"]

        # Delete with the default policies: the repository and the groups are retained.
        deleted = cloud.request_custom_resource(
            FUNCTION, "Delete", project(Scenario="advanced"), physical_id=created.physical_id
        )
        assert deleted.status == "SUCCESS", deleted.reason
        assert git(repository, "rev-parse", "refs/heads/prod") == prod
        assert len(model_groups(cloud)) == 5
        record = project_record(cloud, "churn")
        assert record is not None
        assert record["status"] == "deleted"
        (event,) = emitted(deleted)
        assert event["detail-type"] == "Project Deleted"
        assert event["repository"] == "retained"
        assert event["model_groups_kept"]["churn-champion"] == "the retention policy is retain"


def test_delete_policies_remove_only_what_holds_no_work():
    with LocalCloud() as cloud:
        sagemaker = cloud.session.client("sagemaker")
        removable = project("fraud", RepositoryRetention="delete", ModelGroupRetention="delete-if-empty")
        archived = project("ranker", RepositoryRetention="archive", RegistryBackend="mlflow")
        for properties in (removable, archived):
            answer = cloud.request_custom_resource(FUNCTION, "Create", properties)
            assert answer.status == "SUCCESS", answer.reason
        assert not any(name.startswith("ranker-") for name in model_groups(cloud))  # mlflow: no groups
        sagemaker.create_model_package(
            ModelPackageGroupName="fraud-dev",
            InferenceSpecification={
                "Containers": [{"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:1"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )

        deleted = cloud.request_custom_resource(
            FUNCTION, "Delete", removable, physical_id="mlops-project:fraud"
        )
        assert deleted.status == "SUCCESS", deleted.reason
        assert not (cloud.git_root / "fraud.git").exists()
        assert set(model_groups(cloud)) == {"fraud-dev"}  # it holds a version: kept
        (event,) = emitted(deleted)
        assert event["repository"] == "deleted"
        assert event["model_groups_kept"] == {"fraud-dev": "it holds model versions"}
        assert sorted(event["model_groups_deleted"]) == ["fraud-feature", "fraud-prod"]

        deleted = cloud.request_custom_resource(
            FUNCTION, "Delete", archived, physical_id="mlops-project:ranker"
        )
        assert deleted.status == "SUCCESS", deleted.reason
        assert not (cloud.git_root / "ranker.git").exists()
        assert git(cloud.git_root / "archived" / "ranker.git", "rev-parse", "--verify", "refs/heads/dev")


def test_failures_are_answered_with_a_reason_and_leave_nothing_that_blocks_a_retry():
    with LocalCloud() as cloud:
        # Malformed requests are refused before anything is created.
        for properties, phrase in (
            ({"SageMakerProjectId": "p-1"}, "SageMakerProjectName: Field required"),
            (project("bad_name"), "letters, digits and single hyphens"),
            (project("x" * 33), "at most 32 characters"),
            (project(Scenario="canary"), "Scenario: Input should be 'baseline' or 'advanced'"),
            (project(DeploymentDefaults={"prod": {"instance_type": "m5.large"}}), "instance_type"),
        ):
            refused = cloud.request_custom_resource(FUNCTION, "Create", properties)
            assert refused.status == "FAILED"
            assert phrase in refused.reason
        assert list(cloud.git_root.iterdir()) == []
        assert model_groups(cloud) == {}
        # Rolling back a refused Create deletes nothing and succeeds: the stack is not blocked.
        rollback = cloud.request_custom_resource(
            FUNCTION, "Delete", project("bad_name"), physical_id=refused.physical_id
        )
        assert rollback.status == "SUCCESS", rollback.reason

        # A git provider error is answered FAILED; once fixed, the same request succeeds.
        blocker = cloud.git_root / "churn.git"
        blocker.write_text("not a repository")
        failed = cloud.request_custom_resource(FUNCTION, "Create", project())
        assert failed.status == "FAILED"
        assert "cannot create repository" in failed.reason
        assert "LocalCloud.git_root" in failed.reason  # where to look
        assert project_record(cloud, "churn") is None
        blocker.unlink()
        retried = cloud.request_custom_resource(FUNCTION, "Create", project())
        assert retried.status == "SUCCESS", retried.reason

        # Another project by the same name is refused; going back to baseline is refused.
        clash = cloud.request_custom_resource(FUNCTION, "Create", project(SageMakerProjectId="p-other"))
        assert clash.status == "FAILED"
        assert "already exists with id p-churn0001" in clash.reason
        upgrade = cloud.request_custom_resource(
            FUNCTION,
            "Update",
            project(Scenario="advanced"),
            physical_id=retried.physical_id,
            old_properties=project(),
        )
        assert upgrade.status == "SUCCESS", upgrade.reason
        downgrade = cloud.request_custom_resource(
            FUNCTION,
            "Update",
            project(),
            physical_id=retried.physical_id,
            old_properties=project(Scenario="advanced"),
        )
        assert downgrade.status == "FAILED"
        assert "would orphan model groups" in downgrade.reason
        renamed = cloud.request_custom_resource(
            FUNCTION,
            "Update",
            project("churn2", Scenario="advanced", SageMakerProjectId="p-churn0001"),
            physical_id=retried.physical_id,
            old_properties=project(Scenario="advanced"),
        )
        assert renamed.status == "FAILED"
        assert "cannot be renamed (churn → churn2)" in renamed.reason

        # A request crhelper could not answer (no https ResponseURL) is refused without hanging.
        unanswerable = cloud.invoke(
            FUNCTION,
            {"RequestType": "Create", "RequestId": "r", "ResponseURL": "http://127.0.0.1:1/x"},
        )
        assert unanswerable.result["Answered"] is False


def test_rolling_back_a_refused_create_leaves_the_existing_project_alone():
    with LocalCloud() as cloud:
        policies = {"RepositoryRetention": "delete", "ModelGroupRetention": "delete-if-empty"}
        created = cloud.request_custom_resource(FUNCTION, "Create", project(**policies))
        assert created.status == "SUCCESS", created.reason
        prod = git(cloud.git_root / "churn.git", "rev-parse", "prod")

        def untouched() -> None:
            assert git(cloud.git_root / "churn.git", "rev-parse", "prod") == prod
            assert set(model_groups(cloud)) == {"churn-feature", "churn-dev", "churn-prod"}
            record = project_record(cloud, "churn")
            assert record is not None
            assert (record["status"], record["project_id"]) == ("active", "p-churn0001")

        # Another SageMaker project named churn is refused; CloudFormation rolls it back with a
        # Delete carrying crhelper's random physical id and the refused project's properties.
        other = project(SageMakerProjectId="p-2", **policies)
        clash = cloud.request_custom_resource(FUNCTION, "Create", other)
        assert clash.status == "FAILED"
        rollback = cloud.request_custom_resource(FUNCTION, "Delete", other, physical_id=clash.physical_id)
        assert rollback.status == "SUCCESS", rollback.reason
        assert rollback.reason.startswith("nothing deleted:")
        assert emitted(rollback) == []
        untouched()
        # Even with this function's physical id, another project id does not act on churn.
        stray = cloud.request_custom_resource(FUNCTION, "Delete", other, physical_id="mlops-project:churn")
        assert stray.status == "SUCCESS", stray.reason
        assert "record is project id p-churn0001's" in stray.reason
        untouched()

        # A project naming churn's repository is refused (it is not fraud's), and its rollback
        # does not delete churn's repository either.
        borrower = project("fraud", RepositoryName="churn", **policies)
        refused = cloud.request_custom_resource(FUNCTION, "Create", borrower)
        assert refused.status == "FAILED"
        assert "exists but is not project fraud's" in refused.reason
        rollback = cloud.request_custom_resource(
            FUNCTION, "Delete", borrower, physical_id=refused.physical_id
        )
        assert rollback.status == "SUCCESS", rollback.reason
        untouched()
        assert project_record(cloud, "fraud") is None


def test_a_registry_error_is_answered_failed_and_a_retry_succeeds():
    with LocalCloud() as cloud:
        with registry_refuses("churn-prod"):
            failed = cloud.request_custom_resource(FUNCTION, "Create", project())
        assert failed.status == "FAILED"
        # What failed, on which group, and the service's own words: something a person can act on.
        assert failed.reason.startswith(
            "model group churn-prod: CreateModelPackageGroup failed: ResourceLimitExceeded: "
            "The account-level service limit"
        )
        assert project_record(cloud, "churn") is None  # the record is written last
        prod = git(cloud.git_root / "churn.git", "rev-parse", "prod")
        # CloudFormation rolls the failed Create back: nothing is deleted, nothing is blocked.
        rollback = cloud.request_custom_resource(
            FUNCTION, "Delete", project(), physical_id=failed.physical_id
        )
        assert rollback.status == "SUCCESS", rollback.reason

        # Once the limit is raised, the retried project (SageMaker gives it a new id) succeeds and
        # reuses what the failed attempt made, without committing twice.
        retried = cloud.request_custom_resource(FUNCTION, "Create", project(SageMakerProjectId="p-churn0002"))
        assert retried.status == "SUCCESS", retried.reason
        assert git(cloud.git_root / "churn.git", "rev-parse", "prod") == prod
        assert git(cloud.git_root / "churn.git", "rev-list", "--count", "prod") == "1"
        assert set(model_groups(cloud)) == {"churn-feature", "churn-dev", "churn-prod"}


def test_rolling_back_a_failed_update_to_advanced_succeeds():
    with LocalCloud() as cloud:
        created = cloud.request_custom_resource(FUNCTION, "Create", project())
        assert created.status == "SUCCESS", created.reason
        with registry_refuses("churn-challenger"):
            failed = cloud.request_custom_resource(
                FUNCTION,
                "Update",
                project(Scenario="advanced"),
                physical_id=created.physical_id,
                old_properties=project(),
            )
        assert failed.status == "FAILED"
        assert "churn-challenger" in failed.reason
        # The rollback sends the old properties as new, and the failed ones as old.
        rollback = cloud.request_custom_resource(
            FUNCTION,
            "Update",
            project(),
            physical_id=created.physical_id,
            old_properties=project(Scenario="advanced"),
        )
        assert rollback.status == "SUCCESS", rollback.reason
        record = project_record(cloud, "churn")
        assert record is not None
        assert record["scenario"] == "baseline"
        assert record["model_groups"] == ["churn-feature", "churn-dev", "churn-prod"]


def test_an_update_cannot_move_the_repository():
    with LocalCloud() as cloud:
        created = cloud.request_custom_resource(FUNCTION, "Create", project())
        assert created.status == "SUCCESS", created.reason
        for change, phrase in (
            ({"RepositoryName": "churn-v2"}, "local churn → local churn-v2"),
            ({"GitProvider": "codecommit"}, "local churn → codecommit churn"),
        ):
            moved = cloud.request_custom_resource(
                FUNCTION,
                "Update",
                project(**change),
                physical_id=created.physical_id,
                old_properties=project(),
            )
            assert moved.status == "FAILED"
            assert moved.reason.startswith("project churn: its repository cannot be moved")
            assert phrase in moved.reason
        assert not (cloud.git_root / "churn-v2.git").exists()
        # Naming the same repository explicitly is no move.
        same = cloud.request_custom_resource(
            FUNCTION,
            "Update",
            project(RepositoryName="churn", GitProvider="local"),
            physical_id=created.physical_id,
            old_properties=project(),
        )
        assert same.status == "SUCCESS", same.reason


def test_a_recreated_project_does_not_inherit_the_deleted_projects_groups():
    with LocalCloud() as cloud:
        advanced = project(Scenario="advanced")
        created = cloud.request_custom_resource(FUNCTION, "Create", advanced)
        assert created.status == "SUCCESS", created.reason
        deleted = cloud.request_custom_resource(FUNCTION, "Delete", advanced, physical_id=created.physical_id)
        assert deleted.status == "SUCCESS", deleted.reason

        again = cloud.request_custom_resource(
            FUNCTION, "Create", project(SageMakerProjectId="p-churn0002", RejectOnTestFailure="true")
        )
        assert again.status == "SUCCESS", again.reason
        assert again.data["ModelGroups"] == "churn-feature,churn-dev,churn-prod"
        record = project_record(cloud, "churn")
        assert record is not None
        assert record["model_groups"] == ["churn-feature", "churn-dev", "churn-prod"]
        assert record["project_id"] == "p-churn0002"
        assert record["reject_on_test_failure"] is True  # what the endpoint tester reads
