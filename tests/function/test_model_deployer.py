"""ModelDeployerFunction against moto: create, update, duplicates, stale versions, foreign groups, bad input."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from mlops_local import aws_events
from moto.sagemaker.models import sagemaker_backends

from tests.function.conftest import (
    ACCOUNT,
    REGION,
    STACK,
    DomainEvents,
    approval_event,
    endpoint_tags,
    load_handler_module,
    serving_package,
)


def endpoint_state_event(name: str) -> dict[str, Any]:
    """The `SageMaker Endpoint State Change` of the endpoint's current status, in AWS's shape."""
    endpoint = sagemaker_backends[ACCOUNT][REGION].endpoints[name]
    return aws_events.endpoint_state_change(endpoint, account=ACCOUNT, region=REGION)


@pytest.fixture
def deployer(aws: Any) -> Any:
    return load_handler_module("model_deployer").handler


def test_approval_creates_the_stage_endpoint_from_the_named_version(
    aws, deployer, register, domain_events: DomainEvents, lambda_context
):
    first = register("churn-dev")
    second = register("churn-dev")

    result = deployer(approval_event("churn-dev", 1), lambda_context)

    sagemaker = aws.client("sagemaker")
    assert result["status"] == "started" and result["action"] == "create"
    assert serving_package(sagemaker, "churn-dev") == first != second
    assert endpoint_tags(sagemaker, "churn-dev") == {
        "mlops:project": "churn",
        "mlops:stage": "dev",
        "mlops:managed-by": STACK,
        "mlops:model-package-arn": first,
        "mlops:commit-id": "abc123",
    }
    [started] = domain_events.received
    assert started["source"] == "mlops.model-deployer"
    assert started["detail-type"] == "Deployment Started"
    assert started["detail"]["model_package_version"] == 1
    assert started["detail"]["endpoint_name"] == "churn-dev"
    assert len(started["detail"]["model_name"]) <= 63


def test_newer_approval_updates_the_endpoint_and_housekeeping_then_moves_its_version_tag(
    aws, deployer, register, domain_events, lambda_context, finish_endpoint_changes
):
    first = register("churn-dev")
    second = register("churn-dev")
    deployer(approval_event("churn-dev", 1), lambda_context)
    finish_endpoint_changes()

    result = deployer(approval_event("churn-dev", 2), lambda_context)
    finish_endpoint_changes()

    sagemaker = aws.client("sagemaker")
    assert result["status"] == "started" and result["action"] == "update"
    assert serving_package(sagemaker, "churn-dev") == second
    # The update itself does not re-tag the endpoint (it stays within six calls) ...
    assert endpoint_tags(sagemaker, "churn-dev")["mlops:model-package-arn"] == first
    # ... housekeeping does, once the endpoint serves the new version.
    tidied = deployer(endpoint_state_event("churn-dev"), lambda_context)
    assert tidied["status"] == "tidied"
    assert endpoint_tags(sagemaker, "churn-dev")["mlops:model-package-arn"] == second
    assert domain_events.detail_types() == ["Deployment Started", "Deployment Started"]


def test_a_rejection_rolls_back_to_the_newest_older_approved_version_behind_more_than_a_page_of_newer_ones(
    aws, deployer, register, lambda_context, finish_endpoint_changes
):
    """ListModelPackages returns at most 100 versions a call: the rollback target, older than the
    rejected version, is on the second page of the approved versions, newest first."""
    first = register("churn-dev")
    second = register("churn-dev")
    deployer(approval_event("churn-dev", 2), lambda_context)
    finish_endpoint_changes()
    for _ in range(101):  # approved later, not (yet) deployed
        register("churn-dev")
    sagemaker = aws.client("sagemaker")
    sagemaker.update_model_package(ModelPackageArn=second, ModelApprovalStatus="Rejected")

    result = deployer(approval_event("churn-dev", 2, status="Rejected"), lambda_context)
    finish_endpoint_changes()

    assert result["status"] == "rolled-back"
    assert serving_package(sagemaker, "churn-dev") == first


def test_same_event_three_times_creates_one_model_and_one_config(
    aws, deployer, register, domain_events, lambda_context
):
    register("churn-dev")
    event = approval_event("churn-dev", 1)

    results = [deployer(copy.deepcopy(event), lambda_context) for _ in range(3)]

    sagemaker = aws.client("sagemaker")
    assert len(sagemaker.list_models()["Models"]) == 1
    assert len(sagemaker.list_endpoint_configs()["EndpointConfigs"]) == 1
    assert results[0] == results[1] == results[2]
    assert domain_events.detail_types() == ["Deployment Started"]


def test_redelivery_under_a_new_event_id_is_skipped_as_already_deployed(
    aws, deployer, register, domain_events, lambda_context
):
    register("churn-dev")
    deployer(approval_event("churn-dev", 1, event_id="first"), lambda_context)

    result = deployer(approval_event("churn-dev", 1, event_id="second"), lambda_context)

    assert result["status"] == "skipped" and result["reason"] == "already-deployed"
    assert len(aws.client("sagemaker").list_endpoint_configs()["EndpointConfigs"]) == 1
    assert domain_events.detail_types() == ["Deployment Started", "Deployment Skipped"]


def test_an_approval_older_than_the_live_version_is_skipped_as_stale(
    aws, deployer, register, domain_events, lambda_context, finish_endpoint_changes
):
    register("churn-dev")
    second = register("churn-dev")
    deployer(approval_event("churn-dev", 2), lambda_context)
    finish_endpoint_changes()

    result = deployer(approval_event("churn-dev", 1), lambda_context)

    assert result["status"] == "skipped" and result["reason"] == "stale"
    assert serving_package(aws.client("sagemaker"), "churn-dev") == second
    skipped = domain_events.received[-1]
    assert skipped["detail-type"] == "Deployment Skipped"
    assert skipped["detail"]["live_model_package_arn"] == second


@pytest.mark.parametrize(
    ("group", "why"),
    [
        ("churn-models", "naming contract"),
        ("churn-prod", "not deployed by this stack"),
        ("-dev", "naming contract"),
    ],
)
def test_foreign_groups_and_undeployed_stages_are_ignored_with_a_reason(
    aws, deployer, register, domain_events, lambda_context, group, why
):
    result = deployer(approval_event(group, 1), lambda_context)

    assert result["status"] == "ignored" and why in result["reason"]
    assert aws.client("sagemaker").list_endpoints()["Endpoints"] == []
    assert domain_events.received == []


def test_an_endpoint_the_stack_does_not_manage_is_left_alone(
    aws, deployer, register, domain_events, lambda_context
):
    register("churn-dev")
    sagemaker = aws.client("sagemaker")
    sagemaker.create_model(ModelName="hand-made", ExecutionRoleArn="arn:aws:iam::123456789012:role/r")
    sagemaker.create_endpoint_config(
        EndpointConfigName="hand-made",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "hand-made",
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName="churn-dev", EndpointConfigName="hand-made")

    result = deployer(approval_event("churn-dev", 1), lambda_context)

    assert result["status"] == "failed" and "not managed by stack" in result["reason"]
    assert sagemaker.describe_endpoint(EndpointName="churn-dev")["EndpointConfigName"] == "hand-made"
    assert domain_events.detail_types() == ["Deployment Failed"]


def _malformed_events() -> list[Any]:
    good = approval_event("churn-dev", 1)
    no_arn = copy.deepcopy(good)
    del no_arn["detail"]["ModelPackageArn"]
    wrong_version = copy.deepcopy(good)
    wrong_version["detail"]["ModelPackageVersion"] = 7
    bad_status = copy.deepcopy(good)
    bad_status["detail"]["ModelApprovalStatus"] = "Maybe"
    no_id = copy.deepcopy(good)
    del no_id["id"]
    return [{}, [], "text", {"detail-type": "Something Else"}, no_arn, wrong_version, bad_status, no_id]


@pytest.mark.parametrize("event", _malformed_events())
def test_malformed_events_are_logged_as_invalid_and_change_nothing(
    aws, deployer, register, domain_events, lambda_context, caplog, event
):
    register("churn-dev")

    result = deployer(event, lambda_context)

    assert result == {"status": "invalid"}
    assert any(r.levelname == "ERROR" and r.getMessage().startswith("Invalid event") for r in caplog.records)
    sagemaker = aws.client("sagemaker")
    assert sagemaker.list_models()["Models"] == []
    assert sagemaker.list_endpoints()["Endpoints"] == []
    assert domain_events.received == []
