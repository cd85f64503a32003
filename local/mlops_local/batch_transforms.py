"""Batch transform jobs, run by the local cloud.

SageMaker runs a transform job on instances of its own (a batch stage's schedule starts it: see
`schedules`). Here it does not happen by itself:

- `TransformJobs.advance()` runs every job `InProgress`: each S3 object under the input prefix
  (`S3Prefix`), split into records by line (`SplitType` `Line`), each record answered by the model
  the way the inference server answers InvokeEndpoint; the answers, one line each (`AssembleWith`
  `Line`), go to `{S3OutputPath}/{object name}.out` (SageMaker Developer Guide, "Use batch transform
  to run inference": "the output file ... has the same name as the input file with .out appended").
  A record the model refuses, or input that cannot be read, fails the job with the reason. The job
  ends `Completed` or `Failed` with its `SageMaker Transform Job State Change` event; the event's shape
  is AWS's event pattern for it (TransformJobName, TransformJobArn, TransformJobStatus, ModelName,
  TransformInput, TransformOutput, TransformResources, the times, Tags); that Tags is a map as in the
  endpoint events, and FailureReason, are inferred.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.core.utils import utcnow
from moto.s3.models import s3_backends
from moto.sagemaker.models import FakeTransformJob, sagemaker_backends

from mlops_local import aws_events
from mlops_local.demo_model import DemoModel, ModelInputError
from mlops_local.moto_gaps.transform_jobs import IN_PROGRESS

TRANSFORM_JOB_STATE_CHANGE = "SageMaker Transform Job State Change"


class TransformJobs:
    """Runs the transform jobs of one account and region; `model_of(model name)` loads a model as the
    inference server does."""

    def __init__(self, *, account: str, region: str, model_of: Callable[[str], DemoModel]) -> None:
        self._account = account
        self._region = region
        self._model_of = model_of

    def advance(self) -> bool:
        """Run every job in progress to its end; True if any ran (and emitted its event)."""
        jobs = sagemaker_backends[self._account][self._region].transform_jobs
        running = [job for job in list(jobs.values()) if job.transform_job_status == IN_PROGRESS]
        for job in running:
            try:
                self._run(job)
            except TransformFailedError as error:
                self._end(job, "Failed", str(error))
            else:
                self._end(job, "Completed")
        return bool(running)

    def _run(self, job: FakeTransformJob) -> None:
        transform_input: dict[str, Any] = dict(job.transform_input)
        source = transform_input["DataSource"]["S3DataSource"]
        if source.get("S3DataType", "S3Prefix") != "S3Prefix":
            raise TransformFailedError(f"S3DataType {source.get('S3DataType')} is not run by the local cloud")
        content_type = str(transform_input.get("ContentType") or "application/json")
        split_lines = transform_input.get("SplitType") == "Line"
        bucket, _, prefix = str(source["S3Uri"]).removeprefix("s3://").partition("/")
        out_bucket, _, out_prefix = (
            str(job.transform_output["S3OutputPath"]).removeprefix("s3://").partition("/")
        )
        s3 = s3_backends[self._account]["global"]
        try:
            keys = sorted(str(name) for name in s3.get_bucket(bucket).keys if str(name).startswith(prefix))
        except Exception as error:
            raise TransformFailedError(f"input s3://{bucket}/{prefix} could not be read: {error}") from None
        if not keys:
            raise TransformFailedError(f"no input objects under s3://{bucket}/{prefix}")
        try:
            model = self._model_of(job.model_name)
        except Exception as error:
            raise TransformFailedError(f"model {job.model_name} could not be loaded: {error}") from None
        for key in keys:
            body = s3.get_object(bucket, key).value  # type: ignore[union-attr]
            records = [line for line in body.splitlines() if line.strip()] if split_lines else [body]
            answers = []
            for number, record in enumerate(records, start=1):
                try:
                    answer, _ = model.invoke(record, content_type, transform_input.get("Accept"))
                except ModelInputError as error:
                    raise TransformFailedError(
                        f"ClientError: the model refused record {number} of s3://{bucket}/{key}: {error}"
                    ) from None
                answers.append(answer.rstrip(b"\n"))
            name = key.rsplit("/", 1)[-1]
            s3.put_object(out_bucket, f"{out_prefix.rstrip('/')}/{name}.out", b"\n".join(answers) + b"\n")

    def _end(self, job: FakeTransformJob, status: str, reason: str | None = None) -> None:
        now = utcnow()
        tags: list[dict[str, str]] = list(job.tags or [])  # type: ignore[arg-type]  # moto: the request's list
        job.transform_job_status = status
        job.failure_reason = reason or ""
        job.transform_end_time = job.last_modified_time = now
        detail: dict[str, Any] = {
            "TransformJobName": job.transform_job_name,
            "TransformJobArn": job.arn,
            "TransformJobStatus": status,
            "ModelName": job.model_name,
            "TransformInput": job.transform_input,
            "TransformOutput": job.transform_output,
            "TransformResources": job.transform_resources,
            "CreationTime": aws_events.epoch_millis(job.creation_time),
            "TransformStartTime": aws_events.epoch_millis(job.transform_start_time),
            "TransformEndTime": aws_events.epoch_millis(now),
            "Tags": {tag["Key"]: tag["Value"] for tag in tags},
        }
        if reason:
            detail["FailureReason"] = reason
        aws_events.emit(
            aws_events.envelope(
                source="aws.sagemaker",
                detail_type=TRANSFORM_JOB_STATE_CHANGE,
                detail=detail,
                account=self._account,
                region=self._region,
                resources=[job.arn],
            )
        )


class TransformFailedError(Exception):
    """Why a transform job fails (its FailureReason)."""
