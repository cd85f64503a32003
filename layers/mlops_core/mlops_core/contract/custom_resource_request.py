"""A CloudFormation custom resource request (the project lifecycle's trigger)."""

# No ``from __future__ import annotations`` in the model modules: pydantic would compile each string
# annotation back into a type at import, a measurable part of every function's cold start.
from typing import Any, Literal

from mlops_core.contract.aws_events import AwsModel


class CustomResourceRequest(AwsModel):
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
