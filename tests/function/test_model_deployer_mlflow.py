"""ModelDeployerFunction against moto: MLflow alias changes ride on the deployer's one flow (exact
CreateModel container, six calls per update, deferral re-validated against the alias when applied,
failed endpoints, the alias removed from the live version)."""

# ruff: noqa: F811 - the deployer fixtures are shared with test_model_deployer_strategies

from __future__ import annotations

import uuid
from typing import Any

from mlops_local import endpoints
from moto.sagemaker.models import sagemaker_backends

from tests.function.conftest import ACCOUNT, EXECUTION_ROLE, REGION, STACK
from tests.function.test_model_deployer import endpoint_state_event
from tests.function.test_model_deployer_races import pending
from tests.function.test_model_deployer_strategies import (  # noqa: F401 - fixtures used by name
    deploy,
    only,
    project,
    requests,
)

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlflow-pyfunc:3.1"


def source(version: int) -> str:
    return f"s3://models/churn/{version}"


def alias_event(new: int | None, old: int | None = None, *, alias: str = "prod") -> dict[str, Any]:
    """`MLflow Model Alias Changed` as the watcher emits it (and records the alias state first)."""
    detail: dict[str, Any] = {"project": "churn", "stage": alias, "model": "churn", "alias": alias}
    detail |= {"old_version": old, "new_version": new, "trigger": "poll"}
    if new is not None:
        detail |= {"source_uri": source(new), "tags": {"git_commit": "c0ffee"}}
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "MLflow Model Alias Changed",
        "source": "mlops.mlflow-alias-watcher", "account": ACCOUNT, "time": "2026-11-25T18:30:00Z",
        "region": REGION, "resources": [], "detail": detail,
    }  # fmt: skip


def set_alias(aws: Any, version: int | None, alias: str = "prod") -> None:
    """The watcher's last seen state of the alias (config table MLFLOW#{model} / ALIAS#{alias})."""
    dynamodb = aws.client("dynamodb")
    key = {"pk": {"S": "MLFLOW#churn"}, "sk": {"S": f"ALIAS#{alias}"}}
    if version is None:
        dynamodb.delete_item(TableName="mlops-config", Key=key)
    else:
        item = {**key, "model": {"S": "churn"}, "alias": {"S": alias}, "version": {"N": str(version)}}
        dynamodb.put_item(TableName="mlops-config", Item=item)


def assign(aws: Any, deploy: Any, version: int, old: int | None = None) -> dict[str, Any]:
    set_alias(aws, version)
    return deploy(alias_event(version, old))


def serving(aws: Any, endpoint: str = "churn-prod") -> str:
    """The S3 prefix the endpoint's model serves."""
    sagemaker = aws.client("sagemaker")
    config = sagemaker.describe_endpoint_config(
        EndpointConfigName=sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    )
    model = sagemaker.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    return str(model["PrimaryContainer"]["ModelDataSource"]["S3DataSource"]["S3Uri"])


def mlflow_project(project: Any, deployment: dict[str, Any] | None = None) -> None:
    project(deployment or {}, registry_backend="mlflow", mlflow_serving_image=IMAGE)


def test_an_alias_creates_the_endpoint_with_the_serving_image_on_the_versions_s3_files(
    aws, deploy, requests, project, domain_events
):
    mlflow_project(project)

    result = assign(aws, deploy, 3)

    assert (result["status"], result["action"]) == ("started", "create")
    tags = [
        {"Key": "mlops:project", "Value": "churn"},
        {"Key": "mlops:stage", "Value": "prod"},
        {"Key": "mlops:managed-by", "Value": STACK},
        {"Key": "mlops:mlflow-model-version", "Value": "models:/churn/3"},
    ]
    create_model = only(requests.named("CreateModel"))
    assert create_model == {
        "ModelName": create_model["ModelName"],
        "ExecutionRoleArn": EXECUTION_ROLE,
        "PrimaryContainer": {
            "Image": IMAGE,
            "ModelDataSource": {
                "S3DataSource": {
                    "S3Uri": "s3://models/churn/3/",
                    "S3DataType": "S3Prefix",
                    "CompressionType": "None",
                }
            },
        },
        "Tags": tags,
    }
    assert create_model["ModelName"].startswith("churn-prod-v3-")
    assert only(requests.named("CreateEndpoint"))["Tags"] == tags
    [started] = domain_events.received
    assert (started["detail-type"], started["detail"]["model_package_arn"]) == (
        "Deployment Started",
        "models:/churn/3",
    )


