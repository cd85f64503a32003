"""Why a SageMaker pipeline execution failed (the Slack notifier's
:class:`~mlops_core.notifications.ports.PipelineExecutions`).

DescribePipelineExecution gives the execution's ``FailureReason``; ListPipelineExecutionSteps (paged)
gives each step's ``StepStatus`` and, for a failed one, its own ``FailureReason``. A throttled or
failing call, after the client's retries, is raised as it is (Lambda retries the event); any other
refusal (the execution is gone, access denied) becomes
:class:`~mlops_core.notifications.ports.PipelineFailureUnknownError`.
"""

from __future__ import annotations

from typing import Any

from mlops_core.adapters import aws_errors
from mlops_core.notifications.ports import FailedStep, PipelineFailure, PipelineFailureUnknownError

FAILED_STEP_STATUS = "Failed"


class SageMakerPipelineExecutions:
    def __init__(self, client: Any) -> None:
        self._client = client

    def failure(self, execution_arn: str) -> PipelineFailure:
        try:
            execution = self._client.describe_pipeline_execution(PipelineExecutionArn=execution_arn)
            steps = [
                step
                for page in self._client.get_paginator("list_pipeline_execution_steps").paginate(
                    PipelineExecutionArn=execution_arn
                )
                for step in page.get("PipelineExecutionSteps", [])
            ]
        except aws_errors.CALL_ERRORS as error:
            if aws_errors.is_retryable(error):
                raise
            raise PipelineFailureUnknownError(aws_errors.describe(error)) from error
        return PipelineFailure(
            reason=str(execution.get("FailureReason") or ""),
            failed_steps=tuple(
                FailedStep(name=str(step.get("StepName", "?")), reason=str(step.get("FailureReason") or ""))
                for step in steps
                if step.get("StepStatus") == FAILED_STEP_STATUS
            ),
        )
