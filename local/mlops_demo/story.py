"""What the scenarios share: numbered steps that say who did what and what the control plane did and
why, the timeline of what happened, the Slack messages that arrived, checks, and the removals seen.

A scenario does only what a person or CI does (the custom resource request of the Service Catalog
product, a pipeline's registration, an approval, a merge and the CI event after it, a tag, the
nightly schedule): everything else is the deployed template's functions reacting in the LocalCloud.
"""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from mlops_core.suite_tool import write_suite
from mlops_local import LocalCloud
from mlops_local.demo_model import DEMO_SUITE, register_demo_version
from mlops_local.local_ci import run_ci
from mlops_local.trace import Delivery, Trace, gist

from mlops_demo.repository import WorkingCopy, branches
from mlops_demo.slack_text import BOLD, RESET, slack_lines
from mlops_demo.summary import Removal

WIDTH = 100
LIFECYCLE = "ProjectLifecycleFunction"
REAPER = "EndpointReaperFunction"
# The demo's suite: DEMO_SUITE's cases and a short load phase (the full one is 200 requests; the
# story deploys a dozen times, and a longer load phase would only add waiting).
STORY_SUITE: dict[str, Any] = {
    **DEMO_SUITE,
    "load": {**DEMO_SUITE["load"], "requests": 24, "concurrency": 4},
}


@dataclass(frozen=True)
class ProjectCreation:
    """What a project's creation left, as the story shows it."""

    physical_id: str
    trace: Trace
    heads: dict[str, str]  # branch -> commit of the project's repository
    record: dict[str, Any]  # the project record in the config table


@dataclass(frozen=True)
class Check:
    scenario: str
    description: str
    passed: bool


