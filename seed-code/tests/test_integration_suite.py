"""The integration test suite file validates against the control plane tester's schema.

``integration-tests/suite.schema.json`` is the tester's schema
(``mlops_core.integration_tests.suites.TestSuite``) exported as JSON Schema; the control plane's own
tests keep it current and also validate this file with the tester's model itself (which adds the rules
JSON Schema cannot say, such as "exactly one body").
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SUITE = ROOT / "integration-tests" / "suite.yaml"
SCHEMA = ROOT / "integration-tests" / "suite.schema.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture
def suite() -> dict[str, Any]:
    return yaml.safe_load(SUITE.read_text())


def test_the_suite_validates(validator: jsonschema.Draft202012Validator, suite: dict[str, Any]) -> None:
    assert list(validator.iter_errors(suite)) == []
    assert len(suite["cases"]) >= 3
    assert suite["load"]["requests"] <= 1000  # modest: dev endpoints are small


def test_a_misspelt_expectation_fails_instead_of_passing_everything(
    validator: jsonschema.Draft202012Validator, suite: dict[str, Any]
) -> None:
    broken = copy.deepcopy(suite)
    broken["cases"][0]["expect"]["cvs"] = broken["cases"][0]["expect"].pop("csv")
    assert any("cvs" in error.message for error in validator.iter_errors(broken))


def test_case_names_are_unique(suite: dict[str, Any]) -> None:
    names = [case["name"] for case in suite["cases"]]
    assert len(names) == len(set(names))


def test_batch_cases_check_one_score_per_row_sent(suite: dict[str, Any]) -> None:
    """Built-in XGBoost answers N CSV rows with N comma-separated scores on one line."""
    batches = [case for case in suite["cases"] if "\n" in case["request"].get("csv", "")]
    assert batches, "keep at least one multi-row case"
    for case in batches:
        rows = case["request"]["csv"].strip().split("\n")
        checks = case["expect"]["csv"]
        assert {check["column"] for check in checks} <= set(range(len(rows))), case["name"]
        assert all(check.get("row") == 0 for check in checks), case["name"]  # one line of scores
    (three,) = [case for case in batches if case["name"].startswith("batch of three rows")]
    assert len(three["request"]["csv"].split("\n")) == 3
    assert sorted(check["column"] for check in three["expect"]["csv"]) == [0, 1, 2]
    (sanity,) = [case for case in batches if "loyal" in case["name"]]
    bounds = {check["column"]: check for check in sanity["expect"]["csv"]}
    assert bounds[0]["at_least"] >= bounds[1]["at_most"]  # the unhappy customer scores above the loyal one
