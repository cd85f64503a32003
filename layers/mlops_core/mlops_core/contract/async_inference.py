"""Asynchronous inference: a stage whose endpoint queues its requests (``compute.kind: async`` in the
project record) and where its requests and answers live, shared by the deployer (the endpoint config's
``AsyncInferenceConfig``), the endpoint tester (``InvokeEndpointAsync`` with its input uploaded first)
and the docs.

An async endpoint runs on instances, like a real-time one; SageMaker queues each request, reads its
input from S3 and writes the answer (or the failure) to S3, and may notify SNS topics. The locations
are the stack's own: one bucket (``AsyncInferenceBucket``), one prefix per endpoint, so IAM can be
scoped to them::

    s3://{bucket}/{endpoint}/inputs/...     what the endpoint tester uploads
    s3://{bucket}/{endpoint}/outputs/...    S3OutputPath: the answers
    s3://{bucket}/{endpoint}/failures/...   S3FailurePath: the failures

What async inference excludes, checked before anything is created
(:class:`mlops_core.contract.deployment_settings.StageDeploymentSettings`): shadow variants (AWS,
"Create a shadow test": "If your endpoint uses any of the following features, you cannot use shadow
tests on your endpoint ...: Serverless inference, Asynchronous inference, ...") and serverless
compute (an async stage's compute is its instances).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SNS_TOPIC_ARN_PATTERN = r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$"
INPUTS, OUTPUTS, FAILURES = "inputs", "outputs", "failures"


class AsyncCompute(BaseModel):
    """An asynchronous inference endpoint on a fleet of instances (``AsyncInferenceConfig``)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    kind: Literal["async"] = "async"
    instance_type: str = Field(pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
    instance_count: int = Field(ge=1, le=100)
    max_concurrent_invocations_per_instance: int | None = Field(
        default=None, ge=1, le=1000, description="None: SageMaker chooses (AsyncInferenceClientConfig)"
    )
    success_topic_arn: str | None = Field(default=None, pattern=SNS_TOPIC_ARN_PATTERN)
    error_topic_arn: str | None = Field(default=None, pattern=SNS_TOPIC_ARN_PATTERN)


def location(bucket: str, endpoint_name: str, kind: str) -> str:
    """``s3://{bucket}/{endpoint}/{kind}/``: where an endpoint's inputs, outputs or failures live."""
    return f"s3://{bucket}/{endpoint_name}/{kind}/"


def async_inference_config(compute: AsyncCompute, endpoint_name: str, bucket: str) -> dict[str, Any]:
    """``CreateEndpointConfig``'s ``AsyncInferenceConfig`` for the endpoint."""
    output: dict[str, Any] = {
        "S3OutputPath": location(bucket, endpoint_name, OUTPUTS),
        "S3FailurePath": location(bucket, endpoint_name, FAILURES),
    }
    notification = {
        key: value
        for key, value in (
            ("SuccessTopic", compute.success_topic_arn),
            ("ErrorTopic", compute.error_topic_arn),
        )
        if value
    }
    if notification:
        output["NotificationConfig"] = notification
    config: dict[str, Any] = {"OutputConfig": output}
    if compute.max_concurrent_invocations_per_instance is not None:
        config["ClientConfig"] = {
            "MaxConcurrentInvocationsPerInstance": compute.max_concurrent_invocations_per_instance
        }
    return config