def test_an_alias_move_is_an_update_of_at_most_six_aws_calls(
    aws, deploy, requests, project, finish_endpoint_changes
):
    mlflow_project(project)
    assign(aws, deploy, 1)
    first_config = aws.client("sagemaker").describe_endpoint(EndpointName="churn-prod")["EndpointConfigName"]
    finish_endpoint_changes()

    assert assign(aws, deploy, 2, old=1)["action"] == "update"

    domain_calls = [op for op in requests.operations() if op not in {"PutItem", "UpdateItem", "DeleteItem"}]
    assert domain_calls == [
        "GetItem",  # the project record (settings and serving image)
        "Query",  # the alias's last seen version: is this version still current?
        "Search",  # the endpoint with its tags
        "CreateModel",
        "CreateEndpointConfig",
        "UpdateEndpoint",
    ]
    config_tags = {t["Key"]: t["Value"] for t in only(requests.named("CreateEndpointConfig"))["Tags"]}
    assert config_tags["mlops:previous-endpoint-config"] == first_config
    finish_endpoint_changes()
    assert serving(aws) == source(2) + "/"


def test_an_event_for_a_version_the_alias_no_longer_names_is_stale(aws, deploy, requests, project):
    mlflow_project(project)
    set_alias(aws, 4)

    result = deploy(alias_event(3))

    assert (result["status"], result["reason"]) == ("skipped", "stale")
    assert "CreateModel" not in requests.operations()


def test_a_busy_endpoint_defers_the_version_and_in_service_applies_it_if_the_alias_still_names_it(
    aws, deploy, project, domain_events, finish_endpoint_changes
):
    mlflow_project(project)
    assign(aws, deploy, 1)  # Creating

    deferred = assign(aws, deploy, 2, old=1)
    assert deferred["status"] == "deferred" and pending(aws, "churn-prod")["model_package_version"] == {
        "N": "2"
    }
    finish_endpoint_changes()
    applied = deploy(endpoint_state_event("churn-prod"))

    assert (applied["status"], applied["action"]) == ("started", "update")
    assert pending(aws, "churn-prod") is None
    finish_endpoint_changes()
    assert serving(aws) == source(2) + "/"
    assert domain_events.detail_types() == ["Deployment Started", "Deployment Deferred", "Deployment Started"]


def test_a_deferred_version_the_alias_moved_away_from_is_dropped_as_stale(
    aws, deploy, project, domain_events, finish_endpoint_changes
):
    mlflow_project(project)
    assign(aws, deploy, 1)  # Creating
    assert assign(aws, deploy, 2, old=1)["status"] == "deferred"
    set_alias(aws, 3)  # moved again; its own event has not arrived yet
    finish_endpoint_changes()

    result = deploy(endpoint_state_event("churn-prod"))

    assert result["status"] == "tidied" and result["pending"]["applied"][0]["reason"] == "stale"
    assert pending(aws, "churn-prod") is None
    assert serving(aws) == source(1) + "/"
    assert "Deployment Started" not in domain_events.detail_types()[1:]


def test_an_alias_moved_back_while_the_endpoint_is_busy_deploys_the_older_version(
    aws, deploy, project, finish_endpoint_changes
):
    mlflow_project(project)
    assign(aws, deploy, 1)
    finish_endpoint_changes()
    assign(aws, deploy, 3, old=1)  # Updating to v3
    assert assign(aws, deploy, 4, old=3)["status"] == "deferred"

    moved_back = assign(aws, deploy, 2, old=4)  # a deliberate rollback by the user: not stale

    assert moved_back["status"] == "deferred"
    assert pending(aws, "churn-prod")["model_package_version"] == {"N": "2"}  # the last decision wins
    finish_endpoint_changes()
    assert deploy(endpoint_state_event("churn-prod"))["action"] == "update"
    finish_endpoint_changes()
    assert serving(aws) == source(2) + "/"


