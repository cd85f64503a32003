"""``SageMaker Transform Job State Change``: a batch transform job started by the control plane ended.

The fields are those of AWS's event pattern for it (``aws.sagemaker@SageMakerTransformJobStateChange``:
TransformJobName, TransformJobArn, TransformJobStatus, ModelName, TransformInput, TransformOutput,
TransformResources, CreationTime, TransformStartTime, TransformEndTime, Tags). AWS publishes no sample:
``Tags`` as a map (as in the endpoint events) and ``FailureReason`` (as DescribeTransformJob has it) are
inferred.
"""

# No ``from __future__ import annotations`` in the model modules: pydantic would compile each string
# annotation back into a type at import, a measurable part of every function's cold start.
from typing import Any, Literal

from pydantic import Field

from mlops_core.contract.aws_events import AwsModel, EventBridgeEvent

TRANSFORM_JOB_STATE_CHANGE = "SageMaker Transform Job State Change"
TransformJobStatus = Literal["InProgress", "Completed", "Failed", "Stopping", "Stopped"]


class TransformJobStateChangeDetail(AwsModel):
    TransformJobName: str = Field(min_length=1, max_length=63, pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
    TransformJobArn: str | None = None
    TransformJobStatus: TransformJobStatus
    FailureReason: str | None = None
    ModelName: str | None = None
    TransformInput: dict[str, Any] | None = None
    TransformOutput: dict[str, Any] | None = None
    Tags: dict[str, str] = {}


class TransformJobStateChange(EventBridgeEvent):
    source: Literal["aws.sagemaker"]
    detail_type: Literal["SageMaker Transform Job State Change"] = Field(alias="detail-type")
    detail: TransformJobStateChangeDetail
