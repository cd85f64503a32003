"""The demo's text output: Slack Block Kit as terminal lines, the summary table, the verdict."""

from __future__ import annotations

import pytest
from mlops_core.notifications.slack_messages import render
from mlops_demo import Check, report
from mlops_demo.cli import main as demo_main
from mlops_demo.slack_text import BOLD, RESET, slack_lines
from mlops_demo.summary import Removal, State, summary_lines, table
from mlops_local.cli import main

FAILED_RUN = {
    "project": "churn",
    "stage": "dev",
    "endpoint_name": "churn-dev",
    "model_package_arn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-dev/2",
    "run_id": "2026-11-25T18:30:00.000000Z",
    "outcome": "failed",
    "summary": "1 of 3 cases failed: churner-leaves",
    "version_rejected": True,
    "cases": [
        {"name": "churner-leaves", "passed": False, "latency_ms": 3.0, "failures": ["label: 0 is not 1"]},
        {"name": "loyal-customer-stays", "passed": True, "latency_ms": 2.0},
    ],
}


def test_a_notifier_message_reads_as_plain_lines_without_markup():
    payload = render("Integration Tests Completed", "mlops.endpoint-tester", FAILED_RUN).payload()

    lines = slack_lines(payload)

    assert lines[0] == ":x: Integration tests failed on churn-dev"
    assert "The version was set to Rejected: the deployer rolls the endpoint back." in lines
    assert "Project: churn   Stage: dev   Endpoint: churn-dev   Model version: churn-dev v2" in lines
    assert "• churner-leaves: label: 0 is not 1" in lines
    # The code fence (the case table) stays a table, indented, its columns intact.
    table_rows = [line for line in lines if line.startswith("  churner-leaves")]
    assert table_rows == ["  churner-leaves        FAIL    3 ms"]
    assert lines[-1] == "(Integration Tests Completed from mlops.endpoint-tester)"
    assert not any(mark in line for line in lines for mark in ("*", "`", "\033"))


def test_every_block_kind_links_escapes_and_ansi_only_when_asked():
    payload = {
        "text": "fallback",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Title &amp; more"}},
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "See <https://x.test/run|the run> and *this*"},
            },
            {"type": "divider"},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "`a` &lt;b&gt;"}]},
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": {"type": "plain_text", "text": "Approve"}},
                    {"type": "button", "text": {"type": "plain_text", "text": "R&amp;D"}},
                ],
            },
            {"type": "image", "image_url": "https://x.test/i.png", "alt_text": "chart"},
        ],
    }

    assert slack_lines(payload) == [
        "Title & more",
        "See the run (https://x.test/run) and this",
        "-" * 24,
        "(a <b>)",
        "[Approve]  [R&D]",
        "[a image block]",
    ]
    bold = slack_lines(payload, ansi=True)
    assert bold[0] == f"{BOLD}Title & more{RESET}"
    assert bold[1] == f"See the run (https://x.test/run) and {BOLD}this{RESET}"
    assert slack_lines({"text": "only *fallback* text"}) == ["only fallback text"]


def test_fields_share_a_line_while_they_fit_and_long_prose_wraps():
    fields = [{"type": "mrkdwn", "text": f"*Label{n}*\n`value-{n}`"} for n in range(4)]
    payload = {
        "blocks": [
            {"type": "section", "fields": fields},
            {"type": "section", "text": {"type": "mrkdwn", "text": "word " * 30}},
        ]
    }

    lines = slack_lines(payload, width=40)

    assert lines[:2] == ["Label0: value-0   Label1: value-1", "Label2: value-2   Label3: value-3"]
    assert len(lines) > 3 and all(len(line) <= 40 for line in lines)


def test_table_aligns_columns_and_says_when_there_are_no_rows():
    lines = table(
        ("name", "status", "why"), [("churn-dev", "InService", "kept"), ("x", "Gone", "")], indent=""
    )

    assert lines == [
        "name       status     why",
        "---------  ---------  ----",
        "churn-dev  InService  kept",
        "x          Gone",
    ]
    assert table(("a", "b"), [], indent="  ") == ["  a  b", "  -"]
    with pytest.raises(ValueError, match="2 cells for 3 columns"):
        table(("a", "b", "c"), [("1", "2")])


def test_summary_lists_what_exists_and_what_was_removed_by_whom():
    state = State(
        endpoints=[("churn-prod", "InService", "churn-prod v2 (2 x ml.m5.large)", "-", "blue/green canary")],
        model_groups=[("churn-dev", "3 (2 Approved, 1 Rejected)", "Approved, Rejected, Approved")],
        repositories=[("churn.git", "archived", "dev 1234567, prod 89abcde")],
        projects=[("churn", "baseline", "deleted", "3")],
    )

    lines = summary_lines(state, [Removal("endpoint churn-feature", "the endpoint reaper", "not kept")])

    text = "\n".join(lines)
    for title in ("Endpoints", "Model groups", "Repositories", "Project records", "What was removed:"):
        assert title in text
    assert "   churn-prod  InService  churn-prod v2 (2 x ml.m5.large)  -       blue/green canary" in lines
    assert "   endpoint churn-feature  the endpoint reaper  not kept" in lines


def test_the_verdict_is_1_when_a_check_failed_or_none_ran():
    out: list[str] = []
    passed, failed = Check("baseline", "it worked", True), Check("advanced", "the shadow got traffic", False)

    assert report([passed], 1.0, out.append) == 0
    assert report([passed, failed], 1.0, out.append) == 1
    assert report([], 1.0, out.append) == 1
    assert "   FAIL the shadow got traffic" in out
    assert "1 of 2 checks failed." in out


@pytest.mark.parametrize(
    ("command", "arguments"),
    [(demo_main, ["--scenario", "canary"]), (main, ["demo", "--scenario", "canary"])],
    ids=["python -m mlops_demo", "python -m mlops_local demo"],
)
def test_the_cli_refuses_an_unknown_scenario(capsys, command, arguments):
    with pytest.raises(SystemExit) as exited:
        command(arguments)
    assert exited.value.code == 2
    assert "invalid choice: 'canary'" in capsys.readouterr().err


def test_the_project_created_message_reads_right_for_an_advanced_project():
    detail = {
        "project": "upsell",
        "scenario": "advanced",
        "registry_backend": "sagemaker",
        "git_provider": "local",
    }

    lines = slack_lines(render("Project Created", "mlops.project-lifecycle", detail).payload())

    assert lines[1].startswith("An advanced project with the sagemaker registry.")
    baseline = slack_lines(render("Project Created", "x", {**detail, "scenario": "baseline"}).payload())
    assert baseline[1].startswith("A baseline project")
