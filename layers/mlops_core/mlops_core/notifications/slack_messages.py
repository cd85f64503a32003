"""Block Kit messages for people: one renderer per event type, each saying what happened, to which
project/stage/endpoint/version, why, and what to do next.

Renderers read the event's ``detail`` as a mapping, so a field another component adds later does not
break a message, and an event type without its own renderer still gets a readable generic message.
Every message is fitted to Slack's limits (:data:`LIMITS`) before it is sent: Slack refuses a whole
message whose one block is too long.

Everything an event brings (its detail, every key and string in it, its detail-type and source) is
escaped (:func:`~mlops_core.notifications.slack_escape.escape`) before a renderer sees it, so a name, a
branch or a failure reason is shown as written in every mrkdwn text, header and fallback text, and
never pings a channel or disguises a link. Renderers add markup of their own only: bold, code, emoji.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mlops_core.contract.batch_transform import SCHEDULE_ACTIONS
from mlops_core.contract.cloudwatch_events import ALARM_STATE_CHANGE
from mlops_core.contract.model_monitor import PROCESSING_JOB_STATE_CHANGE
from mlops_core.contract.slack_approvals import APPROVE_ACTION_ID, REJECT_ACTION_ID
from mlops_core.contract.topology import PRODUCTION_STAGES, Stage
from mlops_core.notifications.alarm_messages import alarm_state_changed
from mlops_core.notifications.monitoring_violations import monitoring_violations_found
from mlops_core.notifications.slack_escape import escape
from mlops_core.notifications.transform_job_failures import TRANSFORM_JOB_STATE_CHANGE, transform_job_failed
from mlops_core.observability import logger

# Slack's documented limits (api.slack.com/reference/block-kit/blocks).
LIMITS = {
    "blocks": 50,
    "header_text": 150,
    "section_text": 3000,
    "section_fields": 10,
    "field_text": 2000,
    "context_elements": 10,
    "context_text": 3000,  # a text object in a context block
    "fallback_text": 3000,
}

Detail = Mapping[str, Any]


@dataclass(frozen=True)
class SlackMessage:
    text: str  # the notification's fallback text
    blocks: list[dict[str, Any]]

    def payload(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def render(detail_type: str, source: str, detail: Detail) -> SlackMessage:
    """The message for one event (the generic one when the type has no renderer of its own).

    A detail its renderer cannot read (a field of another type than its model says, e.g. from another
    version of the component that emitted it) still gets a message: the generic one, which shows each
    field as it is. Raising instead would only make Lambda retry the same event, and then drop it.
    """
    renderer = RENDERERS.get(detail_type, _generic)
    shown_type, shown_source, shown_detail = escape(detail_type), escape(source), escaped(detail)
    try:
        return _render(shown_type, shown_source, shown_detail, renderer, extras=True)
    except (AttributeError, IndexError, KeyError, TypeError, ValueError) as error:
        logger.warning(
            "Event detail not as its renderer expects: sent as a generic message",
            extra={"detail_type": detail_type, "error": repr(error)},
        )
        return _render(shown_type, shown_source, shown_detail, _generic, extras=False)


def escaped(value: Any) -> Any:
    """``value`` with every string in it (mapping keys too, at any depth) escaped for Slack."""
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, Mapping):
        return {escaped(key): escaped(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [escaped(item) for item in value]
    return value


def _render(
    detail_type: str,
    source: str,
    detail: Detail,
    renderer: Callable[[str, Detail], Rendered],
    *,
    extras: bool,
) -> SlackMessage:
    title, body, fields, next_step = renderer(detail_type, detail)
    blocks: list[dict[str, Any]] = [_header(title)]
    if body:
        blocks.append(_section(body))
    if fields:
        blocks.append(_fields(fields))
    if extras:
        blocks.extend(_extra_blocks(detail_type, detail))
    if next_step:
        blocks.append(_section(f"*Next:* {next_step}"))
    blocks.append(_context(f"`{detail_type}` from `{source}`"))
    return fit(SlackMessage(text=_truncate(title, LIMITS["fallback_text"]), blocks=blocks))


def _where(detail: Detail) -> list[tuple[str, str]]:
    fields = []
    for label, key in (("Project", "project"), ("Stage", "stage"), ("Endpoint", "endpoint_name")):
        if detail.get(key):
            fields.append((label, f"`{detail[key]}`"))
    arn = detail.get("model_package_arn")
    if arn:
        fields.append(("Model version", _version_label(str(arn))))
    return fields


def _version_label(arn: str) -> str:
    """``arn:...:model-package/churn-dev/3`` → ``churn-dev v3``."""
    _, _, resource = arn.partition(":model-package/")
    group, _, version = resource.rpartition("/")
    return f"`{group}` v{version}" if group and version.isdigit() else f"`{arn}`"


Rendered = tuple[str, str, list[tuple[str, str]], str]


def _deployment_started(_: str, d: Detail) -> Rendered:
    if d.get("action") in SCHEDULE_ACTIONS.values():  # a batch stage (docs/batch-stages.md)
        return (
            f":rocket: Scheduling {d.get('endpoint_name')}",
            f"An approved model version is now the batch stage's model ({d.get('action')}): its "
            f"scheduled transform jobs run model `{d.get('model_name', '?')}`.",
            [*_where(d), ("Schedule", f"`{d.get('endpoint_config_name', '?')}`")],
            "Nothing to do: its integration tests run as a transform job over the suite's cases.",
        )
    return (
        f":rocket: Deploying to {d.get('endpoint_name')}",
        f"An approved model version is being deployed ({d.get('action', 'deploy')}, "
        f"{d.get('strategy', 'all-at-once')}).",
        [*_where(d), ("Endpoint config", f"`{d.get('endpoint_config_name', '?')}`")],
        "Nothing to do: integration tests run when the endpoint is InService.",
    )


def _deployment_skipped(_: str, d: Detail) -> Rendered:
    reason = str(d.get("reason", "?"))
    why = {
        "stale": "an older version than the one the endpoint serves was approved",
        "already-deployed": "the endpoint already serves this version",
    }.get(reason, reason)
    live = d.get("live_model_package_arn")
    return (
        f":fast_forward: Deployment to {d.get('endpoint_name')} skipped",
        f"Skipped because {why}." + (f" Live: {_version_label(str(live))}." if live else ""),
        _where(d),
        "Nothing, unless you meant to roll back: approve a newer version or redeploy by hand.",
    )


def _deployment_failed(_: str, d: Detail) -> Rendered:
    return (
        f":x: Deployment to {d.get('endpoint_name')} failed",
        f"*Why:* {d.get('reason', 'unknown')}",
        _where(d),
        "Fix the cause above, then approve the version again (or a new one).",
    )


def _deployment_deferred(_: str, d: Detail) -> Rendered:
    return (
        f":hourglass: Deployment to {d.get('endpoint_name')} deferred",
        f"The endpoint is busy{': ' + str(d['reason']) if d.get('reason') else ''}. "
        "The version is deployed when the endpoint is InService again.",
        _where(d),
        "Nothing to do.",
    )


def _deployment_rolled_back(_: str, d: Detail) -> Rendered:
    removed = d.get("rolled_back_model_package_arn")
    return (
        f":rewind: {d.get('endpoint_name')} rolled back",
        f"*Why:* {d.get('reason') or d.get('trigger') or 'the live version was rejected'}"
        + (f"\n*Taken off:* {_version_label(str(removed))}" if removed else ""),
        _where(d),
        "Look at the alarm that fired (CloudWatch) and the new version's metrics before deploying it "
        "again: the endpoint serves the previous version."
        if d.get("trigger") == "alarm"
        else "Look at why the version was rejected (integration tests, a person) before approving a fix.",
    )


def _tests_completed(_: str, d: Detail) -> Rendered:
    outcome = str(d.get("outcome", "?"))
    icon = {"passed": ":white_check_mark:", "failed": ":x:", "incomplete": ":warning:"}.get(
        outcome, ":grey_question:"
    )
    title = f"{icon} Integration tests {outcome} on {d.get('endpoint_name')}"
    if outcome == "no-tests-configured":
        title = f":grey_question: No integration tests configured for {d.get('endpoint_name')}"
    body = str(d.get("summary", ""))
    if d.get("version_rejected"):
        body += "\nThe version was set to *Rejected*: the deployer rolls the endpoint back."
    next_step = {
        "passed": _next_after_passed_tests(str(d.get("stage", ""))),
        "failed": "Fix the model or the suite; the failing checks are listed above.",
        "incomplete": "The function ran out of time: shorten the load phase or raise the timeout.",
        "no-tests-configured": "Add a suite: `python -m mlops_core.suite_tool put ENDPOINT suite.yaml`.",
    }.get(outcome, "")
    fields = [*_where(d), ("Run", f"`{d.get('run_id', '?')}`")]
    return title, body, fields, next_step


def _tests_requested(_: str, d: Detail) -> Rendered:
    who = d.get("requested_by") or "someone"
    return (
        f":test_tube: Integration tests requested for {d.get('endpoint_name')}",
        f"{who} asked for a run" + (f": {d['reason']}" if d.get("reason") else "."),
        _where(d),
        "Results follow in a separate message.",
    )


def _pipeline_failed(_: str, d: Detail) -> Rendered:
    pipeline = str(d.get("pipelineArn", "?")).rpartition("/")[2]
    execution = str(d.get("pipelineExecutionArn", "?")).rpartition("/")[2]
    lines = [
        f"Execution `{execution}` ended {d.get('currentPipelineExecutionStatus', 'Failed')}"
        + (f" ({d['pipelineExecutionDisplayName']})." if d.get("pipelineExecutionDisplayName") else ".")
    ]
    steps = [step for step in d.get("failed_steps") or [] if isinstance(step, Mapping)]
    lines.extend(
        f"*Failed step* `{step.get('name', '?')}`: {step.get('reason') or 'no reason given'}"
        for step in steps
    )
    if d.get("failure_reason"):
        lines.append(f"*Why:* {d['failure_reason']}")
    elif not steps:
        lines.append("*Why:* SageMaker gave no reason: open the execution to see its steps.")
    fields = [*_where(d), ("Pipeline", f"`{pipeline}`"), ("Execution", f"`{execution}`")]
    return (
        f":x: Pipeline {pipeline} failed",
        "\n".join(lines),
        fields,
        "Read the failed step's logs (SageMaker Studio, or its job in the SageMaker console), fix the "
        "cause and push again: CI starts a new execution.",
    )


def _version_pending(_: str, d: Detail) -> Rendered:
    """A version waiting for approval (notifications.pending_versions): lineage, dev test evidence, and
    (from ``_extra_blocks``) the Approve and Reject buttons when the stage has Slack approvers."""
    version = _version_label(str(d.get("model_package_arn", "?")))
    lineage = d.get("lineage") or {}
    evidence = d.get("test_evidence") or {}
    lines = [f"{version} of `{d.get('project')}` waits for approval to deploy to `{d.get('stage')}`."]
    if lineage:
        lines.append("*Lineage:* " + "; ".join(f"{key} `{value}`" for key, value in lineage.items()))
    if evidence.get("promoted_from"):
        lines.append(
            f"*Tested in dev:* {_version_label(str(evidence['promoted_from']))}: integration tests "
            f"*{evidence.get('outcome', 'unknown')}* (run `{evidence.get('run_id', '?')}`)"
        )
    elif evidence.get("outcome"):
        lines.append(f"*Integration tests:* *{evidence['outcome']}* (run `{evidence.get('run_id', '?')}`)")
    else:
        lines.append("*Integration tests:* no test evidence recorded on this version.")
    approvers = list(d.get("approvers") or [])
    return (
        f":raising_hand: {version.replace('`', '')} waits for approval",
        "\n".join(lines),
        _where(d),
        "An approver of the stage clicks Approve (the deployer deploys it) or Reject."
        if approvers
        else "Approve or reject it in SageMaker Studio (the project names no Slack approvers for this "
        "stage: SlackApprovers).",
    )


def _project_created(_: str, d: Detail) -> Rendered:
    groups = list(d.get("model_groups") or [])
    scenario = str(d.get("scenario", "?"))
    article = "An" if scenario[:1] in {"a", "e", "i", "o", "u"} else "A"  # an advanced project
    return (
        f":tada: Project {d.get('project')} created",
        f"{article} {scenario} project with the {d.get('registry_backend', '?')} registry. "
        f"Its repository ({d.get('git_provider', '?')}) has the seed code on `prod` and a `dev` branch"
        + (f"; model groups: {', '.join(f'`{g}`' for g in groups)}." if groups else "."),
        [
            ("Project", f"`{d.get('project')}`"),
            ("Project id", f"`{d.get('project_id', '?')}`"),
            ("Repository", str(d.get("repository_url", "?"))),
        ],
        "Clone the repository, work on a feature branch, and approve a version in the dev group "
        "to deploy it. Add an integration test suite with `python -m mlops_core.suite_tool`.",
    )


def _project_deleted(_: str, d: Detail) -> Rendered:
    deleted = list(d.get("model_groups_deleted") or [])
    kept = dict(d.get("model_groups_kept") or {})
    lines = [f"*Repository* `{d.get('repository_name', '?')}`: {d.get('repository', '?')}"]
    if deleted:
        lines.append("*Model groups deleted:* " + ", ".join(f"`{g}`" for g in deleted))
    lines.extend(f"*Kept* `{group}`: {why}" for group, why in kept.items())
    return (
        f":wastebasket: Project {d.get('project')} deleted",
        "\n".join(lines),
        [("Project", f"`{d.get('project')}`"), ("Project id", f"`{d.get('project_id', '?')}`")],
        _next_after_deletion(bool(kept), str(d.get("repository", ""))),
    )


def _next_after_deletion(groups_kept: bool, repository: str) -> str:
    """What still exists after a project's deletion, named as what it is."""
    remaining = [
        *(["the kept model groups"] if groups_kept else []),
        *([f"the {repository} repository"] if repository in {"retained", "archived"} else []),
    ]
    if not remaining:
        return "Nothing to do."
    verb, them = ("exist", "them") if len(remaining) > 1 or groups_kept else ("exists", "it")
    return (
        f"{' and '.join(remaining).capitalize()} still {verb}: delete {them} by hand if nobody needs {them}."
    )


