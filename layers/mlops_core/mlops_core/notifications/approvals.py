"""Approve or reject a pending model version from Slack: a click on a button of its announcement.

The Slack approvals function hands over a click whose request Slack signed (the handler checked the
signature and parsed the interaction: :mod:`mlops_core.handlers.slack_interactions`). Here:

1. the button says the decision (``approve-model-version`` / ``reject-model-version``) and the version
   (its model package ARN); a version of a group outside the ``{project}-{stage}`` contract is refused;
2. the Slack member must be one of the project's approvers for that stage (``slack_approvers`` of its
   record; production stages each have their own list): anyone else gets a reply only they see, and
   nothing changes;
3. the version must still be ``PendingManualApproval``: one that is not (a replay, a double click,
   someone else was faster, a decision in SageMaker Studio) changes nothing more, and the message says
   what it is now and who decided;
4. UpdateModelPackage sets the status, with an ``ApprovalDescription`` naming the Slack member; the
   original message is replaced (its buttons removed) by one saying who decided what, and when.

The approval then flows as any other: SageMaker emits the model package state change and the deployer
deploys an approved version (or rolls back a rejected live one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mlops_core.contract.aws_events import ModelApprovalStatus
from mlops_core.contract.naming import parse_model_package_arn, parse_stage_resource
from mlops_core.contract.outcome import Outcome
from mlops_core.contract.slack_approvals import DECISIONS
from mlops_core.notifications.ports import (
    ApprovalRegistry,
    ProjectRecords,
    SlackDeliveryError,
    SlackResponder,
)
from mlops_core.notifications.slack_escape import escape
from mlops_core.notifications.slack_markup import is_member_id, mention
from mlops_core.observability import logger

SLACK_DESCRIPTION_PREFIX = "in Slack by"
MAX_APPROVAL_DESCRIPTION = 1024  # ApprovalDescription's maximum length (SageMaker API reference)


@dataclass(frozen=True)
class Click:
    """A button of a pending version's announcement, clicked by a Slack member."""

    user_id: str  # a Slack member id (validated by the handler)
    user_name: str
    action_id: str
    model_package_arn: str
    response_url: str
    message_blocks: Sequence[Mapping[str, Any]] = field(default_factory=tuple)


def approval_description(status: str, click: Click, at: datetime) -> str:
    """``Approved in Slack by jane (U0123ABCD) at 2026-12-06T02:30:00+00:00``."""
    text = f"{status} {SLACK_DESCRIPTION_PREFIX} {click.user_name} ({click.user_id}) at {at.isoformat()}"
    return text[:MAX_APPROVAL_DESCRIPTION]


def _ephemeral(text: str) -> dict[str, Any]:
    """A reply only the member who clicked sees; the original message stays as it is."""
    return {"response_type": "ephemeral", "replace_original": False, "text": text}


def _decided(blocks: Sequence[Mapping[str, Any]], text: str) -> dict[str, Any]:
    """The original message without its buttons and its next step, and what was decided below it."""
    kept = [
        dict(block)
        for block in blocks
        if block.get("type") != "actions"
        and not str((block.get("text") or {}).get("text", "")).startswith("*Next:*")
    ]
    return {
        "replace_original": True,
        "text": text,
        "blocks": [*kept, {"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    }


class SlackApprovals:
    def __init__(
        self,
        *,
        registry: ApprovalRegistry,
        projects: ProjectRecords,
        responder: SlackResponder,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._registry = registry
        self._projects = projects
        self._responder = responder
        self._clock = clock

    def on_click(self, click: Click) -> Outcome:
        decision = DECISIONS.get(click.action_id)
        if decision is None:
            logger.info("Not an approval button: ignored", extra={"action_id": click.action_id})
            return Outcome("ignored", {"action_id": click.action_id})
        try:
            group = parse_model_package_arn(click.model_package_arn).group
        except ValueError:
            group = ""
        target = parse_stage_resource(group)
        details = {"model_package_arn": click.model_package_arn, "user": click.user_id}
        if target is None:
            logger.warning("Approval refused: not a version of a project's model group", extra=details)
            self._reply(click, _ephemeral("This button does not name a version of a project's model group."))
            return Outcome("refused", details)
        version = f"{group} v{click.model_package_arn.rpartition('/')[2]}"
        approvers = self._approvers(target.project, target.stage.value)
        if click.user_id not in approvers:
            logger.warning(
                "Approval refused: not an approver of the stage",
                extra={**details, "project": target.project, "stage": target.stage.value},
            )
            self._reply(
                click,
                _ephemeral(
                    f":no_entry: {mention(click.user_id)} is not an approver of `{target.project}` "
                    f"`{target.stage.value}`: nothing was changed. "
                    + (
                        "Its approvers: " + ", ".join(mention(member) for member in approvers) + "."
                        if approvers
                        else "The project names no Slack approvers for this stage (SlackApprovers)."
                    )
                ),
            )
            return Outcome("not-an-approver", details)
        current = self._registry.approval(click.model_package_arn)
        if current is None:
            self._reply(click, _decided(click.message_blocks, f":ghost: `{version}` no longer exists."))
            return Outcome("gone", details)
        if current.status != ModelApprovalStatus.PENDING_MANUAL_APPROVAL:
            logger.info("Approval ignored: the version is no longer pending", extra=details)
            said = f": {escape(current.description)}" if current.description else ""
            self._reply(
                click,
                _decided(
                    click.message_blocks,
                    f":information_source: `{version}` is no longer pending: *{current.status}*{said}. "
                    "Nothing was changed.",
                ),
            )
            return Outcome("not-pending", {**details, "approval_status": current.status})
        at = self._clock()
        self._registry.set_approval(
            click.model_package_arn, decision.value, approval_description(decision.value, click, at)
        )
        icon = ":white_check_mark:" if decision is ModelApprovalStatus.APPROVED else ":x:"
        then = (
            "the deployer deploys it to " + f"`{target.name}`."
            if decision is ModelApprovalStatus.APPROVED
            else "it is not deployed (a live rejected version is rolled back)."
        )
        self._reply(
            click,
            _decided(
                click.message_blocks,
                f"{icon} *{decision.value}* by {mention(click.user_id)} at {at:%Y-%m-%d %H:%M} UTC: "
                f"`{version}`; {then}",
            ),
        )
        logger.info(f"Version {decision.value.lower()} from Slack", extra=details)
        return Outcome(decision.value.lower(), details)

    def _approvers(self, project: str, stage: str) -> tuple[str, ...]:
        record = self._projects.get_project(project) or {}
        approvers = record.get("slack_approvers") or {}
        members = approvers.get(stage) if isinstance(approvers, Mapping) else None
        # A record written by hand may hold anything: only Slack member ids can approve (or be named).
        return tuple(str(member) for member in members or () if is_member_id(str(member)))

    def _reply(self, click: Click, message: dict[str, Any]) -> None:
        """Answer through ``response_url``; a failure is logged (the decision, if any, stands)."""
        try:
            self._responder.respond(click.response_url, message)
        except SlackDeliveryError as error:
            logger.warning("Slack did not take the reply", extra={"error": str(error)})
