"""Model Monitor's pure parts: the opt-in setting and its validation, a version's data-quality baselines,
the schedule's and job definitions' names, what the deployer does with fakes for ports, and a monitoring
execution with violations read from its processing job's event and rendered for Slack."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mlops_core.contract import model_monitor
from mlops_core.contract.aws_events import EndpointStatus, ModelApprovalStatus
from mlops_core.contract.deployment_settings import InvalidDeploymentSettingsError, ProjectDeploymentSettings
from mlops_core.contract.model_monitor import DataQualityBaseline, ModelMonitorSettings
from mlops_core.contract.naming import StageResource
from mlops_core.contract.sagemaker_resources import Endpoint, ModelPackage
from mlops_core.contract.topology import Stage
from mlops_core.deployment.context import DeployerContext
from mlops_core.deployment.model_monitor import DataQualityMonitoring, delete_endpoint_monitoring
from mlops_core.deployment.settings import DeployerSettings
from mlops_core.notifications.monitoring_violations import violation_context
from mlops_core.notifications.slack_messages import limit_violations, render

ANALYZER = "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-prod/{}"
CAPTURE = {"enabled": True, "destination_s3_uri": "s3://capture/churn"}
MONITORED = {"prod": {"data_capture": CAPTURE, "model_monitor": {"enabled": True}}}
BASELINES = {
    "DriftCheckBaselines": {
        "ModelDataQuality": {
            "Statistics": {"ContentType": "application/json", "S3Uri": "s3://b/statistics.json"},
            "Constraints": {"ContentType": "application/json", "S3Uri": "s3://b/constraints.json"},
        }
    }
}


def settings(image: str = ANALYZER) -> DeployerSettings:
    return DeployerSettings.model_validate(
        {
            "STACK_NAME": "mlops",
            "EVENT_BUS_NAME": "bus",
            "CONFIG_TABLE_NAME": "config",
            "IDEMPOTENCY_TABLE_NAME": "idempotency",
            "DEPLOYED_STAGES": "prod",
            "SAGEMAKER_EXECUTION_ROLE_ARN": "arn:aws:iam::123456789012:role/sagemaker",
            "REGISTRY_ACCOUNT_IDS": "123456789012",
            "AWS_REGION": "us-east-1",
            "DEFAULT_INSTANCE_TYPE": "ml.m5.large",
            "DEFAULT_INSTANCE_COUNT": "1",
            "MODEL_MONITOR_IMAGE_URI": image,
        }
    )


# ------------------------------------------------------------------------------------------ settings


@pytest.mark.parametrize(
    ("stages", "reason"),
    [
        ({"prod": {"model_monitor": {"enabled": True}}}, "needs data_capture enabled"),
        (
            {"prod": {"compute": {"kind": "serverless"}, "model_monitor": {"enabled": True}}},
            "serverless endpoints do not support data capture",
        ),
        ({"dev": {"data_capture": CAPTURE, "model_monitor": {"enabled": True}}}, "production stages only"),
        ({"prod": {**MONITORED["prod"], "model_monitor": {"enabled": True, "cron": "x"}}}, "cron"),
        (
            {
                "prod": {
                    **MONITORED["prod"],
                    "model_monitor": {"enabled": True, "schedule_expression": "daily"},
                }
            },
            "schedule_expression",
        ),
    ],
)
def test_model_monitor_is_refused_where_it_cannot_run(stages, reason):
    with pytest.raises(InvalidDeploymentSettingsError, match=reason):
        ProjectDeploymentSettings.from_record({"deployment_defaults": stages})


def test_model_monitor_is_off_unless_the_project_opts_in():
    assert ProjectDeploymentSettings.from_record(None).for_stage(Stage.PROD).model_monitor.enabled is False
    opted = ProjectDeploymentSettings.from_record({"deployment_defaults": MONITORED}).for_stage(Stage.PROD)
    assert opted.model_monitor == ModelMonitorSettings(enabled=True)


# ------------------------------------------------------------------------------- baselines and names


def test_a_version_has_data_quality_baselines_only_with_both_uris():
    assert DataQualityBaseline.from_model_package(BASELINES) == DataQualityBaseline(
        "s3://b/statistics.json", "s3://b/constraints.json"
    )
    statistics_only = {
        "DriftCheckBaselines": {"ModelDataQuality": {"Statistics": {"S3Uri": "s3://b/s.json"}}}
    }
    model_quality = {"DriftCheckBaselines": {"ModelQuality": {"Statistics": {"S3Uri": "s3://b/s.json"}}}}
    for package in (statistics_only, model_quality, {}):
        assert DataQualityBaseline.from_model_package(package) is None


def test_the_schedule_names_its_endpoint_and_a_job_definition_its_version_and_request():
    longest = "p" * 32 + "-challenger"  # the longest endpoint name of the naming contract
    assert model_monitor.endpoint_of_schedule(model_monitor.schedule_name(longest)) == longest
    assert len(model_monitor.schedule_name(longest)) <= 63
    request = {"RoleArn": "r", "DataQualityAppSpecification": {"ImageUri": "i"}}
    first = model_monitor.job_definition_name(longest, 12345, request)
    assert len(first) <= 63 and first.startswith(model_monitor.job_definition_prefix(longest)[:40])
    assert model_monitor.job_definition_name(longest, 12345, request) == first  # stable
    assert model_monitor.job_definition_name(longest, 12346, request) != first
    assert model_monitor.job_definition_name(longest, 12345, {**request, "RoleArn": "other"}) != first


# ------------------------------------------------------------------------------------------- deployer


class FakeMonitoring:
    def __init__(self) -> None:
        self.schedules: dict[str, str] = {}
        self.definitions: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []

    def scheduled_job_definition(self, schedule_name: str) -> str | None:
        self.calls.append("describe")
        return self.schedules.get(schedule_name)

    def create_job_definition(self, name, *, request, tags) -> None:
        self.calls.append("create_definition")
        self.definitions[name] = {"request": request, "tags": tags}

    def create_schedule(self, name, *, config, tags) -> None:
        self.calls.append("create_schedule")
        assert name not in self.schedules
        self.schedules[name] = config["MonitoringJobDefinitionName"]

    def update_schedule(self, name, *, config) -> None:
        self.calls.append("update_schedule")
        self.schedules[name] = config["MonitoringJobDefinitionName"]

    def delete_schedule(self, name: str) -> bool:
        self.calls.append("delete_schedule")
        return self.schedules.pop(name, None) is not None

    def job_definitions(self, endpoint_name: str, name_prefix: str) -> list[str]:
        self.calls.append("list")
        return sorted(name for name in self.definitions if name.startswith(name_prefix))

    def delete_job_definition(self, name: str) -> None:
        self.calls.append("delete_definition")
        del self.definitions[name]


class FakeSageMaker:
    def __init__(self, baselines: bool = True) -> None:
        self.baselines = baselines

    def describe_model_package(self, arn: str) -> ModelPackage:
        baseline = DataQualityBaseline.from_model_package(BASELINES) if self.baselines else None
        return ModelPackage(
            arn,
            "churn-prod",
            int(arn.rpartition("/")[2]),
            ModelApprovalStatus.APPROVED,
            None,
            None,
            True,
            baseline,
        )


class FakeTable:
    def __init__(self, stages: dict[str, Any]) -> None:
        self.record = {"deployment_defaults": stages}

    def get_project(self, project: str) -> dict[str, Any]:
        return self.record


TARGET = StageResource("churn", Stage.PROD)
TAGS = {"mlops:managed-by": "mlops", "mlops:project": "churn", "mlops:stage": "prod", "mlops:commit-id": "c"}


def endpoint(version: int) -> Endpoint:
    return Endpoint("churn-prod", "arn", EndpointStatus.IN_SERVICE, "config", TAGS, ARN.format(version))


def monitoring(stages: dict[str, Any] = MONITORED, *, baselines: bool = True, image: str = ANALYZER) -> Any:
    port = FakeMonitoring()
    context = DeployerContext(
        settings(image),
        FakeSageMaker(baselines),
        FakeTable(stages),
        monitoring=port,  # type: ignore[arg-type]
    )
    return DataQualityMonitoring(context), port


def test_a_new_version_gets_its_definition_the_schedule_moves_to_it_and_the_old_one_goes():
    keeper, port = monitoring()
    created = keeper.keep(TARGET, endpoint(1))
    assert created["changed"] and port.schedules == {"churn-prod-data-quality": created["job_definition"]}
    (tags,) = [d["tags"] for d in port.definitions.values()]
    assert tags == {key: TAGS[key] for key in ("mlops:managed-by", "mlops:project", "mlops:stage")}

    updated = keeper.keep(TARGET, endpoint(2))
    assert list(port.definitions) == [updated["job_definition"]]
    assert updated["deleted_job_definitions"] == [created["job_definition"]]
    assert port.schedules["churn-prod-data-quality"] == updated["job_definition"]
    request = port.definitions[updated["job_definition"]]["request"]
    assert request["DataQualityJobOutputConfig"]["MonitoringOutputs"][0]["S3Output"]["S3Uri"] == (
        "s3://capture/churn/monitoring/churn-prod"
    )

    port.calls.clear()
    assert keeper.keep(TARGET, endpoint(2))["changed"] is False
    assert port.calls == ["describe"]  # back in service with nothing new


def test_no_baselines_or_no_opt_in_removes_the_schedule_and_no_image_or_a_stage_not_in_production_does_nothing():
    keeper, port = monitoring()
    keeper.keep(TARGET, endpoint(1))

    without, port_without = monitoring(baselines=False)
    port_without.schedules, port_without.definitions = dict(port.schedules), dict(port.definitions)
    assert without.keep(TARGET, endpoint(2))["deleted_schedule"] is True
    assert port_without.schedules == {} and port_without.definitions == {}

    opted_out, port_out = monitoring({"prod": {"data_capture": CAPTURE}})
    assert opted_out.keep(TARGET, endpoint(1)) is None and port_out.calls == ["describe", "list"]

    unconfigured, port_unconfigured = monitoring(image="")
    assert unconfigured.keep(TARGET, endpoint(1)) is None and port_unconfigured.calls == []
    assert keeper.keep(StageResource("churn", Stage.DEV), endpoint(1)) is None


def test_deleting_an_endpoints_monitoring_describes_before_it_deletes():
    port = FakeMonitoring()
    assert delete_endpoint_monitoring(port, "churn-prod") == {
        "deleted_schedule": False,
        "deleted_job_definitions": [],
    }
    assert "delete_schedule" not in port.calls  # a tag-conditioned delete of nothing would be denied


# ---------------------------------------------------------------------------------------- violations


class Projects:
    def get_project(self, project: str) -> dict[str, Any] | None:
        return {"project": project} if project == "churn" else None


EXECUTION = {
    "ProcessingJobName": "model-monitoring-202612060400-abc",
    "ProcessingJobStatus": "Completed",
    "ExitMessage": "CompletedWithViolations: Job completed successfully with 2 violations <@U1>",
    "MonitoringScheduleArn": "arn:aws:sagemaker:us-east-1:123456789012:monitoring-schedule/churn-prod-data-quality",
    "ProcessingOutputConfig": {"Outputs": [{"S3Output": {"S3Uri": "s3://capture/churn/monitoring/x"}}]},
}


def test_a_violation_names_its_endpoint_project_report_and_job_and_is_escaped():
    context = violation_context(EXECUTION, region="us-east-1", projects=Projects())
    assert context is not None and (context["project"], context["stage"]) == ("churn", "prod")
    message = render(model_monitor.PROCESSING_JOB_STATE_CHANGE, "aws.sagemaker", context)
    text = json.dumps(message.payload())
    assert "Data-quality violations on churn-prod" in text and "2 violations" in text
    assert "&lt;@U1&gt;" in text and "<@U1>" not in text
    assert "s3://capture/churn/monitoring/x" in text and "#/processing-jobs/model-monitoring-" in text
    assert limit_violations(message.payload()) == []


@pytest.mark.parametrize(
    "change",
    [
        {"ExitMessage": "Completed: Job completed successfully with no violations."},
        {"ProcessingJobStatus": "Failed"},
        {
            "MonitoringScheduleArn": "arn:aws:sagemaker:us-east-1:123456789012:monitoring-schedule/someone-elses"
        },
        {
            "MonitoringScheduleArn": "arn:aws:sagemaker:us-east-1:1:monitoring-schedule/fraud-prod-data-quality"
        },
        {"MonitoringScheduleArn": None},
    ],
)
def test_other_processing_jobs_are_no_violation_of_this_stacks_endpoints(change):
    assert violation_context({**EXECUTION, **change}, region="us-east-1", projects=Projects()) is None
