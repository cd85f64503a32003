"""Every event type the control plane consumes, delivered three times (same event id, as EventBridge
redelivers it): exactly one side effect (docs/architecture.md, "What every handler guarantees").

A "side effect" is, concretely:
- a mutating AWS request (CreateEndpoint, UpdateModelPackage, an S3 PUT, a config-table write, PutEvents...);
- a domain event emitted (so no function runs twice downstream);
- a Slack message;
- a resource (endpoint, endpoint config, model, model version, promoted version, config-table item).

The first delivery must show the effect its type exists for (so the test would fail if the functions did
nothing at all). The second and third may make exactly one mutating request per function they reach: the
Powertools idempotency claim (a conditional PutItem on the idempotency table keyed by the event id), which
DynamoDB refuses because the first delivery completed; every table of the stack is then byte-for-byte as
before, which proves that the only writes attempted were refused claims. Nothing else may change: no
event, no Slack message, no resource, the same project state.

Each case says how its state is prepared, how the first delivery happens and what it must do; to add an
event type, add a `Case` to `CASES`.

A notice can also come again with a new id: SageMaker may send several events for one state change. The
rollback notice is the one whose repetition would be seen (one `Deployment Rolled Back`, one Slack message
per delivery), so a real rollback's notice is also delivered again with new ids: announced once.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from mlops_core.catalog import CATALOG
from mlops_local import LocalCloud
from mlops_local.demo_model import DEMO_SUITE
from mlops_local.testing import put_project_record

from tests.reliability.conftest import (
    ASYNC_DEV,
    SOURCE_BUCKET,
    alias_changed,
    alias_state,
    dynamodb_tables,
    mutating,
    project_state,
    put_batch_project,
    put_project,
    put_suite,
    record_tests,
    redelivered,
    register,
    serving,
    set_status,
    upload_mlflow_version,
)

pytestmark = pytest.mark.e2e

EVENTS = Path(__file__).resolve().parents[2] / "events"
CASES_ONLY_SUITE = {key: value for key, value in DEMO_SUITE.items() if key != "load"}
IDEMPOTENCY_CLAIM = ("dynamodb", "PutItem")


@dataclass
class Delivered:
    """What one delivery did: every function invocation, the events delivered, the requests made."""

    invocations: list[Any]
    events: list[dict[str, Any]]
    requests: list[Any] = field(default_factory=list)
    slack: list[dict[str, Any]] = field(default_factory=list)

    def emitted(self, detail_type: str | None = None) -> list[dict[str, Any]]:
        return [
            event
            for invocation in self.invocations
            for event in invocation.emitted
            if detail_type is None or event["detail-type"] == detail_type
        ]

    @property
    def changes(self) -> list[tuple[str, str]]:
        return mutating(self.requests)


@dataclass(frozen=True)
class First:
    """The first delivery: the event, how it is delivered again, and what it did."""

    event: dict[str, Any]
    how: str
    invocations: list[Any]
    events: list[dict[str, Any]]


@dataclass(frozen=True)
class Case:
    """One event type: `prepare` builds the state and returns the first delivery (a callable that does it
    and returns the event it delivered, and how it was delivered); `check` asserts the first delivery's
    side effect."""

    name: str
    prepare: Callable[[LocalCloud, str], Callable[[], First]]
    check: Callable[[LocalCloud, str, Delivered], None]


def event_file(name: str, project: str, **replace: str) -> dict[str, Any]:
    text = (EVENTS / name).read_text().replace('"demo', f'"{project}').replace("/demo", f"/{project}")
    for old, new in replace.items():
        text = text.replace(old, new)
    event = json.loads(text)
    event["id"] = str(uuid.uuid4())
    return event


def deliver(cloud: LocalCloud, event: dict[str, Any], how: str) -> tuple[list[Any], list[dict[str, Any]]]:
    """Deliver `event` as its trigger does: through the bus's rules ("bus"), or straight to a function
    (a schedule targets its function directly: "invoke:FunctionName"), then let everything cascade."""
    if how.startswith("invoke:"):
        invocation = cloud.invoke(how.removeprefix("invoke:"), event)
        trace = cloud.settle()
        return [invocation, *trace.invocations()], [event, *trace.events()]
    trace = cloud.send(event, bus=cloud.bus_for(event))
    return trace.invocations(), trace.events()


def sent(cloud: LocalCloud, event: dict[str, Any], how: str = "bus") -> Callable[[], First]:
    """A first delivery like the next ones: `event` delivered by `how`."""

    def first() -> First:
        return First(event, how, *deliver(cloud, event, how))

    return first


def from_trace(
    cloud: LocalCloud, act: Callable[[], None], detail_type: str, match: Callable[[dict], bool]
) -> Callable[[], First]:
    """A first delivery made by AWS itself: `act` changes something (an approval, an endpoint status),
    the cloud emits the event and delivers it (with its cascade); the event is found among those."""

    def first() -> First:
        act()
        trace = cloud.settle()
        [event, *_] = [event for event in trace.events(detail_type=detail_type) if match(event)]
        return First(event, "bus", trace.invocations(), trace.events())

    return first


def deploy(cloud: LocalCloud, group: str, commit: str = "c0ffee") -> str:
    arn = register(cloud, group, commit=commit)
    set_status(cloud, arn, "Approved")
    cloud.settle()
    return arn


def status_is(status: str) -> Callable[[dict], bool]:
    return lambda event: event["detail"].get("EndpointStatus") == status


# ------------------------------------------------------------------------------------------------ cases


def prepare_approval(cloud: LocalCloud, project: str):
    arn = register(cloud, f"{project}-dev")
    cloud.settle()
    return from_trace(
        cloud,
        lambda: set_status(cloud, arn, "Approved"),
        "SageMaker Model Package State Change",
        lambda event: event["detail"]["ModelApprovalStatus"] == "Approved",
    )


def check_approval(cloud: LocalCloud, project: str, first: Delivered) -> None:
    assert {("sagemaker", "CreateModel"), ("sagemaker", "CreateEndpoint")} <= set(first.changes)
    assert len(first.emitted("Deployment Started")) == 1
    assert serving(cloud, f"{project}-dev")["status"] == "InService"


def prepare_async_approval(cloud: LocalCloud, project: str):
    """An approval for an async stage: its endpoint is created with its queue and tested through it."""
    put_project(cloud, project, deployment_defaults=ASYNC_DEV)
    put_suite(cloud, f"{project}-dev", CASES_ONLY_SUITE)
    return prepare_approval(cloud, project)


def check_async_approval(cloud: LocalCloud, project: str, first: Delivered) -> None:
    check_approval(cloud, project, first)
    sagemaker = cloud.session.client("sagemaker")
    config = sagemaker.describe_endpoint_config(EndpointConfigName=serving(cloud, f"{project}-dev")["config"])
    assert config["AsyncInferenceConfig"]["OutputConfig"]["S3OutputPath"].endswith(f"/{project}-dev/outputs/")
    [completed] = first.emitted("Integration Tests Completed")
    assert completed["detail"]["outcome"] == "passed"
    inputs = cloud.session.client("s3").list_objects_v2(
        Bucket=cloud.outputs["AsyncInferenceBucketName"], Prefix=f"{project}-dev/inputs/"
    )
    assert inputs["KeyCount"] == len(CASES_ONLY_SUITE["cases"])  # each case went through the queue


def prepare_rejection(cloud: LocalCloud, project: str):
    deploy(cloud, f"{project}-dev", "a1")
    live = deploy(cloud, f"{project}-dev", "b2")
    return from_trace(
        cloud,
        lambda: set_status(cloud, live, "Rejected"),
        "SageMaker Model Package State Change",
        lambda event: event["detail"]["ModelApprovalStatus"] == "Rejected",
    )


def check_rejection(cloud: LocalCloud, project: str, first: Delivered) -> None:
    assert ("sagemaker", "UpdateEndpoint") in first.changes
    [rolled_back] = first.emitted("Deployment Rolled Back")
    assert serving(cloud, f"{project}-dev")["package"] == rolled_back["detail"]["model_package_arn"]
    assert rolled_back["detail"]["model_package_arn"].endswith(f"{project}-dev/1")


def v2_deferred_while_busy(cloud: LocalCloud, project: str) -> str:
    """`{project}-dev` serves v1 (tested) and is held `Updating` while v2 is approved: v2 is deferred."""
    endpoint = f"{project}-dev"
    put_suite(cloud, endpoint, CASES_ONLY_SUITE)
    deploy(cloud, endpoint, "a1")
    cloud.hold_endpoint(endpoint, "Updating")
    deferred = register(cloud, endpoint, commit="b2")
    set_status(cloud, deferred, "Approved")
    assert cloud.settle().events(detail_type="Deployment Deferred")
    return endpoint


def prepare_in_service_with_pending(cloud: LocalCloud, project: str):
    """The endpoint is busy when v2 is approved (deferred); its IN_SERVICE applies v2 and runs the suite."""
    endpoint = v2_deferred_while_busy(cloud, project)

    def release() -> None:
        cloud.release_endpoint(endpoint)

    return from_trace(cloud, release, "SageMaker Endpoint State Change", status_is("IN_SERVICE"))


def prepare_check_with_pending(cloud: LocalCloud, project: str):
    """As above, but the endpoint's IN_SERVICE is lost: the first change's in-service check applies v2."""
    endpoint = v2_deferred_while_busy(cloud, project)
    with cloud.losing_service_events(status_is("IN_SERVICE")) as lost:
        cloud.release_endpoint(endpoint)
        cloud.settle()
    assert lost

    def first() -> First:
        # The cloud is shared: run this endpoint's check only (other projects' may be due too).
        group = f"{cloud.stack_name}-in-service-checks"
        schedules = cloud.session.client("scheduler").list_schedules(GroupName=group)["Schedules"]
        [name] = [s["Name"] for s in schedules if s["Name"].startswith(f"{endpoint}-")]
        trace = cloud.run_schedule(name, group=group)
        [check] = trace.events(detail_type="Endpoint In-Service Check")
        return First(check, "bus", trace.invocations(), trace.events())

    return first


def check_in_service(cloud: LocalCloud, project: str, first: Delivered) -> None:
    assert ("sagemaker", "UpdateEndpoint") in first.changes
    [started] = first.emitted("Deployment Started")
    assert started["detail"]["model_package_arn"].endswith(f"{project}-dev/2")
    # v1's config was tested when it was deployed: only v2's is tested now
    [completed] = first.emitted("Integration Tests Completed")
    assert completed["detail"]["model_package_arn"].endswith(f"{project}-dev/2")
    assert serving(cloud, f"{project}-dev")["package"].endswith(f"{project}-dev/2")


def prepare_failed(cloud: LocalCloud, project: str):
    """The endpoint fails while v2 waits: it is deleted and recreated with v2."""
    endpoint = f"{project}-dev"
    deploy(cloud, endpoint, "a1")
    cloud.hold_endpoint(endpoint, "Updating")
    set_status(cloud, register(cloud, endpoint, commit="b2"), "Approved")
    cloud.settle()
    return from_trace(
        cloud,
        lambda: cloud.fail_endpoint(endpoint, "capacity"),
        "SageMaker Endpoint State Change",
        status_is("FAILED"),
    )


def check_failed(cloud: LocalCloud, project: str, first: Delivered) -> None:
    assert ("sagemaker", "DeleteEndpoint") in first.changes
    assert ("sagemaker", "CreateEndpoint") in first.changes
    assert serving(cloud, f"{project}-dev")["package"].endswith(f"{project}-dev/2")


def prepare_rolling_back(cloud: LocalCloud, project: str):
    return sent(cloud, event_file("endpoint-deployment-rolling-back.json", project))


def check_rolling_back(cloud: LocalCloud, project: str, first: Delivered) -> None:
    [rolled_back] = first.emitted("Deployment Rolled Back")
    assert rolled_back["detail"]["trigger"] == "alarm"
    assert len(first.slack) == 1


def prepare_promotion(scenario: str, how: str):
    def prepare(cloud: LocalCloud, project: str):
        put_project(cloud, project, scenario=scenario)
        source = register(cloud, f"{project}-dev", commit="c1", status="Approved")
        cloud.settle()
        record_tests(cloud, source)
        if how == "codecommit":
            event = event_file(
                "codecommit-prod-updated.json",
                project,
                **{"5a2a5b1c8e6f3d1f0a7b4c9d2e8f1a3b5c7d9e0f": "c1"},
            )
        else:
            event = event_file(
                "git-branch-updated.json", project, **{"5a2a5b1c8e6f3d1f0a7b4c9d2e8f1a3b5c7d9e0f": "c1"}
            )
        return sent(cloud, event)

    return prepare


def check_promotion(stages: tuple[str, ...]):
    def check(cloud: LocalCloud, project: str, first: Delivered) -> None:
        [promoted] = first.emitted("Model Promoted")
        assert sorted(p["stage"] for p in promoted["detail"]["promoted"]) == sorted(stages)
        assert all(p["created"] for p in promoted["detail"]["promoted"])
        assert first.changes.count(("sagemaker", "CreateModelPackage")) == len(stages)
        versions = project_state(cloud, project)["versions"]
        assert len([arn for arn in versions if "-dev/" not in arn]) == len(stages)

    return check


def prepare_reaper(how: str):
    def prepare(cloud: LocalCloud, project: str):
        deploy(cloud, f"{project}-dev")
        if how == "schedule":
            return sent(cloud, event_file("reaper-schedule.json", project), "invoke:EndpointReaperFunction")
        event = event_file("endpoints-reap-requested.json", project)
        event["detail"]["dry_run"] = False
        return sent(cloud, event)

    return prepare


def check_reaper(cloud: LocalCloud, project: str, first: Delivered) -> None:
    assert ("sagemaker", "DeleteEndpoint") in first.changes
    [reaped] = first.emitted("Endpoints Reaped")
    assert f"{project}-dev" in json.dumps(reaped["detail"])
    assert project_state(cloud, project)["endpoints"] == {}


def prepare_alias_changed(cloud: LocalCloud, project: str):
    put_project(cloud, project, registry_backend="mlflow", mlflow_serving_image="1.dkr.ecr/x:1")
    source = upload_mlflow_version(cloud, project, 1)
    alias_state(cloud).record(project, "dev", old=None, new=1)
    event = alias_changed(project, "dev", new=1, old=None, source_uri=source, event_id=str(uuid.uuid4()))
    return sent(cloud, event)


def check_alias_changed(cloud: LocalCloud, project: str, first: Delivered) -> None:
    assert ("sagemaker", "CreateEndpoint") in first.changes
    assert len(first.emitted("Deployment Started")) == 1
    assert serving(cloud, f"{project}-dev")["tags"]["mlops:mlflow-model-version"] == f"models:/{project}/1"
    # tested and reported with its MLflow identity (there is no Model Registry version to annotate)
    [completed] = first.emitted("Integration Tests Completed")
    assert completed["detail"]["model_package_arn"] == f"models:/{project}/1"


def prepare_tests_requested(cloud: LocalCloud, project: str):
    put_suite(cloud, f"{project}-dev", CASES_ONLY_SUITE)
    deploy(cloud, f"{project}-dev")
    return sent(cloud, event_file("integration-tests-requested.json", project))


def check_tests_requested(cloud: LocalCloud, project: str, first: Delivered) -> None:
    [completed] = first.emitted("Integration Tests Completed")
    assert completed["detail"]["trigger"] == "requested"
    assert completed["detail"]["outcome"] == "passed"
    assert ("sagemaker", "UpdateModelPackage") in first.changes
    runs = [item for item in project_state(cloud, project)["items"] if str(item["sk"]).startswith("RUN#")]
    assert len(runs) == 2  # the deployment's run and the requested one


def prepare_pipeline_failed(cloud: LocalCloud, project: str):
    put_project_record(cloud.session, cloud.outputs["ConfigTableName"], project)  # a project's pipeline
    return sent(cloud, event_file("pipeline-execution-failed.json", project))


def check_one_slack_message(cloud: LocalCloud, project: str, first: Delivered) -> None:
    assert len(first.slack) >= 1
    assert first.changes.count(("events", "PutEvents")) == len(first.emitted())


def prepare_domain_event(event_model):
    def prepare(cloud: LocalCloud, project: str):
        detail = event_model.model_validate(event_model.EXAMPLE).detail()
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "source": event_model.source(),
            "detail-type": event_model.DETAIL_TYPE,
            "account": "123456789012",
            "time": "2026-11-25T18:30:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": json.loads(json.dumps(detail).replace('"demo', f'"{project}')),
        }
        return sent(cloud, event)

    return prepare


def check_domain_event(cloud: LocalCloud, project: str, first: Delivered) -> None:
    notified = [i for i in first.invocations if i.function == "SlackNotifierFunction"]
    assert notified and all(i.succeeded for i in notified)
    assert len(first.slack) == len(notified) >= 1


def batch_stage(cloud: LocalCloud, project: str) -> None:
    """`{project}-dev` is a batch stage over one input object, with a suite of cases."""
    put_batch_project(
        cloud,
        project,
        input_s3_uri=f"s3://{SOURCE_BUCKET}/{project}/input",
        output_s3_uri=f"s3://{SOURCE_BUCKET}/{project}/output",
    )
    put_suite(cloud, f"{project}-dev", CASES_ONLY_SUITE)
    cloud.session.client("s3").put_object(
        Bucket=SOURCE_BUCKET, Key=f"{project}/input/day.jsonl", Body=b'{"instances": [[2, 95.0, 4]]}\n'
    )


def prepare_batch_approval(cloud: LocalCloud, project: str):
    batch_stage(cloud, project)
    return prepare_approval(cloud, project)


def check_batch_approval(cloud: LocalCloud, project: str, first: Delivered) -> None:
    # Scheduler is a REST service: its calls are named by method and path (CreateSchedule is a POST).
    assert {("sagemaker", "CreateModel"), ("scheduler", f"POST /schedules/{project}-dev")} <= set(
        first.changes
    )
    assert first.changes.count(("sagemaker", "CreateTransformJob")) == 1  # the stage's test run
    assert len(first.emitted("Deployment Started")) == 1
    [tested] = first.emitted("Integration Tests Completed")
    assert tested["detail"]["outcome"] == "passed", tested["detail"]["summary"]


def prepare_batch_rejection(cloud: LocalCloud, project: str):
    batch_stage(cloud, project)
    return prepare_rejection(cloud, project)


def check_batch_rejection(cloud: LocalCloud, project: str, first: Delivered) -> None:
    assert ("scheduler", f"PUT /schedules/{project}-dev") in first.changes  # UpdateSchedule
    assert ("scheduler", f"POST /schedules/{project}-dev") not in first.changes
    [rolled_back] = first.emitted("Deployment Rolled Back")
    assert rolled_back["detail"]["model_package_arn"].endswith(f"{project}-dev/1")


def prepare_batch_run_failed(cloud: LocalCloud, project: str):
    """The stage's scheduled job fails on a record the model refuses: its state change, once."""
    batch_stage(cloud, project)
    deploy(cloud, f"{project}-dev")
    cloud.session.client("s3").put_object(
        Bucket=SOURCE_BUCKET, Key=f"{project}/input/late.jsonl", Body=b'{"instances": [[1, 2]]}\n'
    )

    def first() -> First:
        trace = cloud.run_schedule(f"{project}-dev")
        [event] = trace.events(detail_type="SageMaker Transform Job State Change")
        assert event["detail"]["TransformJobStatus"] == "Failed"
        return First(event, "bus", trace.invocations(), trace.events())

    return first


