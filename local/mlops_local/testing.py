"""What a training pipeline, CI and people do to the control plane, in AWS's shapes: one module for the
tests and the benchmarks (against the local cloud, or moto alone).

- a model version as a pipeline registers it in a project's dev group (artifact in S3, full lineage),
  and the test outcome the endpoint tester records on it;
- a project's record, as the project lifecycle writes it when the project is created;
- the events of a merge into ``prod``: CodeCommit's `CodeCommit Repository State Change`, and the
  `Git Branch Updated` that a project's CI (GitHub) puts on the application bus;
- an endpoint with its own model and config, as the deployer makes them (a reaper's fleet is many);
- a project's model-building pipeline (as the seed code's CI upserts it) whose execution fails at a step.

Every function takes a boto3 session (``LocalCloud.session``, or moto's), so nothing here opens a cloud.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import boto3

from mlops_local.moto_gaps.sagemaker_pipelines import fail_execution

ACCOUNT = "123456789012"
REGION = "us-east-1"
# Where pipelines put dev artifacts: the artifact copier may read `sagemaker-*` buckets
# (the template's ModelArtifactBucketPattern).
SOURCE_BUCKET = f"sagemaker-{REGION}-{ACCOUNT}"
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/xgb:1"
EXECUTION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/sagemaker-execution"
# The lineage a production stage requires, as the seed code's pipeline records it.
LINEAGE: dict[str, Any] = {
    "ModelMetrics": {
        "ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": "s3://m/metrics.json"}}
    },
    "DriftCheckBaselines": {
        "ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": "s3://m/baseline.json"}}
    },
}
# What the endpoint tester records on a version whose suite passed.
TESTS_PASSED = {
    "mlops:integration-tests": "passed",
    "mlops:integration-tests-run-id": "2026-11-25T18:30:00.000000Z",
}


def register_dev_version(
    session: boto3.Session, project: str, commit: str, *, artifact: bytes | None = None
) -> str:
    """An approved version in ``{project}-dev`` as a pipeline registers it: its model.tar.gz in
    `SOURCE_BUCKET` (``artifact``, by default a few bytes naming the commit), the commit and the
    repository, the dataset and `LINEAGE`. Its ARN."""
    sagemaker, s3 = session.client("sagemaker"), session.client("s3")
    group = f"{project}-dev"
    try:
        sagemaker.describe_model_package_group(ModelPackageGroupName=group)
    except sagemaker.exceptions.ClientError:  # the project's first version
        sagemaker.create_model_package_group(ModelPackageGroupName=group)
    key = f"{project}/{commit}/model.tar.gz"
    body = f"model of {commit}".encode() if artifact is None else artifact
    s3.put_object(Bucket=SOURCE_BUCKET, Key=key, Body=body)
    arn: str = sagemaker.create_model_package(
        ModelPackageGroupName=group,
        ModelApprovalStatus="Approved",
        InferenceSpecification={
            "Containers": [{"Image": IMAGE, "ModelDataUrl": f"s3://{SOURCE_BUCKET}/{key}"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        MetadataProperties={"CommitId": commit, "Repository": project},
        CustomerMetadataProperties={"mlops:dataset": f"s3://data/{project}/train.csv"},
        **LINEAGE,
    )["ModelPackageArn"]
    return arn


def record_test_outcome(session: boto3.Session, arn: str, outcome: Mapping[str, str] = TESTS_PASSED) -> None:
    """The outcome the endpoint tester records on a version (merged into its metadata)."""
    sagemaker = session.client("sagemaker")
    current = sagemaker.describe_model_package(ModelPackageName=arn).get("CustomerMetadataProperties", {})
    sagemaker.update_model_package(ModelPackageArn=arn, CustomerMetadataProperties={**current, **outcome})


def put_project_record(
    session: boto3.Session, table: str, project: str, *, scenario: str = "baseline", **fields: Any
) -> None:
    """A project's record in the config table (the project lifecycle writes it when the project is
    created): its scenario and any other ``fields`` (e.g. ``repository_name``)."""
    item = {"pk": f"PROJECT#{project}", "sk": "META", "project": project, "scenario": scenario, **fields}
    session.resource("dynamodb").Table(table).put_item(Item=item)


def codecommit_merge(
    repository: str, commit: str, *, event_id: str | None = None, event: str = "referenceUpdated"
) -> dict[str, Any]:
    """CodeCommit's event for ``prod`` of ``repository`` moving to ``commit`` (a merge); without
    ``event_id`` the local cloud gives it a new id when it is sent."""
    merge: dict[str, Any] = {
        "source": "aws.codecommit",
        "detail-type": "CodeCommit Repository State Change",
        "resources": [f"arn:aws:codecommit:{REGION}:{ACCOUNT}:{repository}"],
        "detail": {
            "event": event,
            "repositoryName": repository,
            "referenceType": "branch",
            "referenceName": "prod",
            "referenceFullName": "refs/heads/prod",
            "commitId": commit,
            "oldCommitId": "0" * 40,
        },
    }
    return merge if event_id is None else {"id": event_id, **merge}


def git_branch_updated(
    repository: str, commit: str, merged: str | None = None, project: str | None = None
) -> dict[str, Any]:
    """`Git Branch Updated` as a project's CI (GitHub) puts it on the bus after a merge into ``prod``:
    the merge commit, and the merged dev commit and the project when CI knows them."""
    detail: dict[str, Any] = {"repository": repository, "branch": "prod", "commit_id": commit}
    if merged:
        detail["merged_commit_id"] = merged
    detail["provider"] = "github"
    if project:
        detail["project"] = project
    return {"source": "mlops.ci", "detail-type": "Git Branch Updated", "detail": detail}


def make_endpoint(
    session: boto3.Session,
    name: str,
    *,
    tags: Mapping[str, str],
    model: str | None = None,
    config: str | None = None,
    instances: int = 1,
    autoscaled: bool = False,
    max_capacity: int = 4,
) -> None:
    """Endpoint ``name`` with a model and a config of its own (``{name}-model`` and ``{name}-config``
    unless named), all three tagged with ``tags``, as the deployer makes them; ``autoscaled``: its
    variant registered with Application Auto Scaling. It is `Creating` until SageMaker (the local
    cloud's endpoint lifecycle) moves it on."""
    sagemaker = session.client("sagemaker")
    model, config = model or f"{name}-model", config or f"{name}-config"
    aws_tags = [{"Key": key, "Value": value} for key, value in tags.items()]
    sagemaker.create_model(
        ModelName=model, ExecutionRoleArn=EXECUTION_ROLE, PrimaryContainer={"Image": IMAGE}, Tags=aws_tags
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": model,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": instances,
            }
        ],
        Tags=aws_tags,
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config, Tags=aws_tags)
    if autoscaled:
        session.client("application-autoscaling").register_scalable_target(
            ServiceNamespace="sagemaker",
            ResourceId=f"endpoint/{name}/variant/AllTraffic",
            ScalableDimension="sagemaker:variant:DesiredInstanceCount",
            MinCapacity=1,
            MaxCapacity=max_capacity,
        )


