"""ArtifactCopierFunction against moto: retries finish a partial promotion, KMS and another account."""

from __future__ import annotations

import contextlib

import boto3
import pytest
from botocore.exceptions import ClientError
from mlops_core import artifact_copier

from tests.function.conftest import ACCOUNT, REGION, load_handler_module

SOURCE_BUCKET = "sagemaker-us-east-1-123456789012"
PROMOTED_BUCKET = "mlops-promoted"
TARGET_ACCOUNT = "222222222222"
PASSED = {"mlops:integration-tests": "passed", "mlops:integration-tests-run-id": "run-1"}


@pytest.fixture
def copier_env(aws, monkeypatch):
    monkeypatch.setenv("PROMOTED_ARTIFACT_BUCKET", PROMOTED_BUCKET)
    s3 = aws.client("s3")
    for bucket in (SOURCE_BUCKET, PROMOTED_BUCKET):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=SOURCE_BUCKET, Key="x/model.tar.gz", Body=b"weights")
    return aws


def put_project(session, project: str, **record) -> None:
    item = {"pk": f"PROJECT#{project}", "sk": "META", "project": project, "scenario": "baseline", **record}
    session.resource("dynamodb").Table("mlops-config").put_item(Item=item)


def register(session, *, commit: str = "c1", approval: str = "Approved", metadata: dict | None = None) -> str:
    sagemaker = session.client("sagemaker")
    with contextlib.suppress(ClientError):
        sagemaker.create_model_package_group(ModelPackageGroupName="x-dev")
    return sagemaker.create_model_package(
        ModelPackageGroupName="x-dev",
        ModelApprovalStatus=approval,
        InferenceSpecification={
            "Containers": [{"Image": "img", "ModelDataUrl": f"s3://{SOURCE_BUCKET}/x/model.tar.gz"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        MetadataProperties={"CommitId": commit},
        CustomerMetadataProperties=PASSED if metadata is None else metadata,
    )["ModelPackageArn"]


def merge(commit: str = "c1", event_id: str = "merge-1") -> dict:
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "CodeCommit Repository State Change",
        "source": "aws.codecommit",
        "account": ACCOUNT,
        "time": "2026-11-25T18:43:48Z",
        "region": REGION,
        "resources": [],
        "detail": {
            "event": "referenceUpdated",
            "repositoryName": "x",
            "referenceType": "branch",
            "referenceName": "prod",
            "commitId": commit,
        },
    }


def prod_versions(session) -> list[dict]:
    sagemaker = session.client("sagemaker")
    try:
        summaries = sagemaker.list_model_packages(ModelPackageGroupName="x-prod")["ModelPackageSummaryList"]
    except ClientError:
        return []
    return [sagemaker.describe_model_package(ModelPackageName=s["ModelPackageArn"]) for s in summaries]


def test_a_registration_that_failed_after_the_copy_is_finished_by_the_retry_without_a_second_copy(
    copier_env, domain_events, lambda_context, monkeypatch
):
    put_project(copier_env, "x")
    source = register(copier_env)
    copies, attempts = [], []
    real_copy, real_register = artifact_copier.S3ArtifactStore.copy, artifact_copier.RegistryAdapter.register

    def counted_copy(self, source_url, target_url, *, kms_key_id):
        copies.append(target_url)
        real_copy(self, source_url, target_url, kms_key_id=kms_key_id)

    def register_fails_first(self, request):
        attempts.append(request["ModelPackageGroupName"])
        if len(attempts) == 1:
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "Create"
            )
        return real_register(self, request)

    monkeypatch.setattr(artifact_copier.S3ArtifactStore, "copy", counted_copy)
    monkeypatch.setattr(artifact_copier.RegistryAdapter, "register", register_fails_first)
    app = load_handler_module("artifact_copier")

    with pytest.raises(ClientError):
        app.handler(merge(), lambda_context)
    assert prod_versions(copier_env) == []
    result = app.handler(merge(), lambda_context)  # Lambda's retry of the same event

    assert result["status"] == "promoted"
    [copy_] = prod_versions(copier_env)
    assert copy_["CustomerMetadataProperties"]["mlops:source-model-package-arn"] == source
    assert copies == [f"s3://{PROMOTED_BUCKET}/x/prod/x-dev-v1/model.tar.gz"]
    assert domain_events.detail_types() == ["Model Promoted"]

    again = app.handler(merge(event_id="merge-2"), lambda_context)  # the same merge, redelivered
    assert again["promoted"] == [copy_["ModelPackageArn"]]
    assert len(prod_versions(copier_env)) == 1


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
    assert url == "s3://prod-artifacts/models/x/prod/x-dev-v1/model.tar.gz"
    head = target.client("s3").head_object(Bucket="prod-artifacts", Key="models/x/prod/x-dev-v1/model.tar.gz")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == key
