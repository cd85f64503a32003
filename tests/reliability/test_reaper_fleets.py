"""The reaper's safety (docs/promotion-and-reaper.md): random fleets never lose a protected endpoint.

The deployed EndpointReaperFunction runs, on the local cloud, against fleets Hypothesis makes up:
endpoints of several projects and every stage, tagged as this stack's (`mlops`), another stack's or
nobody's, with `mlops:keep-until` in the past, today, the future or not a date, busy (Creating,
Updating) or not (InService, Failed), autoscaled or not, some sharing an endpoint config (and so its
model) with another endpoint, some with a name that says production while the tag says dev.

Exactly the unprotected endpoints are deleted: this stack's, tagged `feature` or `dev` (the template's
ReapableStages), named neither for a production stage nor outside the `{project}-{stage}` rule with a
production tag, with no keep-until today or later and no unreadable one, and not busy. Every other
endpoint is still there afterwards, with its config and its models (a config or model an endpoint that
stays uses is never deleted). (tests/unit/test_endpoint_reaper.py has the domain-level property test of
the same rule; this one runs the function end to end.)
"""

from __future__ import annotations

import contextlib
import itertools
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from mlops_local import LocalCloud
from mlops_local.testing import make_endpoint

FUNCTION = "EndpointReaperFunction"
STACK = "mlops"  # the local cloud's stack name
STAGES = ["feature", "dev", "prod", "champion", "challenger"]
PRODUCTION = {"prod", "champion", "challenger"}
BUSY = {"Creating", "Updating"}
ROLE = "arn:aws:iam::123456789012:role/sagemaker-execution"
_examples = itertools.count(1)


@dataclass(frozen=True)
class Spec:
    owner: str  # "this", "other" (another stack) or "nobody" (no mlops tags at all)
    stage_tag: str | None  # a stage, None, or something that is not a stage
    name_stage: str | None  # the stage in the name, or None: a name outside {project}-{stage}
    keep: str | None  # None, "past", "today", "future" or "garbled"
    status: str
    autoscaled: bool
    shares_config: bool  # uses the previous endpoint's config (and model), both this stack's


specs = st.builds(
    Spec,
    owner=st.sampled_from(["this", "this", "this", "other", "nobody"]),
    stage_tag=st.sampled_from([*STAGES, "dev", "feature", None, "qa", "Dev"]),
    name_stage=st.one_of(st.sampled_from(STAGES), st.none()),
    keep=st.sampled_from([None, None, "past", "today", "future", "garbled"]),
    status=st.sampled_from(["InService", "InService", "InService", "Creating", "Updating", "Failed"]),
    autoscaled=st.booleans(),
    shares_config=st.booleans(),
)


def unprotected(spec: Spec) -> bool:
    return (
        spec.owner == "this"
        and spec.stage_tag in ("feature", "dev")
        and spec.name_stage not in PRODUCTION
        and spec.keep in (None, "past")
        and spec.status not in BUSY
    )


def keep_until(keep: str, today: datetime) -> str:
    day = today.date()
    return {
        "past": (day - timedelta(days=1)).isoformat(),
        "today": day.isoformat(),
        "future": (day + timedelta(days=30)).isoformat(),
        "garbled": "until the demo",
    }[keep]


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud() as local_cloud:
        yield local_cloud


def build(cloud: LocalCloud, fleet: list[Spec], now: datetime) -> dict[str, tuple[Spec, str]]:
    """The fleet in the embedded SageMaker; endpoint name → (spec, its config)."""
    sagemaker = cloud.session.client("sagemaker")
    autoscaling = cloud.session.client("application-autoscaling")
    example = next(_examples)
    built: dict[str, tuple[Spec, str]] = {}
    previous: tuple[Spec, str] | None = None
    for index, spec in enumerate(fleet):
        project = f"f{example:03d}x{index}"
        name = f"{project}-{spec.name_stage}" if spec.name_stage else f"adhoc{example:03d}x{index}"
        tags = {}
        if spec.owner != "nobody":
            tags = {"mlops:project": project, "mlops:managed-by": STACK if spec.owner == "this" else "other"}
            if spec.stage_tag is not None:
                tags["mlops:stage"] = spec.stage_tag
            if spec.keep is not None:
                tags["mlops:keep-until"] = keep_until(spec.keep, now)
        aws_tags = [{"Key": k, "Value": v} for k, v in tags.items()]
        # Only this stack's endpoints share here; sharing with others: see the test below.
        if spec.shares_config and previous is not None and previous[0].owner == spec.owner == "this":
            config = previous[1]
        else:
            config = f"{name}-config"
            sagemaker.create_model(
                ModelName=f"{name}-model",
                ExecutionRoleArn=ROLE,
                PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1"},
                Tags=aws_tags,
            )
            sagemaker.create_endpoint_config(
                EndpointConfigName=config,
                ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": f"{name}-model",
                                     "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}],
                Tags=aws_tags,
            )  # fmt: skip
        previous = (spec, config)
        sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config, Tags=aws_tags)
        if spec.status == "Failed":
            cloud.fail_endpoint(name, "capacity")
        else:
            cloud.hold_endpoint(name, spec.status)  # Creating stays Creating; the others move there now
        if spec.autoscaled:
            autoscaling.register_scalable_target(
                ServiceNamespace="sagemaker",
                ResourceId=f"endpoint/{name}/variant/AllTraffic",
                ScalableDimension="sagemaker:variant:DesiredInstanceCount",
                MinCapacity=1,
                MaxCapacity=2,
            )
        built[name] = (spec, config)
    return built


