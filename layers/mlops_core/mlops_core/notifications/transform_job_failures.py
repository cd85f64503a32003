"""The Slack message of a batch stage's scheduled transform job that failed, in the project's channel.

The notifier's rule keeps ``SageMaker Transform Job State Change`` events of this stack's jobs (tag
``mlops:managed-by``) that ended ``Failed``. A job is a batch stage's run when its tags name the project
and stage (the schedule's request carries them, :mod:`mlops_core.contract.batch_transform`) and the
project has a record in this stack's config table. The endpoint tester's own test jobs are reported by
their ``Integration Tests Completed``, not here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from mlops_core.contract import tags as tag_keys
from mlops_core.contract.naming import StageResource
from mlops_core.contract.topology import Stage
from mlops_core.contract.transform_job_events import TRANSFORM_JOB_STATE_CHANGE
from mlops_core.notifications.ports import ProjectRecords

Detail = Mapping[str, Any]
Rendered = tuple[str, str, list[tuple[str, str]], str]

__all__ = ["TRANSFORM_JOB_STATE_CHANGE", "transform_job_failed", "transform_job_failure"]


def transform_job_console_url(region: str, job_name: str) -> str:
    return (
        f"https://{region}.console.aws.amazon.com/sagemaker/home?region={region}"
        f"#/transform-jobs/{quote(job_name, safe='')}"
    )


def transform_job_failure(detail: Detail, *, region: str, projects: ProjectRecords) -> dict[str, Any] | None:
    """What the message and the channel need, or None: not a failed run of this stack's batch stages."""
    raw_tags = detail.get("Tags")
    tags: Mapping[str, Any] = raw_tags if isinstance(raw_tags, Mapping) else {}
    if detail.get("TransformJobStatus") != "Failed" or tags.get(tag_keys.INTEGRATION_TEST_RUN):
        return None
    project, stage = tags.get(tag_keys.PROJECT), tags.get(tag_keys.STAGE)
    if not isinstance(project, str) or stage not in {s.value for s in Stage}:
        return None
    if projects.get_project(project) is None:
        return None
    target = StageResource(project, Stage(stage))
    output = (detail.get("TransformOutput") or {}).get("S3OutputPath")
    context = {
        "project": project,
        "stage": stage,
        "endpoint_name": target.name,
        "transform_job_name": str(detail.get("TransformJobName", "?")),
        "model_name": str(detail.get("ModelName", "?")),
        "model_package_arn": tags.get(tag_keys.MODEL_PACKAGE_ARN),
        "failure_reason": detail.get("FailureReason"),
        "output_s3_uri": output,
    }
    if region:
        context["console_url"] = transform_job_console_url(region, context["transform_job_name"])
    return context


def transform_job_failed(_: str, d: Detail) -> Rendered:
    stage = d.get("endpoint_name", "?")
    lines = [
        f"The scheduled batch transform job `{d.get('transform_job_name')}` of {stage} failed: its output "
        "is missing or incomplete.",
        f"*Why:* {d.get('failure_reason') or 'SageMaker gave no reason: open the job to see its logs.'}",
    ]
    if d.get("output_s3_uri"):
        lines.append(f"*Output:* `{d['output_s3_uri']}`")
    if d.get("console_url"):
        lines.append(f"*Console:* {d['console_url']}")
    fields = [
        ("Project", f"`{d.get('project')}`"),
        ("Stage", f"`{d.get('stage')}`"),
        ("Model", f"`{d.get('model_name')}`"),
    ]
    if d.get("model_package_arn"):
        fields.append(("Version", f"`{d['model_package_arn']}`"))
    return (
        f":x: Batch transform of {stage} failed",
        "\n".join(lines),
        fields,
        "Read the job's logs (CloudWatch, /aws/sagemaker/TransformJobs); fix the input, or reject the "
        "version to put the previous one back on the schedule.",
    )
