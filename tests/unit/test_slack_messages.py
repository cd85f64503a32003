"""Every Block Kit message the notifier sends: rendered for a person, and within Slack's block limits."""

from __future__ import annotations

import json

import pytest
from mlops_core.domain_events import CATALOG, IntegrationTestsCompleted
from mlops_core.slack_messages import LIMITS, RENDERERS, limit_violations, render
from mlops_core.slack_notifier import PIPELINE_FAILED_DETAIL_TYPE

PIPELINE_FAILED = {
    "pipelineArn": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn-train",
    "pipelineExecutionArn": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn-train/execution/abc",
    "currentPipelineExecutionStatus": "Failed",
    "pipelineExecutionDisplayName": "feature-x run",
}
EXAMPLES = {event.DETAIL_TYPE: event.EXAMPLE for event in CATALOG} | {
    PIPELINE_FAILED_DETAIL_TYPE: PIPELINE_FAILED
}


@pytest.mark.parametrize("detail_type", sorted(set(EXAMPLES) | set(RENDERERS)))
def test_every_event_type_renders_a_message_within_slacks_limits(detail_type):
    detail = EXAMPLES.get(detail_type, {"project": "churn", "stage": "dev", "endpoint_name": "churn-dev"})

    message = render(detail_type, "mlops.test", detail).payload()

    assert limit_violations(message) == []
    assert message["blocks"][0]["type"] == "header"
    assert message["text"] and "`" + detail_type + "`" in json.dumps(message["blocks"])
    if "endpoint_name" in detail:
        assert detail["endpoint_name"] in json.dumps(message)


def test_a_test_result_shows_a_case_table_the_failures_and_the_percentiles_against_budgets():
    message = render(
        "Integration Tests Completed", "mlops.endpoint-tester", IntegrationTestsCompleted.EXAMPLE
    )
    text = json.dumps(message.blocks)

    assert message.text == ":x: Integration tests failed on churn-dev"
    assert "loyal-customer-stays  FAIL" in text and "churner-leaves" in text
    assert "0.91 is above 0.5" in text
    assert "p95" in text and "budget 200 ms  ok" in text
    assert "Rejected" in text  # the version was rejected: the reader learns the endpoint rolls back


def test_an_event_type_without_a_renderer_still_gets_a_readable_message():
    message = render("Project Created", "mlops.project-lifecycle", {"project": "churn", "repository": "r"})

    assert message.text == ":information_source: Project Created"
    assert "*repository:* r" in json.dumps(message.blocks)


def test_huge_results_are_cut_to_slacks_limits():
    cases = [
        {"name": f"case-{i:03d}-" + "x" * 60, "passed": False, "failures": ["y" * 500] * 5} for i in range(50)
    ]
    detail = {**IntegrationTestsCompleted.EXAMPLE, "cases": cases, "summary": "z" * 10_000}
    generic = {f"field{i}": "v" * 5000 for i in range(40)}

    for message in (
        render("Integration Tests Completed", "mlops.endpoint-tester", detail),
        render("Something Else", "mlops.x", {"endpoint_name": "e" * 3000, **generic}),
    ):
        payload = message.payload()
        assert limit_violations(payload) == []
        assert len(payload["blocks"]) <= LIMITS["blocks"]


def test_the_limit_checker_itself_catches_each_kind_of_violation():
    too_much = {
        "text": "t",
        "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}]
        + [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}]
        + [{"type": "section", "text": {"type": "mrkdwn", "text": "s" * 3001}}] * 49,
    }

    problems = limit_violations(too_much)

    assert "51 blocks" in problems
    assert any("header longer" in p for p in problems)
    assert any("11 fields" in p for p in problems)
    assert any("section text longer" in p for p in problems)
