"""EndpointTesterFunction against moto and the local inference server: it runs the suite against the
real demo model, records the outcome, rejects a failing dev version when the project asks, and tests a
deployment once however often its IN_SERVICE event arrives."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from mlops_core.suite_tool import write_suite
from mlops_local.aws_events import endpoint_state_change
from mlops_local.demo_model import BROKEN_MODEL, DEMO_SUITE, GOOD_MODEL, register_demo_version
from mlops_local.inference import InferenceServer
from moto.sagemaker.models import sagemaker_backends

from tests.function.conftest import ACCOUNT, REGION, STACK, DomainEvents, load_handler_module

CONFIG_TABLE = "mlops-config"
SUITE = {key: value for key, value in DEMO_SUITE.items() if key != "load"}  # cases only: fast


@pytest.fixture
def tester(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    dynamodb = aws.client("dynamodb")
    if CONFIG_TABLE not in dynamodb.list_tables()["TableNames"]:
        _create_config_table(dynamodb)
    monkeypatch.setenv("TEST_RUN_RETENTION_DAYS", "7")
    with InferenceServer(account=ACCOUNT, region=REGION) as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", server.url)
        yield load_handler_module("endpoint_tester").handler


def _create_config_table(dynamodb: Any) -> None:
    dynamodb.create_table(
        TableName=CONFIG_TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def serve(aws: Any, endpoint: str, model: dict, finish, *, managed: bool = True) -> tuple[str, dict]:
    """Deploy a version of the demo model as the deployer would; the endpoint's IN_SERVICE event."""
    sagemaker = aws.client("sagemaker")
    arn = register_demo_version(aws, endpoint, model)
    sagemaker.update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved", CustomerMetadataProperties={"owner": "jane"}
    )
    tags = [{"Key": "mlops:managed-by", "Value": STACK}] if managed else [{"Key": "team", "Value": "x"}]
    name = f"{endpoint}-{arn.rsplit('/', 1)[1]}"
    sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/r",
        Containers=[{"ModelPackageName": arn}],
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": name,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=name, Tags=tags)
    finish()
    event = endpoint_state_change(
        sagemaker_backends[ACCOUNT][REGION].endpoints[endpoint], account=ACCOUNT, region=REGION
    )
    return arn, event


def test_a_failing_dev_version_is_recorded_and_rejected_when_the_project_asks(
    aws, tester, finish_endpoint_changes, domain_events: DomainEvents, lambda_context
):
    dynamodb = aws.client("dynamodb")
    write_suite(dynamodb, CONFIG_TABLE, "churn-dev", SUITE, source="suite.yaml")
    dynamodb.put_item(
        TableName=CONFIG_TABLE,
        Item={"pk": {"S": "PROJECT#churn"}, "sk": {"S": "META"}, "reject_on_test_failure": {"BOOL": True}},
    )
    arn, event = serve(aws, "churn-dev", BROKEN_MODEL, finish_endpoint_changes)

    result = tester(event, lambda_context)

    assert result["status"] == "failed"
    package = aws.client("sagemaker").describe_model_package(ModelPackageName=arn)
    assert package["ModelApprovalStatus"] == "Rejected"
    assert "churner-leaves" in package["ApprovalDescription"]
    metadata = package["CustomerMetadataProperties"]
    assert metadata["owner"] == "jane"  # merged, not replaced
    assert metadata["mlops:integration-tests"] == "failed"
    assert metadata["mlops:integration-tests-run-id"] == result["run_id"]
    [completed] = [e for e in domain_events.received if e["detail-type"] == "Integration Tests Completed"]
    assert completed["source"] == "mlops.endpoint-tester"
    assert completed["detail"]["version_rejected"] is True
    run = dynamodb.get_item(
        TableName=CONFIG_TABLE,
        Key={"pk": {"S": "ENDPOINT#churn-dev"}, "sk": {"S": "RUN#" + result["run_id"]}},
    )["Item"]
    assert run["outcome"] == {"S": "failed"}
    assert json.loads(run["result"]["S"])["cases"][0]["name"] == "churner-leaves"


