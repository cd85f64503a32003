"""A batch stage: an approval becomes the stage's model and schedule, the schedule's transform job runs
the model over the input, and a rejection puts the previous version back on the schedule."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer
from mlops_core.suite_tool import write_suite
from mlops_local import LocalCloud
from mlops_local.demo_model import BROKEN_MODEL, DEMO_BUCKET, DEMO_SUITE, GOOD_MODEL, register_demo_version

INPUT = f"s3://{DEMO_BUCKET}/batch/input"
OUTPUT = f"s3://{DEMO_BUCKET}/batch/output"
RECORDS = [
    {"instances": [{"tenure_months": 2, "monthly_charges": 90.0, "support_calls": 6}]},
    {"instances": [{"tenure_months": 60, "monthly_charges": 20.0, "support_calls": 0}]},
]
BATCH = {
    "kind": "batch",
    "instance_type": "ml.m5.large",
    "schedule_expression": "cron(0 2 * * ? *)",
    "input_s3_uri": INPUT,
    "output_s3_uri": OUTPUT,
}


def set_project(cloud: LocalCloud, deployment: dict[str, Any]) -> None:
    serializer = TypeSerializer()
    item = {"pk": "PROJECT#x", "sk": "META", "project": "x", "deployment_defaults": deployment}
    cloud.session.client("dynamodb").put_item(
        TableName=cloud.outputs["ConfigTableName"], Item={k: serializer.serialize(v) for k, v in item.items()}
    )


@pytest.fixture
def batch_cloud(cloud: LocalCloud) -> LocalCloud:
    set_project(cloud, {"dev": {"compute": BATCH}})
    register_demo_version(cloud.session, "x-dev", GOOD_MODEL)  # creates the bucket
    cloud.session.client("s3").put_object(
        Bucket=DEMO_BUCKET,
        Key="batch/input/records.jsonl",
        Body="\n".join(json.dumps(record) for record in RECORDS).encode(),
    )
    cloud.settle()
    return cloud


def first_version(cloud: LocalCloud) -> str:
    """The version `batch_cloud` registered."""
    sagemaker = cloud.session.client("sagemaker")
    summaries = sagemaker.list_model_packages(ModelPackageGroupName="x-dev")["ModelPackageSummaryList"]
    return str(summaries[0]["ModelPackageArn"])


def approve(cloud: LocalCloud, arn: str) -> None:
    cloud.session.client("sagemaker").update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved"
    )


def reject(cloud: LocalCloud, arn: str) -> None:
    cloud.session.client("sagemaker").update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Rejected"
    )


def scheduled_request(cloud: LocalCloud) -> dict[str, Any]:
    schedule = cloud.session.client("scheduler").get_schedule(
        GroupName=f"{cloud.stack_name}-batch", Name="x-dev"
    )
    assert schedule["Target"]["Arn"] == "arn:aws:scheduler:::aws-sdk:sagemaker:createTransformJob"
    assert schedule["ScheduleExpression"] == "cron(0 2 * * ? *)"
    return json.loads(schedule["Target"]["Input"])


def model_package_of(cloud: LocalCloud, model_name: str) -> str:
    model = cloud.session.client("sagemaker").describe_model(ModelName=model_name)
    return model["Containers"][0]["ModelPackageName"]


def outputs(cloud: LocalCloud) -> dict[str, list[dict[str, Any]]]:
    s3 = cloud.session.client("s3")
    listed = s3.list_objects_v2(Bucket=DEMO_BUCKET, Prefix="batch/output/").get("Contents", [])
    return {
        item["Key"]: [
            json.loads(line)
            for line in s3.get_object(Bucket=DEMO_BUCKET, Key=item["Key"])["Body"]
            .read()
            .decode()
            .splitlines()
        ]
        for item in listed
    }


def test_an_approval_for_a_batch_stage_creates_its_model_and_schedule_and_the_job_scores_the_input(
    batch_cloud,
):
    cloud = batch_cloud
    [arn] = [
        p["ModelPackageArn"]
        for p in cloud.session.client("sagemaker").list_model_packages(ModelPackageGroupName="x-dev")[
            "ModelPackageSummaryList"
        ]
    ]
    approve(cloud, arn)
    trace = cloud.settle()

    [started] = trace.events(detail_type="Deployment Started")
    assert started["detail"]["action"] == "create-schedule"
    request = scheduled_request(cloud)
    assert model_package_of(cloud, request["ModelName"]) == arn
    assert {t["Key"]: t["Value"] for t in request["Tags"]} == {
        "mlops:project": "x",
        "mlops:stage": "dev",
        "mlops:managed-by": cloud.stack_name,
        "mlops:model-package-arn": arn,
        "mlops:commit-id": "c0ffee",
    }
    assert cloud.session.client("sagemaker").list_endpoints()["Endpoints"] == []

    run = cloud.run_schedule("x-dev")

    [done] = run.events(detail_type="SageMaker Transform Job State Change")
    assert done["detail"]["TransformJobStatus"] == "Completed", done["detail"].get("FailureReason")
    assert done["detail"]["Tags"]["mlops:model-package-arn"] == arn
    [(key, lines)] = outputs(cloud).items()
    assert key.startswith("batch/output/20") and key.endswith("/records.jsonl.out")  # dated by its run
    assert [line["predictions"][0]["label"] for line in lines] == [1, 0]


def approved_one_after_the_other(cloud, second_model: dict) -> tuple[str, str]:
    """The first version, then a second one made of ``second_model``, each approved and settled."""
    first = first_version(cloud)
    approve(cloud, first)
    cloud.settle()
    second = register_demo_version(cloud.session, "x-dev", second_model)
    approve(cloud, second)
    cloud.settle()
    return first, second


def test_the_same_approval_again_changes_nothing_and_a_late_older_one_is_stale(batch_cloud):
    cloud = batch_cloud
    _, second = approved_one_after_the_other(cloud, GOOD_MODEL)
    assert model_package_of(cloud, scheduled_request(cloud)["ModelName"]) == second

    approvals = [
        e
        for e in cloud.history.events(detail_type="SageMaker Model Package State Change")
        if e["detail"]["ModelApprovalStatus"] == "Approved"
    ]
    for approval in approvals:
        again = copy.deepcopy(approval)
        again["id"] = f"redelivered-{approval['id']}"
        trace = cloud.send(again)
        [skipped] = trace.events(detail_type="Deployment Skipped")
        expected = "already-deployed" if approval["detail"]["ModelPackageArn"] == second else "stale"
        assert skipped["detail"]["reason"] == expected

    assert model_package_of(cloud, scheduled_request(cloud)["ModelName"]) == second


def test_rejecting_the_live_version_puts_the_previous_one_back_on_the_schedule(batch_cloud):
    cloud = batch_cloud
    first, second = approved_one_after_the_other(cloud, BROKEN_MODEL)

    reject(cloud, second)
    trace = cloud.settle()

    [rolled_back] = trace.events(detail_type="Deployment Rolled Back")
    assert rolled_back["detail"]["rolled_back_model_package_arn"] == second
    assert rolled_back["detail"]["model_package_arn"] == first
    assert model_package_of(cloud, scheduled_request(cloud)["ModelName"]) == first


def test_a_batch_stage_keeps_the_scheduled_model_and_the_one_before_and_deletes_older_ones(batch_cloud):
    cloud = batch_cloud
    first, second = approved_one_after_the_other(cloud, GOOD_MODEL)
    sagemaker = cloud.session.client("sagemaker")
    models = {
        model_package_of(cloud, m["ModelName"]): m["ModelName"] for m in sagemaker.list_models()["Models"]
    }
    assert set(models) == {first, second}  # nothing older than the one before: nothing deleted
    third = register_demo_version(cloud.session, "x-dev", GOOD_MODEL)
    approve(cloud, third)
    cloud.settle()

    remaining = {m["ModelName"] for m in sagemaker.list_models()["Models"]}
    assert {model_package_of(cloud, name) for name in remaining} == {second, third}
    assert models[first] not in remaining

    reject(cloud, third)  # the one before is there to go back to
    cloud.settle()
    assert model_package_of(cloud, scheduled_request(cloud)["ModelName"]) == second
    reject(cloud, second)  # and a version whose model was deleted is made again
    cloud.settle()
    assert scheduled_request(cloud)["ModelName"] == models[first]
    assert model_package_of(cloud, models[first]) == first


def test_a_batch_stage_with_endpoint_settings_is_refused_and_nothing_is_created(batch_cloud):
    cloud = batch_cloud
    set_project(cloud, {"dev": {"compute": BATCH, "strategy": "canary"}})
    arn = first_version(cloud)

    approve(cloud, arn)
    trace = cloud.settle()

    [failed] = trace.events(detail_type="Deployment Failed")
    assert "batch stage" in failed["detail"]["reason"] and "strategy canary" in failed["detail"]["reason"]
    assert cloud.session.client("scheduler").list_schedules()["Schedules"] == []
    assert cloud.session.client("sagemaker").list_models()["Models"] == []


def test_a_batch_stage_is_tested_by_a_transform_job_over_the_suite_with_the_endpoint_checks(batch_cloud):
    cloud = batch_cloud
    # The demo's suite (a JSON case, a CSV case, an error case, a load phase), and a second JSON case.
    by_name = {
        "name": "churner-by-name",
        "request": {
            "json": {"instances": [{"tenure_months": 3, "monthly_charges": 80.0, "support_calls": 5}]}
        },
        "expect": {"json": [{"path": "$.predictions[0].label", "equals": 1}]},
    }
    suite = {**DEMO_SUITE, "cases": [*DEMO_SUITE["cases"], by_name]}
    write_suite(
        cloud.session.client("dynamodb"), cloud.outputs["ConfigTableName"], "x-dev", suite, source="t"
    )
    good = first_version(cloud)
    approve(cloud, good)
    trace = cloud.settle()

    [passed] = trace.events(detail_type="Integration Tests Completed")
    assert passed["detail"]["outcome"] == "passed", passed["detail"]["cases"]
    assert passed["detail"]["model_package_arn"] == good
    assert [case["name"] for case in passed["detail"]["cases"]] == ["churner-leaves", "churner-by-name"], (
        passed["detail"]["summary"]
    )
    assert "1 error case(s) not run" in passed["detail"]["summary"]
    assert "1 case(s) not run: a transform job sends one content type" in passed["detail"]["summary"]
    assert "no load phase" in passed["detail"]["summary"]
    tested = cloud.session.client("sagemaker").describe_model_package(ModelPackageName=good)
    assert tested["CustomerMetadataProperties"]["mlops:integration-tests"] == "passed"

    broken = register_demo_version(cloud.session, "x-dev", BROKEN_MODEL)
    approve(cloud, broken)
    trace = cloud.settle()

    [failed] = trace.events(detail_type="Integration Tests Completed")
    assert failed["detail"]["outcome"] == "failed"
    assert [case["name"] for case in failed["detail"]["cases"] if not case["passed"]] == [
        "churner-leaves",
        "churner-by-name",
    ]
    # The deployment's test ran once: its events again start nothing.
    [started] = trace.events(detail_type="Deployment Started")
    again = cloud.send(copy.deepcopy({**started, "id": "redelivered"}))
    assert again.events(detail_type="SageMaker Transform Job State Change") == []


def test_a_scheduled_transform_that_fails_reaches_the_projects_slack_channel(batch_cloud):
    cloud = batch_cloud
    arn = first_version(cloud)
    approve(cloud, arn)
    cloud.settle()
    cloud.session.client("s3").put_object(
        Bucket=DEMO_BUCKET, Key="batch/input/bad.jsonl", Body=b'{"instances": [[1, 2]]}\n<!channel>\n'
    )
    sent = len(cloud.slack_messages)

    run = cloud.run_schedule("x-dev")

    [failed] = run.events(detail_type="SageMaker Transform Job State Change")
    assert failed["detail"]["TransformJobStatus"] == "Failed"
    [message] = cloud.slack_messages[sent:]
    text = json.dumps(message)
    assert "Batch transform of x-dev failed" in text
    assert failed["detail"]["TransformJobName"] in text
    assert "bad.jsonl" in text  # the reason names the input that was refused
