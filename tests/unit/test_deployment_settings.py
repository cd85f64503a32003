"""Deployment settings from the project record: defaults, both record shapes, refusals."""

from __future__ import annotations

import pytest
from mlops_core.contract.batch_transform import BatchCompute, scheduled_transform_request
from mlops_core.contract.deployment_settings import (
    InstanceCompute,
    InvalidDeploymentSettingsError,
    ProjectDeploymentSettings,
    ServerlessCompute,
    Strategy,
)
from mlops_core.contract.topology import Stage


def test_no_record_means_the_stacks_default_instances_all_at_once():
    settings = ProjectDeploymentSettings.from_record(None).for_stage(Stage.PROD).resolved("ml.m5.large", 2)
    assert settings.compute == InstanceCompute(instance_type="ml.m5.large", instance_count=2)
    assert settings.strategy is Strategy.ALL_AT_ONCE and not settings.data_capture.enabled


def test_the_project_lifecycle_functions_flat_shape_is_read_too():
    record = {
        "deployment_defaults": {
            "prod": {
                "instance_type": "ml.c5.xlarge",
                "instance_count": 3,
                "strategy": "linear",
                "alarms": ["kpi"],
            },
            "dev": {"serverless_memory_mb": 3072, "serverless_max_concurrency": 8},
        }
    }
    project = ProjectDeploymentSettings.from_record(record)
    prod = project.for_stage(Stage.PROD)
    assert prod.compute == InstanceCompute(instance_type="ml.c5.xlarge", instance_count=3)
    assert (prod.strategy, prod.rollback_alarms) == (Strategy.LINEAR, ("kpi",))
    assert project.for_stage(Stage.DEV).compute == ServerlessCompute(memory_size_mb=3072, max_concurrency=8)


def test_every_invalid_field_is_named_in_one_message():
    record = {"deployment_defaults": {"prod": {"compute": {"kind": "gpu"}, "strategy": "big-bang"}}}
    with pytest.raises(InvalidDeploymentSettingsError) as refused:
        ProjectDeploymentSettings.from_record(record)
    assert "stages.prod.compute" in str(refused.value) and "stages.prod.strategy" in str(refused.value)


def test_the_default_lineage_policy_guards_the_production_stages():
    lineage = ProjectDeploymentSettings.from_record({}).lineage
    assert lineage.stages == {Stage.PROD, Stage.CHAMPION, Stage.CHALLENGER}
    assert lineage.required == {"commit-id", "dataset", "metrics"}


@pytest.mark.parametrize(
    ("flat", "expected"),
    [
        ({"instance_type": "ml.c5.xlarge"}, ("ml.c5.xlarge", 3)),
        ({"instance_count": 4}, ("ml.g5.large", 4)),
        ({"strategy": "canary"}, ("ml.g5.large", 3)),
    ],
)
def test_an_instance_setting_the_flat_record_leaves_out_is_the_stacks_default(flat, expected):
    """The stack's DefaultInstanceType/DefaultInstanceCount, not a hard-coded ml.m5.large x 1."""
    stage = ProjectDeploymentSettings.from_record({"deployment_defaults": {"prod": flat}}).for_stage(
        Stage.PROD
    )
    compute = stage.resolved("ml.g5.large", 3).compute
    assert isinstance(compute, InstanceCompute)
    assert (compute.instance_type, compute.instance_count) == expected


def test_a_canary_on_a_default_single_instance_is_refused_when_resolved():
    stage = ProjectDeploymentSettings.from_record(
        {"deployment_defaults": {"prod": {"instance_type": "ml.c5.xlarge", "strategy": "canary"}}}
    ).for_stage(Stage.PROD)
    with pytest.raises(ValueError, match=r"at least 2 instances .*instance_count is 1"):
        stage.resolved("ml.m5.large", 1)
    assert stage.resolved("ml.m5.large", 2).strategy is Strategy.CANARY


def test_at_most_ten_rollback_alarms_in_all():
    eight = {"deployment_defaults": {"prod": {"rollback_alarms": [f"kpi-{n}" for n in range(8)]}}}
    assert len(ProjectDeploymentSettings.from_record(eight).for_stage(Stage.PROD).rollback_alarms) == 8
    nine = {"deployment_defaults": {"prod": {"alarms": [f"kpi-{n}" for n in range(9)]}}}
    with pytest.raises(InvalidDeploymentSettingsError, match=r"stages\.prod\.rollback_alarms: .*at most 8"):
        ProjectDeploymentSettings.from_record(nine)


def test_compute_and_flat_instances_together_are_refused():
    record = {
        "deployment_defaults": {
            "prod": {"compute": {"kind": "serverless"}, "instance_type": "ml.c5.xlarge"},
        }
    }
    with pytest.raises(InvalidDeploymentSettingsError, match="either compute or instance_type"):
        ProjectDeploymentSettings.from_record(record)


def test_data_capture_on_serverless_compute_is_refused():
    # AWS's serverless feature exclusions: CreateEndpointConfig would refuse the pair halfway through.
    record = {
        "deployment_defaults": {
            "dev": {
                "compute": {"kind": "serverless"},
                "data_capture": {"enabled": True, "destination_s3_uri": "s3://bucket/capture"},
            }
        }
    }
    with pytest.raises(
        InvalidDeploymentSettingsError, match=r"stages\.dev: .*serverless endpoints do not support"
    ):
        ProjectDeploymentSettings.from_record(record)


