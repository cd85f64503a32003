"""EndpointReaperFunction against moto: which endpoints of a mixed fleet go, with their configs and models."""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime, timedelta

import pytest
from mlops_core.adapters.sagemaker import SageMakerAdapter
from mlops_core.reaper.ports import ReaperServiceError
from mlops_local.testing import make_endpoint

from tests.function.conftest import ACCOUNT, EXECUTION_ROLE, REGION, STACK, load_handler_module


def scheduled_event(event_id: str = "nightly-1") -> dict:
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": "2026-11-25T02:00:00Z",
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/nightly"],
        "detail": {},
    }


def reap_requested(dry_run: bool, event_id: str = "requested-1") -> dict:
    event = scheduled_event(event_id)
    event.update({"detail-type": "Endpoints Reap Requested", "source": "mlops.operator"})
    event["detail"] = {"dry_run": dry_run, "requested_by": "jane"}
    return event


@pytest.fixture
def lambda_context(lambda_context):
    """The reaper's Lambda timeout (the template's 900 s), not the default test context's."""
    return dataclasses.replace(lambda_context, deadline=time.monotonic() + 900)


@pytest.fixture
def reaper_env(aws, monkeypatch):
    monkeypatch.setenv("REAPABLE_STAGES", "feature,dev")
    monkeypatch.setenv("REAPER_DRY_RUN", "false")
    return aws


def managed(project: str, stage: str, **extra: str) -> dict[str, str]:
    return {"mlops:project": project, "mlops:stage": stage, "mlops:managed-by": STACK, **extra}


@pytest.fixture
def fleet(reaper_env, finish_endpoint_changes):
    session = reaper_env
    today = datetime.now(UTC).date()  # when the fleet is made, not when the module was imported
    tomorrow = (today + timedelta(days=1)).isoformat()
    yesterday = (today - timedelta(days=1)).isoformat()
    make_endpoint(session, "a-feature", tags=managed("a", "feature"), instances=2)
    make_endpoint(session, "a-dev", tags=managed("a", "dev"), autoscaled=True)
    make_endpoint(session, "a-prod", tags=managed("a", "prod"))
    make_endpoint(session, "b-champion", tags=managed("b", "champion"))
    make_endpoint(session, "b-challenger", tags=managed("b", "challenger"), autoscaled=True)
    make_endpoint(session, "b-dev", tags=managed("b", "dev", **{"mlops:keep-until": tomorrow}))
    make_endpoint(session, "b-feature", tags=managed("b", "feature", **{"mlops:keep-until": yesterday}))
    make_endpoint(session, "c-dev", tags=managed("c", "dev", **{"mlops:keep-until": today.isoformat()}))
    make_endpoint(session, "other-dev", tags={"mlops:project": "other", "mlops:stage": "dev"})  # unmanaged
    make_endpoint(session, "x-dev", tags=managed("x", "dev") | {"mlops:managed-by": "another-stack"})
    finish_endpoint_changes()  # all InService
    return session


def names(session, kind: str) -> set[str]:
    sagemaker = session.client("sagemaker")
    if kind == "endpoints":
        return {e["EndpointName"] for e in sagemaker.list_endpoints(MaxResults=100)["Endpoints"]}
    if kind == "configs":
        return {
            c["EndpointConfigName"]
            for c in sagemaker.list_endpoint_configs(MaxResults=100)["EndpointConfigs"]
        }
    return {m["ModelName"] for m in sagemaker.list_models(MaxResults=100)["Models"]}


def test_the_nightly_run_deletes_exactly_the_unkept_managed_dev_endpoints_with_configs_and_models(
    fleet, domain_events, lambda_context
):
    app = load_handler_module("endpoint_reaper")

    result = app.handler(scheduled_event(), lambda_context)

    gone = {"a-feature", "a-dev", "b-feature"}
    assert result["status"] == "reaped"
    assert sorted(result["deleted"]) == sorted(gone)
    stay = {"a-prod", "b-champion", "b-challenger", "b-dev", "c-dev", "other-dev", "x-dev"}
    assert names(fleet, "endpoints") == stay
    # Every endpoint that stays keeps its config and model.
    assert {f"{n}-config" for n in stay} <= names(fleet, "configs")
    assert {f"{n}-model" for n in stay} <= names(fleet, "models")
    assert not {f"{n}-config" for n in gone} & names(fleet, "configs")
    assert not {f"{n}-model" for n in gone} & names(fleet, "models")
    assert {"a-prod-config", "b-dev-model", "other-dev-config"} <= names(fleet, "configs") | names(
        fleet, "models"
    )
    targets = fleet.client("application-autoscaling").describe_scalable_targets(ServiceNamespace="sagemaker")
    assert [t["ResourceId"] for t in targets["ScalableTargets"]] == [
        "endpoint/b-challenger/variant/AllTraffic"
    ]

    [event] = domain_events.received
    assert event["detail-type"] == "Endpoints Reaped"
    detail = event["detail"]
    assert detail["dry_run"] is False
    assert detail["deleted_count"] == 3
    assert detail["instance_hours_per_day_saved"] == (2 + 1 + 1) * 24
    by_project = {p["project"]: p for p in detail["projects"]}
    assert {p for p in by_project} == {"a", "b", "c"}  # nothing about unmanaged or other stacks' endpoints
    [a_dev] = [e for e in by_project["a"]["deleted"] if e["endpoint_name"] == "a-dev"]
    assert a_dev["deregistered_scalable_targets"] == ["endpoint/a-dev/variant/AllTraffic"]
    assert a_dev["deleted_endpoint_configs"] == ["a-dev-config"]
    assert a_dev["deleted_models"] == ["a-dev-model"]
    kept = {e["endpoint_name"]: e["reason"] for p in detail["projects"] for e in p["kept"]}
    assert kept == {"b-dev": "keep-until", "c-dev": "keep-until"}
    assert by_project["a"]["production_endpoints"] == ["a-prod"]
    assert sorted(by_project["b"]["production_endpoints"]) == ["b-challenger", "b-champion"]
    assert by_project["a"]["instance_hours_per_day_saved"] == 72


