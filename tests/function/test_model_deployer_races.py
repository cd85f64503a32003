"""ModelDeployerFunction against moto: pending deployments re-validated when applied, failed and
deleted endpoints, rejection of a live shadow, housekeeping across the champion and challenger,
and each of those events delivered twice."""

# ruff: noqa: F811 - the deployer fixtures are shared with test_model_deployer_strategies

from __future__ import annotations

import copy
from typing import Any

import pytest
from mlops_core.adapters import sagemaker as sagemaker_adapter
from mlops_local import endpoints
from moto.sagemaker.models import sagemaker_backends

from tests.function.conftest import ACCOUNT, REGION, STACK, approval_event
from tests.function.test_model_deployer import endpoint_state_event
from tests.function.test_model_deployer_strategies import (  # noqa: F401 - fixtures used by name
    deploy,
    model_package_arn,
    only,
    project,
    requests,
    version,
)


def serving(aws: Any, endpoint: str) -> tuple[str, list[str]]:
    """(production model package, shadow model names) of an endpoint."""
    sagemaker = aws.client("sagemaker")
    config = sagemaker.describe_endpoint_config(
        EndpointConfigName=sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    )
    model = sagemaker.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    return model["Containers"][0]["ModelPackageName"], [
        variant["ModelName"] for variant in config.get("ShadowProductionVariants", [])
    ]


def pending(aws: Any, endpoint: str) -> dict[str, Any] | None:
    item = aws.client("dynamodb").get_item(
        TableName="mlops-config", Key={"pk": {"S": f"ENDPOINT#{endpoint}"}, "sk": {"S": "PENDING"}}
    )
    return item.get("Item")


def reject(aws: Any, group: str, number: int) -> dict[str, Any]:
    aws.client("sagemaker").update_model_package(
        ModelPackageArn=model_package_arn(number, group), ModelApprovalStatus="Rejected"
    )
    return approval_event(group, number, status="Rejected")


def model_names(aws: Any, prefix: str) -> list[str]:
    return sorted(
        m["ModelName"]
        for m in aws.client("sagemaker").list_models()["Models"]
        if m["ModelName"].startswith(prefix)
    )


def test_a_rollback_deferred_during_an_update_is_dropped_when_the_rejected_version_is_gone(
    aws, deploy, version, domain_events, finish_endpoint_changes
):
    for _ in range(3):
        version("churn-prod")
    deploy(approval_event("churn-prod", 1))
    finish_endpoint_changes()
    deploy(approval_event("churn-prod", 2))
    finish_endpoint_changes()
    assert deploy(approval_event("churn-prod", 3))["action"] == "update"  # Updating v2 -> v3

    deferred = deploy(reject(aws, "churn-prod", 2))  # v2 still serves while the update runs
    assert deferred["status"] == "deferred"
    finish_endpoint_changes()  # v3 is in service

    result = deploy(endpoint_state_event("churn-prod"))

    assert result["status"] == "tidied" and result["pending"]["status"] == "ignored"
    assert serving(aws, "churn-prod")[0] == model_package_arn(3)
    assert pending(aws, "churn-prod") is None
    assert "Deployment Rolled Back" not in domain_events.detail_types()


def test_an_in_service_event_that_applies_the_pending_deployment_twice_deploys_once(
    aws, deploy, version, domain_events, finish_endpoint_changes
):
    for _ in range(3):
        version("churn-prod")
    deploy(approval_event("churn-prod", 1))
    finish_endpoint_changes()
    deploy(approval_event("churn-prod", 2))  # Updating
    assert deploy(approval_event("churn-prod", 3))["status"] == "deferred"
    finish_endpoint_changes()
    in_service = endpoint_state_event("churn-prod")

    first = deploy(in_service)
    second = deploy(copy.deepcopy(in_service))  # the same event delivered again
    redelivered = copy.deepcopy(in_service)
    redelivered["id"] = "another-delivery"
    third = deploy(redelivered)  # or a second event for the same state

    assert (first["status"], first["action"]) == ("started", "update") and second == first
    assert third["status"] != "started"
    assert domain_events.detail_types().count("Deployment Started") == 3  # v1, v2, then v3 once
    finish_endpoint_changes()
    assert serving(aws, "churn-prod")[0] == model_package_arn(3)