def test_a_passing_version_is_left_approved_and_a_duplicate_in_service_runs_nothing(
    aws, tester, finish_endpoint_changes, domain_events: DomainEvents, lambda_context
):
    write_suite(aws.client("dynamodb"), CONFIG_TABLE, "churn-dev", SUITE, source="suite.yaml")
    arn, event = serve(aws, "churn-dev", GOOD_MODEL, finish_endpoint_changes)

    first = tester(event, lambda_context)
    second = tester({**event, "id": "another-delivery"}, lambda_context)

    assert first["status"] == "passed"
    assert second["status"] == "skipped" and "already tested" in second["reason"]
    assert (
        aws.client("sagemaker").describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"]
        == "Approved"
    )
    assert domain_events.detail_types().count("Integration Tests Completed") == 1


def test_an_endpoint_the_stack_does_not_manage_is_not_tested(
    aws, tester, finish_endpoint_changes, lambda_context
):
    _, event = serve(aws, "churn-dev", GOOD_MODEL, finish_endpoint_changes, managed=False)

    assert tester(event, lambda_context)["status"] == "ignored"


def test_a_run_that_raises_releases_its_claim_so_lambdas_retry_runs_the_suite(
    aws, tester, finish_endpoint_changes, lambda_context
):
    dynamodb = aws.client("dynamodb")
    _, event = serve(aws, "churn-dev", GOOD_MODEL, finish_endpoint_changes)
    dynamodb.put_item(  # a suite the tool would never write: reading it fails the invocation
        TableName=CONFIG_TABLE,
        Item={"pk": {"S": "ENDPOINT#churn-dev"}, "sk": {"S": "TESTS"}, "suite": {"S": "{not json"}},
    )
    with pytest.raises(ValueError, match="Invalid JSON"):
        tester(event, lambda_context)
    write_suite(dynamodb, CONFIG_TABLE, "churn-dev", SUITE, source="suite.yaml")

    retried = tester(event, lambda_context)

    assert retried["status"] == "passed"


def claim_of(aws: Any, endpoint: str, config: str) -> dict | None:
    return (
        aws.client("dynamodb")
        .get_item(
            TableName=CONFIG_TABLE, Key={"pk": {"S": f"ENDPOINT#{endpoint}"}, "sk": {"S": f"TESTED#{config}"}}
        )
        .get("Item")
    )


def test_an_event_ignored_because_the_endpoint_is_busy_claims_nothing_so_the_next_one_runs(
    aws, tester, finish_endpoint_changes, domain_events: DomainEvents, lambda_context
):
    write_suite(aws.client("dynamodb"), CONFIG_TABLE, "churn-dev", SUITE, source="suite.yaml")
    _, event = serve(aws, "churn-dev", GOOD_MODEL, finish_endpoint_changes)
    live = sagemaker_backends[ACCOUNT][REGION].endpoints["churn-dev"]
    live.endpoint_status = "Updating"  # a newer deployment started after this IN_SERVICE was sent

    busy = tester(event, lambda_context)

    assert busy["status"] == "ignored" and "Updating" in busy["reason"]
    assert claim_of(aws, "churn-dev", live.endpoint_config_name) is None
    live.endpoint_status = "InService"
    assert tester({**event, "id": "the-next-in-service"}, lambda_context)["status"] == "passed"
    claim = claim_of(aws, "churn-dev", live.endpoint_config_name)
    assert claim is not None and claim["state"] == {"S": "tested"}
    assert domain_events.detail_types().count("Integration Tests Completed") == 1


@pytest.mark.parametrize(("lease_left_seconds", "status"), [(-1, "passed"), (120, "skipped")])
def test_a_claim_left_by_a_killed_run_is_taken_over_once_its_lease_has_expired(
    aws, tester, finish_endpoint_changes, lambda_context, lease_left_seconds, status
):
    write_suite(aws.client("dynamodb"), CONFIG_TABLE, "churn-dev", SUITE, source="suite.yaml")
    _, event = serve(aws, "churn-dev", GOOD_MODEL, finish_endpoint_changes)
    config = event["detail"]["EndpointConfigName"]
    now = int(time.time())
    aws.client("dynamodb").put_item(  # what a run killed at the Lambda timeout leaves behind
        TableName=CONFIG_TABLE,
        Item={
            "pk": {"S": "ENDPOINT#churn-dev"},
            "sk": {"S": f"TESTED#{config}"},
            "state": {"S": "running"},
            "claimed_at": {"N": str(now - 400)},
            "expires_at": {"N": str(now + lease_left_seconds)},
        },
    )

    retried = tester(event, lambda_context)

    assert retried["status"] == status
    if status == "skipped":
        assert retried["reason"] == f"deployment {config} of churn-dev is being tested"
    else:
        assert claim_of(aws, "churn-dev", config)["run_id"] == {"S": retried["run_id"]}
