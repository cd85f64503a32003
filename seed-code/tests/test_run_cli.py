"""The command line: dataset references, start parameters, waiting, refusals, a quiet ``definition``."""

from __future__ import annotations

import argparse
import json
import logging
import warnings
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from pipelines.run import (
    dataset_reference,
    dataset_version,
    main,
    start_execution,
    start_parameters,
    wait_for,
)
from pipelines.stages import Target


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


@pytest.mark.parametrize("configured", [None, "", "  "])
def test_without_input_data_uri_the_default_prefix_is_read_and_versioned(configured: str | None) -> None:
    s3 = FakeS3({"churn/dev/input/a.csv": "e1", "churn/dev/input/b.csv": "e2", "churn/dev/other.csv": "x"})
    uri, version = dataset_reference(s3, configured, "s3://bucket/churn/dev/input/")
    assert uri == "s3://bucket/churn/dev/input/"
    assert version == dataset_version(s3, uri)
    assert version.startswith("etags-sha256:") and version.endswith(":2-objects")
    assert dataset_reference(s3, "s3://bucket/churn/dev/other.csv", "unused")[1] == "etag:x"


EXECUTION_ARN = "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/churn-dev-build/execution/1"


def _offline_session() -> boto3.Session:
    return boto3.Session(
        aws_access_key_id="offline", aws_secret_access_key="offline", region_name="eu-west-1"
    )


class StubbedSession:
    """A boto3 session whose clients answer from botocore Stubbers (and fail on any other call)."""

    def __init__(self) -> None:
        session = _offline_session()
        self.clients = {"s3": session.client("s3"), "sagemaker": session.client("sagemaker")}
        self.stubs = {name: Stubber(client) for name, client in self.clients.items()}

    def client(self, name: str) -> Any:
        return self.clients[name]


def test_start_records_the_default_prefix_and_its_digest_when_input_data_uri_is_unset(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipelines.pipeline import PipelineSettings  # noqa: PLC0415  (the SDK: only this test needs it)

    monkeypatch.setenv("INPUT_DATA_URI", "")  # what GitHub passes for an unset repository variable
    settings = PipelineSettings(
        target=Target.for_branch("churn", "dev"),
        role_arn="arn:role",
        bucket="churn-artifacts",
        region="eu-west-1",
    )
    session = StubbedSession()
    objects = [{"Key": "churn/dev/input/data.csv", "ETag": '"0123abcd"'}]
    session.stubs["s3"].add_response(
        "list_objects_v2",
        {"Contents": objects, "IsTruncated": False, "KeyCount": 1},
        {"Bucket": "churn-artifacts", "Prefix": "churn/dev/input/"},
    )
    expected_version = dataset_version(
        FakeS3({"churn/dev/input/data.csv": '"0123abcd"'}), "s3://b/churn/dev/input/"
    )
    session.stubs["sagemaker"].add_response(
        "start_pipeline_execution",
        {"PipelineExecutionArn": EXECUTION_ARN},
        {
            "PipelineName": "churn-dev-build",
            "PipelineExecutionDisplayName": "dev-abc",
            "PipelineParameters": [
                {"Name": "CommitId", "Value": "abc"},
                {"Name": "Repository", "Value": "churn"},
                {"Name": "Branch", "Value": "dev"},
                {"Name": "InputDataUri", "Value": "s3://churn-artifacts/churn/dev/input/"},
                {"Name": "InputDataVersion", "Value": expected_version},
            ],
        },
    )
    args = argparse.Namespace(
        commit="abc", repository="churn", branch="refs/heads/dev", input_data_uri=None, wait=False
    )
    with session.stubs["s3"], session.stubs["sagemaker"]:
        assert start_execution(args, settings, session) == 0
    for stub in session.stubs.values():
        stub.assert_no_pending_responses()
    assert expected_version.endswith(":1-objects")
    assert json.loads(capsys.readouterr().out.split("\n", 1)[1])["InputDataVersion"] == expected_version


def test_start_fails_before_starting_when_the_default_prefix_is_empty() -> None:
    session = StubbedSession()
    session.stubs["s3"].add_response(
        "list_objects_v2",
        {"KeyCount": 0, "IsTruncated": False},
        {"Bucket": "b", "Prefix": "churn/dev/input/"},
    )
    with session.stubs["s3"], pytest.raises(ValueError, match="upload the training data"):
        dataset_reference(session.client("s3"), None, "s3://b/churn/dev/input/")


@pytest.mark.parametrize("command", ["start", "upsert", "definition"])
@pytest.mark.parametrize("branch", ["prod", "refs/heads/main"])
def test_a_branch_that_does_not_train_is_refused_cleanly(
    command: str, branch: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, "--branch", branch, "--project", "churn"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "does not train" in captured.err or "trains nothing" in captured.err
    assert "Traceback" not in captured.err


def test_definition_prints_only_the_json(capsys: pytest.CaptureFixture[str]) -> None:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(level=logging.DEBUG)
    logging.getLogger().addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert main(["definition", "--branch", "feature-x", "--project", "churn"]) == 0
    finally:
        logging.getLogger().removeHandler(handler)
    assert [record.getMessage() for record in records if record.name.startswith("sagemaker")] == []
    assert [str(warning.message) for warning in caught if "PipelineSession" in str(warning.message)] == []
    captured = capsys.readouterr()
    assert json.loads(captured.out)["Steps"][0]["Name"] == "Preprocess"
    assert captured.err == ""
    assert logging.getLogger("sagemaker.config").isEnabledFor(logging.WARNING)  # quiet only while building


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