def tidy(cloud: LocalCloud, fleet: dict[str, tuple[Spec, str]]) -> None:
    """Remove what is left of an example's fleet, so the next example's reaper sees only its own."""
    sagemaker = cloud.session.client("sagemaker")
    autoscaling = cloud.session.client("application-autoscaling")
    for name, (spec, _) in fleet.items():
        cloud.release_endpoint(name)
        if spec.autoscaled:
            with contextlib.suppress(autoscaling.exceptions.ClientError):  # the reaper deregistered it
                autoscaling.deregister_scalable_target(
                    ServiceNamespace="sagemaker",
                    ResourceId=f"endpoint/{name}/variant/AllTraffic",
                    ScalableDimension="sagemaker:variant:DesiredInstanceCount",
                )
        with contextlib.suppress(sagemaker.exceptions.ClientError):  # the reaper deleted it
            sagemaker.delete_endpoint(EndpointName=name)


def scheduled() -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-25T02:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/mlops-EndpointReaperFunctionNightly"],
        "detail": {},
    }


@settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(fleet=st.lists(specs, min_size=1, max_size=6))
def test_random_fleets_never_lose_a_protected_endpoint(cloud: LocalCloud, fleet: list[Spec]) -> None:
    sagemaker = cloud.session.client("sagemaker")
    now = datetime.now(UTC)
    built = build(cloud, fleet, now)
    try:
        invocation = cloud.invoke(FUNCTION, scheduled())
        if datetime.now(UTC).date() != now.date():
            reject()  # midnight passed during the run: "today" moved under the fleet
        assert invocation.succeeded, invocation.error
        assert invocation.result["status"] == "reaped", invocation.result

        remaining = {e["EndpointName"] for e in sagemaker.list_endpoints(MaxResults=100)["Endpoints"]}
        expected_gone = {name for name, (spec, _) in built.items() if unprotected(spec)}
        assert set(built) - remaining == expected_gone
        assert sorted(invocation.result["deleted"]) == sorted(expected_gone)
        [summary] = [e["detail"] for e in invocation.emitted if e["detail-type"] == "Endpoints Reaped"]
        assert summary["deleted_count"] == len(expected_gone)
        # What stays keeps its config and its models, shared or not.
        for name in set(built) - expected_gone:
            config = sagemaker.describe_endpoint_config(EndpointConfigName=built[name][1])
            for variant in config["ProductionVariants"]:
                sagemaker.describe_model(ModelName=variant["ModelName"])
    finally:
        tidy(cloud, built)


def test_a_config_another_stacks_endpoint_uses_is_not_deleted(cloud: LocalCloud) -> None:
    sagemaker = cloud.session.client("sagemaker")
    fleet = {
        "x-dev": (Spec("this", "dev", "dev", None, "InService", False, False), "x-dev-config"),
        "adhoc-x": (Spec("nobody", None, None, None, "InService", False, False), "x-dev-config"),
    }
    sagemaker.create_model(
        ModelName="x-dev-model",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1"},
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName="x-dev-config",
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "x-dev-model",
                             "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}],
    )  # fmt: skip
    sagemaker.create_endpoint(
        EndpointName="x-dev",
        EndpointConfigName="x-dev-config",
        Tags=[{"Key": "mlops:managed-by", "Value": STACK}, {"Key": "mlops:stage", "Value": "dev"}],
    )
    sagemaker.create_endpoint(EndpointName="adhoc-x", EndpointConfigName="x-dev-config")
    try:
        for name in fleet:
            cloud.hold_endpoint(name, "InService")
        invocation = cloud.invoke(FUNCTION, scheduled())
        assert invocation.result["deleted"] == ["x-dev"]
        sagemaker.describe_endpoint_config(EndpointConfigName="x-dev-config")  # adhoc-x still uses it
        sagemaker.describe_model(ModelName="x-dev-model")
    finally:
        tidy(cloud, fleet)


def test_a_summary_too_big_for_its_event_is_stored_whole_in_s3_and_linked(
    cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Thousands of endpoints make the summary too big for EventBridge; two do here, with the limit
    lowered. The reaper's role stores it (IAM enforced) in the stack's report bucket."""
    from mlops_core.reaper import endpoint_reaper  # noqa: PLC0415 - the module the deployed function runs

    monkeypatch.setattr(endpoint_reaper, "MAX_EVENT_DETAIL_BYTES", 600)
    names = [f"big{uuid.uuid4().hex[:6]}-dev" for _ in range(2)]
    fleet = {
        name: (Spec("this", "dev", "dev", None, "InService", False, False), f"{name}-config")
        for name in names
    }
    tags = {"mlops:managed-by": STACK, "mlops:stage": "dev", "mlops:project": "big"}
    for name in names:
        make_endpoint(cloud.session, name, tags=tags)
        cloud.hold_endpoint(name, "InService")
    try:
        event = scheduled()
        invocation = cloud.invoke(FUNCTION, event)
    finally:
        tidy(cloud, fleet)

    [reaped] = [e["detail"] for e in invocation.emitted if e["detail-type"] == "Endpoints Reaped"]
    assert reaped["details_dropped"] and reaped["deleted_count"] == 2
    bucket = cloud.outputs["ReaperReportBucketName"]
    key = f"endpoints-reaped/{datetime.now(UTC).date().isoformat()}/{event['id']}.json"
    assert reaped["report_uri"] == f"s3://{bucket}/{key}"
    report = json.loads(cloud.session.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    deleted = {e["endpoint_name"]: e for p in report["projects"] for e in p["deleted"]}
    assert set(deleted) == set(names)
    assert all(deleted[name]["deleted_endpoint_configs"] == [f"{name}-config"] for name in names)
