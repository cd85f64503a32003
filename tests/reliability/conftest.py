"""Shared fixtures and helpers of the reliability suite, which proves the guarantees of
docs/architecture.md, "What every handler guarantees".

One LocalCloud per test module (`cloud`), deploying every stage: the embedded AWS is process-wide, so a
module shares one, and each test (or example) works on a project of its own (`new_project`), so state
from one test never changes another's result. The helpers drive what a person or a pipeline does
(register, approve, reject, write a project record, a suite, the MLflow watcher's alias state) and read
what the control plane leaves behind (`project_state`: endpoints, configs, models, model versions, config
table items), normalised so that runs of the same scenario under two project names compare equal.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from mlops_core.adapters.mlflow_alias_table import AliasStateTable
from mlops_core.adapters.project_store import ProjectStore
from mlops_core.contract.project_record import ProjectRecord
from mlops_core.suite_tool import write_suite
from mlops_local import LocalCloud
from mlops_local.aws_requests import AwsRequest
from mlops_local.demo_model import GOOD_MODEL, model_artifact
from mlops_local.testing import SOURCE_BUCKET, TESTS_PASSED, record_test_outcome

ALL_STAGES = "feature,dev,prod,champion,challenger"
MLFLOW_BUCKET = "mlops-mlflow-models"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-demo-linear:1"
MLFLOW_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlflow-pyfunc:3.17.2"
NOW = "2026-11-25T18:00:00+00:00"
LINEAGE_BASELINE = {
    "DriftCheckBaselines": {
        "ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": "s3://m/baseline.json"}}
    },
}
_projects = itertools.count(1)


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    """One local cloud for the whole module, deploying every stage."""
    with LocalCloud(parameters={"DeployedStages": ALL_STAGES}) as local_cloud:
        s3 = local_cloud.session.client("s3")
        s3.create_bucket(Bucket=SOURCE_BUCKET)
        s3.create_bucket(Bucket=MLFLOW_BUCKET)
        yield local_cloud


@pytest.fixture
def new_project() -> Callable[[str], str]:
    """A project name no other test (or example) of the session uses: `{prefix}{n:04d}z`."""

    def name(prefix: str = "p") -> str:
        return f"{prefix}{next(_projects):04d}z"

    return name


# ---------------------------------------------------------------------------------------- what people do


def register(
    cloud: LocalCloud,
    group: str,
    *,
    commit: str = "c0ffee",
    parameters: dict[str, Any] | None = None,
    status: str = "PendingManualApproval",
) -> str:
    """A version of the demo model in `group` as a pipeline registers it (artifact in S3, lineage); its ARN."""
    sagemaker, s3 = cloud.session.client("sagemaker"), cloud.session.client("s3")
    with contextlib.suppress(sagemaker.exceptions.ClientError):  # registered before
        sagemaker.create_model_package_group(ModelPackageGroupName=group)
    project = group.rsplit("-", 1)[0]
    key = f"{group}/{commit}/model.tar.gz"
    s3.put_object(Bucket=SOURCE_BUCKET, Key=key, Body=model_artifact(parameters or GOOD_MODEL))
    report = f"{group}/{commit}/evaluation.json"
    s3.put_object(Bucket=SOURCE_BUCKET, Key=report, Body=b'{"auc": 0.91}')
    return str(
        sagemaker.create_model_package(
            ModelPackageGroupName=group,
            ModelApprovalStatus=status,
            InferenceSpecification={
                "Containers": [{"Image": IMAGE, "ModelDataUrl": f"s3://{SOURCE_BUCKET}/{key}"}],
                "SupportedContentTypes": ["text/csv", "application/json"],
                "SupportedResponseMIMETypes": ["text/csv", "application/json"],
            },
            MetadataProperties={"CommitId": commit, "Repository": project},
            CustomerMetadataProperties={"mlops:dataset": f"s3://data/{project}/train.csv"},
            ModelMetrics={
                "ModelQuality": {
                    "Statistics": {
                        "ContentType": "application/json",
                        "S3Uri": f"s3://{SOURCE_BUCKET}/{report}",
                    }
                }
            },
            **LINEAGE_BASELINE,
        )["ModelPackageArn"]
    )


def set_status(cloud: LocalCloud, arn: str, status: str) -> None:
    cloud.session.client("sagemaker").update_model_package(ModelPackageArn=arn, ModelApprovalStatus=status)


def record_tests(cloud: LocalCloud, arn: str, outcome: str = "passed") -> None:
    """What the endpoint tester records on a version whose suite ended with `outcome` (merged into its
    metadata)."""
    record_test_outcome(cloud.session, arn, {**TESTS_PASSED, "mlops:integration-tests": outcome})


def put_project(cloud: LocalCloud, project: str, **fields: Any) -> None:
    """The project record (the lifecycle function writes it when a project is created)."""
    record = ProjectRecord.model_validate(
        {
            "project": project,
            "project_id": f"p-{project}",
            "scenario": "baseline",
            "registry_backend": "sagemaker",
            "git_provider": "local",
            "repository_name": project,
            "repository_url": f"file:///tmp/{project}.git",
            "repository_retention": "retain",
            "model_group_retention": "retain",
            "created_at": NOW,
            "updated_at": NOW,
            **fields,
        }
    )
    ProjectStore(cloud.session.client("dynamodb"), cloud.outputs["ConfigTableName"]).put(record)


# Deployment defaults that make `dev` an asynchronous inference stage.
ASYNC_DEV = {"dev": {"compute": {"kind": "async", "instance_type": "ml.m5.large", "instance_count": 1}}}


def put_batch_project(cloud: LocalCloud, project: str, *, input_s3_uri: str, output_s3_uri: str) -> None:
    """A project record whose `dev` stage is a batch stage (a nightly transform job)."""
    batch = {
        "kind": "batch",
        "instance_type": "ml.m5.large",
        "schedule_expression": "cron(0 2 * * ? *)",
        "input_s3_uri": input_s3_uri,
        "output_s3_uri": output_s3_uri,
    }
    put_project(cloud, project, deployment_defaults={"dev": {"compute": batch}})


def put_suite(cloud: LocalCloud, endpoint: str, suite: dict[str, Any]) -> None:
    write_suite(
        cloud.session.client("dynamodb"), cloud.outputs["ConfigTableName"], endpoint, suite, source="t"
    )


def alias_state(cloud: LocalCloud) -> AliasStateTable:
    environment = cloud.functions["ModelDeployerFunction"].environment
    return AliasStateTable(
        cloud.session.client("dynamodb"),
        environment["CONFIG_TABLE_NAME"],
        environment["IDEMPOTENCY_TABLE_NAME"],
    )


def upload_mlflow_version(cloud: LocalCloud, model: str, version: int) -> str:
    """The files of MLflow version `version` of `model` (the demo model's model.json) in S3; their prefix."""
    prefix = f"{model}/v{version}"
    cloud.session.client("s3").put_object(
        Bucket=MLFLOW_BUCKET, Key=f"{prefix}/model.json", Body=json.dumps(GOOD_MODEL).encode()
    )
    return f"s3://{MLFLOW_BUCKET}/{prefix}"


def alias_changed(
    project: str, stage: str, *, new: int | None, old: int | None, source_uri: str | None, event_id: str
) -> dict[str, Any]:
    """`MLflow Model Alias Changed` as the watcher emits it (the registered model is named after the project)."""
    detail: dict[str, Any] = {
        "project": project,
        "stage": stage,
        "model": project,
        "alias": stage,
        "old_version": old,
        "new_version": new,
        "source_uri": source_uri,
        "tags": {},
        "trigger": "poll",
    }
    return {
        "version": "0",
        "id": event_id,
        "source": "mlops.mlflow-alias-watcher",
        "detail-type": "MLflow Model Alias Changed",
        "account": "123456789012",
        "time": "2026-11-25T18:30:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def redelivered(event: dict[str, Any]) -> dict[str, Any]:
    """The same event again, as EventBridge redelivers it: same id, same everything."""
    return copy.deepcopy(event)


# ------------------------------------------------------------------------------------------ what AWS says


def mutating(requests: Iterable[AwsRequest]) -> list[tuple[str, str]]:
    return [(request.service, request.operation) for request in requests if request.mutating]


def tags_of(sagemaker: Any, arn: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=arn)["Tags"]}


def serving(cloud: LocalCloud, endpoint: str) -> dict[str, Any]:
    """What endpoint `endpoint` serves: status, config, the model's package (or MLflow files) and tags."""
    sagemaker = cloud.session.client("sagemaker")
    described = sagemaker.describe_endpoint(EndpointName=endpoint)
    config = sagemaker.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
    model = sagemaker.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    container = (model.get("Containers") or [model.get("PrimaryContainer") or {}])[0]
    return {
        "status": described["EndpointStatus"],
        "config": described["EndpointConfigName"],
        "package": container.get("ModelPackageName"),
        "tags": tags_of(sagemaker, described["EndpointArn"]),
    }


def _belongs(name: str, project: str) -> bool:
    return name == project or name.startswith(f"{project}-")


def project_state(cloud: LocalCloud, project: str) -> dict[str, Any]:
    """Everything the control plane keeps for `project`, normalised: the project's name becomes `P`,
    fingerprints `#`, timestamps `T`, durations 0 (so two runs of one scenario under two names compare equal)."""
    sagemaker = cloud.session.client("sagemaker")
    endpoints = {}
    for summary in sagemaker.list_endpoints(MaxResults=100)["Endpoints"]:
        if _belongs(summary["EndpointName"], project):
            described = sagemaker.describe_endpoint(EndpointName=summary["EndpointName"])
            endpoints[summary["EndpointName"]] = {
                "status": described["EndpointStatus"],
                "config": described["EndpointConfigName"],
                "tags": tags_of(sagemaker, described["EndpointArn"]),
            }
    configs = {}
    for summary in sagemaker.list_endpoint_configs(MaxResults=100)["EndpointConfigs"]:
        if _belongs(summary["EndpointConfigName"], project):
            described = sagemaker.describe_endpoint_config(EndpointConfigName=summary["EndpointConfigName"])
            configs[summary["EndpointConfigName"]] = {
                "models": [variant["ModelName"] for variant in described["ProductionVariants"]],
                "shadow": [variant["ModelName"] for variant in described.get("ShadowProductionVariants", [])],
                "tags": tags_of(sagemaker, described["EndpointConfigArn"]),
            }
    models = sorted(
        summary["ModelName"]
        for summary in sagemaker.list_models(MaxResults=100)["Models"]
        if _belongs(summary["ModelName"], project)
    )
    versions = {}
    for group in sagemaker.list_model_package_groups(MaxResults=100)["ModelPackageGroupSummaryList"]:
        if not _belongs(group["ModelPackageGroupName"], project):
            continue
        for summary in sagemaker.list_model_packages(
            ModelPackageGroupName=group["ModelPackageGroupName"], MaxResults=100
        )["ModelPackageSummaryList"]:
            described = sagemaker.describe_model_package(ModelPackageName=summary["ModelPackageArn"])
            versions[summary["ModelPackageArn"]] = {
                "status": described["ModelApprovalStatus"],
                "metadata": described.get("CustomerMetadataProperties", {}),
                "artifact": described["InferenceSpecification"]["Containers"][0]["ModelDataUrl"],
            }
    items = [
        {key: value for key, value in item.items() if key not in _VOLATILE_ITEM_FIELDS}
        for item in _scan(cloud)
        if project in str(item.get("pk", ""))
    ]
    state = {
        "endpoints": endpoints,
        "configs": configs,
        "models": models,
        "versions": versions,
        "items": sorted(items, key=lambda item: json.dumps(item, sort_keys=True, default=str)),
    }
    return normalised(state, project)


# What differs between two runs of the same scenario without meaning anything: when, and run ids.
_VOLATILE_ITEM_FIELDS = {
    *("created_at", "updated_at", "seen_at", "expires_at", "started_at", "finished_at", "claimed_at"),
    "write_token",  # a conditional write's own token (mlops_core.adapters.conditional_writes)
    "event_id",  # which delivery of an event claimed an announcement (redeliveries get new ids)
}
_FINGERPRINT = re.compile(r"-v(\d+)-[0-9a-f]{6,16}\b")
_DIGEST = re.compile(r"\b[0-9a-f]{32,64}\b")  # hashes of something named after the project
_DURATION = re.compile(r'(_ms\\?"\s*:\s*)[0-9.eE+-]+')  # latencies, also inside stored JSON strings
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?")


def normalised(value: Any, project: str) -> Any:
    text = json.dumps(value, sort_keys=True, default=str)
    text = re.sub(rf"\b{re.escape(project)}\b", "P", text)
    text = _FINGERPRINT.sub(r"-v\1-#", text)
    text = _DIGEST.sub("H", text)
    text = _TIMESTAMP.sub("T", text)
    text = _DURATION.sub(r"\g<1>0", text)
    return json.loads(text)


def _scan(cloud: LocalCloud) -> list[dict[str, Any]]:
    table = cloud.session.resource("dynamodb").Table(cloud.outputs["ConfigTableName"])
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"ConsistentRead": True}
    while True:
        page = table.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def dynamodb_tables(cloud: LocalCloud) -> dict[str, list[dict[str, Any]]]:
    """The items of every table of the stack (config and idempotency), for "nothing changed" checks."""
    client = cloud.session.client("dynamodb")
    tables = {}
    for name in client.list_tables()["TableNames"]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": name, "ConsistentRead": True}
        while True:
            page = client.scan(**kwargs)
            items.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        tables[name] = sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    return tables


def slack_headlines(messages: Iterable[dict[str, Any]], project: str) -> list[str]:
    return [normalised(message.get("text", ""), project) for message in messages]