def test_a_linear_step_under_ten_percent_is_refused_as_sagemaker_refuses_it():
    small = {
        "deployment_defaults": {"prod": {"strategy": "linear", "blue_green": {"linear_step_percentage": 5}}}
    }
    with pytest.raises(
        InvalidDeploymentSettingsError, match=r"linear_step_percentage: .*greater than or equal to 10"
    ):
        ProjectDeploymentSettings.from_record(small)


@pytest.mark.parametrize(
    ("strategy", "blue_green", "instances", "refused"),
    [
        ("canary", {"wait_interval_seconds": 1800, "termination_wait_seconds": 1800}, 4, True),  # 3600 s
        ("canary", {"wait_interval_seconds": 1800, "termination_wait_seconds": 1799}, 4, False),
        # 10% of 10 instances: 10 steps, 9 waits of 300 s and the final 600 s
        ("linear", {"linear_step_percentage": 10, "maximum_execution_timeout_seconds": 3300}, 10, True),
        ("linear", {"linear_step_percentage": 10, "maximum_execution_timeout_seconds": 3301}, 10, False),
        # 10% of 2 instances is one instance a step (rounded up): 2 steps
        ("linear", {"linear_step_percentage": 10, "maximum_execution_timeout_seconds": 901}, 2, False),
    ],
)
def test_a_rollout_whose_waits_do_not_end_before_its_timeout_is_refused(
    strategy, blue_green, instances, refused
):
    stage = ProjectDeploymentSettings.from_record(
        {"deployment_defaults": {"prod": {"strategy": strategy, "blue_green": blue_green}}}
    ).for_stage(Stage.PROD)
    if refused:
        with pytest.raises(ValueError, match="not less than its maximum_execution_timeout_seconds"):
            stage.resolved("ml.m5.large", instances)
    else:
        assert stage.resolved("ml.m5.large", instances).strategy is Strategy(strategy)


@pytest.mark.parametrize(
    ("stages", "refused"),
    [
        ({"dev": {"autoscaling": {"max_capacity": 4, "target_invocations_per_instance": 100}}}, "production"),
        (
            {
                "prod": {
                    "compute": {"kind": "serverless"},
                    "autoscaling": {"max_capacity": 4, "target_invocations_per_instance": 100},
                }
            },
            "real-time instances",
        ),
        (
            {
                "prod": {
                    "autoscaling": {
                        "min_capacity": 5,
                        "max_capacity": 4,
                        "target_invocations_per_instance": 1,
                    }
                }
            },
            "min_capacity",
        ),
    ],
)
def test_autoscaling_is_for_production_stages_on_instances_with_a_range(stages, refused):
    with pytest.raises(InvalidDeploymentSettingsError, match=refused):
        ProjectDeploymentSettings.from_record({"deployment_defaults": stages})


def test_a_production_stage_autoscales_as_its_record_says_and_every_stage_has_health_alarms():
    record = {
        "deployment_defaults": {
            "prod": {"autoscaling": {"max_capacity": 4, "target_invocations_per_instance": 100}}
        }
    }
    settings = ProjectDeploymentSettings.from_record(record)

    assert settings.for_stage(Stage.PROD).autoscaling is not None
    assert settings.for_stage(Stage.PROD).autoscaling.min_capacity == 1
    assert settings.for_stage(Stage.DEV).autoscaling is None
    assert settings.for_stage(Stage.DEV).monitoring.enabled


BATCH = {
    "kind": "batch",
    "instance_type": "ml.m5.large",
    "schedule_expression": "cron(0 2 * * ? *)",
    "input_s3_uri": "s3://churn-data/input",
    "output_s3_uri": "s3://churn-data/scores",
}


def test_a_batch_stage_is_a_compute_kind_and_its_schedules_request_is_tagged_and_dated():
    settings = ProjectDeploymentSettings.from_record({"deployment_defaults": {"dev": {"compute": BATCH}}})
    compute = settings.for_stage(Stage.DEV).compute
    assert isinstance(compute, BatchCompute) and compute.instance_count == 1

    request = scheduled_transform_request("a" * 60, "m", compute, {"mlops:managed-by": "mlops"})
    assert request["TransformJobName"] == f"{'a' * 46}-<aws.scheduler.execution-id>"  # 63 with the id
    assert (
        request["TransformOutput"]["S3OutputPath"] == "s3://churn-data/scores/<aws.scheduler.scheduled-time>"
    )
    assert request["Tags"] == [{"Key": "mlops:managed-by", "Value": "mlops"}]


@pytest.mark.parametrize(
    ("stage", "refused"),
    [
        ({"compute": {**BATCH, "schedule_expression": "rate(1 day)"}}, "schedule_expression"),
        ({"compute": {**BATCH, "input_s3_uri": "/data/input"}}, "input_s3_uri"),
        ({"compute": BATCH, "strategy": "canary"}, "strategy canary cannot apply"),
        (
            {
                "compute": BATCH,
                "data_capture": {"enabled": True, "destination_s3_uri": "s3://bucket/capture"},
            },
            "data_capture cannot apply",
        ),
        ({"compute": BATCH, "rollback_alarms": ["team-alarm"]}, "rollback_alarms cannot apply"),
    ],
)
def test_a_batch_stage_refuses_bad_schedules_and_locations_and_what_only_an_endpoint_has(stage, refused):
    with pytest.raises(InvalidDeploymentSettingsError) as error:
        ProjectDeploymentSettings.from_record({"deployment_defaults": {"dev": stage}})
    assert refused in str(error.value)
