"""The SageMaker events the control plane consumes (samples: tests/fixtures/aws-events/): a model
version's approval changed, an endpoint's state changed, a blue/green rollout's progress, a pipeline
execution's status.
"""

# No ``from __future__ import annotations`` in the model modules: pydantic would compile each string
# annotation back into a type at import, a measurable part of every function's cold start.
from typing import Any, Literal, Self

from pydantic import Field, model_validator

from mlops_core.contract.aws_events import (
    AwsModel,
    EndpointStatus,
    EventBridgeEvent,
    ModelApprovalStatus,
    Timestamp,
)
from mlops_core.contract.naming import MAX_NAME_LENGTH, SAGEMAKER_NAME_PATTERN


class ModelPackageStateChangeDetail(AwsModel):
    ModelPackageGroupName: str = Field(min_length=1)
    ModelPackageVersion: int = Field(ge=1)
    ModelPackageArn: str = Field(pattern=r"^arn:aws[a-z-]*:sagemaker:.+:model-package/.+/\d+$")
    ModelApprovalStatus: ModelApprovalStatus
    ModelPackageStatus: str | None = None
    CreationTime: Timestamp | None = None
    LastModifiedTime: Timestamp | None = None
    InferenceSpecification: dict[str, Any] | None = None
    MetadataProperties: dict[str, Any] | None = None
    CustomerMetadataProperties: dict[str, str] | None = None
    ModelMetrics: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _arn_names_this_version(self) -> Self:
        expected = f":model-package/{self.ModelPackageGroupName}/{self.ModelPackageVersion}"
        if not self.ModelPackageArn.endswith(expected):
            raise ValueError(
                f"ModelPackageArn {self.ModelPackageArn} is not version {self.ModelPackageVersion} "
                f"of group {self.ModelPackageGroupName}"
            )
        return self


class ModelPackageStateChange(EventBridgeEvent):
    source: Literal["aws.sagemaker"]
    detail_type: Literal["SageMaker Model Package State Change"] = Field(alias="detail-type")
    detail: ModelPackageStateChangeDetail


class ProductionVariantSummary(AwsModel):
    VariantName: str | None = None
    DesiredWeight: float | None = None
    CurrentWeight: float | None = None
    DesiredInstanceCount: float | None = None
    CurrentInstanceCount: float | None = None


class EndpointStateChangeDetail(AwsModel):
    EndpointName: str = Field(min_length=1, max_length=MAX_NAME_LENGTH, pattern=SAGEMAKER_NAME_PATTERN)
    EndpointArn: str | None = None
    EndpointConfigName: str | None = None
    EndpointStatus: EndpointStatus
    FailureReason: str | None = None
    CreationTime: Timestamp | None = None
    LastModifiedTime: Timestamp | None = None
    ProductionVariants: list[ProductionVariantSummary] = []
    Tags: dict[str, str] = {}


class EndpointStateChange(EventBridgeEvent):
    source: Literal["aws.sagemaker"]
    detail_type: Literal["SageMaker Endpoint State Change"] = Field(alias="detail-type")
    detail: EndpointStateChangeDetail


class PendingDeployment(AwsModel):
    """The update in progress of a ``SageMaker Endpoint Deployment State Change``: its endpoint config
    and start time identify it (a rollback of it is announced once)."""

    EndpointConfigName: str | None = None
    StartTime: Timestamp | None = None
    ProductionVariants: list[dict[str, Any]] = []


class EndpointDeploymentStateChangeDetail(EndpointStateChangeDetail):
    PendingDeploymentSummary: PendingDeployment | None = None


class EndpointDeploymentStateChange(EventBridgeEvent):
    source: Literal["aws.sagemaker"]
    detail_type: Literal["SageMaker Endpoint Deployment State Change"] = Field(alias="detail-type")
    detail: EndpointDeploymentStateChangeDetail


class PipelineExecutionStatusChangeDetail(AwsModel):
    pipelineArn: str
    pipelineExecutionArn: str
    currentPipelineExecutionStatus: str
    previousPipelineExecutionStatus: str | None = None
    pipelineExecutionDisplayName: str | None = None
    pipelineExecutionDescription: str | None = None
    executionStartTime: Timestamp | None = None
    executionEndTime: Timestamp | None = None


class PipelineExecutionStatusChange(EventBridgeEvent):
    source: Literal["aws.sagemaker"]
    detail_type: Literal["SageMaker Model Building Pipeline Execution Status Change"] = Field(
        alias="detail-type"
    )
    detail: PipelineExecutionStatusChangeDetail
