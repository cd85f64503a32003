"""ArtifactCopierFunction against moto: duplicates (retried and concurrent), stale artifacts, noise,
lineage, uncompressed artifacts, operational errors, cost, KMS and another account."""

from __future__ import annotations

import collections
import contextlib
import re
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from mlops_core.adapters import aws_errors
from mlops_core.adapters.promotion_records import PromotionLedger
from mlops_core.adapters.s3 import S3ArtifactStore
from mlops_core.adapters.sagemaker import ModelRegistryAdapter
from mlops_core.promotion.ports import PromotionServiceError

from tests.function.conftest import ACCOUNT, REGION, STACK, load_handler_module

SOURCE_BUCKET = "sagemaker-us-east-1-123456789012"
PROMOTED_BUCKET = "mlops-promoted"
TARGET_ACCOUNT = "222222222222"
PASSED = {"mlops:integration-tests": "passed", "mlops:integration-tests-run-id": "run-1"}
SPEC = {
    "Containers": [{"Image": "img", "ModelDataUrl": f"s3://{SOURCE_BUCKET}/x/model.tar.gz"}],
    "SupportedContentTypes": ["text/csv"],
    "SupportedResponseMIMETypes": ["text/csv"],
}
COPY_URL = re.compile(rf"^s3://{PROMOTED_BUCKET}/x/prod/x-dev-v1-[0-9a-f]{{12}}/model\.tar\.gz$")


@pytest.fixture
def copier_env(aws, monkeypatch):
    monkeypatch.setenv("PROMOTED_ARTIFACT_BUCKET", PROMOTED_BUCKET)
    s3 = aws.client("s3")
    for bucket in (SOURCE_BUCKET, PROMOTED_BUCKET):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=SOURCE_BUCKET, Key="x/model.tar.gz", Body=b"weights")
    return aws


@pytest.fixture
def aws_calls(monkeypatch) -> collections.Counter[str]:
    """Every AWS call made from here on, by operation."""
    calls: collections.Counter[str] = collections.Counter()
    original = BaseClient._make_api_call

    def counting(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        calls[operation] += 1
        return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", counting)
    return calls


def put_project(session, project: str, **record) -> None:
    item = {"pk": f"PROJECT#{project}", "sk": "META", "project": project, "scenario": "baseline", **record}
    session.resource("dynamodb").Table("mlops-config").put_item(Item=item)


def ensure_dev_group(session, group: str = "x-dev") -> None:
    with contextlib.suppress(ClientError):
        session.client("sagemaker").create_model_package_group(ModelPackageGroupName=group)


def register(
    session,
    *,
    commit: str = "c1",
    approval: str = "Approved",
    metadata: dict | None = None,
    spec: dict | None = None,
    **extra,
) -> str:
    ensure_dev_group(session)
    return session.client("sagemaker").create_model_package(
        ModelPackageGroupName="x-dev",
        ModelApprovalStatus=approval,
        InferenceSpecification=spec or SPEC,
        MetadataProperties={"CommitId": commit},
        CustomerMetadataProperties=PASSED if metadata is None else metadata,
        **extra,
    )["ModelPackageArn"]


def merge(
    commit: str = "c1", event_id: str = "merge-1", *, repository: str = "x", event: str = "referenceUpdated"
):
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "CodeCommit Repository State Change",
        "source": "aws.codecommit",
        "account": ACCOUNT,
        "time": "2026-11-25T18:43:48Z",
        "region": REGION,
        "resources": [f"arn:aws:codecommit:{REGION}:{ACCOUNT}:{repository}"],
        "detail": {
            "event": event,
            "repositoryName": repository,
            "referenceType": "branch",
            "referenceName": "prod",
            "commitId": commit,
        },
    }


def prod_versions(session, group: str = "x-prod") -> list[dict]:
    sagemaker = session.client("sagemaker")
    try:
        pages = sagemaker.get_paginator("list_model_packages").paginate(ModelPackageGroupName=group)
        summaries = [summary for page in pages for summary in page["ModelPackageSummaryList"]]
    except ClientError:
        return []
    return [sagemaker.describe_model_package(ModelPackageName=s["ModelPackageArn"]) for s in summaries]