@dataclass
class Story:
    """One scenario, told on ``cloud``; ``out`` prints a line."""

    name: str
    cloud: LocalCloud
    out: Callable[[str], None]
    ansi: bool
    workdir: Path
    checks: list[Check] = field(default_factory=list)
    removals: list[Removal] = field(default_factory=list)
    _step: int = 0
    _slack_seen: int = 0

    def __post_init__(self) -> None:
        self.sagemaker = self.cloud.session.client("sagemaker")
        self._slack_seen = len(self.cloud.slack_messages)

    def tell(self) -> None:
        """The scenario, step by step."""
        raise NotImplementedError

    # ----------------------------------------------------------------------------------------- telling

    def title(self, text: str) -> None:
        self.out("")
        self.out(self._bold(f"== {text} =="))

    def step(self, title: str, *, who: str, control_plane: str) -> None:
        """A numbered step: what a person or CI did, and what the control plane does about it and why."""
        self._step += 1
        self.out("")
        self.out(self._bold(f"{self._step:>2}. {title}"))
        self._wrapped("You/CI:        ", who)
        self._wrapped("Control plane: ", control_plane)

    def note(self, text: str) -> None:
        self._wrapped("    ", text, first="    ")

    def _wrapped(self, label: str, text: str, *, first: str | None = None) -> None:
        lead = first if first is not None else f"    {label}"
        for line in textwrap.wrap(
            text, WIDTH, initial_indent=lead, subsequent_indent=" " * len(lead), break_on_hyphens=False
        ):
            self.out(line)

    def _bold(self, text: str) -> str:
        return f"{BOLD}{text}{RESET}" if self.ansi else text

    def show(self, trace: Trace, label: str = "What happened") -> None:
        """What happened (one line a delivery), then the Slack messages that arrived meanwhile."""
        if len(trace):
            self.out(f"    {label}:")
            for line in timeline_lines(trace):
                self.out(f"      {line}")
        self.show_slack()

    def show_slack(self) -> None:
        messages = self.cloud.slack_messages[self._slack_seen :]
        self._slack_seen = len(self.cloud.slack_messages)
        for message in messages:
            self.out("    Slack:")
            for line in slack_lines(message, ansi=self.ansi, width=WIDTH - 8):
                self.out(f"      | {line}")

    def check(self, description: str, passed: bool) -> bool:
        self.checks.append(Check(self.name, description, bool(passed)))
        return bool(passed)

    # ------------------------------------------------------------------------ what people and CI do

    def settle(self, label: str = "What happened") -> Trace:
        trace = self.cloud.settle()
        self.show(trace, label)
        return trace

    def create_project(self, project: str, properties: dict[str, Any]) -> ProjectCreation:
        """The Service Catalog product's CloudFormation custom resource, Create: its answer (checked),
        what followed, and the repository, model groups and record it made."""
        answer = self.cloud.request_custom_resource(
            LIFECYCLE, "Create", properties, logical_id="MlopsProject"
        )
        self.out(f"    Custom resource answer: {answer.status}, physical id {answer.physical_id}")
        trace = self.cloud.settle()
        self.show(trace)
        repository = self.cloud.git_root / f"{project}.git"
        heads = branches(repository) if repository.exists() else {}
        self.out(
            f"    Repository {repository.name}: "
            + ", ".join(f"{b} {s[:7]}" for b, s in sorted(heads.items()))
        )
        groups = sorted(g for g in self.groups() if g.startswith(project + "-"))
        self.out(f"    Model groups: {', '.join(groups)}")
        self.check(f"{project}: the custom resource answered SUCCESS", answer.status == "SUCCESS")
        return ProjectCreation(answer.physical_id, trace, heads, self.record(project) or {})

    def delete_project(self, project: str, properties: dict[str, Any], physical_id: str) -> dict[str, Any]:
        """The custom resource, Delete: its answer (checked), what followed; the ``Project Deleted``
        event's detail (empty if none came)."""
        answer = self.cloud.request_custom_resource(
            LIFECYCLE, "Delete", properties, physical_id=physical_id, logical_id="MlopsProject"
        )
        self.out(f"    Custom resource answer: {answer.status}")
        trace = self.cloud.settle()
        self.show(trace)
        self.check(f"{project}: the Delete answered SUCCESS", answer.status == "SUCCESS")
        [deleted] = [e["detail"] for e in events_of(trace, "Project Deleted", project=project)] or [{}]
        return dict(deleted)

    def clone(self, project: str) -> WorkingCopy:
        return WorkingCopy(self.cloud.git_root / f"{project}.git", self.workdir / project)

    def in_service_checks_come(self, endpoint: str) -> Trace:
        """Time passes until the deployer's in-service checks of ``endpoint``'s changes come: their
        one-time schedules run (the other endpoints' checks wait: the demo's clock does not move)."""
        group = f"{self.cloud.stack_name}-in-service-checks"
        schedules = self.cloud.session.client("scheduler").list_schedules(GroupName=group)["Schedules"]
        trace = Trace()
        for name in [s["Name"] for s in schedules if s["Name"].startswith(f"{endpoint}-")]:
            trace.deliveries.extend(self.cloud.run_schedule(name, group=group).deliveries)
        self.show(trace, "The deployer's in-service check, 20 minutes after the change")
        return trace

    def sync_suite(self, endpoint: str) -> None:
        """CI writes the endpoint's integration test suite (integration-tests/suite.yaml) to the table."""
        write_suite(
            self.cloud.session.client("dynamodb"),
            self.cloud.outputs["ConfigTableName"],
            endpoint,
            STORY_SUITE,
            source="integration-tests/suite.yaml",
        )

    def ci_after_push(self, project: str, branch: str, commit: str) -> str:
        """The push of ``commit`` to ``branch`` runs the project's CI (mlops_local.local_ci): the pushed
        code says the branch trains, and the version is registered with that commit, by the local demo
        model standing in for the training pipeline (labelled so on the version); its ARN."""
        result = run_ci(self.cloud, project, branch, commit)
        if result.version_arn is None:
            raise RuntimeError(f"a push to {branch} registered nothing (its CI's action: {result.action})")
        self.note(
            f"CI on the push of {branch} ({commit[:7]}): action {result.action}; "
            f"{version_label(result.version_arn)} registered by the local demo model (stands in for training)"
        )
        return result.version_arn

    def register(self, group: str, parameters: dict[str, Any], commit: str, project: str) -> str:
        """A training pipeline registers a version (pending approval) with its lineage; its ARN."""
        return register_demo_version(
            self.cloud.session,
            group,
            parameters,
            commit_id=commit,
            repository=project,
            dataset=f"s3://{project}-data/churn/2026-11-01/train.csv",
        )

    def click_in_slack(self, arn: str, action_id: str, *, user_id: str, user_name: str) -> int:
        """``user_name`` clicks a button of the Slack message announcing ``arn`` (the latest with one):
        the signed request, Slack's HTTP status, and the message as the function updated it."""
        announced = [
            message
            for message in self.cloud.slack_messages
            if any(
                element.get("value") == arn
                for block in message.get("blocks") or []
                if block.get("type") == "actions"
                for element in block.get("elements") or []
            )
        ]
        if not announced:
            return 0
        replies = len(self.cloud.slack_responses)
        status = self.cloud.click_in_slack(announced[-1], action_id, user_id=user_id, user_name=user_name)
        self.note(f"Slack posted {user_name}'s click to SlackApprovalsFunction's URL, signed: HTTP {status}.")
        for _, reply in self.cloud.slack_responses[replies:]:
            self.out("    Slack (the message, updated):")
            for line in slack_lines(reply, ansi=self.ansi, width=WIDTH - 8):
                self.out(f"      | {line}")
        return status

    def approve(self, arn: str, status: str = "Approved") -> Trace:
        self.sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus=status)
        return self.settle(f"After the {status.lower()} {version_label(arn)}")

    def merged_into_prod(self, project: str, repository: str, commit: str, merged: str) -> Trace:
        """What the seed code's CI puts on the application bus after a merge into ``prod``."""
        event = {
            "source": "mlops.ci",
            "detail-type": "Git Branch Updated",
            "detail": {
                "repository": repository,
                "branch": "prod",
                "commit_id": commit,
                "merged_commit_id": merged,
                "project": project,
                "provider": "local",
            },
        }
        trace = self.cloud.send(event, bus=self.cloud.bus_for(event))
        self.show(trace)
        return trace

    def nightly_reaper(self, project: str, *, reaped: str, production: str) -> dict[str, Any]:
        """The reaper's schedule fires; checks that it deleted ``reaped`` and left the ``production``
        endpoint alone, and returns ``project``'s part of its ``Endpoints Reaped`` summary."""
        projects = {p["project"]: p for p in self._reaper_summary()}
        mine = projects.get(project, {})
        deleted = [e["endpoint_name"] for e in mine.get("deleted") or []]
        self.check(f"{reaped}: deleted by the reaper", deleted == [reaped] and self.endpoint(reaped) is None)
        self.check(
            f"{production}: never a candidate, still InService",
            production in (mine.get("production_endpoints") or [])
            and (self.endpoint(production) or {}).get("EndpointStatus") == "InService",
        )
        if reaped in deleted:
            what, by = f"endpoint {reaped} (config, model)", "the endpoint reaper (nightly)"
            self.removals.append(Removal(what, by, "nobody asked to keep it"))
        return dict(mine)

    def _reaper_summary(self) -> list[dict[str, Any]]:
        """The reaper's schedule fires (a Schedule targets the function directly, not through a rule);
        the projects of its ``Endpoints Reaped`` summary."""
        schedule = {
            "version": "0",
            "id": str(uuid.uuid4()),  # each night's run is a new event (a reused id is a duplicate)
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": self.cloud.account_id,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.cloud.region,
            "resources": [f"arn:aws:events:{self.cloud.region}:{self.cloud.account_id}:rule/nightly-reaper"],
            "detail": {},
        }
        invocation = self.cloud.invoke(REAPER, schedule)
        emitted = ", ".join(event["detail-type"] for event in invocation.emitted) or "no events"
        self.out("    The schedule:")
        self.out(f"      Scheduled Event  ReaperSchedule  -> EndpointReaper: {emitted}")
        self.show(self.cloud.settle())
        self.check("the reaper ran without error", invocation.succeeded)
        reaped = [event for event in invocation.emitted if event["detail-type"] == "Endpoints Reaped"]
        return list(reaped[0]["detail"].get("projects") or []) if reaped else []

    # ---------------------------------------------------------------------------------------- looking

    def endpoint(self, name: str) -> dict[str, Any] | None:
        try:
            return dict(self.sagemaker.describe_endpoint(EndpointName=name))
        except ClientError:
            return None

    def serving(self, name: str) -> tuple[str | None, list[str]]:
        """(model package of the production variant, shadow model names) of endpoint ``name``."""
        endpoint = self.endpoint(name)
        if endpoint is None:
            return None, []
        config = self.sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
        model = self.sagemaker.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
        shadows = [variant["ModelName"] for variant in config.get("ShadowProductionVariants") or []]
        return model["Containers"][0].get("ModelPackageName"), shadows

    def package(self, arn: str) -> dict[str, Any]:
        return dict(self.sagemaker.describe_model_package(ModelPackageName=arn))

    def versions(self, group: str) -> list[dict[str, Any]]:
        try:
            summaries = self.sagemaker.list_model_packages(ModelPackageGroupName=group)[
                "ModelPackageSummaryList"
            ]
        except ClientError:
            return []
        return sorted(summaries, key=lambda s: s.get("ModelPackageVersion", 0))

    def groups(self) -> set[str]:
        listed = self.sagemaker.list_model_package_groups(MaxResults=100)["ModelPackageGroupSummaryList"]
        return {g["ModelPackageGroupName"] for g in listed}

    def record(self, project: str) -> dict[str, Any] | None:
        table = self.cloud.session.resource("dynamodb").Table(self.cloud.outputs["ConfigTableName"])
        item = table.get_item(Key={"pk": f"PROJECT#{project}", "sk": "META"}).get("Item")
        return dict(item) if item else None


