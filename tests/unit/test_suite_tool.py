"""The suite command line: a valid file is written; a file that breaks the schema names the field, writes nothing."""

from __future__ import annotations

import json

import yaml
from mlops_core.suite_tool import main
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
