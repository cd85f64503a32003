"""Every Block Kit message the notifier sends: rendered for a person, and within Slack's block limits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mlops_core.catalog import CATALOG
from mlops_core.contract.cloudwatch_events import ALARM_STATE_CHANGE
from mlops_core.contract.events.integration_tests import IntegrationTestsCompleted
from mlops_core.contract.model_monitor import PROCESSING_JOB_STATE_CHANGE
from mlops_core.notifications.pending_versions import MODEL_PACKAGE_STATE_CHANGE
from mlops_core.notifications.slack_messages import LIMITS, RENDERERS, limit_violations, render
from mlops_core.notifications.slack_notifier import PIPELINE_FAILED_DETAIL_TYPE, notified_detail_types
from mlops_core.notifications.transform_job_failures import TRANSFORM_JOB_STATE_CHANGE

PIPELINE_FAILED = {
    "pipelineArn": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn-train",
    "pipelineExecutionArn": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn-train/execution/abc",
    "currentPipelineExecutionStatus": "Failed",
    "pipelineExecutionDisplayName": "feature-x run",
    # what the notifier adds (pipeline_failures): the project, and why the execution failed
    "project": "churn",
    "stage": "dev",
    "failure_reason": "Step TrainModel failed: AlgorithmError: out of memory",
    "failed_steps": [{"name": "TrainModel", "reason": "AlgorithmError: out of memory"}],
}
# A pending version as the notifier hands it to the renderer (notifications.pending_versions).
VERSION_PENDING = {
    "ModelPackageGroupName": "churn-prod",
    "ModelPackageArn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-prod/2",
    "ModelApprovalStatus": "PendingManualApproval",
    "project": "churn",
    "stage": "prod",
    "model_package_arn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-prod/2",
    "lineage": {"commit": "5a2a5b1c8e6f", "dataset": "s3://data/churn/train.csv", "metric auc": "0.91"},
    "test_evidence": {
        "promoted_from": "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-dev/7",
        "outcome": "passed",
        "run_id": "2026-11-25T18:30:00.000000Z",
    },
    "approvers": ["U0123ABCD"],
}
ALARM_DETAIL = json.loads(
    (Path(__file__).parents[1] / "fixtures/aws-events/alarm-state-change.json").read_text()
)["detail"]
# A batch stage's failed transform job as the notifier hands it to the renderer
# (notifications.transform_job_failures).
TRANSFORM_FAILED = {
    "project": "churn",
    "stage": "dev",
    "endpoint_name": "churn-dev",
    "transform_job_name": "churn-dev-d32c5kddcf5bb8c3",
    "model_name": "churn-dev-v3-4f2a9c",
    "model_package_arn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-dev/3",
    "failure_reason": "ClientError: the model refused record 2 of s3://data/churn/input/day.jsonl",
    "output_s3_uri": "s3://data/churn/output/2026-12-06T02:00:00Z",
    "console_url": "https://us-east-1.console.aws.amazon.com/sagemaker/home?region=us-east-1#/transform-jobs/x",
}
EXAMPLES = {event.DETAIL_TYPE: event.EXAMPLE for event in CATALOG} | {
    TRANSFORM_JOB_STATE_CHANGE: TRANSFORM_FAILED,
    PIPELINE_FAILED_DETAIL_TYPE: PIPELINE_FAILED,
    ALARM_STATE_CHANGE: ALARM_DETAIL,
    MODEL_PACKAGE_STATE_CHANGE: VERSION_PENDING,
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
    message = render("Something New", "mlops.future", {"project": "churn", "repository": "r"})

    assert message.text == ":information_source: Something New"
    assert "*repository:* r" in json.dumps(message.blocks)


ANNOUNCED = {event.DETAIL_TYPE for event in CATALOG if event.ANNOUNCED}


def test_every_announced_domain_event_of_the_catalog_has_a_renderer_of_its_own():
    assert ANNOUNCED - set(RENDERERS) == set()
    assert {event.DETAIL_TYPE for event in CATALOG} - ANNOUNCED == {"Endpoint In-Service Check"}


def test_the_notifier_is_told_about_every_domain_event_failed_pipelines_alarms_and_monitor_violations_only():
    # The notifier takes its detail-types from the renderers (it does not import the event models).
    expected = ANNOUNCED | {
        PIPELINE_FAILED_DETAIL_TYPE,
        MODEL_PACKAGE_STATE_CHANGE,
        ALARM_STATE_CHANGE,
        PROCESSING_JOB_STATE_CHANGE,
        TRANSFORM_JOB_STATE_CHANGE,
    }
    assert sorted(notified_detail_types()) == sorted(expected)


def texts(message) -> str:
    return json.dumps(message.blocks, ensure_ascii=False)


def next_step(message) -> str:
    [step] = [
        b["text"]["text"] for b in message.blocks if b.get("text", {}).get("text", "").startswith("*Next:*")
    ]
    return step


@pytest.mark.parametrize(
    ("detail_type", "title", "says", "next_says"),
    [
        (
            "Project Created",
            ":tada: Project churn created",
            ["`churn-dev`", "p-1a2b3c4d5e6f", "git-codecommit", "baseline"],
            "approve a version in the dev group",
        ),
        (
            "Project Deleted",
            ":wastebasket: Project churn deleted",
            ["`churn-feature`", "*Kept* `churn-dev`: it holds model versions", "retained"],
            "delete them by hand",
        ),
        (
            "Git Branch Updated",
            ":twisted_rightwards_arrows: prod of acme/churn-model moved",
            ["`churn`", "`9f8e7d6c5b4a`", "merging `5a2a5b1c8e6f`", "github"],
            "Model Promoted",
        ),
        (
            "Model Promoted",
            ":package: churn: churn-dev v7 promoted",
            ["`churn-prod` v2 (PendingManualApproval)", "2026-11-25T18:30:00.000000Z", "merged-commit"],
            "Approve the promoted version",
        ),
        (
            "Promotion Failed",
            ":no_entry: Promotion of churn failed",
            ["failed its integration tests", "`tests-failed`", "`churn-model`"],
            "Fix the model",
        ),
        (
            TRANSFORM_JOB_STATE_CHANGE,
            ":x: Batch transform of churn-dev failed",
            ["`churn-dev-d32c5kddcf5bb8c3`", "refused record 2", "`churn-dev-v3-4f2a9c`"],
            "reject the version",
        ),
        (
            "Endpoints Reap Requested",
            ":broom: Reaper run requested",
            ["jane@example.com", "a dry run (nothing is deleted)"],
            "Endpoints Reaped",
        ),
        (
            "Endpoints Reaped",
            ":broom: Endpoints reaped (schedule)",
            [
                "4 endpoints examined: 1 deleted, 2 kept, 1 failed; 24 instance-hours a day saved",
                "*churn*: deleted `churn-dev`; kept churn-feature (mlops:keep-until=2026-12-01)",
                "*fraud*: FAILED fraud-dev (ThrottlingException: Rate exceeded)",
            ],
            "Retry the failed endpoints",
        ),
    ],
)
def test_each_event_says_what_happened_to_what_why_and_what_next(detail_type, title, says, next_says):
    message = render(detail_type, "mlops.test", EXAMPLES[detail_type])

    assert message.text == title
    for fragment in says:
        assert fragment in texts(message)
    assert next_says in next_step(message)
    assert "*" + next(iter(EXAMPLES[detail_type])) + ":*" not in texts(message)  # not the generic dump


def test_a_rollback_by_sagemakers_alarms_says_so_and_points_at_the_alarm():
    detail = {
        **EXAMPLES["Deployment Rolled Back"],
        "trigger": "alarm",
        "reason": "SageMaker rolled the deployment back: an alarm of its AutoRollbackConfiguration fired",
    }
    rejected = render("Deployment Rolled Back", "mlops.model-deployer", EXAMPLES["Deployment Rolled Back"])

    message = render("Deployment Rolled Back", "mlops.model-deployer", detail)

    assert message.text == ":rewind: churn-prod rolled back"
    assert "an alarm of its AutoRollbackConfiguration fired" in texts(message)
    assert "the alarm that fired" in next_step(message) and "rejected" not in next_step(message)
    assert "why the version was rejected" in next_step(rejected)


def test_a_dry_run_of_the_reaper_says_would_and_tells_how_to_keep_an_endpoint():
    detail = {**EXAMPLES["Endpoints Reaped"], "dry_run": True, "failed_count": 0, "projects": []}

    message = render("Endpoints Reaped", "mlops.endpoint-reaper", detail)

    assert message.text == ":broom: Endpoints reap preview (schedule)"
    assert "1 would delete" in texts(message) and "to save" in texts(message)
    assert "mlops:keep-until" in next_step(message)


def test_a_reaper_summary_with_details_dropped_points_to_its_full_report():
    uri = "s3://mlops-reports/endpoints-reaped/2026-11-25/4f1c.json"
    base = {**EXAMPLES["Endpoints Reaped"], "details_dropped": True, "projects": []}

    linked = render("Endpoints Reaped", "mlops.endpoint-reaper", {**base, "report_uri": uri})
    unlinked = render("Endpoints Reaped", "mlops.endpoint-reaper", base)

    assert f"the full report is `{uri}`" in texts(linked)
    assert "the reaper's log has them all" in texts(unlinked) and "s3://" not in texts(unlinked)


def test_huge_results_are_cut_to_slacks_limits():
    cases = [
        {"name": f"case-{i:03d}-" + "x" * 60, "passed": False, "failures": ["y" * 500] * 5} for i in range(50)
    ]
    detail = {**IntegrationTestsCompleted.EXAMPLE, "cases": cases, "summary": "z" * 10_000}
    generic = {f"field{i}": "v" * 5000 for i in range(40)}

    for message in (
        render("Integration Tests Completed", "mlops.endpoint-tester", detail),
        render("Something Else", "mlops.x", {"endpoint_name": "e" * 3000, **generic}),
        render("Something Else", "m" * 5000, {}),  # the context block (source) too long
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
    context = {"type": "context", "elements": [{"type": "mrkdwn", "text": "c" * 3001}] * 11}
    assert limit_violations({"text": "t", "blocks": [context]}) == [
        "block 0: 11 context elements",
        *["block 0: context text longer than 3000"] * 11,
    ]
    assert any("header longer" in p for p in problems)
    assert any("11 fields" in p for p in problems)
    assert any("section text longer" in p for p in problems)


@pytest.mark.parametrize(
    ("stage", "next_says"),
    [
        ("feature", "Merge the feature branch into dev when ready"),
        ("dev", "Merge to prod when ready"),
        ("prod", "Nothing to do: the tested version serves prod."),
        ("champion", "Nothing to do: the tested version serves champion."),
    ],
)
def test_passed_tests_say_what_follows_from_where_they_ran(stage, next_says):
    detail = {**EXAMPLES["Integration Tests Completed"], "outcome": "passed", "stage": stage}

    message = render("Integration Tests Completed", "mlops.endpoint-tester", detail)

    assert next_says in next_step(message)
    if stage != "dev":
        assert "Merge to prod" not in next_step(message)


def test_the_reaper_names_every_endpoint_it_kept_production_ones_too():
    detail = EXAMPLES["Endpoints Reaped"]

    message = render("Endpoints Reaped", "mlops.endpoint-reaper", detail)

    kept = [
        name
        for project in detail["projects"]
        for name in [e["endpoint_name"] for e in project["kept"]] + project["production_endpoints"]
    ]
    assert len(kept) == detail["kept_count"]
    for name in kept:
        assert name in texts(message)
    assert "churn-prod (production: never reaped)" in texts(message)


@pytest.mark.parametrize(
    ("repository", "kept", "next_says"),
    [
        (
            "archived",
            {"churn-dev": "it holds model versions"},
            "The kept model groups and the archived repository",
        ),
        ("retained", {}, "The retained repository still exists: delete it by hand"),
        ("deleted", {"churn-dev": "it holds model versions"}, "The kept model groups still exist"),
        ("deleted", {}, "Nothing to do."),
    ],
)
def test_a_deleted_project_names_what_still_exists_as_what_it_is(repository, kept, next_says):
    detail = {**EXAMPLES["Project Deleted"], "repository": repository, "model_groups_kept": kept}

    message = render("Project Deleted", "mlops.project-lifecycle", detail)

    assert next_says in next_step(message)
