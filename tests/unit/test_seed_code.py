"""The seed code's integration test suite against the tester's own schema (mlops_core.suites).

The seed code's own tests (seed-code/tests, run in .venv-seed with the SageMaker SDK) validate the
suite against ``suite.schema.json``; these tests keep that exported schema equal to the tester's model
and validate the suite with the model itself, which also applies the rules JSON Schema cannot express.
"""

import json
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path

import pytest
import yaml
from mlops_core import suite_tool
from mlops_core.artifact_copier import GitBranchUpdatedEvent
from mlops_core.domain_events import GitBranchUpdated
from mlops_core.suites import TestSuite
from pydantic import ValidationError

SEED = Path(__file__).resolve().parents[2] / "seed-code"
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
    """Regenerate with: .venv/bin/python -c 'import json; from mlops_core.suites import TestSuite;
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
