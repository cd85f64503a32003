"""In-service checks, end to end: SageMaker's events are best effort, so each endpoint change the deployer
makes schedules a check (EventBridge Scheduler, a one-time schedule putting `Endpoint In-Service Check` on
the application's bus) that does what a lost `IN_SERVICE` would have done: tests once, housekeeping,
a pending deployment applied; and nothing twice when the event did arrive."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError
from mlops_core.suite_tool import write_suite
from mlops_local.demo_model import DEMO_SUITE, GOOD_MODEL, SLOW_MODEL, register_demo_version

pytestmark = pytest.mark.e2e

CHECK = "Endpoint In-Service Check"
LATER = timedelta(minutes=21)  # the template's default InServiceCheckMinutes is 20


def is_in_service(event: dict) -> bool:
    return (
        event.get("detail-type") == "SageMaker Endpoint State Change"
        and event["detail"]["EndpointStatus"] == "IN_SERVICE"
    )


def completed(trace) -> list[dict]:
    return [event["detail"] for event in trace.events(detail_type="Integration Tests Completed")]


def checks_scheduled(cloud) -> list[dict]:
    scheduler = cloud.session.client("scheduler")
    group = f"{cloud.stack_name}-in-service-checks"
    names = [s["Name"] for s in scheduler.list_schedules(GroupName=group)["Schedules"]]
    return [scheduler.get_schedule(GroupName=group, Name=name) for name in names]


def with_suite(cloud) -> None:
    write_suite(
        cloud.session.client("dynamodb"),
        cloud.outputs["ConfigTableName"],
        "x-dev",
        DEMO_SUITE,
        source="suite.yaml",
    )


def approve(cloud, group: str, model: dict) -> str:
    arn = register_demo_version(cloud.session, group, model)
    cloud.settle()
    cloud.session.client("sagemaker").update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved"
    )
    return arn


def result_of(trace, function: str) -> dict:
    [run] = trace.runs(function=function)
    return run.attempts[-1].result


def test_a_lost_in_service_event_is_made_up_for_by_the_changes_check_and_nothing_runs_twice(cloud):
    with_suite(cloud)
    changed_at = datetime.now(UTC)

    with cloud.losing_service_events(is_in_service) as lost:
        arn = approve(cloud, "x-dev", GOOD_MODEL)
        trace = cloud.settle()

    assert [event["detail"]["EndpointName"] for event in lost] == ["x-dev"]
    assert completed(trace) == []  # without the event, nothing was tested
    [check] = checks_scheduled(cloud)
    config_name = cloud.session.client("sagemaker").describe_endpoint(EndpointName="x-dev")[
        "EndpointConfigName"
    ]
    assert check["ActionAfterCompletion"] == "DELETE"
    assert check["Target"]["EventBridgeParameters"] == {"Source": "mlops.model-deployer", "DetailType": CHECK}
    due = datetime.fromisoformat(check["ScheduleExpression"].removeprefix("at(").removesuffix(")"))
    assert timedelta(minutes=19) < due.replace(tzinfo=UTC) - changed_at <= timedelta(minutes=21)
    assert cloud.run_schedules_due(changed_at + timedelta(minutes=19)).deliveries == []  # not yet

    trace = cloud.run_schedules_due(changed_at + LATER)

    [event] = trace.events(detail_type=CHECK)
    assert event["detail"] == {
        "project": "x",
        "stage": "dev",
        "endpoint_name": "x-dev",
        "endpoint_config_name": config_name,
        "attempt": 1,
    }
    [result] = completed(trace)
    assert result["trigger"] == "in-service-check" and result["outcome"] == "passed"
    assert result["model_package_arn"] == arn and result["endpoint_config_name"] == config_name
    assert result_of(trace, "ModelDeployerFunction")["status"] == "tidied"
    [delivered] = [delivery for delivery in trace if delivery.event["detail-type"] == CHECK]
    assert sorted(run.function for run in delivered.runs) == [
        "EndpointTesterFunction",
        "ModelDeployerFunction",
    ]
    assert checks_scheduled(cloud) == []  # a one-time schedule is deleted once it has run

    # The lost event turns up after all (or the check is delivered twice): tested once, nothing else.
    late = copy.deepcopy(lost[0])
    late["id"] = "late-" + late["id"]
    again = cloud.send(late)
    assert completed(again) == []
    assert result_of(again, "EndpointTesterFunction")["status"] == "skipped"
    replayed = copy.deepcopy(event)
    replayed["id"] = "replayed-" + replayed["id"]
    again = cloud.send(replayed, bus=cloud.outputs["EventBusName"])
    assert completed(again) == []
    assert result_of(again, "EndpointTesterFunction")["status"] == "skipped"
    assert checks_scheduled(cloud) == []
    assert cloud.iam.denials == []
    # The checks' role puts that one event on that one bus, nothing else.
    events = cloud.session_as_role(check["Target"]["RoleArn"]).client("events")
    entry = {"Source": "mlops.model-deployer", "DetailType": "Deployment Started", "Detail": "{}"}
    with pytest.raises(ClientError) as refused:
        events.put_events(Entries=[{**entry, "EventBusName": check["Target"]["Arn"]}])
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"


def test_when_the_event_arrives_the_check_changes_nothing_and_a_superseded_change_is_not_tested(cloud):
    with_suite(cloud)
    changed_at = datetime.now(UTC)
    approve(cloud, "x-dev", GOOD_MODEL)
    [first] = completed(cloud.settle())
    approve(cloud, "x-dev", SLOW_MODEL)  # a second change before the first change's check comes
    [second] = completed(cloud.settle())
    assert first["endpoint_config_name"] != second["endpoint_config_name"]
    assert len(checks_scheduled(cloud)) == 2

    trace = cloud.run_schedules_due(changed_at + LATER)

    assert len(trace.events(detail_type=CHECK)) == 2
    assert completed(trace) == []
    tester_results = sorted(
        run.attempts[-1].result["status"] for run in trace.runs(function="EndpointTesterFunction")
    )
    assert tester_results == ["ignored", "skipped"]  # the first change's config is no longer served
    assert checks_scheduled(cloud) == []


def test_a_deployment_deferred_while_the_endpoint_was_busy_is_applied_by_the_check(cloud):
    changed_at = datetime.now(UTC)
    approve(cloud, "x-dev", GOOD_MODEL)
    cloud.settle()
    cloud.hold_endpoint("x-dev", "Updating")
    second = approve(cloud, "x-dev", SLOW_MODEL)
    deferred = cloud.settle()
    assert deferred.events(detail_type="Deployment Deferred")

    with cloud.losing_service_events(is_in_service):  # the endpoint ends its update, silently
        cloud.release_endpoint("x-dev")
        cloud.settle()
    sagemaker = cloud.session.client("sagemaker")
    tags = sagemaker.list_tags(ResourceArn=sagemaker.describe_endpoint(EndpointName="x-dev")["EndpointArn"])
    assert second not in str(tags)  # the pending deployment waits for an IN_SERVICE that never came

    trace = cloud.run_schedules_due(changed_at + LATER)

    [started] = trace.events(detail_type="Deployment Started")
    assert started["detail"]["model_package_arn"] == second


def test_a_check_while_the_endpoint_is_still_changing_schedules_the_next_until_the_last(cloud):
    cloud.hold_endpoint("x-dev", "Creating")
    approve(cloud, "x-dev", GOOD_MODEL)
    cloud.settle()
    far = datetime.now(UTC) + timedelta(days=1)

    outcomes = []
    for attempt in range(1, 7):
        assert len(checks_scheduled(cloud)) == 1  # one check at a time
        trace = cloud.run_schedules_due(far)
        [event] = trace.events(detail_type=CHECK)
        assert event["detail"]["attempt"] == attempt
        outcomes.append(result_of(trace, "ModelDeployerFunction")["status"])
        assert result_of(trace, "EndpointTesterFunction")["status"] == "ignored"

    assert outcomes == ["check-rescheduled"] * 5 + ["checks-exhausted"]
    assert checks_scheduled(cloud) == []
    assert cloud.iam.denials == []


def test_a_lost_failed_event_is_made_up_for_by_the_check_and_the_failure_is_announced_once(cloud):
    changed_at = datetime.now(UTC)
    cloud.hold_endpoint("x-dev", "Creating")
    approve(cloud, "x-dev", GOOD_MODEL)
    cloud.settle()

    def is_failed(event: dict) -> bool:
        return (
            event.get("detail-type") == "SageMaker Endpoint State Change"
            and event["detail"]["EndpointStatus"] == "FAILED"
        )

    with cloud.losing_service_events(is_failed) as lost:
        cloud.fail_endpoint("x-dev", "ResourceLimitExceeded: ml.m5.large")
        cloud.release_endpoint("x-dev")
        trace = cloud.settle()
    assert [event["detail"]["EndpointName"] for event in lost] == ["x-dev"]
    assert trace.events(detail_type="Deployment Failed") == []  # without the event, silence

    trace = cloud.run_schedules_due(changed_at + LATER)

    [failed] = trace.events(detail_type="Deployment Failed")
    assert failed["detail"]["endpoint_name"] == "x-dev"
    assert "ResourceLimitExceeded: ml.m5.large" in failed["detail"]["reason"]
    assert result_of(trace, "ModelDeployerFunction")["status"] == "failed"
    # The lost event turns up after all, twice (new ids): the failure was announced, once.
    for attempt in ("late", "again"):
        late = copy.deepcopy(lost[0])
        late["id"] = f"{attempt}-{late['id']}"
        again = cloud.send(late)
        assert again.events(detail_type="Deployment Failed") == []
        assert result_of(again, "ModelDeployerFunction")["status"] == "ignored"
    assert cloud.iam.denials == []