def as_the_adapters_raise(error: ClientError) -> PromotionServiceError:
    """An AWS error as the copier's adapters hand it on (:mod:`mlops_core.adapters.aws_errors`)."""
    with (
        pytest.raises(PromotionServiceError) as translated,
        aws_errors.reraised_with_retryable(PromotionServiceError),
    ):
        raise error
    return translated.value


def throttled(operation: str) -> PromotionServiceError:
    return as_the_adapters_raise(
        ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, operation)
    )


# ------------------------------------------------------------------------------------------ duplicates


def test_a_registration_that_failed_after_the_copy_is_finished_by_the_retry_without_a_second_copy(
    copier_env, domain_events, lambda_context, monkeypatch
):
    put_project(copier_env, "x")
    source = register(copier_env)
    copies, attempts = [], []
    real_copy, real_register = S3ArtifactStore.copy, ModelRegistryAdapter.register_version

    def counted_copy(self, source_url, target_url, *, kms_key_id):
        copies.append(target_url)
        real_copy(self, source_url, target_url, kms_key_id=kms_key_id)

    def register_fails_first(self, request):
        attempts.append(request["ModelPackageGroupName"])
        if len(attempts) == 1:
            raise throttled("CreateModelPackage")
        return real_register(self, request)

    monkeypatch.setattr(S3ArtifactStore, "copy", counted_copy)
    monkeypatch.setattr(ModelRegistryAdapter, "register_version", register_fails_first)
    app = load_handler_module("artifact_copier")

    with pytest.raises(PromotionServiceError):
        app.handler(merge(), lambda_context)
    assert prod_versions(copier_env) == []
    result = app.handler(merge(), lambda_context)  # Lambda's retry of the same event

    assert result["status"] == "promoted"
    [copy_] = prod_versions(copier_env)
    assert copy_["CustomerMetadataProperties"]["mlops:source-model-package-arn"] == source
    [copied] = copies  # the retry found the artifact there
    assert COPY_URL.match(copied)
    assert domain_events.detail_types() == ["Model Promoted"]

    again = app.handler(merge(event_id="merge-2"), lambda_context)  # the same merge, redelivered
    assert again["promoted"] == [copy_["ModelPackageArn"]]
    assert len(prod_versions(copier_env)) == 1


def test_a_crash_between_registering_and_recording_is_finished_by_the_client_token(
    copier_env, domain_events, lambda_context, monkeypatch
):
    put_project(copier_env, "x")
    register(copier_env)
    real_record = PromotionLedger.record
    failures = [throttled("UpdateItem")]

    def record_fails_once(self, key, group, arn):
        if failures:
            raise failures.pop()
        real_record(self, key, group, arn)

    monkeypatch.setattr(PromotionLedger, "record", record_fails_once)
    app = load_handler_module("artifact_copier")

    with pytest.raises(PromotionServiceError):
        app.handler(merge(), lambda_context)
    [registered] = prod_versions(copier_env)  # registered, not recorded
    result = app.handler(merge(), lambda_context)  # the retry registers again, with the same token

    assert result["promoted"] == [registered["ModelPackageArn"]]
    assert len(prod_versions(copier_env)) == 1


def test_two_concurrent_promotions_of_the_same_source_make_one_copy(
    copier_env, domain_events, lambda_context, monkeypatch
):
    put_project(copier_env, "x")
    register(copier_env)
    first, second = load_handler_module("artifact_copier"), load_handler_module("artifact_copier")
    real_register = ModelRegistryAdapter.register_version
    concurrent: list[dict] = []

    def register_while_the_other_runs(self, request):
        if not concurrent:  # the CI event for the same merge arrives while the first registers
            concurrent.append(second.handler(merge(event_id="merge-ci"), lambda_context))
        return real_register(self, request)

    monkeypatch.setattr(ModelRegistryAdapter, "register_version", register_while_the_other_runs)

    result = first.handler(merge(event_id="merge-cc"), lambda_context)

    assert result["status"] == "promoted"
    assert concurrent[0]["status"] == "in-progress"
    assert len(prod_versions(copier_env)) == 1
    assert domain_events.detail_types() == ["Model Promoted"]