def _git_branch_updated(_: str, d: Detail) -> Rendered:
    branch = str(d.get("branch", "?"))
    merged = d.get("merged_commit_id")
    fields = [("Repository", f"`{d.get('repository', '?')}`"), ("Branch", f"`{branch}`")]
    if d.get("project"):
        fields.insert(0, ("Project", f"`{d['project']}`"))
    fields.append(("Commit", f"`{str(d.get('commit_id', '?'))[:12]}`"))
    if merged:
        fields.append(("Merged", f"`{str(merged)[:12]}`"))
    return (
        f":twisted_rightwards_arrows: {branch} of {d.get('repository')} moved",
        f"CI reported a new head on `{branch}`"
        + (f" ({d['provider']})" if d.get("provider") else "")
        + (f", merging `{str(merged)[:12]}`." if merged else "."),
        fields,
        "A merge into `prod` promotes the tested dev version: watch for *Model Promoted*."
        if branch == "prod"
        else "Nothing to do.",
    )


def _model_promoted(_: str, d: Detail) -> Rendered:
    promoted = list(d.get("promoted") or [])
    lines = [
        f"• `{item.get('stage', '?')}`: {_version_label(str(item.get('model_package_arn', '?')))} "
        f"({item.get('approval_status', '?')})"
        for item in promoted
        if isinstance(item, Mapping)
    ]
    source = _version_label(str(d.get("source_model_package_arn", "?")))
    return (
        f":package: {d.get('project')}: {source.replace('`', '')} promoted",
        f"The tested dev version {source} (run `{d.get('test_run_id') or '?'}`) was copied without "
        f"retraining ({d.get('selected_by', '?')}):\n" + "\n".join(lines),
        [
            ("Project", f"`{d.get('project')}`"),
            ("Trigger", str(d.get("trigger", "?"))),
            ("Commit", f"`{str(d.get('commit_id') or '?')[:12]}`"),
        ],
        "Approve the promoted version in its production group to deploy it"
        if any(isinstance(i, Mapping) and i.get("approval_status") != "Approved" for i in promoted)
        else "The promoted version is approved: the deployer rolls it out.",
    )


