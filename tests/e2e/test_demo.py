"""`make demo` is the README's first command: all three scenarios, every check passing, and a non-zero exit
when an expected outcome does not happen."""

from __future__ import annotations

import mlops_demo as demo
import pytest
from mlops_demo import advanced
from mlops_local.cli import main

pytestmark = pytest.mark.e2e


def test_every_scenario_passes_every_check_and_end_with_the_summary() -> None:
    lines: list[str] = []

    assert demo.run(out=lines.append) == 0, "\n".join(lines)

    told = "\n".join(lines)
    assert "Baseline scenario: project 'churn'" in told and "Advanced scenario: project 'upsell'" in told
    assert "Batch scenario: project 'scores'" in told
    assert "      | :rocket: Scheduling scores-dev" in lines
    assert not [line for line in lines if line.startswith("   FAIL ")]
    assert "\033" not in told  # no ANSI codes when the output is not a terminal
    checks = [line for line in lines if line.startswith("   ok ")]
    assert len(checks) >= 50
    assert f"The control plane did everything it should ({len(checks)} checks)." in told
    # The story as the control plane told it: the timeline, and Slack read as text.
    for moment in ("Deployment Rolled Back", "Model Promoted", "Endpoints Reaped", "Project Deleted"):
        assert moment in told
    assert "      | :rewind: churn-dev rolled back" in lines
    assert "      | An approved model version is being deployed (update, shadow)." in lines
    # The summary: what exists and what was removed, by whom.
    endpoints = rows_of(lines, "  Endpoints", "  Model groups")
    assert sorted(endpoints) == ["churn-dev", "churn-prod", "upsell-champion"]  # feature and dev: reaped
    assert "blue/green canary, 2 alarms" in endpoints["churn-prod"]
    assert "upsell-challenger v1" in endpoints["upsell-champion"]  # its shadow variant
    assert "archived" in rows_of(lines, "  Repositories", "  Project records")["churn.git"]
    removed = told.split("What was removed:")[1]
    assert "endpoint churn-feature" in removed and "endpoint upsell-dev" in removed
    assert "churn-dev v2 from endpoint churn-dev" in removed and "model group upsell-feature" in removed
    assert "Wall time:" in told


def rows_of(lines: list[str], title: str, next_title: str) -> dict[str, str]:
    """The rows of one table of the summary, by their first cell."""
    section = lines[lines.index(title) + 3 : lines.index(next_title)]
    return {line.split()[0]: line for line in section}


def test_the_cli_tells_one_scenario_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--scenario", "advanced"]) == 0

    told = capsys.readouterr().out
    assert "Advanced scenario" in told and "Baseline scenario" not in told
    assert "churn-dev" not in told and "project 'churn'" not in told
    assert "upsell-champion: the shadow received a copy of the request" in told


def test_the_cli_exits_1_when_an_expected_outcome_does_not_happen(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The project forgets shadow mode: the challenger gets an endpoint of its own, no shadow variant.
    monkeypatch.setitem(advanced.PROPERTIES, "DeploymentDefaults", "")

    assert main(["demo", "--scenario", "advanced"]) == 1

    told = capsys.readouterr().out
    assert "   FAIL upsell-challenger v1: deployed as the shadow of upsell-champion" in told
    assert "   FAIL upsell-challenger: no endpoint of its own" in told
    assert "checks failed." in told