CASES = [
    Case("model-package-approved", prepare_approval, check_approval),
    Case("model-package-approved-async", prepare_async_approval, check_async_approval),
    Case("batch-stage-approved", prepare_batch_approval, check_batch_approval),
    Case("batch-stage-rejected-live", prepare_batch_rejection, check_batch_rejection),
    Case("transform-job-failed", prepare_batch_run_failed, check_one_slack_message),
    Case("model-package-rejected-live", prepare_rejection, check_rejection),
    Case("endpoint-in-service-applies-pending", prepare_in_service_with_pending, check_in_service),
    Case("in-service-check-applies-pending", prepare_check_with_pending, check_in_service),
    Case("endpoint-failed-recreates", prepare_failed, check_failed),
    Case("endpoint-deployment-rolling-back", prepare_rolling_back, check_rolling_back),
    Case("codecommit-prod-updated", prepare_promotion("baseline", "codecommit"), check_promotion(("prod",))),
    Case(
        "git-branch-updated",
        prepare_promotion("advanced", "git"),
        check_promotion(("champion", "challenger")),
    ),
    Case("reaper-schedule", prepare_reaper("schedule"), check_reaper),
    Case("endpoints-reap-requested", prepare_reaper("request"), check_reaper),
    Case("mlflow-model-alias-changed", prepare_alias_changed, check_alias_changed),
    Case("integration-tests-requested", prepare_tests_requested, check_tests_requested),
    Case("pipeline-execution-failed", prepare_pipeline_failed, check_one_slack_message),
    *(
        Case(f"domain-event:{model.DETAIL_TYPE}", prepare_domain_event(model), check_domain_event)
        for model in CATALOG
        if model.ANNOUNCED  # the one that is not (a timer) has its own case above
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_an_event_delivered_three_times_has_exactly_one_side_effect(
    cloud: LocalCloud, new_project, case: Case
):
    project = new_project("rd")
    first_delivery = case.prepare(cloud, project)

    slack_mark = len(cloud.slack_messages)
    with cloud.recording_aws_requests() as requests:
        done = first_delivery()
    first = Delivered(done.invocations, done.events, list(requests), cloud.slack_messages[slack_mark:])
    assert all(invocation.succeeded for invocation in first.invocations), [
        invocation.error for invocation in first.invocations if not invocation.succeeded
    ]
    case.check(cloud, project, first)
    state, tables = project_state(cloud, project), dynamodb_tables(cloud)

    for _ in range(2):
        slack_mark = len(cloud.slack_messages)
        with cloud.recording_aws_requests() as requests:
            invocations, _events = deliver(cloud, redelivered(done.event), done.how)
        again = Delivered(invocations, _events, list(requests), cloud.slack_messages[slack_mark:])
        assert invocations, "the redelivered event reached no function"
        assert all(invocation.succeeded for invocation in invocations)
        assert again.emitted() == []
        assert again.slack == []
        assert again.changes == [IDEMPOTENCY_CLAIM] * len(invocations)
        assert dynamodb_tables(cloud) == tables  # so each claim was refused: nothing was written
        assert project_state(cloud, project) == state


def test_a_rollback_noticed_again_with_new_ids_is_announced_once(cloud: LocalCloud, new_project):
    """A canary rolled back by its alarm in the embedded SageMaker; its ROLLING_BACK notice delivered twice
    more with new ids (so the idempotency table cannot tell): no second announcement, nothing changed
    but the new ids' idempotency records and the refused claim on the rollback."""
    project = new_project("rb")
    endpoint = f"{project}-prod"
    put_project(
        cloud,
        project,
        deployment_defaults={
            "prod": {"instance_type": "ml.m5.large", "instance_count": 2, "strategy": "canary"}
        },
    )
    register(cloud, endpoint, commit="a1", status="Approved")
    cloud.settle()
    cloud.hold_rollout(endpoint, at="Baking")
    register(cloud, endpoint, commit="b2", status="Approved")
    cloud.settle()
    cloud.session.client("cloudwatch").set_alarm_state(
        AlarmName=f"mlops-{endpoint}-invocation-5xx-errors",
        StateValue="ALARM",
        StateReason="5XX on the canary",
    )
    slack_mark = len(cloud.slack_messages)
    rolled_back = cloud.settle()
    cloud.release_endpoint(endpoint)
    [notice] = [
        event
        for event in rolled_back.events(detail_type="SageMaker Endpoint Deployment State Change")
        if event["detail"]["EndpointStatus"] == "ROLLING_BACK"
    ]
    [announced] = rolled_back.events(detail_type="Deployment Rolled Back")
    assert announced["detail"]["rolled_back_model_package_arn"].endswith(f"{endpoint}/2")
    assert [m for m in cloud.slack_messages[slack_mark:] if "rolled back" in m["text"]] != []
    assert serving(cloud, endpoint)["package"].endswith(f"{endpoint}/1")
    state = project_state(cloud, project)

    for _ in range(2):
        again = redelivered(notice)
        again["id"] = str(uuid.uuid4())
        slack_mark = len(cloud.slack_messages)
        with cloud.recording_aws_requests() as requests:
            invocations, events = deliver(cloud, again, "bus")
        delivered = Delivered(invocations, events, list(requests), cloud.slack_messages[slack_mark:])
        [deployer] = invocations
        assert deployer.succeeded and deployer.result["status"] == "ignored"
        assert delivered.emitted() == [] and delivered.slack == []
        assert {service for service, _ in delivered.changes} == {"dynamodb"}  # claims and their records
        assert project_state(cloud, project) == state


def test_a_project_create_request_delivered_three_times_creates_and_announces_the_project_once(
    cloud: LocalCloud, new_project
):
    """Lambda invokes a custom resource asynchronously (at least once): the same Create of the same
    stack again answers the same SUCCESS, writes nothing and emits no second `Project Created`."""
    project = new_project("cr")
    properties = {
        "SageMakerProjectName": project,
        "SageMakerProjectId": f"p-{project}",
        "GitProvider": "local",
    }
    stack = f"arn:aws:cloudformation:us-east-1:123456789012:stack/SC-{project}/1"
    slack_mark = len(cloud.slack_messages)
    with cloud.recording_aws_requests() as requests:
        created = cloud.request_custom_resource(
            "ProjectLifecycleFunction", "Create", properties, stack_id=stack
        )
        cloud.settle()
    assert created.status == "SUCCESS", created.reason
    assert mutating(requests).count(("sagemaker", "CreateModelPackageGroup")) == 3
    assert [e["detail-type"] for e in created.invocation.emitted] == ["Project Created"]
    assert len(cloud.slack_messages) == slack_mark + 1
    state, tables = project_state(cloud, project), dynamodb_tables(cloud)
    head = (cloud.git_root / f"{project}.git" / "refs" / "heads" / "prod").read_text()

    for _ in range(2):
        with cloud.recording_aws_requests() as requests:
            again = cloud.request_custom_resource(
                "ProjectLifecycleFunction", "Create", properties, stack_id=stack
            )
            cloud.settle()
        assert (again.status, again.physical_id, again.data) == ("SUCCESS", created.physical_id, created.data)
        assert again.invocation.emitted == ()
        assert mutating(requests) == []
        assert len(cloud.slack_messages) == slack_mark + 1
        assert dynamodb_tables(cloud) == tables
        assert project_state(cloud, project) == state
        assert (cloud.git_root / f"{project}.git" / "refs" / "heads" / "prod").read_text() == head


def test_the_cases_cover_every_trigger_file_and_every_domain_event():
    """A new event file or domain event needs a redelivery case here (or a reason below)."""
    covered = {
        case.name.removesuffix("-live").removesuffix("-applies-pending").removesuffix("-recreates")
        for case in CASES
    }
    files = {path.stem for path in EVENTS.glob("*.json")}
    elsewhere = {
        "project-create",  # the custom resource's test above
        "deployment-started",  # the case domain-event:Deployment Started
        # The watcher's poll and webhook read a real MLflow tracking server (tests/e2e/test_mlflow_aliases:
        # a webhook delivery id twice is answered "duplicate"; two overlapping polls emit once).
        "mlflow-poll-scheduled",
        "mlflow-webhook-alias-created",
    }
    assert files - covered - elsewhere == set()
    assert {f"domain-event:{model.DETAIL_TYPE}" for model in CATALOG if model.ANNOUNCED} <= covered