def _promotion_failed(_: str, d: Detail) -> Rendered:
    reason = str(d.get("reason", "?"))
    next_step = {
        "no-tested-version": "Deploy the commit to dev and let its integration tests pass, then merge again.",
        "tests-failed": "Fix the model (the failing cases are in the test run), then merge again.",
        "not-approved": "Approve the dev version first, then merge again.",
        "unknown-project": "Check that the repository belongs to a project of this control plane.",
        "copy-failed": "Look at the artifact copier's log, fix the cause, and re-run the merge's CI.",
    }.get(reason, "Read the reason above, fix it, and merge again.")
    fields = [("Repository", f"`{d.get('repository', '?')}`"), ("Reason", f"`{reason}`")]
    if d.get("project"):
        fields.insert(0, ("Project", f"`{d['project']}`"))
    if d.get("commit_id"):
        fields.append(("Commit", f"`{str(d['commit_id'])[:12]}`"))
    return (
        f":no_entry: Promotion of {d.get('project') or d.get('repository')} failed",
        f"*Why:* {d.get('message', reason)}",
        fields,
        next_step,
    )


def _reap_requested(_: str, d: Detail) -> Rendered:
    dry = d.get("dry_run")
    mode = (
        "a dry run (nothing is deleted)"
        if dry
        else ("a real run" if dry is False else "the stack's default mode")
    )
    return (
        ":broom: Reaper run requested",
        f"{d.get('requested_by') or 'Someone'} asked the reaper to run now, as {mode}.",
        [],
        "The result follows in an *Endpoints Reaped* message.",
    )


