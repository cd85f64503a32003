"""The pipeline definition, built offline with the SageMaker SDK: steps, quality gate, lineage."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pipelines.pipeline import (
    FAIL_STEP,
    HYPERPARAMETERS,
    LINEAGE_KEYS,
    REGISTER_STEP,
    STEP_NAMES,
    PipelineSettings,
    build_pipeline,
    pipeline_session,
)
from pipelines.stages import Target
from steps.evaluate import AUC_PATH

ROLE = "arn:aws:iam::123456789012:role/churn-pipeline"


def _definition(branch: str) -> dict[str, Any]:
    settings = PipelineSettings(
        target=Target.for_branch("churn", branch), role_arn=ROLE, bucket="churn-artifacts", region="eu-west-1"
    )
    return json.loads(build_pipeline(settings, pipeline_session(settings)).definition())


@pytest.fixture(scope="module")
def feature() -> dict[str, Any]:
    # One build for the module (about 3 s, after about 4 s importing the SDK).
    # Which group each branch registers into is tested on Target (test_stages.py), which this uses.
    return _definition("feature-better-features")


def _steps(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["Name"]: step for step in definition["Steps"]}


def _register(definition: dict[str, Any]) -> dict[str, Any]:
    gate = _steps(definition)["QualityGate"]
    (register,) = gate["Arguments"]["IfSteps"]
    assert register["Name"] == REGISTER_STEP
    return register["Arguments"]


def test_steps_run_in_order_with_builtin_xgboost(feature: dict[str, Any]) -> None:
    assert [step["Name"] for step in feature["Steps"]] == list(STEP_NAMES)
    assert [step["Type"] for step in feature["Steps"]] == [
        "Processing",
        "Training",
        "Processing",
        "Condition",
    ]
    steps = _steps(feature)
    train = steps["Train"]["Arguments"]
    assert "sagemaker-xgboost:1.7-1" in train["AlgorithmSpecification"]["TrainingImage"]
    assert train["HyperParameters"] == HYPERPARAMETERS
    assert {channel["ChannelName"] for channel in train["InputDataConfig"]} == {"train", "validation"}
    # training reads what preprocessing wrote; evaluation reads the model and the test split
    assert json.dumps(train["InputDataConfig"]).count("Steps.Preprocess.ProcessingOutputConfig") == 2
    evaluate_inputs = json.dumps(steps["Evaluate"]["Arguments"]["ProcessingInputs"])
    assert "Steps.Train.ModelArtifacts.S3ModelArtifacts" in evaluate_inputs
    assert "Steps.Preprocess.ProcessingOutputConfig" in evaluate_inputs
    # the step scripts are referenced in S3, so building the definition uploads nothing
    code = [i for i in steps["Preprocess"]["Arguments"]["ProcessingInputs"] if i["InputName"] == "code"]
    assert code[0]["S3Input"]["S3Uri"] == "s3://churn-artifacts/churn/feature/code/preprocess.py"


def test_quality_gate_compares_the_evaluated_auc_with_the_threshold(feature: dict[str, Any]) -> None:
    gate = _steps(feature)["QualityGate"]["Arguments"]
    (condition,) = gate["Conditions"]
    assert condition["Type"] == "GreaterThanOrEqualTo"
    assert condition["LeftValue"]["Std:JsonGet"]["Path"] == AUC_PATH
    assert condition["LeftValue"]["Std:JsonGet"]["PropertyFile"] == {
        "Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"
    }
    assert condition["RightValue"] == {"Get": "Parameters.MinimumAuc"}
    minimum = next(p for p in feature["Parameters"] if p["Name"] == "MinimumAuc")
    assert minimum["Type"] == "Float"
    (fail,) = gate["ElseSteps"]
    assert fail["Name"] == FAIL_STEP and fail["Type"] == "Fail"
    message = json.dumps(fail["Arguments"]["ErrorMessage"])
    assert "below the threshold" in message and "Parameters.MinimumAuc" in message


def test_registration_carries_every_lineage_field(feature: dict[str, Any]) -> None:
    register = _register(feature)
    assert register["ModelPackageGroupName"] == "churn-feature"
    assert register["ModelApprovalStatus"] == {"Get": "Parameters.ModelApprovalStatus"}
    assert register["MetadataProperties"] == {
        "CommitId": {"Get": "Parameters.CommitId"},
        "Repository": {"Get": "Parameters.Repository"},
        "GeneratedBy": {"Get": "Execution.PipelineExecutionArn"},
        "ProjectId": "churn",
    }
    metadata = register["CustomerMetadataProperties"]
    assert sorted(metadata) == sorted(LINEAGE_KEYS)
    assert metadata["mlops:commit-id"] == {"Get": "Parameters.CommitId"}
    assert metadata["mlops:repository"] == {"Get": "Parameters.Repository"}
    assert metadata["mlops:dataset"] == {"Get": "Parameters.InputDataUri"}
    assert metadata["mlops:dataset-version"] == {"Get": "Parameters.InputDataVersion"}
    assert metadata["mlops:pipeline-execution-arn"] == {"Get": "Execution.PipelineExecutionArn"}
    assert json.loads(metadata["mlops:hyperparameters"]) == HYPERPARAMETERS
    assert len(metadata["mlops:hyperparameters"]) <= 256  # CustomerMetadataProperties' value limit
    assert "Std:JsonGet" in json.dumps(metadata["mlops:metric-auc"])
    statistics = register["ModelMetrics"]["ModelQuality"]["Statistics"]
    assert statistics["ContentType"] == "application/json"
    assert statistics["S3Uri"] == metadata["mlops:evaluation-report"]
    assert "evaluation.json" in json.dumps(statistics["S3Uri"])
    container = register["InferenceSpecification"]["Containers"][0]
    assert container["ModelDataUrl"] == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}


def test_every_run_parameter_has_a_default(feature: dict[str, Any]) -> None:
    names = {p["Name"]: p for p in feature["Parameters"]}
    assert {"InputDataUri", "InputDataVersion", "CommitId", "Repository", "Branch", "MinimumAuc"} <= set(
        names
    )
    assert all("DefaultValue" in p for p in names.values())
