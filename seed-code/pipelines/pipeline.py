"""The model-building pipeline: preprocess → train (built-in XGBoost) → evaluate → quality gate → register.

Built with the SageMaker Python SDK v3 (``sagemaker.mlops.workflow``). Everything that changes from one
run to the next (commit, dataset and its version, threshold, instance types) is a pipeline parameter,
so one definition per ``{project}-{stage}`` serves every commit, and building the definition needs no
AWS: the step scripts are referenced by their S3 URIs (``run.py`` uploads them before an upsert) and
the session is told its bucket, so nothing is looked up.

The registered model version carries its lineage, which the control plane reads when it deploys,
tests and promotes it:

- ``MetadataProperties``: ``CommitId``, ``Repository``, ``GeneratedBy`` (the pipeline execution);
- ``ModelMetrics.ModelQuality.Statistics``: the evaluation report;
- ``CustomerMetadataProperties``: the keys in :data:`LINEAGE_KEYS` (commit, repository, branch,
  dataset URI and version, hyperparameters, the gate's metric, the evaluation report, the execution).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

import boto3
from sagemaker.core import image_uris
from sagemaker.core.processing import ScriptProcessor
from sagemaker.core.shapes import (
    MetadataProperties,
    MetricsSource,
    ModelMetrics,
    ModelQuality,
    ProcessingInput,
    ProcessingOutput,
    ProcessingS3Input,
    ProcessingS3Output,
)
from sagemaker.core.training.configs import Compute, InputData, OutputDataConfig
from sagemaker.core.workflow.conditions import ConditionGreaterThanOrEqualTo
from sagemaker.core.workflow.execution_variables import ExecutionVariables
from sagemaker.core.workflow.functions import Join, JsonGet
from sagemaker.core.workflow.parameters import ParameterFloat, ParameterString
from sagemaker.core.workflow.pipeline_context import PipelineSession
from sagemaker.core.workflow.properties import PropertyFile
from sagemaker.mlops.workflow import (
    ConditionStep,
    FailStep,
    ModelStep,
    Pipeline,
    ProcessingStep,
    TrainingStep,
)
from sagemaker.serve.model_builder import ModelBuilder
from sagemaker.train.model_trainer import ModelTrainer

from pipelines.stages import Target

XGBOOST_VERSION = "1.7-1"
"""Training, evaluation (``steps/evaluate.py``) and serving image; it runs Python 3.8."""
SKLEARN_VERSION = "1.2-1"
"""Preprocessing image (``steps/preprocess.py``); it runs Python 3.9."""
STEP_SCRIPTS_PYTHON = (3, 8)
"""The oldest Python the step scripts run on (the images above): ``steps/`` must stay valid for it,
which ``tests/test_steps.py`` checks. Change it together with an image version."""
TARGET_COLUMN = "label"
HYPERPARAMETERS: dict[str, str] = {
    "objective": "binary:logistic",
    "eval_metric": "auc",
    "num_round": "200",
    "max_depth": "5",
    "eta": "0.2",
    "subsample": "0.8",
    "min_child_weight": "1",
    "early_stopping_rounds": "10",
}
"""XGBoost's hyperparameters. They are code: a change is a commit, and the version records them."""

STEP_NAMES = ("Preprocess", "Train", "Evaluate", "QualityGate")
"""The top-level steps, in order. The gate runs ``Register`` if the metric passes, else
``QualityGateFailed``."""
REGISTER_STEP = "Register"
FAIL_STEP = "QualityGateFailed"
SCRIPTS = ("preprocess.py", "evaluate.py")
"""The files of ``steps/`` that the jobs run; ``run.py`` uploads them under
:attr:`PipelineSettings.code_prefix`."""

LINEAGE_KEYS = (
    "mlops:commit-id",
    "mlops:repository",
    "mlops:branch",
    "mlops:dataset",
    "mlops:dataset-version",
    "mlops:hyperparameters",
    "mlops:metric-auc",
    "mlops:evaluation-report",
    "mlops:pipeline-execution-arn",
)
"""``CustomerMetadataProperties`` of every registered version. ``mlops:dataset`` is the key the control
plane requires before it deploys to production."""


@dataclass(frozen=True)
class PipelineSettings:
    """What the pipeline is built from: the target (project, stage) and where it may run and write."""

    target: Target
    role_arn: str
    bucket: str
    region: str
    processing_instance_type: str = "ml.m5.large"
    training_instance_type: str = "ml.m5.large"
    inference_instance_types: tuple[str, ...] = ("ml.m5.large", "ml.m5.xlarge")
    default_minimum_auc: float = 0.75
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        return f"s3://{self.bucket}/{self.target.project}/{self.target.stage}"

    @property
    def default_input_uri(self) -> str:
        """Where the training data is read when ``INPUT_DATA_URI`` is not set."""
        return f"{self.prefix}/input/"

    @property
    def code_prefix(self) -> str:
        return f"{self.prefix}/code"

    def script_uri(self, script: str) -> str:
        return f"{self.code_prefix}/{script}"


