"""ModelDeployerFunction against moto with the Model Registry in another account (docs/cross-account.md).

Two accounts in one moto: the prod account (the stack, its endpoints; the function's credentials)
and a registry account (the model groups and versions, reached through an assumed role, as a pipeline
in that account would). The approval events are the registry account's, forwarded to the prod
account's bus.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError
from mlops_core.adapters.aws_clients import ClientFactory
from mlops_local import aws_events
from moto.sagemaker.models import sagemaker_backends

from tests.function.conftest import (
    ACCOUNT,
    REGION,
    STACK,
    Requests,
    approval_event,
    endpoint_tags,
    load_handler_module,
    serving_package,
)

PROD = ACCOUNT
REGISTRY = "210987654321"
LINEAGE = {
    "MetadataProperties": {"CommitId": "abc123"},
    "CustomerMetadataProperties": {"mlops:dataset": "s3://data/churn/2026-11-01"},
    "ModelMetrics": {
        "ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": "s3://m/q"}}
    },
}
INFERENCE = {
    "Containers": [
        {"Image": f"{REGISTRY}.dkr.ecr.{REGION}.amazonaws.com/xgboost:1", "ModelDataUrl": "s3://b/m"}
    ],
    "SupportedContentTypes": ["text/csv"],
    "SupportedResponseMIMETypes": ["text/csv"],
}


def group_policy(group: str, account: str = PROD) -> str:
    """The resource policy docs/cross-account.md puts on each production model group."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ProdAccountDeploys",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": [
                        "sagemaker:DescribeModelPackageGroup",
                        "sagemaker:DescribeModelPackage",
                        "sagemaker:ListModelPackages",
                        "sagemaker:CreateModel",
                    ],
                    "Resource": [
                        f"arn:aws:sagemaker:{REGION}:{REGISTRY}:model-package-group/{group}",
                        f"arn:aws:sagemaker:{REGION}:{REGISTRY}:model-package/{group}/*",
                    ],
                }
            ],
        }
    )


@pytest.fixture
def registry(aws: boto3.session.Session) -> Any:
    """SageMaker in the registry account (credentials of a role there)."""
    credentials = aws.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{REGISTRY}:role/model-registry-admin", RoleSessionName="pipeline"
    )["Credentials"]
    session = boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )
    return session.client("sagemaker")


@pytest.fixture
def version(registry: Any) -> Callable[..., str]:
    """Register an approved version in the registry account (the group shared with prod on first use)."""
    groups: set[str] = set()

    def register(group: str = "churn-prod", *, shared: bool = True) -> str:
        if group not in groups:
            registry.create_model_package_group(ModelPackageGroupName=group)
            if shared:
                registry.put_model_package_group_policy(
                    ModelPackageGroupName=group, ResourcePolicy=group_policy(group)
                )
            groups.add(group)
        arn: str = registry.create_model_package(
            ModelPackageGroupName=group,
            ModelApprovalStatus="Approved",
            InferenceSpecification=INFERENCE,
            **LINEAGE,
        )["ModelPackageArn"]
        return arn

    return register


@pytest.fixture
def requests(aws: boto3.session.Session) -> Requests:
    recorder = Requests()
    aws.events.register("provide-client-params.sagemaker.*", recorder)
    return recorder