def _next_after_passed_tests(stage: str) -> str:
    """What follows passed tests depends on where they ran: a feature goes to dev, dev to production,
    and a production endpoint already serves its version."""
    if stage == Stage.FEATURE:
        return "Merge the feature branch into dev when ready: dev gets a version of its own and is tested."
    if stage == Stage.DEV:
        return "Merge to prod when ready: the tested artifact is promoted without retraining."
    if stage in PRODUCTION_STAGES:
        return f"Nothing to do: the tested version serves {stage}."
    return ""


def _endpoints_reaped(_: str, d: Detail) -> Rendered:
    dry = bool(d.get("dry_run"))
    verb = "would delete" if dry else "deleted"
    lines = []
    for project in d.get("projects") or []:
        if not isinstance(project, Mapping):
            continue
        parts = []
        deleted = [e.get("endpoint_name") for e in project.get("deleted") or [] if isinstance(e, Mapping)]
        kept = [
            f"{e.get('endpoint_name')} ({e.get('explanation') or e.get('reason')})"
            for e in project.get("kept") or []
            if isinstance(e, Mapping)
        ]
        failed = [
            f"{e.get('endpoint_name')} ({e.get('reason')})"
            for e in project.get("failed") or []
            if isinstance(e, Mapping)
        ]
        if deleted:
            parts.append(f"{verb} {', '.join(f'`{n}`' for n in deleted)}")
        kept += [
            f"{name} (production: never reaped)"
            for name in project.get("production_endpoints") or []
            if isinstance(name, str)
        ]
        if kept:
            parts.append("kept " + ", ".join(kept))
        if failed:
            parts.append("FAILED " + ", ".join(failed))
        if parts:
            lines.append(f"• *{project.get('project')}*: " + "; ".join(parts))
    saved = float(d.get("instance_hours_per_day_saved") or 0)
    summary = (
        f"{d.get('endpoints_examined', 0)} endpoints examined: {d.get('deleted_count', 0)} {verb}, "
        f"{d.get('kept_count', 0)} kept, {d.get('failed_count', 0)} failed; "
        f"{saved:g} instance-hours a day {'to save' if dry else 'saved'}."
    )
    if d.get("details_dropped"):
        report = d.get("report_uri")
        summary += (
            f" (Details were dropped to fit the event: the full report is `{report}`.)"
            if report
            else " (Details were dropped to fit the event: the reaper's log has them all.)"
        )
    failed_count = int(d.get("failed_count") or 0)
    return (
        f":broom: Endpoints {'reap preview' if dry else 'reaped'} ({d.get('trigger', '?')})",
        summary + ("\n" + "\n".join(lines) if lines else ""),
        [("Stages reaped", ", ".join(f"`{s}`" for s in d.get("reapable_stages") or []) or "-")],
        "Retry the failed endpoints (or delete them by hand) and check the reaper's permissions."
        if failed_count
        else (
            "Run it for real, or tag an endpoint `mlops:keep-until=YYYY-MM-DD` to keep it."
            if dry
            else "To keep an endpoint overnight, tag it `mlops:keep-until=YYYY-MM-DD`."
        ),
    )


