"""Typed models of the AWS events the control plane consumes (samples: tests/fixtures/aws-events/).

AWS is not consistent across these events, and the models absorb it so the logic does not:
- ``time`` is ISO-8601 on most events but epoch milliseconds as a string on endpoint events,
  and ``CreationTime`` fields are epoch milliseconds as numbers: :data:`Timestamp` takes all three;
- endpoint events spell status ``IN_SERVICE`` while ``DescribeEndpoint`` says ``InService``:
  :class:`EndpointStatus` accepts both and compares as one value.
Unknown fields are kept (``extra="allow"``) because AWS adds fields without notice.
"""

# No ``from __future__ import annotations`` in the model modules: pydantic would compile each string
# annotation back into a type at import, a measurable part of every function's cold start.
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from mlops_core.contract.naming import MAX_NAME_LENGTH, SAGEMAKER_NAME_PATTERN


def _to_datetime(value: Any) -> Any:
    """Epoch milliseconds (number or digit string) → aware datetime; anything else to pydantic."""
    if isinstance(value, bool):
        return value
    try:
        if isinstance(value, int | float):
            return datetime.fromtimestamp(value / 1000, tz=UTC)
        if isinstance(value, str) and value.replace(".", "", 1).isdigit():
            return datetime.fromtimestamp(float(value) / 1000, tz=UTC)
    except (OverflowError, OSError):  # pydantic reports only ValueErrors as validation errors
        raise ValueError(f"epoch milliseconds {value!r} out of range") from None
    return value


Timestamp = Annotated[datetime, BeforeValidator(_to_datetime)]


class EndpointStatus(StrEnum):
    """Endpoint status in DescribeEndpoint's spelling; parses the events' UPPER_SNAKE too."""

    OUT_OF_SERVICE = "OutOfService"
    CREATING = "Creating"
    UPDATING = "Updating"
    SYSTEM_UPDATING = "SystemUpdating"
    ROLLING_BACK = "RollingBack"
    IN_SERVICE = "InService"
    DELETING = "Deleting"
    FAILED = "Failed"
    UPDATE_ROLLBACK_FAILED = "UpdateRollbackFailed"

    @classmethod
    def _missing_(cls, value: object) -> "EndpointStatus | None":
        if isinstance(value, str):
            folded = value.replace("_", "").lower()
            for member in cls:
                if member.value.lower() == folded:
                    return member
        return None

    @property
    def is_busy(self) -> bool:
        """An endpoint in this state rejects UpdateEndpoint."""
        return self in {
            EndpointStatus.CREATING,
            EndpointStatus.UPDATING,
            EndpointStatus.SYSTEM_UPDATING,
            EndpointStatus.ROLLING_BACK,
            EndpointStatus.DELETING,
        }


class ModelApprovalStatus(StrEnum):
    APPROVED = "Approved"
    REJECTED = "Rejected"
    PENDING_MANUAL_APPROVAL = "PendingManualApproval"


class _AwsModel(BaseModel):
    # defer_build: a model's validator is built on first use, so a function pays only for the
    # events it consumes (building all of them at import costs about 70 ms of cold start).
    model_config = ConfigDict(extra="allow", frozen=True, defer_build=True)


class EventBridgeEvent(_AwsModel):
    """The EventBridge envelope; each event type below narrows ``detail`` to its own model.

    (Not a pydantic generic: parametrising one builds its validator at import, ~80 ms.)
    """

    version: str = "0"
    id: str = Field(min_length=1)
    detail_type: str = Field(alias="detail-type")
    source: str
    account: str
    time: Timestamp
    region: str
    resources: list[str] = []
    detail: Any


# ----------------------------------------------------------------------------- SageMaker


class ModelPackageStateChangeDetail(_AwsModel):
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


class ProductionVariantSummary(_AwsModel):
    VariantName: str | None = None
    DesiredWeight: float | None = None
    CurrentWeight: float | None = None
    DesiredInstanceCount: float | None = None
    CurrentInstanceCount: float | None = None


class EndpointStateChangeDetail(_AwsModel):
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


class PendingDeployment(_AwsModel):
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


class PipelineExecutionStatusChangeDetail(_AwsModel):
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


# ----------------------------------------------------------------------------- other services


class CodeCommitReferenceDetail(_AwsModel):
    event: str
    repositoryName: str
    repositoryId: str | None = None
    referenceType: str
    referenceName: str
    referenceFullName: str | None = None
    commitId: str | None = None
    oldCommitId: str | None = None
    callerUserArn: str | None = None


class CodeCommitRepositoryStateChange(EventBridgeEvent):
    source: Literal["aws.codecommit"]
    detail_type: Literal["CodeCommit Repository State Change"] = Field(alias="detail-type")
    detail: CodeCommitReferenceDetail


class EmptyDetail(_AwsModel):
    pass


class ScheduledEvent(EventBridgeEvent):
    source: Literal["aws.events", "aws.scheduler"]
    detail_type: Literal["Scheduled Event"] = Field(alias="detail-type")
    detail: EmptyDetail


class CustomResourceRequest(_AwsModel):
    """A CloudFormation custom resource request (Create, Update or Delete)."""

    RequestType: Literal["Create", "Update", "Delete"]
    ServiceToken: str
    ResponseURL: str
    StackId: str
    RequestId: str
    LogicalResourceId: str
    ResourceType: str
    ResourceProperties: dict[str, Any] = {}
    PhysicalResourceId: str | None = None
    OldResourceProperties: dict[str, Any] | None = None
