"""Asynchronous stages: their settings, their endpoint config, and the tester's wait for an answer."""

from __future__ import annotations

import pytest
from mlops_core.contract import endpoint_autoscaling
from mlops_core.contract.async_inference import AsyncCompute, async_inference_config
from mlops_core.contract.deployment_settings import InvalidDeploymentSettingsError, ProjectDeploymentSettings
from mlops_core.contract.topology import Stage
from mlops_core.deployment import endpoint_configs
from mlops_core.integration_tests.async_invocations import FIRST_POLL_SECONDS, MAX_POLL_SECONDS, AsyncInvoker
from mlops_core.integration_tests.ports import AcceptedInvocation, AsyncInvocationRefusedError, StoredAnswer
from mlops_core.integration_tests.suites import InvocationRequest

ASYNC = {"kind": "async", "instance_type": "ml.m5.large", "instance_count": 2}
TOPIC = "arn:aws:sns:us-east-1:123456789012:answers"


def settings(stage: str = "dev", **values) -> ProjectDeploymentSettings:
    return ProjectDeploymentSettings.from_record({"deployment_defaults": {stage: values}})


def test_an_async_stage_runs_on_instances_and_its_config_names_the_stacks_locations():
    stage = settings(
        compute={**ASYNC, "success_topic_arn": TOPIC, "max_concurrent_invocations_per_instance": 4}
    )
    compute = stage.for_stage(Stage.DEV).compute
    assert isinstance(compute, AsyncCompute)

    request = endpoint_configs.endpoint_config_request(
        [endpoint_configs.production_variant("m", compute)],
        async_inference=async_inference_config(compute, "x-dev", "bucket"),
    )

    assert request["ProductionVariants"][0]["InstanceType"] == "ml.m5.large"
    assert request["ProductionVariants"][0]["InitialInstanceCount"] == 2
    assert request["AsyncInferenceConfig"] == {
        "OutputConfig": {
            "S3OutputPath": "s3://bucket/x-dev/outputs/",
            "S3FailurePath": "s3://bucket/x-dev/failures/",
            "NotificationConfig": {"SuccessTopic": TOPIC},
        },
        "ClientConfig": {"MaxConcurrentInvocationsPerInstance": 4},
    }


def test_an_async_stage_without_topics_or_client_settings_sends_neither():
    compute = AsyncCompute(instance_type="ml.m5.large", instance_count=1)

    assert set(async_inference_config(compute, "x-dev", "b")) == {"OutputConfig"}
    assert "NotificationConfig" not in async_inference_config(compute, "x-dev", "b")["OutputConfig"]


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"compute": {**ASYNC, "instance_count": 0}}, "instance_count"),
        ({"compute": {**ASYNC, "error_topic_arn": "not-a-topic"}}, "error_topic_arn"),
        ({"compute": {**ASYNC, "serverless": True}}, "serverless"),
    ],
)
def test_bad_async_settings_are_refused_naming_the_field(record, reason):
    with pytest.raises(InvalidDeploymentSettingsError, match=reason):
        settings(**record)


def test_an_async_challenger_cannot_be_a_shadow():
    stage = settings("challenger", compute=ASYNC, strategy="shadow").for_stage(Stage.CHALLENGER)

    with pytest.raises(ValueError, match="async endpoints have no shadow variant"):
        stage.resolved("ml.m5.large", 1)


def test_a_canary_on_an_async_fleet_needs_two_instances_like_real_time():
    one = settings("prod", compute={**ASYNC, "instance_count": 1}, strategy="canary").for_stage(Stage.PROD)

    with pytest.raises(ValueError, match="at least 2 instances"):
        one.resolved("ml.m5.large", 1)
    settings("prod", compute=ASYNC, strategy="canary").for_stage(Stage.PROD).resolved("ml.m5.large", 1)


# ------------------------------------------------------------------------------------- the tester


class FakeQueue:
    """Answers appear after ``polls_before_answer`` reads of the output location."""

    def __init__(self, answer: StoredAnswer | None = None, failure: bytes | None = None, polls: int = 0):
        self.answer, self.failure, self.polls_left = answer, failure, polls
        self.inputs: dict[str, bytes] = {}
        self.reads = 0

    def put_input(self, location: str, body: bytes, content_type: str) -> None:
        self.inputs[location] = body

    def invoke_async(self, endpoint_name, input_location, request):
        assert input_location in self.inputs
        return AcceptedInvocation("s3://b/x-dev/outputs/1.out", "s3://b/x-dev/failures/1-error.out")

    def read_answer(self, location: str):
        self.reads += 1
        if location.endswith("-error.out"):
            return StoredAnswer(self.failure) if self.failure is not None and self.polls_left <= 0 else None
        self.polls_left -= 1
        return self.answer if self.polls_left < 0 else None


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


REQUEST = InvocationRequest.model_validate({"csv": "60,20.0,0\n"})


