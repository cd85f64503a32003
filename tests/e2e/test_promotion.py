"""Promotion without retraining, and the reaper, through the template's own wiring in the local cloud."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from mlops_core.suite_tool import write_suite
from mlops_local import LocalCloud, testing
from mlops_local.demo_model import DEMO_SUITE, GOOD_MODEL, model_artifact
from mlops_local.testing import (
    LINEAGE,
    SOURCE_BUCKET,
    TESTS_PASSED,
    codecommit_merge,
    git_branch_updated,
    put_project_record,
    record_test_outcome,
)

PASSED = TESTS_PASSED


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(parameters={"DeployedStages": "feature,dev,prod,champion,challenger"}) as local_cloud:
        local_cloud.session.client("s3").create_bucket(Bucket=SOURCE_BUCKET)
        yield local_cloud


def put_project(cloud: LocalCloud, project: str, scenario: str, **extra) -> None:
    """The project record (written by the project-lifecycle function in real life)."""
    put_project_record(cloud.session, cloud.outputs["ConfigTableName"], project, scenario=scenario, **extra)


def register_dev_version(cloud: LocalCloud, project: str, commit: str) -> str:
    """A dev version as a pipeline registers it (artifact in S3, full lineage), approved."""
    return testing.register_dev_version(cloud.session, project, commit)


def record_tests(cloud: LocalCloud, arn: str, outcome: dict) -> None:
    """The outcome the endpoint tester records on the version (merged into its metadata). The dev
    endpoints here have no suite, so the tester itself records `no-tests-configured`."""
    record_test_outcome(cloud.session, arn, outcome)


def versions(cloud: LocalCloud, group: str) -> list[dict]:
    sagemaker = cloud.session.client("sagemaker")
    summaries = sagemaker.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"]
    return [sagemaker.describe_model_package(ModelPackageName=s["ModelPackageArn"]) for s in summaries]


def test_baseline_promotion_copies_the_tested_version_once_and_its_approval_deploys_x_prod(cloud):
    put_project(cloud, "x", "baseline")
    older = register_dev_version(cloud, "x", "a1")
    merged = register_dev_version(cloud, "x", "b2")
    newest = register_dev_version(cloud, "x", "c3")
    cloud.settle()
    record_tests(cloud, older, PASSED)
    record_tests(cloud, merged, PASSED)
    record_tests(cloud, newest, {"mlops:integration-tests": "failed"})  # newer, but failed: not promoted

    trace = cloud.send(codecommit_merge("x", "b2", event_id="merge-1"))

    [promoted] = trace.events(detail_type="Model Promoted")
    assert promoted["source"] == "mlops.artifact-copier"
    assert promoted["detail"]["source_model_package_arn"] == merged
    assert promoted["detail"]["selected_by"] == "merged-commit"
    [copy_] = versions(cloud, "x-prod")
    source = cloud.session.client("sagemaker").describe_model_package(ModelPackageName=merged)
    assert copy_["ModelApprovalStatus"] == "PendingManualApproval"
    assert copy_["ModelMetrics"] == source["ModelMetrics"] == LINEAGE["ModelMetrics"]
    assert copy_["DriftCheckBaselines"] == LINEAGE["DriftCheckBaselines"]
    assert copy_["MetadataProperties"] == {"CommitId": "b2", "Repository": "x"}
    # dev's test outcome is carried under source keys: the copy is not tested in prod yet.
    assert copy_["CustomerMetadataProperties"] == {
        "mlops:dataset": "s3://data/x/train.csv",
        "mlops:source-model-package-arn": merged,
        "mlops:source-integration-tests": "passed",
        "mlops:source-test-run-id": PASSED["mlops:integration-tests-run-id"],
    }
    [container] = copy_["InferenceSpecification"]["Containers"]
    assert container["Image"] == source["InferenceSpecification"]["Containers"][0]["Image"]
    bucket = cloud.outputs["PromotedArtifactBucketName"]
    assert re.match(
        rf"^s3://{bucket}/x/prod/x-dev-v2-[0-9a-f]{{12}}/model\.tar\.gz$", container["ModelDataUrl"]
    )
    key = container["ModelDataUrl"].removeprefix(f"s3://{bucket}/")
    body = cloud.session.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    assert body == b"model of b2"

    # The same merge again (the CI event for it, without the merged commit): still one copy.
    again = cloud.send(git_branch_updated("acme/x", "b2", None), bus=cloud.outputs["EventBusName"])
    [second] = again.events(detail_type="Model Promoted")
    assert second["detail"]["promoted"][0]["created"] is False
    assert len(versions(cloud, "x-prod")) == 1

    # Approving the copy deploys x-prod.
    cloud.session.client("sagemaker").update_model_package(
        ModelPackageArn=copy_["ModelPackageArn"], ModelApprovalStatus="Approved"
    )
    deployed = cloud.settle()
    [started] = [
        e
        for e in deployed.events(detail_type="Deployment Started")
        if e["detail"]["endpoint_name"] == "x-prod"
    ]
    assert started["detail"]["model_package_arn"] == copy_["ModelPackageArn"]
    assert (
        cloud.session.client("sagemaker").describe_endpoint(EndpointName="x-prod")["EndpointStatus"]
        == "InService"
    )


def test_advanced_promotion_from_ci_copies_into_champion_and_challenger_and_untested_fails(cloud):
    put_project(cloud, "y", "advanced", repository_name="y-model")
    put_project(cloud, "z", "baseline")
    source = register_dev_version(cloud, "y", "d4")
    register_dev_version(cloud, "z", "e5")
    cloud.settle()  # deployed to y-dev and z-dev, where the tester finds no suite
    record_tests(cloud, source, PASSED)

    # GitHub CI names the repository, the project (MLOPS_PROJECT) and the merged dev commit.
    trace = cloud.send(
        git_branch_updated("acme/y-model", "f00d", "d4", project="y"), bus=cloud.outputs["EventBusName"]
    )

    [promoted] = trace.events(detail_type="Model Promoted")
    assert promoted["detail"]["project"] == "y"
    assert {p["stage"] for p in promoted["detail"]["promoted"]} == {"champion", "challenger"}
    for group in ("y-champion", "y-challenger"):
        [copy_] = versions(cloud, group)
        assert copy_["CustomerMetadataProperties"]["mlops:source-model-package-arn"] == source
        assert copy_["ModelApprovalStatus"] == "PendingManualApproval"

    failed_trace = cloud.send(codecommit_merge("z", "e5", event_id="merge-z"))
    [failed] = failed_trace.events(detail_type="Promotion Failed")
    assert failed["detail"]["reason"] == "no-tested-version"
    assert "no-tests-configured" in failed["detail"]["message"]
    assert not _group_exists(cloud, "z-prod") or versions(cloud, "z-prod") == []

    # The reaper, on request, through the bus: a dry run touches nothing.
    reaped = cloud.send(
        {"source": "mlops.operator", "detail-type": "Endpoints Reap Requested", "detail": {"dry_run": True}},
        bus=cloud.outputs["EventBusName"],
    )
    [summary] = reaped.events(detail_type="Endpoints Reaped")
    assert summary["detail"]["dry_run"] is True


def test_baseline_promotion_from_ci_creates_the_copy_and_the_same_merge_twice_makes_one(cloud):
    put_project(cloud, "w", "baseline", repository_name="w-model")
    source = register_dev_version(cloud, "w", "a7")
    cloud.settle()
    record_tests(cloud, source, PASSED)
    bus = cloud.outputs["EventBusName"]

    # A GitHub merge of dev's head a7 into prod: the merge commit is 9e9e.
    trace = cloud.send(git_branch_updated("acme/w-model", "9e9e", "a7", project="w"), bus=bus)

    [promoted] = trace.events(detail_type="Model Promoted")
    assert promoted["detail"]["trigger"] == "git-branch-updated"
    assert promoted["detail"]["selected_by"] == "merged-commit"
    [created] = promoted["detail"]["promoted"]
    assert created["created"] is True
    [copy_] = versions(cloud, "w-prod")
    assert copy_["ModelPackageArn"] == created["model_package_arn"]
    assert copy_["ModelApprovalStatus"] == "PendingManualApproval"
    assert copy_["CustomerMetadataProperties"]["mlops:source-model-package-arn"] == source
    assert copy_["ModelMetrics"] == LINEAGE["ModelMetrics"]

    again = cloud.send(git_branch_updated("acme/w-model", "9e9e", "a7", project="w"), bus=bus)
    [second] = again.events(detail_type="Model Promoted")
    assert second["detail"]["promoted"][0]["created"] is False
    assert len(versions(cloud, "w-prod")) == 1


def _group_exists(cloud: LocalCloud, group: str) -> bool:
    groups = cloud.session.client("sagemaker").list_model_package_groups()["ModelPackageGroupSummaryList"]
    return group in [g["ModelPackageGroupName"] for g in groups]


def test_a_batch_dev_version_tested_by_its_transform_job_is_promoted_and_deployed_to_the_prod_schedule(cloud):
    batch = {
        "kind": "batch",
        "instance_type": "ml.m5.large",
        "schedule_expression": "cron(0 2 * * ? *)",
        "input_s3_uri": f"s3://{SOURCE_BUCKET}/x/input",
        "output_s3_uri": f"s3://{SOURCE_BUCKET}/x/output",
    }
    put_project(
        cloud, "x", "baseline", deployment_defaults={"dev": {"compute": batch}, "prod": {"compute": batch}}
    )
    write_suite(
        cloud.session.client("dynamodb"), cloud.outputs["ConfigTableName"], "x-dev", DEMO_SUITE, source="t"
    )
    tested = testing.register_dev_version(cloud.session, "x", "b2", artifact=model_artifact(GOOD_MODEL))
    trace = cloud.settle()  # registered Approved: scheduled on x-dev and tested there by a transform job
    [result] = trace.events(detail_type="Integration Tests Completed")
    assert result["detail"]["outcome"] == "passed", result["detail"]["summary"]

    promoted = cloud.send(codecommit_merge("x", "b2"))

    [copied] = promoted.events(detail_type="Model Promoted")
    assert copied["detail"]["source_model_package_arn"] == tested
    [prod_version] = versions(cloud, "x-prod")
    assert prod_version["CustomerMetadataProperties"]["mlops:source-integration-tests"] == "passed"
    cloud.session.client("sagemaker").update_model_package(
        ModelPackageArn=prod_version["ModelPackageArn"], ModelApprovalStatus="Approved"
    )
    deployed = cloud.settle()

    [started] = deployed.events(detail_type="Deployment Started")
    assert (started["detail"]["endpoint_name"], started["detail"]["action"]) == ("x-prod", "create-schedule")
    schedule = cloud.session.client("scheduler").get_schedule(
        GroupName=f"{cloud.stack_name}-batch", Name="x-prod"
    )
    assert prod_version["ModelPackageArn"] in schedule["Target"]["Input"]
    assert cloud.session.client("sagemaker").list_endpoints()["Endpoints"] == []
