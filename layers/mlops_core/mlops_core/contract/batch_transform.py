"""A batch stage: no endpoint, a schedule that runs a batch transform job with the stage's model.

A stage whose ``compute`` is ``{"kind": "batch", ...}`` is deployed as a SageMaker Model (named,
tagged and rolled back like an endpoint's) and an EventBridge Scheduler schedule named after the
stage (``{project}-{stage}``) in the stack's schedule group. The schedule's target is Scheduler's
universal target for SageMaker ``CreateTransformJob``: at each ``schedule_expression`` it starts a
transform job with the stage's current model over ``input_s3_uri``, writing under
``output_s3_uri/{scheduled time}/``. The request the schedule sends is built here, as a pure function.

Record shape (a stage of ``deployment_defaults``)::

    {"compute": {"kind": "batch", "instance_type": "ml.m5.xlarge", "instance_count": 1,
                 "schedule_expression": "cron(0 2 * * ? *)",
                 "input_s3_uri": "s3://bucket/churn/input", "output_s3_uri": "s3://bucket/churn/output"}}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mlops_core.contract import tags as tag_keys

CREATE_TRANSFORM_JOB_TARGET = "arn:aws:scheduler:::aws-sdk:sagemaker:createTransformJob"
"""EventBridge Scheduler's universal target for SageMaker ``CreateTransformJob``."""
EXECUTION_ID = "<aws.scheduler.execution-id>"
"""Scheduler's context attribute: a unique id per invocation of the target (e.g. ``d32c5kddcf5bb8c3``)."""
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"
"""Scheduler's context attribute: the time the invocation was scheduled for (``2022-03-22T18:59:43Z``)."""
SCHEDULE_ACTIONS = {"created": "create-schedule", "updated": "update-schedule"}
"""``Deployment Started``'s ``action`` for a batch stage: its schedule was created, or updated."""
TRANSFORM_JOB_NAME_LENGTH = 63  # CreateTransformJob's TransformJobName: 1-63 characters
EXECUTION_ID_LENGTH = 16  # as Scheduler's documentation shows it; the job name keeps room for it
S3_URI_PATTERN = r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/[^\s]*)?$"
# Scheduler's cron(minutes hours day-of-month month day-of-week year)
CRON_PATTERN = r"^cron\(\S+( \S+){5}\)$"


class BatchCompute(BaseModel):
    """A batch stage: a scheduled batch transform job, on instances, with the stage's current model."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    kind: Literal["batch"] = "batch"
    instance_type: str = Field(pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
    instance_count: int = Field(default=1, ge=1, le=100)
    schedule_expression: str = Field(
        pattern=CRON_PATTERN, max_length=256, description="when the job runs: a Scheduler cron expression"
    )
    schedule_timezone: str = Field(default="UTC", min_length=1, max_length=50)
    input_s3_uri: str = Field(pattern=S3_URI_PATTERN, description="the S3 prefix of the job's input")
    output_s3_uri: str = Field(
        pattern=S3_URI_PATTERN,
        description="where each run writes, under a folder named by its scheduled time",
    )
    content_type: str = Field(default="application/json", min_length=1, max_length=256)


def transform_job_name_prefix(stage_name: str) -> str:
    """The stage's jobs are named ``{prefix}-{execution id}``: the stage's name, shortened to leave
    room for the id within TransformJobName's 63 characters."""
    return stage_name[: TRANSFORM_JOB_NAME_LENGTH - EXECUTION_ID_LENGTH - 1].rstrip("-")


def scheduled_transform_request(
    stage_name: str, model_name: str, compute: BatchCompute, tags: Mapping[str, str]
) -> dict[str, Any]:
    """The ``CreateTransformJob`` request the stage's schedule sends (Scheduler fills in its context
    attributes at each run): each record is a line of the input, answered by a line of the output."""
    return {
        "TransformJobName": f"{transform_job_name_prefix(stage_name)}-{EXECUTION_ID}",
        "ModelName": model_name,
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": compute.input_s3_uri}},
            "ContentType": compute.content_type,
            "SplitType": "Line",
        },
        "TransformOutput": {
            "S3OutputPath": f"{compute.output_s3_uri.rstrip('/')}/{SCHEDULED_TIME}",
            "AssembleWith": "Line",
        },
        "TransformResources": {
            "InstanceType": compute.instance_type,
            "InstanceCount": compute.instance_count,
        },
        "Tags": tag_keys.to_aws(tags),
    }
