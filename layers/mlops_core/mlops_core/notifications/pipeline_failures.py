"""A failed pipeline execution, told to the project whose pipeline it is, with why it failed.

The notifier's rule matches failed executions of pipelines named ``{project}-{stage}-build`` (the
naming contract, :func:`mlops_core.contract.naming.pipeline_name`); here the name is read back into its
project and stage, and the execution counts only if that project has a record in the config table
(a pipeline that merely follows the naming is not announced). The detail the renderer gets carries the
project and stage (so the message goes to the project's own channel), the execution's
``FailureReason`` and each failed step with its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlops_core.contract.naming import parse_pipeline_name
from mlops_core.notifications.ports import (
    PipelineExecutions,
    PipelineFailureUnknownError,
    ProjectRecords,
)
from mlops_core.observability import logger

PIPELINE_FAILED_DETAIL_TYPE = "SageMaker Model Building Pipeline Execution Status Change"


def project_pipeline_failure(
    detail: Mapping[str, Any], *, projects: ProjectRecords, executions: PipelineExecutions
) -> dict[str, Any] | None:
    """The event's detail with ``project``, ``stage``, ``failure_reason`` and ``failed_steps`` added;
    None when the pipeline is not one of this control plane's projects' (logged, nothing sent)."""
    pipeline_arn = str(detail.get("pipelineArn", ""))
    target = parse_pipeline_name(pipeline_arn.rpartition(":pipeline/")[2])
    if target is None or projects.get_project(target.project) is None:
        logger.info(
            "A pipeline that is no project's failed: not announced",
            extra={"pipeline_arn": pipeline_arn},
        )
        return None
    enriched = {**detail, "project": target.project, "stage": target.stage.value}
    execution_arn = detail.get("pipelineExecutionArn")
    if not isinstance(execution_arn, str) or not execution_arn:
        return enriched
    try:
        failure = executions.failure(execution_arn)
    except PipelineFailureUnknownError as error:
        logger.warning(
            "Why the pipeline failed is unknown: announced without the reason",
            extra={"pipeline_execution_arn": execution_arn, "error": str(error)},
        )
        return enriched
    enriched["failure_reason"] = failure.reason
    enriched["failed_steps"] = [{"name": step.name, "reason": step.reason} for step in failure.failed_steps]
    return enriched