@pytest.fixture
def deploy(
    aws: boto3.session.Session, requests: Requests, monkeypatch: pytest.MonkeyPatch, lambda_context: Any
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The deployer of the prod account's stack (its clients record their requests)."""
    monkeypatch.setenv("DEPLOYED_STAGES", "prod,champion,challenger")
    monkeypatch.setenv("REGISTRY_ACCOUNT_IDS", f"{PROD},{REGISTRY}")  # the template, with RegistryAccountId
    handler = load_handler_module("model_deployer").handler
    handler._clients = ClientFactory(aws)

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        requests.calls.clear()
        result: dict[str, Any] = handler(event, lambda_context)
        return result

    return invoke


def foreign_event(group: str, number: int, *, status: str = "Approved", event_id: str = "") -> dict[str, Any]:
    """The registry account's `SageMaker Model Package State Change`, as forwarded to prod's bus."""
    event = approval_event(group, number, status=status, event_id=event_id or f"{group}-{number}-{status}-x")
    arn = f"arn:aws:sagemaker:{REGION}:{REGISTRY}:model-package/{group}/{number}"
    event["account"] = REGISTRY
    event["resources"] = [arn]
    event["detail"]["ModelPackageArn"] = arn
    return event


def in_service_event(name: str) -> dict[str, Any]:
    endpoint = sagemaker_backends[PROD][REGION].endpoints[name]
    return aws_events.endpoint_state_change(endpoint, account=PROD, region=REGION)


def test_an_approval_in_the_registry_account_deploys_the_foreign_version_to_the_prod_endpoint(
    aws, deploy, requests, version
):
    first = version()

    result = deploy(foreign_event("churn-prod", 1))

    sagemaker = aws.client("sagemaker")
    assert first.startswith(f"arn:aws:sagemaker:{REGION}:{REGISTRY}:model-package/churn-prod/")
    assert result["status"] == "started" and result["action"] == "create"
    [create_model] = requests.named("CreateModel")
    assert create_model["Containers"] == [{"ModelPackageName": first}]
    assert serving_package(sagemaker, "churn-prod") == first
    assert sagemaker.describe_endpoint(EndpointName="churn-prod")["EndpointArn"].split(":")[4] == PROD
    assert endpoint_tags(sagemaker, "churn-prod")["mlops:model-package-arn"] == first
    assert endpoint_tags(sagemaker, "churn-prod")["mlops:managed-by"] == STACK


def test_without_the_groups_resource_policy_the_prod_account_is_denied_and_nothing_is_created(
    aws, deploy, version
):
    version(shared=False)

    with pytest.raises(ClientError, match="AccessDeniedException"):
        deploy(foreign_event("churn-prod", 1))

    assert aws.client("sagemaker").list_models()["Models"] == []


@pytest.mark.parametrize(
    ("account", "region", "why"),
    [
        ("333333333333", REGION, "is in account 333333333333, whose registry this stack does not read"),
        (
            REGISTRY,
            "eu-west-1",
            f"is in region eu-west-1; this stack deploys versions of its own region ({REGION})",
        ),
    ],
)
def test_a_version_of_an_unread_account_or_another_region_fails_at_once_and_changes_nothing(
    aws, deploy, requests, domain_events, account, region, why
):
    event = foreign_event("churn-prod", 1)
    arn = f"arn:aws:sagemaker:{region}:{account}:model-package/churn-prod/1"
    event["detail"]["ModelPackageArn"] = arn

    result = deploy(event)

    assert result["status"] == "failed"
    assert why in result["reason"]
    assert requests.operations() == []  # nothing asked of SageMaker, so nothing retried
    assert domain_events.detail_types() == ["Deployment Failed"]


def test_rejecting_the_live_foreign_version_rolls_back_to_the_previous_foreign_version(
    aws, deploy, requests, registry, version, finish_endpoint_changes
):
    first, second = version(), version()
    deploy(foreign_event("churn-prod", 1))
    finish_endpoint_changes()
    deploy(foreign_event("churn-prod", 2))
    finish_endpoint_changes()
    registry.update_model_package(ModelPackageArn=second, ModelApprovalStatus="Rejected")

    result = deploy(foreign_event("churn-prod", 2, status="Rejected"))

    assert result["status"] == "rolled-back"
    [listed] = requests.named("ListModelPackages")
    assert (
        listed["ModelPackageGroupName"]
        == f"arn:aws:sagemaker:{REGION}:{REGISTRY}:model-package-group/churn-prod"
    )
    assert [call["Containers"] for call in requests.named("CreateModel")] == [[{"ModelPackageName": first}]]
    finish_endpoint_changes()
    assert serving_package(aws.client("sagemaker"), "churn-prod") == first


def test_a_stale_foreign_approval_is_skipped_naming_the_live_foreign_version(
    aws, deploy, version, finish_endpoint_changes
):
    version()
    second = version()
    deploy(foreign_event("churn-prod", 2))
    finish_endpoint_changes()

    result = deploy(foreign_event("churn-prod", 1))

    assert result["status"] == "skipped" and result["reason"] == "stale"
    assert serving_package(aws.client("sagemaker"), "churn-prod") == second
    assert len(aws.client("sagemaker").list_models()["Models"]) == 1


def test_rejecting_a_foreign_version_that_is_not_live_changes_nothing(
    aws, deploy, requests, registry, version, finish_endpoint_changes
):
    first, second = version(), version()
    deploy(foreign_event("churn-prod", 2))
    finish_endpoint_changes()
    registry.update_model_package(ModelPackageArn=first, ModelApprovalStatus="Rejected")

    result = deploy(foreign_event("churn-prod", 1, status="Rejected"))

    assert result["status"] == "ignored" and "is not live on churn-prod" in result["reason"]
    assert requests.named("CreateModel") == [] and requests.named("UpdateEndpoint") == []
    assert serving_package(aws.client("sagemaker"), "churn-prod") == second


def test_housekeeping_moves_the_endpoints_version_tag_to_the_foreign_version_it_serves(
    aws, deploy, version, finish_endpoint_changes
):
    first, second = version(), version()
    deploy(foreign_event("churn-prod", 1))
    finish_endpoint_changes()
    deploy(foreign_event("churn-prod", 2))
    finish_endpoint_changes()
    sagemaker = aws.client("sagemaker")
    assert endpoint_tags(sagemaker, "churn-prod")["mlops:model-package-arn"] == first

    tidied = deploy(in_service_event("churn-prod"))

    assert tidied["status"] == "tidied"
    assert tidied["retagged"] == {"mlops:model-package-arn": second}
    assert endpoint_tags(sagemaker, "churn-prod")["mlops:model-package-arn"] == second


def test_a_foreign_challenger_shadows_the_champion_and_its_rejection_removes_the_shadow(
    aws, deploy, registry, version, finish_endpoint_changes
):
    serializer = TypeSerializer()
    record = {
        "pk": "PROJECT#churn",
        "sk": "META",
        "project": "churn",
        "deployment_defaults": {"challenger": {"strategy": "shadow", "shadow_sampling_percentage": 25}},
    }
    aws.client("dynamodb").put_item(
        TableName="mlops-config", Item={k: serializer.serialize(v) for k, v in record.items()}
    )
    version("churn-champion")
    challenger = version("churn-challenger")
    deploy(foreign_event("churn-champion", 1))
    finish_endpoint_changes()
    assert deploy(foreign_event("churn-challenger", 1))["action"] == "update"
    finish_endpoint_changes()

    again = deploy(foreign_event("churn-challenger", 1, event_id="redelivered"))
    registry.update_model_package(ModelPackageArn=challenger, ModelApprovalStatus="Rejected")
    removed = deploy(foreign_event("churn-challenger", 1, status="Rejected"))

    assert again["status"] == "skipped" and again["reason"] == "already-deployed"
    assert removed["status"] == "rolled-back" and removed["action"] == "remove-shadow"
    finish_endpoint_changes()
    sagemaker = aws.client("sagemaker")
    config_name = sagemaker.describe_endpoint(EndpointName="churn-champion")["EndpointConfigName"]
    config = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)
    assert not config.get("ShadowProductionVariants")


def test_in_one_account_the_rollback_still_lists_the_group_by_name(
    aws, deploy, requests, finish_endpoint_changes
):
    sagemaker = aws.client("sagemaker")
    sagemaker.create_model_package_group(ModelPackageGroupName="churn-prod")
    arns = [
        sagemaker.create_model_package(
            ModelPackageGroupName="churn-prod",
            ModelApprovalStatus="Approved",
            InferenceSpecification=INFERENCE,
            **LINEAGE,
        )["ModelPackageArn"]
        for _ in range(2)
    ]
    deploy(approval_event("churn-prod", 1))
    finish_endpoint_changes()
    deploy(approval_event("churn-prod", 2))
    finish_endpoint_changes()
    sagemaker.update_model_package(ModelPackageArn=arns[1], ModelApprovalStatus="Rejected")

    result = deploy(approval_event("churn-prod", 2, status="Rejected"))

    assert result["status"] == "rolled-back"
    assert [call["ModelPackageGroupName"] for call in requests.named("ListModelPackages")] == ["churn-prod"]
    assert requests.named("CreateModel")[0]["Containers"] == [{"ModelPackageName": arns[0]}]