def _alias_changed(_: str, d: Detail) -> Rendered:
    old, new = d.get("old_version"), d.get("new_version")
    change = (
        f"now names version {new}" + (f" (was {old})" if old is not None else " (first seen)")
        if new is not None
        else f"was removed (it named version {old})"
    )
    return (
        f":label: MLflow alias {d.get('alias')} of {d.get('model')} changed",
        f"The alias `{d.get('alias')}` of `{d.get('model')}` {change}.",
        [*_where(d), ("Trigger", str(d.get("trigger", "poll")))],
        "Nothing to do: the deployer deploys what the alias names." if new is not None else "",
    )


def _generic(detail_type: str, d: Detail) -> Rendered:
    shown = {key: value for key, value in d.items() if key not in {"project", "stage", "endpoint_name"}}
    body = "\n".join(f"*{key}:* {_short(value)}" for key, value in list(shown.items())[:20])
    return f":information_source: {detail_type}", body, _where(d), ""


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return _truncate(text, 300)


RENDERERS: dict[str, Callable[[str, Detail], Rendered]] = {
    "Deployment Started": _deployment_started,
    "Deployment Skipped": _deployment_skipped,
    "Deployment Failed": _deployment_failed,
    "Deployment Deferred": _deployment_deferred,
    "Deployment Rolled Back": _deployment_rolled_back,
    "Integration Tests Completed": _tests_completed,
    "Integration Tests Requested": _tests_requested,
    "SageMaker Model Building Pipeline Execution Status Change": _pipeline_failed,
    "SageMaker Model Package State Change": _version_pending,
    "Project Created": _project_created,
    "Project Deleted": _project_deleted,
    "Git Branch Updated": _git_branch_updated,
    "Model Promoted": _model_promoted,
    "Promotion Failed": _promotion_failed,
    "Endpoints Reap Requested": _reap_requested,
    "Endpoints Reaped": _endpoints_reaped,
    "MLflow Model Alias Changed": _alias_changed,
    ALARM_STATE_CHANGE: alarm_state_changed,
    PROCESSING_JOB_STATE_CHANGE: monitoring_violations_found,
    TRANSFORM_JOB_STATE_CHANGE: transform_job_failed,
}