def failed_pipeline_run(
    session: boto3.Session,
    project: str,
    stage: str,
    *,
    step: str,
    reason: str,
    display_name: str = "dev-5a2a5b1",
) -> dict[str, Any]:
    """The seed code's pipeline of ``{project}-{stage}`` upserted and started as CI does (tagged with the
    project and stage), and its execution failed at ``step`` because of ``reason``; SageMaker's status
    change event is emitted (the local cloud delivers it on its next ``settle()``). The event."""
    sagemaker = session.client("sagemaker")
    name = f"{project}-{stage}-build"
    if name not in {p["PipelineName"] for p in sagemaker.list_pipelines()["PipelineSummaries"]}:
        sagemaker.create_pipeline(
            PipelineName=name,
            PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": []}),
            RoleArn=EXECUTION_ROLE,
            Tags=[{"Key": "mlops:project", "Value": project}, {"Key": "mlops:stage", "Value": stage}],
        )
    execution_arn = sagemaker.start_pipeline_execution(
        PipelineName=name, PipelineExecutionDisplayName=display_name
    )["PipelineExecutionArn"]
    region = session.region_name or REGION
    account = execution_arn.split(":")[4]
    return fail_execution(
        account=account, region=region, execution_arn=execution_arn, step=step, reason=reason
    )
