"""The Slack message of a Model Monitor execution that completed with violations, in the project's channel.

SageMaker runs each execution of a monitoring schedule as a processing job; its ``SageMaker Processing
Job State Change`` event (the stack's rule keeps those of ``*-data-quality`` schedules that end
``Completed`` with an ``ExitMessage`` starting ``CompletedWithViolations``, see
:mod:`mlops_core.contract.model_monitor`) becomes a message: which endpoint (so which project and stage),
the schedule, the execution's exit message, where its report is, and a link to the processing job.
A schedule of an endpoint whose project has no record in this stack's config table is not this stack's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from mlops_core.contract.model_monitor import monitoring_violation
from mlops_core.contract.naming import parse_stage_resource
from mlops_core.notifications.ports import ProjectRecords

Detail = Mapping[str, Any]
Rendered = tuple[str, str, list[tuple[str, str]], str]


def processing_job_console_url(region: str, job_name: str) -> str:
    return (
        f"https://{region}.console.aws.amazon.com/sagemaker/home?region={region}"
        f"#/processing-jobs/{quote(job_name, safe='')}"
    )


def violation_context(detail: Detail, *, region: str, projects: ProjectRecords) -> dict[str, Any] | None:
    """What the message and the channel need, or None: not a violation of one of this stack's endpoints."""
    violation = monitoring_violation(detail)
    target = parse_stage_resource(violation["endpoint_name"]) if violation else None
    if violation is None or target is None or projects.get_project(target.project) is None:
        return None
    context = {**violation, "project": target.project, "stage": target.stage.value}
    if region and violation["processing_job"]:
        context["console_url"] = processing_job_console_url(region, violation["processing_job"])
    return context


def monitoring_violations_found(_: str, d: Detail) -> Rendered:
    endpoint = d.get("endpoint_name", "?")
    lines = [
        "A Model Monitor data-quality execution found the endpoint's captured data violating the "
        "baseline constraints of the version it serves.",
        f"*Exit message:* {d.get('exit_message', '')}",
    ]
    if d.get("report_s3_uri"):
        lines.append(f"*Report:* `{d['report_s3_uri']}` (`constraint_violations.json`)")
    fields: list[tuple[str, str]] = []
    for label, key in (
        ("Project", "project"),
        ("Stage", "stage"),
        ("Endpoint", "endpoint_name"),
        ("Schedule", "monitoring_schedule"),
    ):
        if d.get(key):
            fields.append((label, f"`{d[key]}`"))
    if d.get("console_url"):
        fields.append(("Console", f"<{d['console_url']}|open the monitoring job>"))
    return (
        f":warning: Data-quality violations on {endpoint}",
        "\n".join(lines),
        fields,
        "Read the violations report; if the live data drifted from the training data, retrain, or "
        "reject the version to roll back.",
    )