def test_a_failed_endpoint_is_deleted_and_recreated_like_for_registry_versions(
    aws, deploy, requests, project, domain_events
):
    mlflow_project(project)
    assign(aws, deploy, 1)
    endpoints.fail(sagemaker_backends[ACCOUNT][REGION].endpoints["churn-prod"], "CapacityError")

    result = assign(aws, deploy, 2, old=1)

    operations = requests.operations()
    assert "UpdateEndpoint" not in operations
    assert operations.index("DeleteEndpoint") < operations.index("CreateEndpoint")
    assert (result["status"], result["action"]) == ("started", "create")
    assert domain_events.detail_types()[-2:] == ["Deployment Deferred", "Deployment Started"]
    assert serving(aws) == source(2) + "/"


def test_a_version_pending_when_the_endpoint_fails_recreates_it(aws, deploy, project, domain_events):
    mlflow_project(project)
    assign(aws, deploy, 1)  # Creating
    assert assign(aws, deploy, 2, old=1)["status"] == "deferred"
    endpoints.fail(sagemaker_backends[ACCOUNT][REGION].endpoints["churn-prod"], "CapacityError")

    result = deploy(endpoint_state_event("churn-prod"))

    assert result["status"] == "failed" and result["pending"]["action"] == "create"
    failed = domain_events.received[-2]
    assert (failed["detail-type"], failed["detail"]["model_package_arn"]) == (
        "Deployment Failed",
        "models:/churn/1",  # what the failed endpoint was deploying
    )
    assert serving(aws) == source(2) + "/"
    assert pending(aws, "churn-prod") is None


def test_removing_the_alias_from_the_live_version_goes_back_to_the_previous_config(
    aws, deploy, requests, project, domain_events, finish_endpoint_changes
):
    mlflow_project(project)
    assign(aws, deploy, 1)
    finish_endpoint_changes()
    assign(aws, deploy, 2, old=1)
    finish_endpoint_changes()
    housekept = deploy(endpoint_state_event("churn-prod"))
    assert housekept["retagged"] == {"mlops:mlflow-model-version": "models:/churn/2"}
    set_alias(aws, None)

    result = deploy(alias_event(None, old=2))

    assert result["status"] == "rolled-back"
    assert "AddTags" not in requests.operations()
    event = domain_events.received[-1]
    assert (event["detail-type"], event["detail"]["trigger"]) == ("Deployment Rolled Back", "alias-removed")
    assert (event["detail"]["rolled_back_model_package_arn"], event["detail"]["model_package_arn"]) == (
        "models:/churn/2",
        "models:/churn/1",
    )
    finish_endpoint_changes()
    assert serving(aws) == source(1) + "/"
    tidied = deploy(endpoint_state_event("churn-prod"))
    assert tidied["retagged"] == {"mlops:mlflow-model-version": "models:/churn/1"}


def test_an_alias_removed_while_the_endpoint_is_busy_is_rolled_back_when_it_is_in_service(
    aws, deploy, project, domain_events, finish_endpoint_changes
):
    mlflow_project(project)
    assign(aws, deploy, 1)
    finish_endpoint_changes()
    assign(aws, deploy, 2, old=1)
    finish_endpoint_changes()
    endpoints.set_status(sagemaker_backends[ACCOUNT][REGION].endpoints["churn-prod"], "Updating")
    set_alias(aws, None)

    deferred = deploy(alias_event(None, old=2))
    assert deferred["status"] == "deferred"
    finish_endpoint_changes()
    applied = deploy(endpoint_state_event("churn-prod"))

    assert applied["status"] == "rolled-back"
    finish_endpoint_changes()
    assert serving(aws) == source(1) + "/"
    assert pending(aws, "churn-prod") is None
