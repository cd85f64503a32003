"""CI definitions: valid workflows (actionlint) and .gitlab-ci.yml (GitLab's schema), OIDC credentials only,
and the right job per branch."""

from __future__ import annotations

import os
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


def _tool(name: str) -> str:
    """A test tool from requirements-dev.txt: the venv's (even when it is not activated), else PATH's."""
    beside_python = Path(sys.executable).parent / name
    found = str(beside_python) if beside_python.exists() else shutil.which(name)
    assert found, f"{name} is in requirements-dev.txt (install it: bash scripts/make-venv.sh)"
    return found


def _actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    # -shellcheck names the binary: without one, actionlint silently skips every `run:` script.
    return subprocess.run(
        [_tool("actionlint"), "-no-color", "-shellcheck", _tool("shellcheck"), *map(str, paths)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


def test_actionlint_accepts_every_workflow() -> None:
    result = _actionlint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("step", "finding"),
    [
        ({"run": "cp $SOURCE /tmp/data"}, "shellcheck reported issue in this script: SC2086"),
        ({"uses": "actions/checkout@v4", "with": {"fetch_depth": 2}}, 'input "fetch_depth" is not defined'),
        ({"run": "echo hi", "iff": True}, 'unexpected key "iff"'),
    ],
)
def test_actionlint_fails_on_a_broken_workflow(tmp_path: Path, step: dict[str, Any], finding: str) -> None:
    broken = tmp_path / "broken.yml"
    workflow = {"name": "x", "on": "push", "jobs": {"j": {"runs-on": "ubuntu-latest", "steps": [step]}}}
    broken.write_text(yaml.safe_dump(workflow))
    result = _actionlint(broken)
    assert result.returncode == 1 and finding in result.stdout, result.stdout + result.stderr


def _buildspec_script() -> str:
    buildspec = _load(ROOT / "buildspec.yml")
    commands = [command for phase in buildspec["phases"].values() for command in phase.get("commands", [])]
    return "#!/usr/bin/env bash\n" + "\n".join(commands) + "\n"


@pytest.mark.parametrize("path", sorted((ROOT / "scripts").glob("*.sh")), ids=lambda p: p.name)
def test_shellcheck_accepts_the_scripts(path: Path) -> None:
    result = subprocess.run([_tool("shellcheck"), str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_shellcheck_accepts_the_buildspec_commands(tmp_path: Path) -> None:
    script = tmp_path / "buildspec.sh"  # CodeBuild runs the commands with bash (env.shell), in one shell
    script.write_text(_buildspec_script())
    result = subprocess.run([_tool("shellcheck"), str(script)], capture_output=True, text=True, check=False)
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


@pytest.mark.parametrize(
    "path", [ROOT / "buildspec.yml", ROOT / ".gitlab-ci.yml", *WORKFLOWS], ids=lambda p: p.name
)
def test_ci_files_are_valid_yaml(path: Path) -> None:
    assert _load(path)


def _run_step(job: dict[str, Any], step_id: str, branch: str, tmp_path: Path) -> tuple[dict[str, str], str]:
    """Run a workflow step's script as GitHub would (bash, GITHUB_OUTPUT), with this venv's python."""
    (step,) = [step for step in job["steps"] if step.get("id") == step_id]
    output = tmp_path / "github_output"
    output.touch()
    environment = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_REF_NAME": branch,
        "GITHUB_OUTPUT": str(output),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    result = subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    return outputs, result.stdout


@pytest.mark.parametrize(
    ("branch", "action"), [("feature-x", "train"), ("dev", "train"), ("prod", "promote"), ("main", "none")]
)
def test_a_manual_run_on_a_branch_that_does_not_train_skips_the_pipeline(
    tmp_path: Path, branch: str, action: str
) -> None:
    workflow = _load(ROOT / ".github" / "workflows" / "model-build.yml")
    assert "workflow_dispatch" in _triggers(workflow)  # a manual run may name any branch
    job = workflow["jobs"]["pipeline"]
    outputs, stdout = _run_step(job, "branch", branch, tmp_path)
    assert outputs == {"action": action}
    assert ("::notice::" in stdout) is (action != "train")
    # every step after the decision (install, credentials, start) runs only for a training branch
    steps = job["steps"]
    after = steps[[step.get("id") for step in steps].index("branch") + 1 :]
    assert after and all(step.get("if") == "steps.branch.outputs.action == 'train'" for step in after)
    assert "pipelines.run start" in str(after[-1])


# ------------------------------------------------------------------------------------ GitLab CI/CD

GITLAB_CI = ROOT / ".gitlab-ci.yml"
GITLAB_JOBS = ("unit-tests", "pipeline", "integration-test-suite", "git-branch-updated")


def _check_gitlab_ci(path: Path) -> subprocess.CompletedProcess[str]:
    """GitLab's CI schema, as check-jsonschema vendors it (GitLab's own linter needs a GitLab)."""
    return subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_gitlab_ci_matches_gitlabs_schema() -> None:
    result = _check_gitlab_ci(GITLAB_CI)
    assert result.returncode == 0, result.stdout + result.stderr


def test_gitlab_ci_schema_check_fails_on_a_broken_file(tmp_path: Path) -> None:
    broken = tmp_path / ".gitlab-ci.yml"
    broken.write_text(yaml.safe_dump({"job": {"script": ["echo hi"], "when": "sometimes"}}))
    result = _check_gitlab_ci(broken)
    assert result.returncode == 1, result.stdout + result.stderr


def _gitlab_jobs() -> dict[str, dict[str, Any]]:
    document = _load(GITLAB_CI)
    return {name: document[name] for name in GITLAB_JOBS}


def _gitlab_runs(job: dict[str, Any], branch: str) -> bool:
    """A job's rules for a push to ``branch`` (the forms this file uses: `$CI_COMMIT_BRANCH == "x"`)."""
    for rule in job["rules"]:
        condition = rule.get("if")
        if condition is None or condition == f'$CI_COMMIT_BRANCH == "{branch}"':
            return rule.get("when", "on_success") != "never"
    return False


@pytest.mark.parametrize(
    ("branch", "jobs"),
    [
        ("feature-x", {"unit-tests", "pipeline"}),
        ("dev", {"unit-tests", "pipeline", "integration-test-suite"}),
        ("prod", {"git-branch-updated"}),
    ],
)
def test_gitlab_ci_runs_the_same_jobs_per_branch_as_the_github_workflows(branch: str, jobs: set[str]) -> None:
    assert {name for name, job in _gitlab_jobs().items() if _gitlab_runs(job, branch)} == jobs
    workflow_rules = [rule["if"] for rule in _load(GITLAB_CI)["workflow"]["rules"]]
    assert workflow_rules[0] == (
        '$CI_COMMIT_BRANCH =~ /^feature-/ || $CI_COMMIT_BRANCH == "dev" || $CI_COMMIT_BRANCH == "prod"'
    )


def test_gitlab_jobs_get_credentials_from_their_oidc_id_token_only() -> None:
    document = _load(GITLAB_CI)
    text = GITLAB_CI.read_text()
    assert "AWS_SECRET_ACCESS_KEY" not in text and "AWS_ACCESS_KEY_ID" not in text
    assert document[".aws-ci-role"]["id_tokens"] == {"GITLAB_OIDC_TOKEN": {"aud": "sts.amazonaws.com"}}
    for name, job in _gitlab_jobs().items():
        script = "\n".join(job["script"])
        calls_aws = name in ("pipeline", "integration-test-suite", "git-branch-updated")
        assert ('eval "$(bash scripts/assume-ci-role.sh)"' in script) is calls_aws, name
        assert (job.get("extends") == ".aws-ci-role") is calls_aws, name
    steps = "\n".join(_gitlab_jobs()["pipeline"]["script"])
    assert "python -m pytest" in "\n".join(_gitlab_jobs()["unit-tests"]["script"])
    assert "pipelines.run action" in steps and "pipelines.run start" in steps
    assert "sync-integration-tests.sh" in str(_gitlab_jobs()["integration-test-suite"]["script"])
    promote = _gitlab_jobs()["git-branch-updated"]
    assert "--provider gitlab" in str(promote["script"]) and int(promote["variables"]["GIT_DEPTH"]) >= 2


@pytest.mark.parametrize("name", GITLAB_JOBS)
def test_shellcheck_accepts_the_gitlab_job_scripts(tmp_path: Path, name: str) -> None:
    script = tmp_path / f"{name}.sh"  # GitLab runs a job's script lines in one bash shell
    script.write_text("#!/usr/bin/env bash\n" + "\n".join(_gitlab_jobs()[name]["script"]) + "\n")
    result = subprocess.run([_tool("shellcheck"), str(script)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def _stub(directory: Path, name: str, body: str) -> None:
    path = directory / name
    path.write_text(f"#!/usr/bin/env bash\n{body}\n")
    path.chmod(0o755)


@pytest.mark.parametrize(("branch", "action"), [("prod", "promote"), ("main", "none")])
def test_the_gitlab_pipeline_job_on_a_branch_that_does_not_train_stops_before_credentials(
    tmp_path: Path, branch: str, action: str
) -> None:
    stubs = tmp_path / "bin"
    stubs.mkdir()
    for tool in ("aws", "pip"):  # neither may be reached
        _stub(stubs, tool, f"echo {tool} called >&2; exit 9")
    script = "\n".join(_gitlab_jobs()["pipeline"]["script"])
    result = subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=ROOT,
        env={
            "PATH": f"{stubs}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "CI_COMMIT_BRANCH": branch,
            "PYTHONDONTWRITEBYTECODE": "1",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{branch} trains nothing (action: {action})" in result.stdout


def test_assume_ci_role_exchanges_the_id_token_for_the_ci_roles_credentials(tmp_path: Path) -> None:
    stubs = tmp_path / "bin"
    stubs.mkdir()
    calls = tmp_path / "aws-calls"
    _stub(stubs, "aws", f'printf "%s\\n" "$@" > {calls}; printf "ASIAKEY\\tsecret/+=\\tsession token\\n"')
    result = subprocess.run(
        ["bash", "-c", 'eval "$(bash scripts/assume-ci-role.sh)"; env | grep -E "^AWS_" | sort'],
        cwd=ROOT,
        env={
            "PATH": f"{stubs}{os.pathsep}{os.environ['PATH']}",
            "GITLAB_OIDC_TOKEN": "id.token.jwt",
            "AWS_CI_ROLE_ARN": "arn:aws:iam::123456789012:role/mlops-ci/mlops/mlops-ci-churn",
            "AWS_REGION": "eu-west-1",
            "CI_PROJECT_ID": "42",
            "CI_JOB_ID": "7",
        },
        capture_output=True,
        text=True,
        check=True,
    )
    arguments = calls.read_text().splitlines()
    assert arguments[:2] == ["sts", "assume-role-with-web-identity"]
    options = dict(zip(arguments[2::2], arguments[3::2], strict=True))
    assert options["--role-arn"] == "arn:aws:iam::123456789012:role/mlops-ci/mlops/mlops-ci-churn"
    assert options["--web-identity-token"] == "id.token.jwt"
    assert options["--role-session-name"] == "gitlab-42-7"
    assert result.stdout.splitlines() == [
        "AWS_ACCESS_KEY_ID=ASIAKEY",
        "AWS_CI_ROLE_ARN=arn:aws:iam::123456789012:role/mlops-ci/mlops/mlops-ci-churn",
        "AWS_DEFAULT_REGION=eu-west-1",
        "AWS_REGION=eu-west-1",
        "AWS_SECRET_ACCESS_KEY=secret/+=",
        "AWS_SESSION_TOKEN=session token",
    ]


def test_assume_ci_role_fails_without_an_id_token() -> None:
    result = subprocess.run(
        ["bash", "scripts/assume-ci-role.sh"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "AWS_CI_ROLE_ARN": "arn", "AWS_REGION": "eu-west-1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0 and "the job needs id_tokens: GITLAB_OIDC_TOKEN" in result.stderr
