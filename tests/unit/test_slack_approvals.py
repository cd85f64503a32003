"""The approvals' decisions without AWS or Slack: who may decide, what a click changes, what it says."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from mlops_core.contract.project_record import ProjectProperties
from mlops_core.contract.slack_approvals import APPROVE_ACTION_ID, REJECT_ACTION_ID
from mlops_core.notifications.approvals import Click, SlackApprovals
from mlops_core.notifications.ports import SlackDeliveryError, VersionApproval
from pydantic import ValidationError

ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-prod/3"
APPROVER = "U0PRODAPPR"
AT = datetime(2026, 12, 6, 2, 30, tzinfo=UTC)


class Registry:
    def __init__(self, status: str | None = "PendingManualApproval", description: str | None = None) -> None:
        self.state = None if status is None else VersionApproval(status, description)
        self.updates: list[tuple[str, str, str]] = []

    def approval(self, arn: str) -> VersionApproval | None:
        return self.state

    def set_approval(self, arn: str, status: str, description: str) -> None:
        self.updates.append((arn, status, description))


class Responder:
    def __init__(self, fails: bool = False) -> None:
        self.sent: list[dict[str, Any]] = []
        self.fails = fails

    def respond(self, url: str, message: dict[str, Any]) -> None:
        if self.fails:
            raise SlackDeliveryError("Slack answered 404")
        self.sent.append(message)


class Projects:
    def get_project(self, project: str) -> dict[str, Any] | None:
        # "<!channel>": a record written by hand, not through the product (which validates the ids)
        return {
            "project": "churn",
            "slack_approvers": {"prod": [APPROVER, "<!channel>"], "dev": ["U0DEVAPPR1"]},
        }


def click(action: str = APPROVE_ACTION_ID, *, user: str = APPROVER, arn: str = ARN) -> Click:
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": "x"}}, {"type": "actions"}]
    return Click(user, "jane", action, arn, "https://hooks.slack.com/actions/T/1/x", blocks)


def approvals(registry: Registry, responder: Responder | None = None) -> SlackApprovals:
    return SlackApprovals(
        registry=registry, projects=Projects(), responder=responder or Responder(), clock=lambda: AT
    )


@pytest.mark.parametrize(
    ("action", "status"), [(APPROVE_ACTION_ID, "Approved"), (REJECT_ACTION_ID, "Rejected")]
)
def test_an_approver_sets_the_status_with_a_description_naming_them(action, status):
    registry, responder = Registry(), Responder()

    outcome = approvals(registry, responder).on_click(click(action))

    assert outcome.status == status.lower()
    assert registry.updates == [
        (ARN, status, f"{status} in Slack by jane ({APPROVER}) at 2026-12-06T02:30:00+00:00")
    ]
    [reply] = responder.sent
    assert reply["replace_original"] is True
    assert [block["type"] for block in reply["blocks"]] == ["header", "section"]  # buttons gone


def test_a_dev_approver_cannot_decide_for_prod():
    registry, responder = Registry(), Responder()

    assert approvals(registry, responder).on_click(click(user="U0DEVAPPR1")).status == "not-an-approver"
    assert registry.updates == []
    assert responder.sent[0]["response_type"] == "ephemeral"
    assert f"<@{APPROVER}>" in responder.sent[0]["text"]  # who can
    assert "<!channel>" not in responder.sent[0]["text"]


def test_a_version_decided_already_is_left_as_it_is_and_its_description_is_shown_escaped():
    registry, responder = Registry("Rejected", "Rejected by <!channel> in Studio"), Responder()

    assert approvals(registry, responder).on_click(click()).status == "not-pending"
    assert registry.updates == []
    assert "*Rejected*: Rejected by &lt;!channel&gt; in Studio" in responder.sent[0]["text"]


def test_a_deleted_version_or_a_group_outside_the_contract_changes_nothing():
    registry = Registry(None)
    assert approvals(registry).on_click(click()).status == "gone"
    other = "arn:aws:sagemaker:us-east-1:123456789012:model-package/someones-models/3"
    assert approvals(registry).on_click(click(arn=other)).status == "refused"
    assert approvals(registry).on_click(click("another-button")).status == "ignored"
    assert registry.updates == []


def test_the_decision_stands_when_slack_does_not_take_the_reply():
    registry = Registry()

    assert approvals(registry, Responder(fails=True)).on_click(click()).status == "approved"
    assert len(registry.updates) == 1


PROPERTIES = {"SageMakerProjectName": "churn", "SageMakerProjectId": "p-1"}


def test_a_projects_approvers_are_slack_member_ids_of_its_own_stages():
    properties = ProjectProperties.model_validate(
        {**PROPERTIES, "SlackApprovers": '{"prod": ["U0PRODAPPR"], "dev": ["W0ENTGRID1"]}'}
    )
    assert {stage.value: list(members) for stage, members in properties.slack_approvers.items()} == {
        "prod": ["U0PRODAPPR"],
        "dev": ["W0ENTGRID1"],
    }
    with pytest.raises(ValidationError, match="does not have"):
        ProjectProperties.model_validate({**PROPERTIES, "SlackApprovers": '{"champion": ["U0PRODAPPR"]}'})
    with pytest.raises(ValidationError, match="pattern"):
        ProjectProperties.model_validate({**PROPERTIES, "SlackApprovers": '{"prod": ["<!channel>"]}'})
    assert ProjectProperties.model_validate({**PROPERTIES, "SlackApprovers": ""}).slack_approvers == {}