def invoker(queue: FakeQueue, clock: Clock) -> AsyncInvoker:
    return AsyncInvoker(queue, "s3://b/x-dev/inputs/", clock=clock, sleep=clock.sleep, new_id=lambda: "id")


def test_the_answer_is_waited_for_with_growing_pauses_and_returned_like_a_real_time_one():
    clock = Clock()
    queue = FakeQueue(StoredAnswer(b"0.1,0\n", "text/csv"), polls=4)

    response = invoker(queue, clock).invoke("x-dev", REQUEST, timeout_seconds=60)

    assert queue.inputs == {"s3://b/x-dev/inputs/id": b"60,20.0,0\n"}
    assert (response.status_code, response.body, response.content_type) == (200, b"0.1,0\n", "text/csv")
    assert clock.sleeps == [FIRST_POLL_SECONDS * 2**n for n in range(4)]
    assert response.latency_ms == pytest.approx(sum(clock.sleeps) * 1000)


def test_the_wait_ends_at_the_requests_timeout_with_a_bounded_number_of_reads():
    clock = Clock()
    queue = FakeQueue(polls=10**6)

    response = invoker(queue, clock).invoke("x-dev", REQUEST, timeout_seconds=30)

    assert response.error_code == "AsyncAnswerTimeout" and "30 s" in (response.error_message or "")
    assert clock.now == pytest.approx(30)
    assert max(clock.sleeps) == MAX_POLL_SECONDS
    assert queue.reads <= 2 * (30 / MAX_POLL_SECONDS + 10)


def test_a_failure_object_is_the_models_error():
    clock = Clock()
    queue = FakeQueue(failure=b"Received client error (400): expected 3 features", polls=1)

    response = invoker(queue, clock).invoke("x-dev", REQUEST, timeout_seconds=60)

    assert (response.status_code, response.error_code) == (424, "ModelError")
    assert "expected 3 features" in (response.error_message or "")


def test_a_refused_invocation_is_a_failed_response_not_an_exception():
    class Refusing(FakeQueue):
        def invoke_async(self, endpoint_name, input_location, request):
            raise AsyncInvocationRefusedError(400, "ValidationError", "not an async endpoint")

    response = invoker(Refusing(), Clock()).invoke("x-dev", REQUEST, timeout_seconds=60)

    assert (response.status_code, response.error_code) == (400, "ValidationError")


def test_a_case_naming_a_variant_is_refused_without_a_call():
    queue = FakeQueue()
    request = InvocationRequest.model_validate({"csv": "1,2,3\n", "target_variant": "AllTraffic"})

    response = invoker(queue, Clock()).invoke("x-dev", request, timeout_seconds=60)

    assert response.error_code == "TargetVariantNotSupported" and queue.inputs == {}


# ----------------------------------------------------------------------------------- scale to zero

BACKLOG = {"min_capacity": 0, "max_capacity": 4, "target_backlog_per_instance": 5}


def test_an_async_production_stage_scales_on_its_backlog_and_may_scale_to_zero():
    stage = settings("prod", compute=ASYNC, autoscaling=BACKLOG).for_stage(Stage.PROD)
    assert stage.autoscaling is not None

    target = endpoint_autoscaling.scalable_target_request("x-prod", stage.autoscaling)
    policy = endpoint_autoscaling.scaling_policy_request("s", "x-prod", stage.autoscaling)

    assert (target["MinCapacity"], target["MaxCapacity"]) == (0, 4)
    assert policy["PolicyName"] == "s-x-prod-backlog-per-instance"
    configuration = policy["TargetTrackingScalingPolicyConfiguration"]
    assert configuration["TargetValue"] == 5
    assert configuration["CustomizedMetricSpecification"] == {
        "MetricName": "ApproximateBacklogSizePerInstance",
        "Namespace": "AWS/SageMaker",
        "Dimensions": [{"Name": "EndpointName", "Value": "x-prod"}],
        "Statistic": "Average",
    }
    assert "PredefinedMetricSpecification" not in configuration


@pytest.mark.parametrize(
    ("compute", "autoscaling", "reason"),
    [
        (
            None,
            {**BACKLOG, "target_backlog_per_instance": None, "target_invocations_per_instance": 9},
            "zero",
        ),
        (None, {"max_capacity": 4, "target_backlog_per_instance": 5}, "only async endpoints queue"),
        (ASYNC, {"max_capacity": 4, "target_invocations_per_instance": 9}, "scales on its backlog"),
        (ASYNC, {**BACKLOG, "target_invocations_per_instance": 9}, "exactly one"),
        (ASYNC, {"max_capacity": 4}, "exactly one"),
    ],
    ids=["zero-on-instances", "backlog-on-instances", "invocations-on-async", "both", "neither"],
)
def test_scaling_that_does_not_fit_the_kind_is_refused(compute, autoscaling, reason):
    stage = {"autoscaling": autoscaling, **({"compute": compute} if compute else {})}

    with pytest.raises(InvalidDeploymentSettingsError, match=reason):
        settings("prod", **stage)