def _extra_blocks(detail_type: str, d: Detail) -> list[dict[str, Any]]:
    """The test results' compact tables: cases, then load percentiles against their budgets; a pending
    version's Approve and Reject buttons."""
    if detail_type == "SageMaker Model Package State Change":
        return [_approval_buttons(str(d["model_package_arn"]))] if d.get("approvers") else []
    if detail_type != "Integration Tests Completed":
        return []
    blocks = []
    cases = d.get("cases") or []
    if cases:
        blocks.append(_section("*Cases*\n" + _case_table(cases)))
        failures = [
            f"• *{case['name']}*: " + "; ".join(case.get("failures") or [])
            for case in cases
            if not case.get("passed")
        ]
        if failures:
            blocks.append(_section("*Failures*\n" + "\n".join(failures)))
    load = d.get("load")
    if load:
        blocks.append(_section("*Load*\n" + _load_table(load)))
    if d.get("stopped_early"):
        blocks.append(_section(f":warning: {d['stopped_early']}"))
    return blocks


def _case_table(cases: list[Mapping[str, Any]]) -> str:
    width = min(32, max(len(str(case.get("name", ""))) for case in cases))
    lines = [f"{'case':<{width}}  result  latency (budget)"]
    for case in cases:
        latency = case.get("latency_ms")
        budget = case.get("latency_budget_ms")
        timing = f"{latency:.0f} ms" if isinstance(latency, int | float) else "-"
        if budget:
            timing += f" ({budget:g} ms)"
        result = "pass" if case.get("passed") else "FAIL"
        lines.append(f"{_cut(str(case.get('name', '')), width):<{width}}  {result:<6}  {timing}")
    return "```" + "\n".join(lines) + "```"


def _load_table(load: Mapping[str, Any]) -> str:
    lines = [
        f"{load.get('requests', 0)} requests at concurrency {load.get('concurrency', '?')}: "
        f"{load.get('requests_per_second', 0)} req/s, errors {float(load.get('error_rate', 0)):.1%} "
        f"(max {float(load.get('max_error_rate', 0)):.1%})"
    ]
    for name in ("p50", "p95", "p99"):
        value = load.get(f"{name}_ms")
        budget = load.get(f"{name}_budget_ms")
        verdict = "" if budget is None or value is None else ("  ok" if value <= budget else "  OVER")
        shown = f"{value:.1f} ms" if isinstance(value, int | float) else "-"
        lines.append(f"{name}  {shown:>10}" + (f"  budget {budget:g} ms{verdict}" if budget else ""))
    return "```" + "\n".join(lines) + "```"