def events_of(trace: Trace, detail_type: str, **detail: Any) -> list[dict[str, Any]]:
    """The events of a type in ``trace`` whose detail has these values."""
    return [
        event
        for event in trace.events(detail_type=detail_type)
        if all(event["detail"].get(key) == value for key, value in detail.items())
    ]


def in_service(trace: Trace, endpoint: str) -> bool:
    return bool(
        [
            event
            for event in trace.events(detail_type="SageMaker Endpoint State Change")
            if event["detail"]["EndpointName"] == endpoint
            and event["detail"]["EndpointStatus"] == "IN_SERVICE"
        ]
    )


def version_label(arn: str | None) -> str:
    """``arn:...:model-package/churn-dev/3`` → ``churn-dev v3``."""
    if not arn:
        return "nothing"
    group, _, version = arn.partition(":model-package/")[2].rpartition("/")
    return f"{group} v{version}"


# ---------------------------------------------------------------------------------------- timeline

_FUNCTION_SUFFIX = "Function"


def timeline_lines(trace: Trace) -> list[str]:
    """The trace, one line a delivery: the event, its gist, and what each function did with it."""
    rows = [(str(d.event.get("detail-type", "")), _gist(d.event), _outcome(d)) for d in trace.deliveries]
    width_type = max((len(row[0]) for row in rows), default=0)
    width_gist = max((len(row[1]) for row in rows), default=0)
    return [f"{kind:<{width_type}}  {what:<{width_gist}}  -> {outcome}" for kind, what, outcome in rows]


def _gist(event: dict[str, Any]) -> str:
    detail = event.get("detail") or {}
    if "ModelApprovalStatus" in detail or "EndpointStatus" in detail:
        return gist(event)
    for key in ("endpoint_name", "source_model_package_arn", "project"):
        if detail.get(key):
            value = str(detail[key])
            return version_label(value) if key.endswith("_arn") else value
    return gist(event)[:30]


def _outcome(delivery: Delivery) -> str:
    if not delivery.runs:
        return "(no rule: nobody acts on it)"
    parts = []
    for run in delivery.runs:
        function = run.function.removesuffix(_FUNCTION_SUFFIX)
        if not run.succeeded:
            error = run.attempts[-1].error
            parts.append(f"{function} FAILED ({error.type if error else '?'})")
            continue
        emitted = ", ".join(event.get("detail-type", "?") for event in run.emitted)
        status = (
            (run.attempts[-1].result or {}).get("status")
            if isinstance(run.attempts[-1].result, dict)
            else None
        )
        if function == "SlackNotifier":
            parts.append("Slack")
        elif emitted:
            parts.append(f"{function}: {emitted}")
        else:
            parts.append(f"{function}: {status or 'done'}")
    return "; ".join(parts)