def test_a_failed_endpoint_is_reported_once_per_event(aws, deploy, version, domain_events):
    version("churn-prod")
    deploy(approval_event("churn-prod", 1))
    endpoints.fail(sagemaker_backends[ACCOUNT][REGION].endpoints["churn-prod"], "CapacityError")
    failed = endpoint_state_event("churn-prod")

    assert deploy(failed) == deploy(copy.deepcopy(failed))

    assert domain_events.detail_types() == ["Deployment Started", "Deployment Failed"]
    assert aws.client("sagemaker").describe_endpoint(EndpointName="churn-prod")["EndpointStatus"] == "Failed"


def test_a_deployment_pending_when_the_endpoint_fails_recreates_it(aws, deploy, version, domain_events):
    version("churn-prod")
    version("churn-prod")
    deploy(approval_event("churn-prod", 1))  # Creating
    assert deploy(approval_event("churn-prod", 2))["status"] == "deferred"
    endpoints.fail(sagemaker_backends[ACCOUNT][REGION].endpoints["churn-prod"], "CapacityError")
    failed = endpoint_state_event("churn-prod")

    result = deploy(failed)
    assert deploy(copy.deepcopy(failed)) == result  # delivered twice: one deletion, one creation

    assert result["status"] == "failed" and "CapacityError" in result["reason"]
    assert result["pending"]["action"] == "create"
    assert domain_events.detail_types() == [
        "Deployment Started",
        "Deployment Deferred",
        "Deployment Failed",
        "Deployment Started",
    ]
    assert serving(aws, "churn-prod")[0] == model_package_arn(2)
    assert pending(aws, "churn-prod") is None


def test_an_approval_for_a_failed_endpoint_never_updates_it(aws, deploy, requests, version, domain_events):
    version("churn-prod")
    version("churn-prod")
    deploy(approval_event("churn-prod", 1))
    endpoints.fail(sagemaker_backends[ACCOUNT][REGION].endpoints["churn-prod"], "CapacityError")

    result = deploy(approval_event("churn-prod", 2))

    operations = requests.operations()
    assert "UpdateEndpoint" not in operations
    assert operations.index("DeleteEndpoint") < operations.index("CreateEndpoint")
    assert (result["status"], result["action"]) == ("started", "create")
    assert domain_events.detail_types()[-2:] == ["Deployment Deferred", "Deployment Started"]


def test_create_endpoint_on_a_name_in_use_looks_at_it_instead_of_claiming_a_start(
    aws, deploy, version, domain_events, monkeypatch
):
    version("churn-prod")
    version("churn-prod")
    deploy(approval_event("churn-prod", 1))  # Creating
    # Search has not indexed the endpoint yet.
    monkeypatch.setattr(sagemaker_adapter.SageMakerAdapter, "find_endpoint", lambda self, name: None)

    result = deploy(approval_event("churn-prod", 2))

    assert result["status"] == "deferred"
    assert domain_events.detail_types() == ["Deployment Started", "Deployment Deferred"]


@pytest.fixture
def shadowed(aws, deploy, project, version, finish_endpoint_changes):
    """A champion (v1) and challenger versions 1 and 2, v2 live as the champion's shadow."""
    project({"challenger": {"strategy": "shadow", "shadow_sampling_percentage": 20}})
    version("churn-champion")
    version("churn-challenger")
    version("churn-challenger")
    deploy(approval_event("churn-champion", 1))
    finish_endpoint_changes()
    deploy(approval_event("churn-challenger", 2))
    finish_endpoint_changes()
    assert serving(aws, "churn-champion")[1][0].startswith("churn-challenger-v2-")