# ------------------------------------------------------------------------------------------ blocks


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _fields(fields: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "type": "section",
        "fields": [{"type": "mrkdwn", "text": f"*{label}*\n{value}"} for label, value in fields],
    }


def _approval_buttons(model_package_arn: str) -> dict[str, Any]:
    """Approve and Reject (contract.slack_approvals): the value is the version's ARN; Reject asks first."""
    return {
        "type": "actions",
        "block_id": "approval",
        "elements": [
            {
                "type": "button",
                "action_id": APPROVE_ACTION_ID,
                "text": {"type": "plain_text", "text": "Approve"},
                "style": "primary",
                "value": model_package_arn,
            },
            {
                "type": "button",
                "action_id": REJECT_ACTION_ID,
                "text": {"type": "plain_text", "text": "Reject"},
                "style": "danger",
                "value": model_package_arn,
                "confirm": {
                    "title": {"type": "plain_text", "text": "Reject this version?"},
                    "text": {"type": "plain_text", "text": "It will not be deployed."},
                    "confirm": {"type": "plain_text", "text": "Reject"},
                    "deny": {"type": "plain_text", "text": "Cancel"},
                },
            },
        ],
    }


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


_CUT_ESCAPE = re.compile(r"&(a|am|amp|l|lt|g|gt)?$")


def _cut(text: str, length: int) -> str:
    """The first ``length`` characters of an escaped text, without half an escape at the end (a bare
    ``&`` or ``&am`` would be shown as typed, and break the rule that every ``&`` starts an escape)."""
    if len(text) <= length:
        return text
    return _CUT_ESCAPE.sub("", text[:length])


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    closing = "```" if text.count("```") % 2 == 0 and text.endswith("```") else ""
    return _cut(text, limit - 1 - len(closing)) + "…" + closing


def fit(message: SlackMessage) -> SlackMessage:
    """The message cut to Slack's limits: long texts truncated, at most 50 blocks, 10 fields."""
    blocks = []
    for original in message.blocks[: LIMITS["blocks"]]:
        block = json.loads(json.dumps(original))
        if block["type"] == "header":
            block["text"]["text"] = _truncate(block["text"]["text"], LIMITS["header_text"])
        elif block["type"] == "section" and "text" in block:
            block["text"]["text"] = _truncate(block["text"]["text"], LIMITS["section_text"])
        if "fields" in block:
            block["fields"] = [
                {**field, "text": _truncate(field["text"], LIMITS["field_text"])}
                for field in block["fields"][: LIMITS["section_fields"]]
            ]
        if block["type"] == "context":
            block["elements"] = [
                {**element, "text": _truncate(element["text"], LIMITS["context_text"])}
                if "text" in element
                else element
                for element in block["elements"][: LIMITS["context_elements"]]
            ]
        blocks.append(block)
    return SlackMessage(_truncate(message.text, LIMITS["fallback_text"]), blocks)


def limit_violations(payload: Mapping[str, Any]) -> list[str]:
    """Where a payload breaks Slack's block limits (empty when it fits); used by the tests."""
    problems = []
    blocks = payload.get("blocks", [])
    if len(blocks) > LIMITS["blocks"]:
        problems.append(f"{len(blocks)} blocks")
    for index, block in enumerate(blocks):
        if block["type"] == "header" and len(block["text"]["text"]) > LIMITS["header_text"]:
            problems.append(f"block {index}: header longer than {LIMITS['header_text']}")
        if (
            block["type"] == "section"
            and "text" in block
            and len(block["text"]["text"]) > LIMITS["section_text"]
        ):
            problems.append(f"block {index}: section text longer than {LIMITS['section_text']}")
        fields = block.get("fields", [])
        if len(fields) > LIMITS["section_fields"]:
            problems.append(f"block {index}: {len(fields)} fields")
        problems.extend(
            f"block {index}: field longer than {LIMITS['field_text']}"
            for field in fields
            if len(field["text"]) > LIMITS["field_text"]
        )
        if block["type"] == "context":
            if len(block["elements"]) > LIMITS["context_elements"]:
                problems.append(f"block {index}: {len(block['elements'])} context elements")
            problems.extend(
                f"block {index}: context text longer than {LIMITS['context_text']}"
                for element in block["elements"]
                if len(element.get("text", "")) > LIMITS["context_text"]
            )
    if len(payload.get("text", "")) > LIMITS["fallback_text"]:
        problems.append("fallback text too long")
    return problems
