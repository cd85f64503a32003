"""What the AWS events the control plane consumes have in common: the EventBridge envelope, the scheduled
event, timestamps and the statuses they spell (the events themselves: ``sagemaker_events``,
``codecommit_events``, ``custom_resource_request``; samples: tests/fixtures/aws-events/).

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
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


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


class AwsModel(BaseModel):
    # defer_build: a model's validator is built on first use, so a function pays only for the
    # events it consumes (building all of them at import costs about 70 ms of cold start).
    model_config = ConfigDict(extra="allow", frozen=True, defer_build=True)


class EventBridgeEvent(AwsModel):
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


class EmptyDetail(AwsModel):
    pass


class ScheduledEvent(EventBridgeEvent):
    source: Literal["aws.events", "aws.scheduler"]
    detail_type: Literal["Scheduled Event"] = Field(alias="detail-type")
    detail: EmptyDetail