def pipeline_session(
    settings: PipelineSettings, boto_session: boto3.Session | None = None
) -> PipelineSession:
    """A session that records job requests instead of sending them (the SDK's pipeline mode).

    Given the bucket, it never looks one up; without a boto session it uses fixed placeholder
    credentials, so ``definition`` works on a laptop or CI runner with no AWS access at all.
    """
    if boto_session is not None:
        return PipelineSession(boto_session=boto_session, default_bucket=settings.bucket)
    # ModelTrainer checks its role with IAM's policy simulator unless told not to: offline, skip it.
    os.environ.setdefault("SAGEMAKER_VALIDATE_ROLE", "false")
    return PipelineSession(
        boto_session=boto3.Session(
            aws_access_key_id="offline", aws_secret_access_key="offline", region_name=settings.region
        ),
        default_bucket=settings.bucket,
        # Telemetry would call STS and send a request per SDK call: offline means no network at all.
        sagemaker_config={
            "SchemaVersion": "1.0",
            "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}},
        },
    )


def build_pipeline(settings: PipelineSettings, session: PipelineSession) -> Pipeline:
    target = settings.target
    input_data = ParameterString("InputDataUri", default_value=settings.default_input_uri)
    # The definition is built offline, so it cannot know the data's version: `pipelines.run start`
    # always passes one (S3 version id, ETag or a digest of the prefix). This default shows up only on
    # an execution started some other way (e.g. from the console).
    input_data_version = ParameterString("InputDataVersion", default_value="unversioned")
    commit_id = ParameterString("CommitId", default_value="uncommitted")
    repository = ParameterString("Repository", default_value=target.project)
    branch = ParameterString("Branch", default_value=str(target.stage))
    minimum_auc = ParameterFloat("MinimumAuc", default_value=settings.default_minimum_auc)
    approval_status = ParameterString("ModelApprovalStatus", default_value="PendingManualApproval")
    processing_instance = ParameterString(
        "ProcessingInstanceType", default_value=settings.processing_instance_type
    )
    training_instance = ParameterString("TrainingInstanceType", default_value=settings.training_instance_type)
    run_prefix = Join(on="/", values=[settings.prefix, "runs", ExecutionVariables.PIPELINE_EXECUTION_ID])

    sklearn_image = image_uris.retrieve("sklearn", settings.region, version=SKLEARN_VERSION)
    xgboost_image = image_uris.retrieve("xgboost", settings.region, version=XGBOOST_VERSION)

    # 1. Preprocess: raw CSV → train / validation / test splits.
    preprocessor = ScriptProcessor(
        role=settings.role_arn,
        image_uri=sklearn_image,
        command=["python3"],
        instance_type=processing_instance,
        instance_count=1,
        base_job_name=f"{target.pipeline_name}-preprocess",
        sagemaker_session=session,
    )
    preprocess = ProcessingStep(
        name="Preprocess",
        step_args=preprocessor.run(
            code=settings.script_uri("preprocess.py"),
            inputs=[_processing_input("input", input_data, "/opt/ml/processing/input")],
            outputs=[
                _processing_output(
                    name, Join(on="/", values=[run_prefix, name]), f"/opt/ml/processing/{name}"
                )
                for name in ("train", "validation", "test")
            ],
            arguments=["--target-column", TARGET_COLUMN],
        ),
    )
    # 2. Train: SageMaker's built-in XGBoost, no custom image.
    trainer = ModelTrainer(
        training_image=xgboost_image,
        role=settings.role_arn,
        compute=Compute(instance_type=training_instance, instance_count=1),
        hyperparameters=HYPERPARAMETERS,
        output_data_config=OutputDataConfig(s3_output_path=Join(on="/", values=[run_prefix, "model"])),
        base_job_name=f"{target.pipeline_name}-train",
        sagemaker_session=session,
    )
    train = TrainingStep(
        name="Train",
        step_args=trainer.train(
            input_data_config=[
                InputData(
                    channel_name=channel,
                    data_source=_split_uri(preprocess, channel),
                    content_type="text/csv",
                )
                for channel in ("train", "validation")
            ]
        ),
    )

    # 3. Evaluate on the held-out test split, in the XGBoost image (the library that trained it).
    evaluation_report = PropertyFile(
        name="EvaluationReport", output_name="evaluation", path="evaluation.json"
    )
    evaluation_prefix = Join(on="/", values=[run_prefix, "evaluation"])
    evaluator = ScriptProcessor(
        role=settings.role_arn,
        image_uri=xgboost_image,
        command=["python3"],
        instance_type=processing_instance,
        instance_count=1,
        base_job_name=f"{target.pipeline_name}-evaluate",
        sagemaker_session=session,
    )
    evaluate = ProcessingStep(
        name="Evaluate",
        step_args=evaluator.run(
            code=settings.script_uri("evaluate.py"),
            inputs=[
                _processing_input(
                    "model", train.properties.ModelArtifacts.S3ModelArtifacts, "/opt/ml/processing/model"
                ),
                _processing_input("test", _split_uri(preprocess, "test"), "/opt/ml/processing/test"),
            ],
            outputs=[_processing_output("evaluation", evaluation_prefix, "/opt/ml/processing/evaluation")],
        ),
        property_files=[evaluation_report],
    )
    auc = JsonGet(
        step_name=evaluate.name,
        property_file=evaluation_report,
        json_path="binary_classification_metrics.auc.value",
    )
    report_uri = Join(on="/", values=[evaluation_prefix, "evaluation.json"])

    # 4. Register into {project}-{stage}, with the lineage the control plane reads.
    model = ModelBuilder(
        image_uri=xgboost_image,
        s3_model_data_url=train.properties.ModelArtifacts.S3ModelArtifacts,
        role_arn=settings.role_arn,
        dependencies={},  # the built-in image needs no inference code (the default would upload some)
        sagemaker_session=session,
    )
    register = ModelStep(
        name=REGISTER_STEP,
        step_args=model.register(
            model_package_group_name=target.model_package_group,
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=list(settings.inference_instance_types),
            transform_instances=[settings.inference_instance_types[0]],
            approval_status=approval_status,
            description=Join(on=" ", values=["Trained by", ExecutionVariables.PIPELINE_EXECUTION_ARN]),
            model_metrics=ModelMetrics(
                model_quality=ModelQuality(
                    statistics=MetricsSource(content_type="application/json", s3_uri=report_uri)
                )
            ),
            metadata_properties=MetadataProperties(
                commit_id=commit_id,
                repository=repository,
                generated_by=ExecutionVariables.PIPELINE_EXECUTION_ARN,
                project_id=target.project,
            ),
            customer_metadata_properties=lineage_properties(
                commit_id=commit_id,
                repository=repository,
                branch=branch,
                dataset=input_data,
                dataset_version=input_data_version,
                auc=Join(on="", values=[auc]),
                evaluation_report=report_uri,
            ),
        ),
    )
    failed = FailStep(
        name=FAIL_STEP,
        error_message=Join(
            on=" ",
            values=[
                "Quality gate: AUC",
                auc,
                "is below the threshold MinimumAuc =",
                minimum_auc,
                "- not registered.",
            ],
        ),
    )

    # 5. The quality gate: below the threshold, the pipeline fails with a message that says why.
    gate = ConditionStep(
        name="QualityGate",
        conditions=[ConditionGreaterThanOrEqualTo(left=auc, right=minimum_auc)],
        if_steps=[register],
        else_steps=[failed],
    )

    return Pipeline(
        name=target.pipeline_name,
        parameters=[
            input_data,
            input_data_version,
            commit_id,
            repository,
            branch,
            minimum_auc,
            approval_status,
            processing_instance,
            training_instance,
        ],
        steps=[preprocess, train, evaluate, gate],
        sagemaker_session=session,
    )