def test_the_copy_is_found_directly_however_many_versions_the_target_group_has(
    copier_env, domain_events, lambda_context, aws_calls
):
    put_project(copier_env, "x")
    register(copier_env)
    app = load_handler_module("artifact_copier")
    first = app.handler(merge(), lambda_context)
    sagemaker = copier_env.client("sagemaker")
    for _ in range(105):  # newer versions registered in x-prod by hand
        sagemaker.create_model_package(ModelPackageGroupName="x-prod", InferenceSpecification=SPEC)
    aws_calls.clear()

    again = app.handler(merge(event_id="merge-2"), lambda_context)
    calls = dict(aws_calls)

    assert again["status"] == "promoted"
    assert again["promoted"] == [first["promoted"][0]]
    assert calls.get("CreateModelPackage", 0) == 0
    assert calls["ListModelPackages"] == 1  # of the dev group; x-prod is never listed
    assert len(prod_versions(copier_env)) == 106  # the copy and the 105


# ------------------------------------------------------------------------------------------ stale artifacts


def test_a_re_created_project_never_promotes_the_old_artifact_of_the_same_version_number(
    copier_env, domain_events, lambda_context
):
    put_project(copier_env, "x")
    s3, sagemaker = copier_env.client("s3"), copier_env.client("sagemaker")
    old = register(copier_env)
    app = load_handler_module("artifact_copier")
    app.handler(merge(), lambda_context)
    # The project is deleted (its dev group with it) and created again: version numbers restart.
    sagemaker.delete_model_package(ModelPackageName=old)
    sagemaker.delete_model_package_group(ModelPackageGroupName="x-dev")
    s3.put_object(Bucket=SOURCE_BUCKET, Key="x/model.tar.gz", Body=b"retrained weights")
    new = register(copier_env)
    assert new == old  # the same ARN: x-dev/1

    result = app.handler(merge(event_id="merge-after-re-creation"), lambda_context)

    assert result["status"] == "promoted"
    copies = prod_versions(copier_env)
    assert len(copies) == 2
    newest = max(copies, key=lambda c: c["ModelPackageVersion"])
    url = newest["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
    bucket, key = url.removeprefix("s3://").split("/", 1)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"retrained weights"


# ------------------------------------------------------------------------------------------ noise


def test_a_push_to_prod_of_a_repository_that_is_no_projects_is_ignored_without_a_scan(
    copier_env, domain_events, lambda_context, aws_calls
):
    app = load_handler_module("artifact_copier")

    result = app.handler(merge(repository="infrastructure"), lambda_context)

    assert result["status"] == "ignored"
    assert domain_events.received == []
    assert "Scan" not in aws_calls


def test_a_repository_named_like_a_project_that_uses_another_repository_is_ignored(
    copier_env, domain_events, lambda_context
):
    put_project(copier_env, "x", repository_name="x-model")
    register(copier_env)
    app = load_handler_module("artifact_copier")

    result = app.handler(merge(repository="x"), lambda_context)

    assert result["status"] == "ignored"
    assert prod_versions(copier_env) == []


def test_a_codecommit_repository_not_named_after_its_project_is_found_by_its_tags(
    copier_env, domain_events, lambda_context
):
    put_project(copier_env, "x", repository_name="churn-model")
    register(copier_env)
    copier_env.client("codecommit").create_repository(
        repositoryName="churn-model", tags={"mlops:project": "x", "mlops:managed-by": STACK}
    )
    copier_env.client("codecommit").create_repository(
        repositoryName="other-model", tags={"mlops:project": "x", "mlops:managed-by": "another-stack"}
    )
    app = load_handler_module("artifact_copier")

    result = app.handler(merge(repository="churn-model"), lambda_context)
    other = app.handler(merge(repository="other-model", event_id="merge-other"), lambda_context)

    assert result["status"] == "promoted"
    assert other["status"] == "ignored"  # tagged by another stack: not this stack's project
    assert len(prod_versions(copier_env)) == 1


@pytest.mark.parametrize("event", ["referenceCreated", "referenceUpdated"])
def test_the_seed_commits_of_a_new_project_are_ignored(copier_env, domain_events, lambda_context, event):
    put_project(copier_env, "x")
    ensure_dev_group(copier_env)  # created with the project, nothing registered yet
    app = load_handler_module("artifact_copier")

    result = app.handler(merge(commit="seed", event=event), lambda_context)

    assert result["status"] == "ignored"
    assert domain_events.received == []


# ------------------------------------------------------------------------------------------ choosing


@pytest.mark.parametrize(
    ("versions", "reason"),
    [
        ([{"metadata": {}}], "no-tested-version"),
        ([{"metadata": {"mlops:integration-tests": "failed"}}], "tests-failed"),
        ([{"approval": "PendingManualApproval"}], "not-approved"),
    ],
)
def test_nothing_to_promote_is_a_promotion_failed_with_the_reason(
    copier_env, domain_events, lambda_context, versions, reason
):
    put_project(copier_env, "x")
    for version in versions:
        register(copier_env, **version)
    app = load_handler_module("artifact_copier")

    result = app.handler(merge(), lambda_context)

    assert result["status"] == "failed"
    [event] = domain_events.received
    assert event["detail-type"] == "Promotion Failed"
    assert event["detail"]["reason"] == reason
    assert prod_versions(copier_env) == []


def test_a_failed_merged_version_falls_back_to_the_newest_that_passed(
    copier_env, domain_events, lambda_context
):
    put_project(copier_env, "x")
    good = register(copier_env, commit="old")
    register(copier_env, commit="c1", metadata={"mlops:integration-tests": "failed"})
    app = load_handler_module("artifact_copier")

    app.handler(merge("c1"), lambda_context)

    [event] = domain_events.received
    assert event["detail"]["source_model_package_arn"] == good
    assert event["detail"]["selected_by"] == "newest-tested"


def test_choosing_the_merged_version_describes_only_approved_versions_and_stops_early(
    copier_env, domain_events, lambda_context, aws_calls
):
    put_project(copier_env, "x")
    for index in range(30):
        register(copier_env, commit=f"old{index}", approval="PendingManualApproval")
        register(copier_env, commit=f"c{index}")
    app = load_handler_module("artifact_copier")
    aws_calls.clear()

    result = app.handler(merge("c29"), lambda_context)

    assert result["status"] == "promoted"
    assert result["source"].endswith("/x-dev/60")
    assert aws_calls["DescribeModelPackage"] == 1  # the newest approved version: the merged commit's
    assert aws_calls["ListModelPackages"] == 1


# ------------------------------------------------------------------------------------------ the copy


def test_the_copy_carries_the_dev_test_outcome_under_source_keys_only(
    copier_env, domain_events, lambda_context
):
    put_project(copier_env, "x")
    source = register(
        copier_env, metadata={**PASSED, "mlops:integration-tests-time": "t", "mlops:dataset": "d"}
    )
    app = load_handler_module("artifact_copier")

    app.handler(merge(), lambda_context)

    [copy_] = prod_versions(copier_env)
    assert copy_["CustomerMetadataProperties"] == {
        "mlops:dataset": "d",
        "mlops:source-model-package-arn": source,
        "mlops:source-integration-tests": "passed",
        "mlops:source-test-run-id": "run-1",
    }


def group_tags(session, group: str) -> dict[str, str]:
    sagemaker = session.client("sagemaker")
    arn = sagemaker.describe_model_package_group(ModelPackageGroupName=group)["ModelPackageGroupArn"]
    return {tag["Key"]: tag["Value"] for tag in sagemaker.list_tags(ResourceArn=arn)["Tags"]}


def test_the_copy_belongs_to_the_stack_through_its_group_which_is_created_with_the_contract_tags(
    copier_env, domain_events, lambda_context, monkeypatch
):
    # CreateModelPackage refuses Tags with a group (the local cloud answers as AWS does): the copy
    # is registered without tags, in a group created with the stack's, and keeps its commit as lineage.
    put_project(copier_env, "x")
    register(copier_env, commit="c1")
    requests = []
    real_register = ModelRegistryAdapter.register_version

    def recorded(self, request):
        requests.append(request)
        return real_register(self, request)

    monkeypatch.setattr(ModelRegistryAdapter, "register_version", recorded)
    app = load_handler_module("artifact_copier")

    assert app.handler(merge(), lambda_context)["status"] == "promoted"

    [request] = requests
    assert "Tags" not in request
    assert group_tags(copier_env, "x-prod") == {
        "mlops:project": "x",
        "mlops:stage": "prod",
        "mlops:managed-by": STACK,
    }
    [copy_] = prod_versions(copier_env)
    assert copy_["MetadataProperties"] == {"CommitId": "c1"}


def test_a_target_group_of_another_owner_is_refused_before_any_artifact_is_copied(
    copier_env, domain_events, lambda_context
):
    put_project(copier_env, "x")
    register(copier_env)
    copier_env.client("sagemaker").create_model_package_group(
        ModelPackageGroupName="x-prod", Tags=[{"Key": "mlops:managed-by", "Value": "another-stack"}]
    )
    app = load_handler_module("artifact_copier")

    result = app.handler(merge(), lambda_context)

    assert result["status"] == "failed"
    [event] = domain_events.received
    assert event["detail"]["reason"] == "copy-failed"
    assert "x-prod" in event["detail"]["message"] and "another-stack" in event["detail"]["message"]
    assert prod_versions(copier_env) == []
    assert "Contents" not in copier_env.client("s3").list_objects_v2(Bucket=PROMOTED_BUCKET)
    # The claim was released: once the group is the stack's, the next merge promotes.
    sagemaker = copier_env.client("sagemaker")
    sagemaker.delete_model_package_group(ModelPackageGroupName="x-prod")
    sagemaker.create_model_package_group(
        ModelPackageGroupName="x-prod", Tags=[{"Key": "mlops:managed-by", "Value": STACK}]
    )
    assert app.handler(merge(event_id="merge-2"), lambda_context)["status"] == "promoted"
    assert len(prod_versions(copier_env)) == 1


def test_uncompressed_model_data_and_additional_specifications_are_copied(
    copier_env, domain_events, lambda_context
):
    s3 = copier_env.client("s3")
    for name in ("config.json", "weights/part-1.bin"):
        s3.put_object(Bucket=SOURCE_BUCKET, Key=f"x/uncompressed/{name}", Body=name.encode())
    s3.put_object(Bucket=SOURCE_BUCKET, Key="x/cpu.tar.gz", Body=b"cpu weights")
    put_project(copier_env, "x")
    uncompressed = {
        "S3DataSource": {
            "S3Uri": f"s3://{SOURCE_BUCKET}/x/uncompressed/",
            "S3DataType": "S3Prefix",
            "CompressionType": "None",
        }
    }
    register(
        copier_env,
        spec={**SPEC, "Containers": [{"Image": "img", "ModelDataSource": uncompressed}]},
        AdditionalInferenceSpecifications=[
            {
                "Name": "cpu",
                "Containers": [{"Image": "img-cpu", "ModelDataUrl": f"s3://{SOURCE_BUCKET}/x/cpu.tar.gz"}],
            }
        ],
    )
    app = load_handler_module("artifact_copier")

    result = app.handler(merge(), lambda_context)

    assert result["status"] == "promoted"
    [copy_] = prod_versions(copier_env)
    data = copy_["InferenceSpecification"]["Containers"][0]["ModelDataSource"]["S3DataSource"]
    assert data["S3Uri"].startswith(f"s3://{PROMOTED_BUCKET}/x/prod/") and data["S3Uri"].endswith("/")
    assert (data["S3DataType"], data["CompressionType"]) == ("S3Prefix", "None")
    prefix = data["S3Uri"].removeprefix(f"s3://{PROMOTED_BUCKET}/")
    listed = s3.list_objects_v2(Bucket=PROMOTED_BUCKET, Prefix=prefix)["Contents"]
    assert sorted(o["Key"].removeprefix(prefix) for o in listed) == ["config.json", "weights/part-1.bin"]
    [cpu] = copy_["AdditionalInferenceSpecifications"]
    cpu_url = cpu["Containers"][0]["ModelDataUrl"]
    assert cpu_url.startswith(f"s3://{PROMOTED_BUCKET}/x/prod/")
    bucket, key = cpu_url.removeprefix("s3://").split("/", 1)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"cpu weights"


def test_a_manifest_model_data_source_is_refused_with_the_reason(copier_env, domain_events, lambda_context):
    put_project(copier_env, "x")
    manifest = {
        "S3DataSource": {
            "S3Uri": f"s3://{SOURCE_BUCKET}/x/",
            "S3DataType": "S3Prefix",
            "CompressionType": "None",
            "ManifestS3Uri": f"s3://{SOURCE_BUCKET}/x/manifest.json",
        }
    }
    register(copier_env, spec={**SPEC, "Containers": [{"Image": "img", "ModelDataSource": manifest}]})
    app = load_handler_module("artifact_copier")

    result = app.handler(merge(), lambda_context)

    assert result["status"] == "failed"
    [event] = domain_events.received
    assert event["detail"]["reason"] == "copy-failed"
    assert "manifest" in event["detail"]["message"]
    assert prod_versions(copier_env) == []


# ------------------------------------------------------------------------------------------ errors


def test_access_denied_is_a_promotion_failed_not_a_retry_and_releases_the_claim(
    copier_env, domain_events, lambda_context, monkeypatch
):
    put_project(copier_env, "x")
    register(copier_env)
    real_copy = S3ArtifactStore.copy
    denials = [
        as_the_adapters_raise(
            ClientError({"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, "CopyObject")
        )
    ]

    def copy_denied_once(self, source_url, target_url, *, kms_key_id):
        if denials:
            raise denials.pop()
        real_copy(self, source_url, target_url, kms_key_id=kms_key_id)

    monkeypatch.setattr(S3ArtifactStore, "copy", copy_denied_once)
    app = load_handler_module("artifact_copier")

    result = app.handler(merge(), lambda_context)  # does not raise

    assert result["status"] == "failed"
    [event] = domain_events.received
    assert event["detail-type"] == "Promotion Failed"
    assert event["detail"]["reason"] == "copy-failed"
    assert "AccessDenied: not allowed" in event["detail"]["message"]
    # Fixed permissions, merged again: the claim was released, so it promotes.
    again = app.handler(merge(event_id="merge-2"), lambda_context)
    assert again["status"] == "promoted"


def test_throttling_raises_so_lambda_retries(copier_env, domain_events, lambda_context, monkeypatch):
    put_project(copier_env, "x")
    register(copier_env)

    def copy_throttled(self, source_url, target_url, *, kms_key_id):
        raise as_the_adapters_raise(
            ClientError({"Error": {"Code": "SlowDown", "Message": "slow"}}, "CopyObject")
        )

    monkeypatch.setattr(S3ArtifactStore, "copy", copy_throttled)
    app = load_handler_module("artifact_copier")

    with pytest.raises(PromotionServiceError):
        app.handler(merge(), lambda_context)
    assert domain_events.received == []


# ------------------------------------------------------------------------------------------ accounts


def test_the_project_can_re_encrypt_with_its_key_and_promote_into_another_account(
    copier_env, domain_events, lambda_context
):
    key = copier_env.client("kms").create_key()["KeyMetadata"]["Arn"]
    role = f"arn:aws:iam::{TARGET_ACCOUNT}:role/mlops-promotion-prod"
    credentials = copier_env.client("sts").assume_role(RoleArn=role, RoleSessionName="test")["Credentials"]
    target = boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )
    target.client("s3").create_bucket(Bucket="prod-artifacts")
    put_project(
        copier_env,
        "x",
        promotion={
            "target_role_arn": role,
            "kms_key_id": key,
            "artifact_location": "s3://prod-artifacts/models",
            "approval_status": "Approved",
        },
    )
    register(copier_env)
    app = load_handler_module("artifact_copier")

    app.handler(merge(), lambda_context)

    assert prod_versions(copier_env) == []  # nothing in this account
    [copy_] = prod_versions(target)
    assert copy_["ModelPackageArn"].split(":")[4] == TARGET_ACCOUNT
    assert copy_["ModelApprovalStatus"] == "Approved"
    url = copy_["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
    assert re.match(r"^s3://prod-artifacts/models/x/prod/x-dev-v1-[0-9a-f]{12}/model\.tar\.gz$", url)
    head = target.client("s3").head_object(
        Bucket="prod-artifacts", Key=url.removeprefix("s3://prod-artifacts/")
    )
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == key
