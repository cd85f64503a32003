"""Approvals from Slack: what the Approve and Reject buttons of a pending version's announcement carry
(the Slack notifier renders them) and what the Slack approvals function reads when one is clicked.

A button's ``action_id`` says the decision, its ``value`` is the model package ARN of the version. A
project's approvers are Slack member ids per stage (``slack_approvers`` of its record): production
stages (prod, champion, challenger) each have their own list, configured apart from dev's.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from mlops_core.contract.aws_events import ModelApprovalStatus
from mlops_core.contract.topology import Stage

APPROVE_ACTION_ID = "approve-model-version"
REJECT_ACTION_ID = "reject-model-version"
DECISIONS: dict[str, ModelApprovalStatus] = {
    APPROVE_ACTION_ID: ModelApprovalStatus.APPROVED,
    REJECT_ACTION_ID: ModelApprovalStatus.REJECTED,
}
"""A button's ``action_id`` → the approval status it sets."""

SLACK_MEMBER_ID_PATTERN = r"^[UW][A-Z0-9]{2,20}$"
"""A Slack member id (``U0123ABCD``; ``W...`` on Enterprise Grid): what approver lists hold."""
SlackMemberId = Annotated[str, StringConstraints(pattern=SLACK_MEMBER_ID_PATTERN)]
SlackApprovers = dict[Stage, tuple[SlackMemberId, ...]]
"""Per stage, the Slack members who may approve or reject its versions from Slack."""