def test_a_dry_run_reports_what_it_would_delete_and_deletes_nothing(fleet, domain_events, lambda_context):
    before = (names(fleet, "endpoints"), names(fleet, "configs"), names(fleet, "models"))
    app = load_handler_module("endpoint_reaper")

    result = app.handler(reap_requested(dry_run=True), lambda_context)

    assert result["status"] == "dry-run"
    assert (names(fleet, "endpoints"), names(fleet, "configs"), names(fleet, "models")) == before
    [event] = domain_events.received
    assert event["detail"]["dry_run"] is True
    assert event["detail"]["trigger"] == "requested"
    would = {e["endpoint_name"] for p in event["detail"]["projects"] for e in p["deleted"]}
    assert would == {"a-feature", "a-dev", "b-feature"}


def test_a_failure_on_one_endpoint_does_not_stop_the_others(
    fleet, domain_events, lambda_context, monkeypatch
):
    original = SageMakerAdapter.delete_managed_endpoint

    def flaky_delete(self, name):
        if name == "a-feature":  # SageMaker still throttles it after botocore's retries
            raise ReaperServiceError("ThrottlingException: slow down")
        return original(self, name)

    monkeypatch.setattr(SageMakerAdapter, "delete_managed_endpoint", flaky_delete)
    app = load_handler_module("endpoint_reaper")

    result = app.handler(scheduled_event("nightly-flaky"), lambda_context)

    assert result["status"] == "partial"
    assert "a-feature" in names(fleet, "endpoints")
    assert not {"a-dev", "b-feature"} & names(fleet, "endpoints")
    [event] = domain_events.received
    [failed] = [e for p in event["detail"]["projects"] for e in p["failed"]]
    assert failed["endpoint_name"] == "a-feature"
    assert "ThrottlingException: slow down" in failed["reason"]


def test_finding_candidates_takes_one_search_call_per_hundred_endpoints(
    reaper_env, domain_events, lambda_context
):
    sagemaker = reaper_env.client("sagemaker")
    sagemaker.create_model(ModelName="m", ExecutionRoleArn=EXECUTION_ROLE, PrimaryContainer={"Image": "i"})
    for index in range(230):
        sagemaker.create_endpoint_config(
            EndpointConfigName=f"p{index}-prod-config",
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": "m",
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": 1,
                }
            ],
        )
        sagemaker.create_endpoint(
            EndpointName=f"p{index}-prod",
            EndpointConfigName=f"p{index}-prod-config",
            Tags=[{"Key": k, "Value": v} for k, v in managed(f"p{index}", "prod").items()],
        )
    calls = []
    client = reaper_env.client("sagemaker")
    client.meta.events.register("before-call.sagemaker.*", lambda model, **_: calls.append(model.name))

    found = list(SageMakerAdapter(client).search_endpoints())

    assert len(found) == 230
    assert calls == ["Search", "Search", "Search"]
    assert all(e.tags["mlops:managed-by"] == STACK for e in found)


def test_an_endpoint_still_creating_is_kept_busy_and_its_model_shared_with_a_staying_one_is_left(
    reaper_env, domain_events, lambda_context, finish_endpoint_changes
):
    sagemaker = reaper_env.client("sagemaker")
    make_endpoint(reaper_env, "a-dev", tags=managed("a", "dev"))
    make_endpoint(reaper_env, "a-prod", tags=managed("a", "prod"))
    finish_endpoint_changes()
    # a-prod's second config (named after a-prod) also serves a-dev's model: set up by hand.
    sagemaker.create_endpoint_config(
        EndpointConfigName="a-prod-config-2",
        ProductionVariants=[
            {"VariantName": v, "ModelName": m, "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}
            for v, m in (("Prod", "a-prod-model"), ("Old", "a-dev-model"))
        ],
    )
    sagemaker.update_endpoint(EndpointName="a-prod", EndpointConfigName="a-prod-config-2")
    finish_endpoint_changes()
    make_endpoint(reaper_env, "b-dev", tags=managed("b", "dev"))  # still Creating
    app = load_handler_module("endpoint_reaper")

    result = app.handler(scheduled_event("nightly-busy"), lambda_context)

    assert result["deleted"] == ["a-dev"]
    assert "b-dev" in names(reaper_env, "endpoints")
    assert "a-dev-config" not in names(reaper_env, "configs")
    assert "a-dev-model" in names(reaper_env, "models")  # a-prod uses it
    [event] = domain_events.received
    kept = {e["endpoint_name"]: e["reason"] for p in event["detail"]["projects"] for e in p["kept"]}
    assert kept == {"b-dev": "busy"}
