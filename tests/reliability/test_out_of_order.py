"""Approvals that arrive out of order (docs/architecture.md, "What every handler guarantees"): every
pair of approvals, in both orders, ends with the newest version live, and the endpoint never goes back
to an older version on the way.

"Newest" is the highest version number approved. For versions 1..3 of a group, every ordered pair (a, b),
a != b, is approved a first, then b, in three ways:
- `in-turn`: a is delivered and deployed before b is approved;
- `together`: both are approved before either event is delivered (b's arrives while a's deployment runs);
- `busy`: a is deployed, the endpoint is then held Updating while b is approved (and delivered), and
  released afterwards (the deployer defers and must apply only what is still newest).
MLflow: the alias moves v1 -> v2 and the watcher's two events arrive reversed.

What "no downgrade" means here: every `Deployment Started` for the endpoint names a version no lower than
the one before, every config it comes InService with belongs to a version no lower than the one before,
and no rollback happens.
"""

from __future__ import annotations

import itertools
import json
import uuid

import pytest
from mlops_core.deployment.versions import version_of_config
from mlops_local import LocalCloud

from tests.reliability.conftest import (
    ASYNC_DEV,
    alias_changed,
    alias_state,
    put_batch_project,
    put_project,
    register,
    serving,
    set_status,
    upload_mlflow_version,
)

pytestmark = pytest.mark.e2e

PAIRS = list(itertools.permutations((1, 2, 3), 2))
MODES = ("in-turn", "together", "busy")


def history_of(cloud: LocalCloud, endpoint: str, since: int) -> dict[str, list]:
    deliveries = cloud.history.deliveries[since:]
    events = [delivery.event for delivery in deliveries]
    return {
        "started": [
            event["detail"]["model_package_version"]
            for event in events
            if event["detail-type"] == "Deployment Started" and event["detail"]["endpoint_name"] == endpoint
        ],
        "in_service": [
            version_of_config(endpoint, event["detail"]["EndpointConfigName"])
            for event in events
            if event["detail-type"] == "SageMaker Endpoint State Change"
            and event["detail"]["EndpointName"] == endpoint
            and event["detail"]["EndpointStatus"] == "IN_SERVICE"
        ],
        "rolled_back": [event for event in events if event["detail-type"] == "Deployment Rolled Back"],
        "failed": [run for delivery in deliveries for run in delivery.runs if not run.succeeded],
    }


def assert_never_downgraded(history: dict[str, list], newest: int) -> None:
    assert history["failed"] == []
    assert history["rolled_back"] == []
    for versions in (history["started"], history["in_service"]):
        assert versions == sorted(versions), f"went back to an older version: {versions}"
    assert history["started"][-1] == newest
    assert history["in_service"][-1] == newest


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("first", "second"), PAIRS, ids=[f"v{a}-then-v{b}" for a, b in PAIRS])
def test_two_approvals_in_either_order_end_with_the_newest_version_live(
    cloud: LocalCloud, new_project, first: int, second: int, mode: str
):
    project = new_project("oo")
    endpoint = f"{project}-dev"
    arns = {n: register(cloud, endpoint, commit=f"c{n}") for n in (1, 2, 3)}
    cloud.settle()
    since = len(cloud.history.deliveries)

    set_status(cloud, arns[first], "Approved")
    if mode != "together":
        cloud.settle()
    if mode == "busy":
        cloud.hold_endpoint(endpoint, "Updating")
    set_status(cloud, arns[second], "Approved")
    cloud.settle()
    if mode == "busy":
        assert (
            cloud.session.client("sagemaker").describe_endpoint(EndpointName=endpoint)["EndpointStatus"]
            == "Updating"
        )
        cloud.release_endpoint(endpoint)
        cloud.settle()

    newest = max(first, second)
    live = serving(cloud, endpoint)
    assert live["status"] == "InService"
    assert live["package"] == arns[newest]
    assert live["tags"]["mlops:model-package-arn"] == arns[newest]
    assert live["tags"]["mlops:commit-id"] == f"c{newest}"
    assert version_of_config(endpoint, live["config"]) == newest
    assert_never_downgraded(history_of(cloud, endpoint, since), newest)


