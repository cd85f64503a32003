"""Model Monitor on the local cloud: a production endpoint whose project opts in, serving a version with
data-quality baselines and capturing its data, gets a data-quality monitoring schedule (tagged like the
endpoint), moved to each new version's job definition, gone with the endpoint; a monitoring execution
that completes with violations reaches the project's Slack channel."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer
from mlops_local import LocalCloud
from mlops_local.demo_model import GOOD_MODEL, register_demo_version
from mlops_local.slack import SlackWebhookReceiver

# The us-east-1 analyzer image (docs/monitoring.md says where the account per region comes from).
ANALYZER = "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
PROJECT = "drifty"
ENDPOINT = "drifty-prod"
CAPTURE = "s3://mlops-capture-bucket/drifty"


def baselines(version: int) -> dict[str, Any]:
    prefix = f"s3://mlops-baselines/drifty/{version}"
    return {
        "ModelDataQuality": {
            "Statistics": {"ContentType": "application/json", "S3Uri": f"{prefix}/statistics.json"},
            "Constraints": {"ContentType": "application/json", "S3Uri": f"{prefix}/constraints.json"},
        }
    }


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(parameters={"DeployedStages": "dev,prod", "ModelMonitorImageUri": ANALYZER}) as local:
        yield local


@pytest.fixture(scope="module", autouse=True)
def project_channel(cloud: LocalCloud) -> Iterator[SlackWebhookReceiver]:
    with SlackWebhookReceiver() as receiver:
        cloud.session.client("secretsmanager").create_secret(
            Name=f"slack/{PROJECT}/webhook",
            SecretString=json.dumps({"webhook_url": receiver.url}),
            Tags=[{"Key": "mlops:managed-by", "Value": cloud.stack_name}],
        )
        yield receiver


def put_record(cloud: LocalCloud, prod: dict[str, Any]) -> None:
    serializer = TypeSerializer()
    item = {
        "pk": f"PROJECT#{PROJECT}",
        "sk": "META",
        "project": PROJECT,
        "slack_webhook_secret": f"slack/{PROJECT}/webhook",
        "deployment_defaults": {"prod": prod},
    }
    cloud.session.client("dynamodb").put_item(
        TableName=cloud.outputs["ConfigTableName"], Item={k: serializer.serialize(v) for k, v in item.items()}
    )


MONITORED = {
    "data_capture": {"enabled": True, "destination_s3_uri": CAPTURE},
    "model_monitor": {"enabled": True, "schedule_expression": "cron(0 * ? * * *)"},
}


def release(cloud: LocalCloud, version: int, *, with_baselines: bool = True) -> str:
    arn = register_demo_version(
        cloud.session,
        f"{PROJECT}-prod",
        GOOD_MODEL,
        commit_id=f"c0ffee{version}",
        dataset="s3://data/drifty/2026-12-01",
        drift_check_baselines=baselines(version) if with_baselines else None,
    )
    cloud.session.client("sagemaker").update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved"
    )
    cloud.settle()
    return arn


def schedules(cloud: LocalCloud) -> list[dict[str, Any]]:
    return cloud.session.client("sagemaker").list_monitoring_schedules(EndpointName=ENDPOINT)[
        "MonitoringScheduleSummaries"
    ]


def job_definitions(cloud: LocalCloud) -> list[str]:
    summaries = cloud.session.client("sagemaker").list_data_quality_job_definitions(EndpointName=ENDPOINT)
    return [s["MonitoringJobDefinitionName"] for s in summaries["JobDefinitionSummaries"]]


def test_a_monitored_production_endpoint_gets_a_tagged_schedule_that_follows_its_versions(cloud):
    sagemaker = cloud.session.client("sagemaker")
    put_record(cloud, MONITORED)
    denied = len(cloud.iam.denials)
    release(cloud, 1)

    (schedule,) = schedules(cloud)
    assert schedule["MonitoringScheduleName"] == "drifty-prod-data-quality"
    described = sagemaker.describe_monitoring_schedule(MonitoringScheduleName="drifty-prod-data-quality")
    first = described["MonitoringScheduleConfig"]["MonitoringJobDefinitionName"]
    assert first.startswith("drifty-prod-dq-v1-") and job_definitions(cloud) == [first]
    definition = sagemaker.describe_data_quality_job_definition(JobDefinitionName=first)
    assert definition["DataQualityBaselineConfig"]["ConstraintsResource"]["S3Uri"].endswith(
        "/drifty/1/constraints.json"
    )
    assert definition["DataQualityAppSpecification"]["ImageUri"] == ANALYZER
    assert definition["DataQualityJobInput"]["EndpointInput"]["EndpointName"] == ENDPOINT
    assert definition["DataQualityJobOutputConfig"]["MonitoringOutputs"][0]["S3Output"]["S3Uri"] == (
        f"{CAPTURE}/monitoring/{ENDPOINT}"
    )
    for arn in (described["MonitoringScheduleArn"], definition["JobDefinitionArn"]):
        tags = {t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=arn)["Tags"]}
        assert tags == {"mlops:managed-by": "mlops", "mlops:project": PROJECT, "mlops:stage": "prod"}

    release(cloud, 2)

    (second,) = job_definitions(cloud)
    assert second.startswith("drifty-prod-dq-v2-")
    config = sagemaker.describe_monitoring_schedule(MonitoringScheduleName="drifty-prod-data-quality")
    assert config["MonitoringScheduleConfig"]["MonitoringJobDefinitionName"] == second
    assert len(cloud.iam.denials) == denied


def test_back_in_service_with_nothing_new_costs_one_describe(cloud):
    put_record(cloud, MONITORED)
    if not schedules(cloud):
        release(cloud, 3)
    (in_service, *_) = [
        event
        for event in reversed(cloud.history.events(detail_type="SageMaker Endpoint State Change"))
        if event["detail"]["EndpointName"] == ENDPOINT and event["detail"]["EndpointStatus"] == "IN_SERVICE"
    ]
    with cloud.recording_aws_requests() as requests:
        cloud.send({key: value for key, value in in_service.items() if key != "id"})
    monitoring = [
        r.operation for r in requests if "Monitoring" in r.operation or "DataQuality" in r.operation
    ]
    assert monitoring == ["DescribeMonitoringSchedule"]


def test_a_violation_reaches_the_projects_channel(cloud, project_channel):
    put_record(cloud, MONITORED)
    if not schedules(cloud):
        release(cloud, 4)
    (schedule,) = schedules(cloud)
    before, platform_before = len(project_channel.messages), len(cloud.slack_messages)
    job = "model-monitoring-202612060400-0123456789abcdef01234567"
    execution = {
        "ProcessingJobName": job,
        "ProcessingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:processing-job/{job}",
        "ProcessingJobStatus": "Completed",
        "ExitMessage": "CompletedWithViolations: Job completed successfully with 3 violations. <!channel>",
        "MonitoringScheduleArn": schedule["MonitoringScheduleArn"],
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": "result",
                    "S3Output": {
                        "S3Uri": f"{CAPTURE}/monitoring/{ENDPOINT}/2026/12/06/04",
                        "LocalPath": "/opt/ml/processing/output",
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ]
        },
    }
    # SageMaker's own event (its source is AWS's: the local cloud stands in for the service).
    cloud.send(
        {
            "source": "aws.sagemaker",
            "detail-type": "SageMaker Processing Job State Change",
            "detail": execution,
        }
    )
    cloud.send(
        {
            "source": "aws.sagemaker",
            "detail-type": "SageMaker Processing Job State Change",
            "detail": {
                **execution,
                "ExitMessage": "Completed: Job completed successfully with no violations.",
            },
        }
    )

    (message,) = [json.dumps(m) for m in project_channel.messages[before:]]
    assert "Data-quality violations on drifty-prod" in message
    assert "3 violations" in message and "&lt;!channel&gt;" in message and "<!channel>" not in message
    assert f"{CAPTURE}/monitoring/{ENDPOINT}/2026/12/06/04" in message
    assert f"#/processing-jobs/{job}" in message
    assert len(cloud.slack_messages) == platform_before


def test_deleting_the_endpoint_leaves_no_schedule_and_no_job_definition(cloud):
    """Whoever deletes it (the reaper does not reap production stages; a person, a rollback of a new
    endpoint): its DELETING state change takes the schedule and the job definitions with it."""
    put_record(cloud, MONITORED)
    if not schedules(cloud):
        release(cloud, 5)
    assert schedules(cloud) and job_definitions(cloud)
    denied = len(cloud.iam.denials)

    cloud.session.client("sagemaker").delete_endpoint(EndpointName=ENDPOINT)
    trace = cloud.settle()

    assert "DELETING" in [
        e["detail"]["EndpointStatus"] for e in trace.events(detail_type="SageMaker Endpoint State Change")
    ]
    assert cloud.session.client("sagemaker").list_endpoints(NameContains=ENDPOINT)["Endpoints"] == []
    assert schedules(cloud) == [] and job_definitions(cloud) == []
    assert cloud.session.client("sagemaker").list_monitoring_schedules()["MonitoringScheduleSummaries"] == []
    assert len(cloud.iam.denials) == denied


def test_a_version_without_baselines_or_a_record_that_opts_out_has_no_schedule(cloud):
    put_record(cloud, MONITORED)
    release(cloud, 6, with_baselines=False)
    assert schedules(cloud) == [] and job_definitions(cloud) == []

    release(cloud, 7)
    assert schedules(cloud)
    put_record(cloud, {"data_capture": MONITORED["data_capture"]})
    release(cloud, 8)
    assert schedules(cloud) == [] and job_definitions(cloud) == []