def lineage_properties(**values: Any) -> dict[str, Any]:
    """The ``CustomerMetadataProperties`` of a version (values may be pipeline variables)."""
    return {
        "mlops:commit-id": values["commit_id"],
        "mlops:repository": values["repository"],
        "mlops:branch": values["branch"],
        "mlops:dataset": values["dataset"],
        "mlops:dataset-version": values["dataset_version"],
        "mlops:hyperparameters": json.dumps(HYPERPARAMETERS, separators=(",", ":"), sort_keys=True),
        "mlops:metric-auc": values["auc"],
        "mlops:evaluation-report": values["evaluation_report"],
        "mlops:pipeline-execution-arn": ExecutionVariables.PIPELINE_EXECUTION_ARN,
    }


def _split_uri(preprocess: ProcessingStep, name: str) -> Any:
    return preprocess.properties.ProcessingOutputConfig.Outputs[name].S3Output.S3Uri


def _processing_input(name: str, source: Any, destination: str) -> ProcessingInput:
    return ProcessingInput(
        input_name=name,
        s3_input=ProcessingS3Input(
            s3_uri=source, local_path=destination, s3_data_type="S3Prefix", s3_input_mode="File"
        ),
    )


def _processing_output(name: str, destination: Any, source: str) -> ProcessingOutput:
    return ProcessingOutput(
        output_name=name,
        s3_output=ProcessingS3Output(s3_uri=destination, local_path=source, s3_upload_mode="EndOfJob"),
    )