@pytest.mark.parametrize("mode", ["together", "busy"])
def test_an_async_stage_approved_v2_then_v1_ends_on_v2_with_its_queue(
    cloud: LocalCloud, new_project, mode: str
):
    project = new_project("oa")
    endpoint = f"{project}-dev"
    put_project(cloud, project, deployment_defaults=ASYNC_DEV)
    arns = {n: register(cloud, endpoint, commit=f"c{n}") for n in (1, 2)}
    cloud.settle()
    since = len(cloud.history.deliveries)

    set_status(cloud, arns[2], "Approved")
    if mode == "busy":
        cloud.settle()
        cloud.hold_endpoint(endpoint, "Updating")
    set_status(cloud, arns[1], "Approved")
    cloud.settle()
    if mode == "busy":
        cloud.release_endpoint(endpoint)
        cloud.settle()

    live = serving(cloud, endpoint)
    assert live["package"] == arns[2] and live["status"] == "InService"
    config = cloud.session.client("sagemaker").describe_endpoint_config(EndpointConfigName=live["config"])
    assert config["AsyncInferenceConfig"]["OutputConfig"]["S3OutputPath"].endswith(f"/{endpoint}/outputs/")
    assert_never_downgraded(history_of(cloud, endpoint, since), 2)


@pytest.mark.parametrize("busy", [False, True], ids=["in-service", "busy"])
def test_an_mlflow_alias_moved_v1_to_v2_whose_events_arrive_reversed_ends_on_v2(
    cloud: LocalCloud, new_project, busy: bool
):
    """The watcher recorded dev: 1 then 2 and emitted two events; they arrive v2's first. The alias
    names v2 (the watcher's state): v1's late event is stale, whatever the endpoint is doing."""
    project = new_project("om")
    endpoint = f"{project}-dev"
    put_project(cloud, project, registry_backend="mlflow", mlflow_serving_image="1.dkr.ecr/x:1")
    sources = {n: upload_mlflow_version(cloud, project, n) for n in (1, 2)}
    state = alias_state(cloud)
    assert state.record(project, "dev", old=None, new=1)
    assert state.record(project, "dev", old=1, new=2)
    to_v1 = alias_changed(project, "dev", new=1, old=None, source_uri=sources[1], event_id=str(uuid.uuid4()))
    to_v2 = alias_changed(project, "dev", new=2, old=1, source_uri=sources[2], event_id=str(uuid.uuid4()))
    since = len(cloud.history.deliveries)

    cloud.send(to_v2, bus=cloud.bus_for(to_v2))
    if busy:
        cloud.hold_endpoint(endpoint, "Updating")
    late = cloud.send(to_v1, bus=cloud.bus_for(to_v1))
    if busy:
        cloud.release_endpoint(endpoint)
        cloud.settle()

    [skipped] = late.events(detail_type="Deployment Skipped")
    assert skipped["detail"]["reason"] == "stale"
    live = serving(cloud, endpoint)
    assert live["status"] == "InService"
    assert live["tags"]["mlops:mlflow-model-version"] == f"models:/{project}/2"
    assert version_of_config(endpoint, live["config"]) == 2
    assert_never_downgraded(history_of(cloud, endpoint, since), 2)


@pytest.mark.parametrize("together", [False, True], ids=["in-turn", "together"])
@pytest.mark.parametrize(("first", "second"), PAIRS, ids=[f"v{a}-then-v{b}" for a, b in PAIRS])
def test_a_batch_stages_approvals_in_either_order_end_with_the_newest_on_its_schedule(
    cloud: LocalCloud, new_project, first: int, second: int, together: bool
):
    project = new_project("ob")
    stage = f"{project}-dev"
    put_batch_project(cloud, project, input_s3_uri="s3://batch-input/x", output_s3_uri="s3://batch-output/x")
    arns = {n: register(cloud, stage, commit=f"c{n}") for n in (1, 2, 3)}
    cloud.settle()
    since = len(cloud.history.deliveries)

    set_status(cloud, arns[first], "Approved")
    if not together:
        cloud.settle()
    set_status(cloud, arns[second], "Approved")
    cloud.settle()

    newest = max(first, second)
    schedule = cloud.session.client("scheduler").get_schedule(
        GroupName=f"{cloud.stack_name}-batch", Name=stage
    )
    tags = {t["Key"]: t["Value"] for t in json.loads(schedule["Target"]["Input"])["Tags"]}
    assert tags["mlops:model-package-arn"] == arns[newest]
    history = history_of(cloud, stage, since)
    assert history["failed"] == [] and history["rolled_back"] == []
    assert history["started"] == sorted(history["started"]) and history["started"][-1] == newest