def test_rejecting_the_live_shadow_rolls_the_shadow_back_then_removes_it(
    aws, deploy, requests, shadowed, domain_events, finish_endpoint_changes
):
    rolled_back = deploy(reject(aws, "churn-challenger", 2))
    finish_endpoint_changes()

    assert (rolled_back["status"], rolled_back["endpoint_name"]) == ("rolled-back", "churn-champion")
    production, shadows = serving(aws, "churn-champion")
    assert production == model_package_arn(1, "churn-champion")
    assert [name.split("-v")[1][0] for name in shadows] == ["1"]
    event = domain_events.received[-1]
    assert (event["detail-type"], event["detail"]["stage"], event["detail"]["endpoint_name"]) == (
        "Deployment Rolled Back",
        "challenger",
        "churn-champion",
    )
    assert event["detail"]["rolled_back_model_package_arn"] == model_package_arn(2, "churn-challenger")
    assert event["detail"]["model_package_arn"] == model_package_arn(1, "churn-challenger")

    removed = deploy(reject(aws, "churn-challenger", 1))  # no older approved challenger version

    assert (removed["status"], removed["action"]) == ("rolled-back", "remove-shadow")
    config = only(requests.named("CreateEndpointConfig"))
    assert "ShadowProductionVariants" not in config
    assert config["ProductionVariants"][0]["ModelName"].startswith("churn-champion-v1-")
    assert only(requests.named("UpdateEndpoint")) == {
        "EndpointName": "churn-champion",
        "EndpointConfigName": config["EndpointConfigName"],
    }
    assert "shadow is removed" in domain_events.received[-1]["detail"]["reason"]
    finish_endpoint_changes()
    assert serving(aws, "churn-champion") == (model_package_arn(1, "churn-champion"), [])


def test_housekeeping_keeps_the_model_of_the_champions_shadow_and_tidies_old_shadows(
    aws, deploy, project, version, finish_endpoint_changes
):
    version("churn-champion")
    version("churn-challenger")
    deploy(approval_event("churn-champion", 1))
    deploy(approval_event("churn-challenger", 1))  # the challenger's own endpoint
    finish_endpoint_changes()
    project({"challenger": {"strategy": "shadow"}})
    version("churn-challenger")
    deploy(approval_event("churn-challenger", 2))  # v2 becomes the champion's shadow
    finish_endpoint_changes()
    shadow_v2 = serving(aws, "churn-champion")[1][0]
    champion_v1 = model_names(aws, "churn-champion-v1-")

    # The challenger's endpoint moves on to v3; its housekeeping must not touch the shadow's model.
    project({})
    version("churn-challenger")
    deploy(approval_event("churn-challenger", 3))
    finish_endpoint_changes()
    tidied = deploy(endpoint_state_event("churn-challenger"))
    assert tidied["status"] == "tidied"
    assert shadow_v2 not in tidied["deleted_models"] and shadow_v2 in model_names(aws, "churn-challenger")

    # Shadow v4 replaces v2 on the champion; two champion updates later, no config uses v2's model.
    project({"challenger": {"strategy": "shadow"}})
    version("churn-challenger")
    deploy(approval_event("churn-challenger", 4))
    finish_endpoint_changes()
    deleted: list[str] = []
    for number in (2, 3):
        version("churn-champion")
        deploy(approval_event("churn-champion", number))
        finish_endpoint_changes()
        deleted += deploy(endpoint_state_event("churn-champion"))["deleted_models"]

    # The first champion update frees v2's shadow model; the second, the champion's v1 model
    # (until then in the previous config, kept for rollback).
    assert deleted == [shadow_v2, *champion_v1]
    assert [name.split("-")[2] for name in model_names(aws, "churn-challenger")] == ["v1", "v3", "v4"]
    assert serving(aws, "churn-champion")[1][0].startswith("churn-challenger-v4-")


def test_housekeeping_deletes_rollback_alarms_an_endpoint_no_longer_needs(
    aws, deploy, project, version, finish_endpoint_changes
):
    canary = {"compute": {"kind": "instances", "instance_type": "ml.m5.large", "instance_count": 2}}
    project({"prod": {**canary, "strategy": "canary"}})
    for _ in range(3):
        version("churn-prod")
    deploy(approval_event("churn-prod", 1))
    finish_endpoint_changes()
    deploy(approval_event("churn-prod", 2))
    finish_endpoint_changes()
    cloudwatch = aws.client("cloudwatch")
    assert len(cloudwatch.describe_alarms()["MetricAlarms"]) == 2
    assert deploy(endpoint_state_event("churn-prod"))["deleted_alarms"] == []  # still canary: kept

    project({"prod": canary})  # all-at-once from now on
    deploy(approval_event("churn-prod", 3))
    finish_endpoint_changes()
    tidied = deploy(endpoint_state_event("churn-prod"))

    assert sorted(tidied["deleted_alarms"]) == [
        f"{STACK}-churn-prod-invocation-5xx-errors",
        f"{STACK}-churn-prod-model-latency",
    ]
    # Only the endpoint's health alarms remain (every endpoint has them, whatever its strategy).
    assert all("-health-" in alarm["AlarmName"] for alarm in cloudwatch.describe_alarms()["MetricAlarms"])
