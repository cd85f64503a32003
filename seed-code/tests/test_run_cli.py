"""The command line's logic that needs no SageMaker: dataset references, parameters, waiting."""

from __future__ import annotations

from typing import Any

import pytest
from pipelines.run import dataset_version, main, start_parameters, wait_for


class FakeS3:
    def __init__(self, objects: dict[str, str], version: str | None = None) -> None:
        self.objects = objects
        self.version = version

    def head_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:
        response = {"ETag": f'"{self.objects[Key]}"'}
        if self.version:
            response["VersionId"] = self.version
        return response

    def get_paginator(self, name: str) -> Any:
        assert name == "list_objects_v2"
        objects = self.objects

        class Paginator:
            def paginate(self, *, Bucket: str, Prefix: str) -> list[dict[str, Any]]:
                keys = sorted(k for k in objects if k.startswith(Prefix))
                return [{"Contents": [{"Key": k, "ETag": objects[k]} for k in keys]}]

        return Paginator()


def test_an_object_is_referenced_by_its_version_or_etag() -> None:
    assert dataset_version(FakeS3({"d/x.csv": "e1"}, version="v7"), "s3://b/d/x.csv") == "version:v7"
    assert dataset_version(FakeS3({"d/x.csv": "e1"}, version="null"), "s3://b/d/x.csv") == "etag:e1"


def test_a_prefix_reference_changes_when_any_file_changes() -> None:
    before = dataset_version(FakeS3({"d/a.csv": "e1", "d/b.csv": "e2"}), "s3://b/d/")
    after = dataset_version(FakeS3({"d/a.csv": "e1", "d/b.csv": "e3"}), "s3://b/d/")
    assert before != after
    assert before.endswith(":2-objects")


def test_an_empty_prefix_or_a_local_path_is_refused() -> None:
    with pytest.raises(ValueError, match="upload the training data"):
        dataset_version(FakeS3({}), "s3://b/d/")
    with pytest.raises(ValueError, match="s3://"):
        dataset_version(FakeS3({}), "/tmp/data.csv")


def test_start_parameters_carry_the_lineage_of_the_run() -> None:
    assert start_parameters(
        commit="abc",
        repository="churn",
        branch="dev",
        input_data_uri="s3://b/d/",
        input_data_version="etag:1",
    ) == {
        "CommitId": "abc",
        "Repository": "churn",
        "Branch": "dev",
        "InputDataUri": "s3://b/d/",
        "InputDataVersion": "etag:1",
    }
    assert "InputDataUri" not in start_parameters(
        commit="abc", repository="churn", branch="dev", input_data_uri=None, input_data_version=None
    )


class FakeSageMaker:
    def __init__(self) -> None:
        self.polls = [
            ([("Preprocess", "Executing")], "Executing", None),
            ([("Preprocess", "Succeeded"), ("Train", "Executing")], "Executing", None),
            (
                [("Preprocess", "Succeeded"), ("Train", "Succeeded"), ("QualityGateFailed", "Failed")],
                "Failed",
                "Quality gate: AUC 0.61 is below the threshold",
            ),
        ]
        self.current: Any = None

    def list_pipeline_execution_steps(self, **_: Any) -> dict[str, Any]:
        self.current = self.polls.pop(0)
        return {"PipelineExecutionSteps": [{"StepName": n, "StepStatus": s} for n, s in self.current[0]]}

    def describe_pipeline_execution(self, **_: Any) -> dict[str, Any]:
        return {"PipelineExecutionStatus": self.current[1], "FailureReason": self.current[2]}


def test_wait_prints_each_step_change_once_and_the_failure_reason() -> None:
    lines: list[str] = []
    sleeps: list[float] = []
    status = wait_for(FakeSageMaker(), "arn", poll_seconds=5, sleep=sleeps.append, echo=lines.append)
    assert status == "Failed"
    assert sleeps == [5, 5]
    assert lines == [
        "  Preprocess: Executing",
        "  Preprocess: Succeeded",
        "  Train: Executing",
        "  Train: Succeeded",
        "  QualityGateFailed: Failed",
        "pipeline execution Failed: Quality gate: AUC 0.61 is below the threshold",
    ]


@pytest.mark.parametrize(
    ("branch", "action"), [("feature-x", "train"), ("dev", "train"), ("prod", "promote"), ("main", "none")]
)
def test_action_tells_ci_what_a_push_does(
    branch: str, action: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["action", "--branch", branch]) == 0
    assert capsys.readouterr().out.strip() == action
