"""SageMaker pipelines' gaps in moto, filled: executions that fail, and why.

- moto's executions succeed at once and never run a step: `fail_execution` makes one fail at a step with
  a reason, as SageMaker does when a step's job fails, and emits the `SageMaker Model Building Pipeline
  Execution Status Change` event SageMaker emits (its detail as in the SageMaker Developer Guide,
  "Amazon EventBridge events", pipeline execution status change);
- DescribePipelineExecution answers an empty `FailureReason` whatever happened: it gives the
  execution's own;
- ListPipelineExecutionSteps (missing in moto): the execution's steps (those `fail_execution` set),
  in the order `fail_execution` set them.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.sagemaker.models import SageMakerModelBackend, sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse
from moto.sagemaker.utils import get_pipeline_execution_from_arn

from mlops_local import aws_events

PIPELINE_STATUS_CHANGE = "SageMaker Model Building Pipeline Execution Status Change"
_STEPS = "mlops_local_steps"  # where an execution keeps its steps (a FakePipelineExecution attribute)


def fail_execution(
    *, account: str, region: str, execution_arn: str, step: str, reason: str, step_type: str = "Training"
) -> dict[str, Any]:
    """Execution ``execution_arn`` failed at ``step`` because of ``reason``: its status, failure reason
    and steps set, and the status change event emitted on the default bus. The event."""
    backend = sagemaker_backends[account][region]
    execution = get_pipeline_execution_from_arn(backend.pipelines, execution_arn)
    execution.pipeline_execution_status = "Failed"
    execution.pipeline_execution_failure_reason = f"Step {step} failed: {reason}"  # type: ignore[assignment]
    setattr(
        execution,
        _STEPS,
        [
            {
                "StepName": step,
                "StepDisplayName": step,
                "StepStatus": "Failed",
                "StartTime": execution.start_time,
                "EndTime": execution.start_time,
                "FailureReason": reason,
                "AttemptCount": 1,
                "Metadata": {},
            }
        ],
    )
    pipeline_arn = execution_arn.rpartition("/execution/")[0]
    event = aws_events.envelope(
        source="aws.sagemaker",
        detail_type=PIPELINE_STATUS_CHANGE,
        detail={
            "pipelineExecutionDisplayName": execution.pipeline_execution_display_name,
            "currentPipelineExecutionStatus": "Failed",
            "previousPipelineExecutionStatus": "Executing",
            "executionStartTime": aws_events.iso_time(execution.start_time),
            "executionEndTime": aws_events.iso_time(execution.start_time),
            "pipelineExecutionDescription": execution.pipeline_execution_description,
            "pipelineArn": pipeline_arn,
            "pipelineExecutionArn": execution_arn,
        },
        account=account,
        region=region,
        resources=[pipeline_arn, execution_arn],
    )
    aws_events.emit(event)
    return event


def _describe_pipeline_execution(response: SageMakerResponse) -> ActionResult:
    arn = response._get_param("PipelineExecutionArn")
    backend: SageMakerModelBackend = response.sagemaker_backend
    described = backend.describe_pipeline_execution(arn)
    execution = get_pipeline_execution_from_arn(backend.pipelines, arn)
    return ActionResult({**described, "FailureReason": execution.pipeline_execution_failure_reason or ""})


def _list_pipeline_execution_steps(response: SageMakerResponse) -> ActionResult:
    arn = response._get_param("PipelineExecutionArn")
    execution = get_pipeline_execution_from_arn(response.sagemaker_backend.pipelines, arn)
    return ActionResult({"PipelineExecutionSteps": list(getattr(execution, _STEPS, []))})


def patch() -> None:
    SageMakerResponse.describe_pipeline_execution = _describe_pipeline_execution  # type: ignore[method-assign,assignment]
    SageMakerResponse.list_pipeline_execution_steps = _list_pipeline_execution_steps  # type: ignore[attr-defined]
