"""The seed code against the control plane: suite, prod event, what gets copied.

The template's own tests (seed-code/tests) need the SageMaker SDK, so they do not run here: ``make
seed-test`` runs them in ``.venv-seed`` (CI does, before ``make test``). They validate the suite against
``suite.schema.json``; these tests keep that exported schema equal to the tester's model and validate
the suite with the model itself, which also applies the rules JSON Schema cannot express. They also
check that what the project lifecycle copies into a new repository (``load_seed_code``, and the
SeedCodeLayer's build) is exactly the template as git holds it.
"""

import json
import os
import shutil
import subprocess
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path

import pytest
import yaml
from mlops_core import suite_tool
from mlops_core.adapters.git_providers import load_seed_code
from mlops_core.contract.events.ci import GitBranchUpdated
from mlops_core.integration_tests.suites import TestSuite
from mlops_core.promotion.artifact_copier import GitBranchUpdatedEvent
from mlops_local.cfn_yaml import load_template
from pydantic import ValidationError

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "seed-code"
SUITE = SEED / "integration-tests" / "suite.yaml"
SCHEMA = SEED / "integration-tests" / "suite.schema.json"


def test_the_seed_suite_is_a_valid_tester_suite() -> None:
    suite = TestSuite.model_validate(yaml.safe_load(SUITE.read_text()))
    assert len(suite.cases) >= 3
    assert suite.load is not None and suite.load.requests is not None
    assert any(case.expect.expects_error for case in suite.cases)


def test_the_suite_tool_that_seed_ci_runs_accepts_the_seed_suite(capsys: pytest.CaptureFixture[str]) -> None:
    assert suite_tool.main(["check", str(SUITE)]) == 0
    assert "valid" in capsys.readouterr().out
    assert "mlops_core.suite_tool put" in (SEED / "scripts" / "sync-integration-tests.sh").read_text()


def test_the_exported_schema_is_the_testers_schema() -> None:
    """Regenerate with: .venv/bin/python -c 'import json; from mlops_core.integration_tests.suites import TestSuite;
    print(json.dumps(TestSuite.model_json_schema(), indent=2, sort_keys=True))' > seed-code/integration-tests/suite.schema.json"""
    assert json.loads(SCHEMA.read_text()) == TestSuite.model_json_schema()


def test_a_broken_seed_suite_would_be_refused() -> None:
    document = yaml.safe_load(SUITE.read_text())
    document["cases"][0]["request"]["json"] = {"also": "a json body"}
    with pytest.raises(ValidationError, match="exactly one body"):
        TestSuite.model_validate(document)


def test_the_seed_prod_push_event_is_what_the_artifact_copier_accepts() -> None:
    """The seed's CI builds ``Git Branch Updated`` with stdlib only; the copier's model forbids extras."""
    spec = spec_from_file_location("seed_git_events", SEED / "pipelines" / "git_events.py")
    assert spec is not None and spec.loader is not None
    git_events = module_from_spec(spec)
    spec.loader.exec_module(git_events)

    entry = git_events.branch_updated_entry(
        bus="mlops",
        repository="acme/churn",
        branch="prod",
        commit_id="a" * 40,
        merged_commit_id="b" * 40,
        project="churn",
        provider="github",
    )
    assert entry["Source"] == GitBranchUpdated.source()
    event = GitBranchUpdatedEvent.model_validate(
        {
            "version": "0",
            "id": "1",
            "detail-type": entry["DetailType"],
            "source": entry["Source"],
            "account": "123456789012",
            "time": "2026-11-25T18:00:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": json.loads(entry["Detail"]),
        }
    )
    assert event.detail.merged_commit_id == "b" * 40
    assert event.detail.project == "churn"


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def git_seed_files() -> dict[str, bool]:
    """seed-code/ as git holds it, path → executable: the tracked files (their mode from the index),
    plus files not yet added that are not ignored (they would be committed with them)."""
    if (
        shutil.which("git") is None
        or subprocess.run(
            ["git", "rev-parse", "--is-inside-work-tree"], cwd=REPO, capture_output=True, check=False
        ).returncode
    ):
        pytest.skip("not a git checkout")
    files: dict[str, bool] = {}
    deleted = set(_git("ls-files", "-z", "--deleted", "--", "seed-code").split("\0"))
    for entry in filter(None, _git("ls-files", "-z", "--stage", "--", "seed-code").split("\0")):
        info, path = entry.split("\t", 1)
        if path in deleted:
            continue
        mode = info.split()[0]
        assert mode in ("100644", "100755"), f"{path}: mode {mode} (a symlink or submodule in the template)"
        files[path.removeprefix("seed-code/")] = mode == "100755"
    untracked = _git("ls-files", "-z", "--others", "--exclude-standard", "--", "seed-code").split("\0")
    for path in filter(None, untracked):
        files[path.removeprefix("seed-code/")] = os.access(REPO / path, os.X_OK)
    return files


def test_the_lifecycle_copies_exactly_the_template_git_holds(git_seed_files: dict[str, bool]) -> None:
    loaded = {file.path: file for file in load_seed_code(SEED)}
    assert sorted(loaded) == sorted(git_seed_files)
    for path, executable in git_seed_files.items():
        assert loaded[path].content == (SEED / path).read_bytes(), path
        assert loaded[path].executable is executable, path


def _build_layer(seed_code: Path, artifacts: Path) -> list[str]:
    subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-f",
            str(REPO / "layers" / "seed_code" / "Makefile"),
            "build-SeedCodeLayer",
            f"ARTIFACTS_DIR={artifacts}",
            f"SEED_CODE={seed_code}",
        ],
        check=True,
        capture_output=True,
    )
    root = artifacts / "seed-code"  # the layer's /opt/seed-code
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_the_layer_is_built_from_the_template_without_local_state(tmp_path: Path) -> None:
    stack = load_template(REPO / "template.yaml")
    assert stack["Resources"]["SeedCodeLayer"]["Metadata"] == {"BuildMethod": "makefile"}
    checkout = tmp_path / "checkout"
    for relative in ("pipelines/run.py", "scripts/make-venv.sh"):
        (checkout / relative).parent.mkdir(parents=True, exist_ok=True)
        (checkout / relative).write_text("x = 1\n")
    (checkout / "scripts" / "make-venv.sh").chmod(0o755)
    for local_state in (
        ".venv/bin/python",
        ".venv-seed/lib/big.so",
        "venv/pyvenv.cfg",
        "pipelines/__pycache__/run.cpython-311.pyc",
        ".pytest_cache/v/x",
        "steps/old.pyc",
    ):
        (checkout / local_state).parent.mkdir(parents=True, exist_ok=True)
        (checkout / local_state).write_bytes(b"local")
    built = _build_layer(checkout, tmp_path / "artifacts")
    assert built == ["pipelines/run.py", "scripts/make-venv.sh"]
    assert os.access(tmp_path / "artifacts" / "seed-code" / "scripts" / "make-venv.sh", os.X_OK)


def test_the_layer_holds_what_the_lifecycle_copies(tmp_path: Path) -> None:
    built = _build_layer(SEED, tmp_path / "artifacts")
    assert built == sorted(file.path for file in load_seed_code(SEED))
