"""The suite command line: a valid file is written; a file that breaks the schema names the field, writes nothing."""

from __future__ import annotations

import json

import yaml
from mlops_core.adapters.suite_store import SuiteStore
from mlops_core.suite_tool import main, write_suite
from mlops_local.demo_model import DEMO_SUITE


class RecordingTable:
    def __init__(self) -> None:
        self.items: list[dict] = []

    def put_item(self, **kwargs):
        self.items.append(kwargs)
        return {}

    def get_item(self, **kwargs):
        return {}


def test_a_yaml_suite_is_validated_and_written_as_the_endpoints_suite(tmp_path, capsys):
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(DEMO_SUITE))
    table = RecordingTable()

    status = main(["put", "churn-dev", str(path), "--table", "config"], dynamodb=table)

    assert status == 0
    [put] = table.items
    assert put["TableName"] == "config"
    assert put["Item"]["pk"] == {"S": "ENDPOINT#churn-dev"} and put["Item"]["sk"] == {"S": "TESTS"}
    stored = json.loads(put["Item"]["suite"]["S"])
    assert [case["name"] for case in stored["cases"]] == [case["name"] for case in DEMO_SUITE["cases"]]
    assert stored["cases"][0]["expect"]["json"][0]["path"] == "$.predictions[0].score"
    assert "3 cases, a load phase" in capsys.readouterr().out


def test_a_suite_that_breaks_the_schema_is_refused_with_the_exact_field_and_nothing_is_written(
    tmp_path, capsys
):
    broken = json.loads(json.dumps(DEMO_SUITE))
    broken["cases"][1]["expect"]["csv"][0]["column"] = -1
    broken["load"]["concurrency"] = 1000
    path = tmp_path / "suite.json"
    path.write_text(json.dumps(broken))
    table = RecordingTable()

    status = main(["put", "churn-dev", str(path), "--table", "config"], dynamodb=table)

    assert status == 2
    assert table.items == []
    errors = capsys.readouterr().err
    assert "refused, nothing written" in errors
    assert f"{path}: cases[1].expect.csv[0].column: Input should be greater than or equal to 0" in errors
    assert f"{path}: load.concurrency: Input should be less than or equal to 64" in errors


def test_check_reports_a_file_that_is_not_yaml(tmp_path, capsys):
    path = tmp_path / "suite.yml"
    path.write_text("cases: [unclosed")

    assert main(["check", str(path)]) == 2
    assert "not valid YML" in capsys.readouterr().err


class InMemoryTable:
    """get_item/put_item of one table, keyed by pk and sk."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict] = {}

    def put_item(self, **kwargs):
        item = kwargs["Item"]
        self.items[(item["pk"]["S"], item["sk"]["S"])] = item
        return {}

    def get_item(self, **kwargs):
        key = kwargs["Key"]
        item = self.items.get((key["pk"]["S"], key["sk"]["S"]))
        return {"Item": item} if item is not None else {}

    def delete_item(self, **kwargs):
        return {}


def test_a_stored_suite_reads_back_exactly_as_written_including_checks_for_null_and_defaults():
    document = json.loads(json.dumps(DEMO_SUITE))
    document["cases"][0]["expect"]["json"] += [
        {"path": "$.predictions[0].explanation", "equals": None},  # null is a value to check, not "unset"
        {"path": "$.predictions[0].label", "equals": 1, "tolerance": 1e-6},  # a default, given explicitly
    ]
    document["load"]["concurrency"] = 4  # the default, given explicitly
    table = InMemoryTable()

    written = write_suite(table, "config", "churn-dev", document, source="suite.yaml")
    read = SuiteStore(table, "config").get_suite("churn-dev")

    assert read == written
    null_check = read.cases[0].expect.json_checks[2]
    assert "equals" in null_check.model_fields_set and null_check.equals is None
    assert null_check.failure(None) is None and null_check.failure(0) is not None
    stored = json.loads(table.items[("ENDPOINT#churn-dev", "TESTS")]["suite"]["S"])
    assert stored == document  # exactly the validated document: nothing dropped, nothing added
